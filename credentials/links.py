"""The signed verification link carried by the QR code.

Two forms, one spelling each; anything else is rejected.  Links are made in form 2; form 1
links (every transcript issued before it) verify as they always did.

Form 2, made for a QR code a cheap phone reads from print::

    <BASE_URL>/V/<serial>/<212 digits>

The scheme and host are upper case and the rest is digits, so the code is an alphanumeric
segment and a numeric one (5.5 and 3.3 bits a character instead of 8): with the reference
base URL it is a version-8 code where form 1 needed version 10.  The digits are the decimal
form of 88 bytes: the issue date (days since 2000-01-01, 2 bytes), the key id's first 6
bytes (its first 8 characters), the first 16 bytes of the snapshot's SHA-256 and the
Ed25519 signature (64 bytes) over the same message as form 1 but for ``link/v2``.

Form 1::

    <base_url>/v/<serial>?d=<YYYYMMDD>&k=<kid>&h=<digest>&s=<signature>

* ``d``  issue date (the issuer's local date of ``issued_at``)
* ``k``  key id (16 characters, RFC 7638 thumbprint prefix)
* ``h``  the first 16 bytes (128 bits) of the snapshot's SHA-256, base64url
* ``s``  Ed25519 signature (base64url, 86 characters) over the message::

      second-transcript/link/v1 \\n base_url \\n serial \\n YYYY-MM-DD \\n digest-prefix-hex

The base URL is signed too, so a copy of the link pointing at another host does not
verify.  With the reference base ``https://dekt.example-university.edu.cn`` and a
22-character serial the link is 207 characters: QR version 10 at error correction M
(capacity 213 bytes) — see :data:`MAX_LINK_LENGTH`.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature

from .keys import KID_LENGTH, KeysLike, SigningKey, b64u_decode, b64u_encode, resolve_keys, resolve_revocations

LINK_VERSION = "second-transcript/link/v1"
LINK_VERSION_2 = "second-transcript/link/v2"
#: Form 2: the key id's characters carried (6 bytes), the digits of the 88-byte payload, day 0.
KID_PREFIX = 8
PAYLOAD_DIGITS = 212
_EPOCH = _dt.date(2000, 1, 1)
#: Bytes of the SHA-256 digest carried in the link.
DIGEST_PREFIX_BYTES = 16
#: Byte capacity of a version-10 QR code at error correction M.
MAX_LINK_LENGTH = 213
VERIFY_PATH = "/v/"

_SERIAL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{2,62})[A-Za-z0-9]$")
_HEX64_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_BASE_RE = re.compile(
    r"^(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<path>(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)*)$"
)
_LINK_RE = re.compile(
    r"^(?P<base>.+?)/v/(?P<serial>[A-Za-z0-9-]+)"
    rf"\?d=(?P<d>[0-9]{{8}})&k=(?P<k>[A-Za-z0-9_-]{{{KID_LENGTH}}})"
    r"&h=(?P<h>[A-Za-z0-9_-]{22})&s=(?P<s>[A-Za-z0-9_-]{86})$"
)
_LINK2_RE = re.compile(
    rf"^(?P<base>.+?)/V/(?P<serial>[A-Z0-9-]+)/(?P<payload>[0-9]{{{PAYLOAD_DIGITS}}})$"
)
_ORIGIN_RE = re.compile(r"^(?P<origin>[A-Za-z]+://[^/]+)(?P<path>.*)$")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def normalize_base_url(base_url: str) -> str:
    """Check a public base URL and drop a trailing slash; ``ValueError`` if unusable.

    It must be ``https://host[:port][/path]`` without query or fragment (``http`` is
    accepted only for localhost, for development).
    """
    if not isinstance(base_url, str):
        raise ValueError("base_url: expected text")
    base = base_url.rstrip("/")
    m = _BASE_RE.match(base)
    if not m:
        raise ValueError(f"base_url: not an https URL without query or fragment: {base_url!r}")
    host = m["host"].lower()
    if m["scheme"] == "http" and not (host in _LOCAL_HOSTS or host.endswith(".localhost")):
        raise ValueError("base_url: must use https (http only for localhost)")
    if m["port"] is not None and not 0 < int(m["port"]) < 65536:
        raise ValueError("base_url: bad port")
    return base


def printed_base(base_url: str) -> str:
    """The base URL as a form-2 link prints it (scheme and host in upper case)."""
    return _upper_origin(normalize_base_url(base_url))


def verify_page_url(link_or_base: str) -> str:
    """The human verification (upload) page: the link's origin + ``/verify``."""
    m = re.match(r"^(https?://[^/?#]+)", link_or_base or "", re.IGNORECASE)
    return (m.group(1).lower() if m else "") + "/verify"


def _check_serial(serial: str) -> str:
    if not isinstance(serial, str) or not _SERIAL_RE.match(serial):
        raise ValueError("serial: expected 4-64 letters, digits and inner dashes")
    return serial


def _as_date(issued_at: Any) -> _dt.date:
    if isinstance(issued_at, _dt.datetime):
        return issued_at.date()
    if isinstance(issued_at, _dt.date):
        return issued_at
    raise ValueError("issued_at: expected a date or datetime")


def link_message(base_url: str, serial: str, issued_on: _dt.date, digest_prefix_hex: str,
                 version: int = 1) -> bytes:
    """The exact bytes the link signature covers."""
    return "\n".join(
        (LINK_VERSION if version == 1 else LINK_VERSION_2, base_url, serial, issued_on.isoformat(),
         digest_prefix_hex)
    ).encode("ascii")


def _upper_origin(base: str) -> str:
    """Scheme and host in upper case (they are case-blind, RFC 3986 6.2.2.1); the path kept."""
    m = _ORIGIN_RE.match(base)
    return m["origin"].upper() + m["path"]


def _lower_origin(base: str) -> str:
    m = _ORIGIN_RE.match(base)
    return (m["origin"].lower() + m["path"]) if m else base


@dataclass(frozen=True)
class LinkClaims:
    """What a link states.  ``digest`` is the hex of the 128-bit digest prefix."""

    base_url: str
    serial: str
    issued_on: _dt.date
    digest: str
    kid: str  # form 2: the key id's first KID_PREFIX characters
    signature: bytes
    version: int = 1

    @property
    def message(self) -> bytes:
        return link_message(self.base_url, self.serial, self.issued_on, self.digest, self.version)

    @property
    def url(self) -> str:
        if self.version == 2:
            return _format_link2(self.base_url, self.serial, self.issued_on, self.digest,
                                 self.kid, self.signature)
        return _format_link(self.base_url, self.serial, self.issued_on, self.digest,
                            self.kid, self.signature)

    def key_matches(self, kid: str) -> bool:
        return kid == self.kid if self.version == 1 else kid[:KID_PREFIX] == self.kid

    def matches_digest(self, digest_hex: str) -> bool:
        return (
            isinstance(digest_hex, str)
            and bool(_HEX64_RE.match(digest_hex))
            and digest_hex[: 2 * DIGEST_PREFIX_BYTES].lower() == self.digest
        )


def _format_link(base: str, serial: str, issued_on: _dt.date, digest_prefix_hex: str,
                 kid: str, signature: bytes) -> str:
    return (
        f"{base}{VERIFY_PATH}{serial}?d={issued_on:%Y%m%d}&k={kid}"
        f"&h={b64u_encode(bytes.fromhex(digest_prefix_hex))}&s={b64u_encode(signature)}"
    )


def _format_link2(base: str, serial: str, issued_on: _dt.date, digest_prefix_hex: str,
                  kid: str, signature: bytes) -> str:
    payload = ((issued_on - _EPOCH).days.to_bytes(2, "big") + b64u_decode(kid)
               + bytes.fromhex(digest_prefix_hex) + signature)
    digits = str(int.from_bytes(payload, "big")).zfill(PAYLOAD_DIGITS)
    return f"{_upper_origin(base)}/V/{serial}/{digits}"


def make_link(base_url: str, serial: str, digest_hex: str, issued_at: Any,
              key: SigningKey, *, version: int = 2) -> str:
    """Sign (base URL, serial, issue date, digest) and return the link for the QR code
    (form 2; ``version=1`` makes the form issued before it, for tests of old transcripts)."""
    if version == 2:
        return _make_link2(base_url, serial, digest_hex, issued_at, key)
    base = normalize_base_url(base_url)
    _check_serial(serial)
    if not isinstance(digest_hex, str) or not _HEX64_RE.match(digest_hex):
        raise ValueError("digest_hex: expected 64 hex characters (SHA-256)")
    if not isinstance(key, SigningKey):
        raise ValueError("key: expected a SigningKey")
    issued_on = _as_date(issued_at)
    prefix = digest_hex[: 2 * DIGEST_PREFIX_BYTES].lower()
    sig = key.sign(link_message(base, serial, issued_on, prefix))
    link = _format_link(base, serial, issued_on, prefix, key.kid, sig)
    if len(link) > MAX_LINK_LENGTH:
        raise ValueError(
            f"link is {len(link)} characters, more than a version-10 QR code holds "
            f"({MAX_LINK_LENGTH}); shorten the base URL or the serial"
        )
    return link


def _make_link2(base_url: str, serial: str, digest_hex: str, issued_at: Any, key: SigningKey) -> str:
    from .qr import qr_version  # the QR code decides what fits

    base = normalize_base_url(base_url)
    _check_serial(serial)
    if serial != serial.upper():
        raise ValueError("serial: form 2 links carry upper-case serials")
    if not isinstance(digest_hex, str) or not _HEX64_RE.match(digest_hex):
        raise ValueError("digest_hex: expected 64 hex characters (SHA-256)")
    if not isinstance(key, SigningKey):
        raise ValueError("key: expected a SigningKey")
    issued_on = _as_date(issued_at)
    if not 0 <= (issued_on - _EPOCH).days < 1 << 16:
        raise ValueError("issued_at: out of range")
    prefix = digest_hex[: 2 * DIGEST_PREFIX_BYTES].lower()
    sig = key.sign(link_message(base, serial, issued_on, prefix, 2))
    link = _format_link2(base, serial, issued_on, prefix, key.kid[:KID_PREFIX], sig)
    if qr_version(link) > 10:
        raise ValueError("link needs more than a version-10 QR code; shorten the base URL or the serial")
    return link


def _parse_link2(url: str) -> LinkClaims:
    m = _LINK2_RE.match(url)
    if not m:
        raise ValueError("link: not a transcript verification link")
    base = normalize_base_url(_lower_origin(m["base"]))
    if _upper_origin(base) != m["base"]:
        raise ValueError("link: base URL not in canonical form")
    serial = _check_serial(m["serial"])
    payload = int(m["payload"])
    if payload >= 1 << 704:
        raise ValueError("link: bad payload")
    raw = payload.to_bytes(88, "big")
    issued_on = _EPOCH + _dt.timedelta(days=int.from_bytes(raw[:2], "big"))
    kid = b64u_encode(raw[2:8])
    claims = LinkClaims(base, serial, issued_on, raw[8:24].hex(), kid, raw[24:], 2)
    if claims.url != url:
        raise ValueError("link: not in canonical form")
    return claims


def parse_link(url: str) -> LinkClaims:
    """Split a link into its claims; ``ValueError`` unless it is exactly the canonical form."""
    if not isinstance(url, str):
        raise ValueError("link: expected text")
    if len(url) > 2048:
        raise ValueError("link: too long")
    if _LINK2_RE.match(url):
        return _parse_link2(url)
    m = _LINK_RE.match(url)
    if not m:
        raise ValueError("link: not a transcript verification link")
    base = normalize_base_url(m["base"])
    if base != m["base"]:
        raise ValueError("link: base URL not in canonical form")
    serial = _check_serial(m["serial"])
    try:
        issued_on = _dt.datetime.strptime(m["d"], "%Y%m%d").date()
    except ValueError:
        raise ValueError("link: bad issue date") from None
    if f"{issued_on:%Y%m%d}" != m["d"]:
        raise ValueError("link: bad issue date")
    digest = b64u_decode(m["h"])
    signature = b64u_decode(m["s"])
    if len(digest) != DIGEST_PREFIX_BYTES or len(signature) != 64:
        raise ValueError("link: bad digest or signature length")
    claims = LinkClaims(base, serial, issued_on, digest.hex(), m["k"], signature)
    if claims.url != url:  # belt and braces: one spelling only
        raise ValueError("link: not in canonical form")
    return claims


@dataclass(frozen=True)
class Step:
    """One check a verifier made: ``ok`` True passed, False failed, None not checked."""

    name: str  # format | signature | issuer key | key not revoked | site | content | PDF signature | ...
    ok: bool | None
    detail: str = ""


NOT_CHECKED = "an earlier step failed"


@dataclass(frozen=True)
class Verdict:
    """The answer of a verifier.  ``code`` is machine-readable, ``reason`` is for people;
    ``steps`` are the checks made, in order (empty from a verifier that does not name them)."""

    genuine: bool
    reason: str
    reason_zh: str = ""
    code: str = "genuine"
    serial: str | None = None
    kid: str | None = None
    issued_on: _dt.date | None = None
    digest: str | None = None  # full hex digest when a snapshot was checked, else prefix
    base_url: str | None = None
    link: str | None = None
    snapshot: Any = None  # credentials.snapshot.Snapshot when a PDF was checked
    detail: str | None = None
    steps: tuple[Step, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["issued_on"] = self.issued_on.isoformat() if self.issued_on else None
        d.pop("snapshot")
        if self.snapshot is not None:
            from .snapshot import snapshot_to_dict

            d["snapshot"] = snapshot_to_dict(self.snapshot)
        return d

    def __str__(self) -> str:
        if self.genuine:
            return f"genuine — {self.reason}"
        return f"NOT genuine — {self.reason}"


def _fail(code: str, reason: str, reason_zh: str, **kw: Any) -> Verdict:
    return Verdict(False, reason, reason_zh, code, **kw)


def verify_link(url: str, jwks_or_keys: KeysLike, expected_digest: str | None = None,
                *, expected_base_url: str | None = None,
                revocations: dict[str, _dt.date] | None = None) -> Verdict:
    """Check a link offline with the issuer's public keys.  Never raises for bad input.

    ``expected_digest`` (full hex SHA-256 of a snapshot) additionally requires the link
    to be the one issued for that snapshot; ``expected_base_url`` requires the link to
    point at that site.  A key the JWKS or key ring marks revoked (or ``revocations``
    names: kid → date) fails what it signed on or after that date.
    """
    steps: list[Step] = []

    def fail(code: str, reason: str, reason_zh: str, step: str, *rest: str, **kw: Any) -> Verdict:
        steps.append(Step(step, False, reason))
        steps.extend(Step(name, None, NOT_CHECKED) for name in rest)
        return _fail(code, reason, reason_zh, steps=tuple(steps), **kw)

    try:
        claims = parse_link(url)
    except ValueError as exc:
        return fail("malformed_link", f"not a valid verification link ({exc})",
                    "不是有效的验证链接", "format", "signature", "issuer key", "key not revoked")
    steps.append(Step("format", True, f"form {'2' if '/V/' in url else '1'} link for serial {claims.serial}"))
    common = dict(serial=claims.serial, kid=claims.kid, issued_on=claims.issued_on,
                  digest=claims.digest, base_url=claims.base_url, link=url)
    try:
        keys = resolve_keys(jwks_or_keys)
        if revocations is None:
            revocations = resolve_revocations(jwks_or_keys)
    except (ValueError, TypeError) as exc:
        steps.append(Step("signature", None, "no usable public key set"))
        return fail("bad_keys", f"the public key set is unusable ({exc})", "公钥集无效",
                    "issuer key", "key not revoked", **common)
    candidates = [kid for kid in keys if claims.key_matches(kid)]
    if not candidates:
        steps.append(Step("signature", None, "the key is not one of the issuer's"))
        return fail("unknown_key", f"signed with an unknown key (kid {claims.kid})",
                    "签名密钥未知", "issuer key", "key not revoked", **common)
    # Form 2 carries 48 bits of the key id: two keys sharing them is possible only by design.
    kid = next((k for k in candidates if _signature_ok(keys[k], claims)), None)
    if kid is None:
        return fail("bad_signature", "the link's signature does not match its contents",
                    "链接签名无效（内容被改动）", "signature", "issuer key", "key not revoked", **common)
    common["kid"] = kid
    steps += [Step("signature", True, f"Ed25519 signature by key {kid}"),
              Step("issuer key", True, f"{kid} is one of the issuer's keys")]
    revoked = revocations.get(kid)
    if revoked is not None and claims.issued_on >= revoked:
        return fail("key_revoked", f"signed by key {kid}, which the issuer revoked from "
                    f"{revoked.isoformat()}", f"签名密钥自 {revoked.isoformat()} 起已被学校吊销",
                    "key not revoked", **common)
    steps.append(Step("key not revoked", True, f"revoked from {revoked.isoformat()}, after the issue date"
                      if revoked is not None else "the key set marks it not revoked"))
    if expected_base_url is not None:
        try:
            base_ok = normalize_base_url(expected_base_url) == claims.base_url
        except ValueError:
            base_ok = False
        if not base_ok:
            return fail("wrong_site", f"the link points at {claims.base_url}, "
                        f"not at {expected_base_url}", "链接指向的网站不正确", "site", **common)
        steps.append(Step("site", True, claims.base_url))
    if expected_digest is not None:
        if not claims.matches_digest(expected_digest):
            return fail("digest_mismatch",
                        "the link was issued for a different transcript content",
                        "链接与成绩单内容不符", "content", **common)
        steps.append(Step("content", True, "the link was issued for this content"))
    return Verdict(True, f"signed by the issuer (key {kid}) for serial {claims.serial}, "
                   f"issued {claims.issued_on.isoformat()}",
                   "签名有效，为学校签发", "genuine", steps=tuple(steps), **common)


def _signature_ok(public_key, claims: LinkClaims) -> bool:
    try:
        public_key.verify(claims.signature, claims.message)
    except InvalidSignature:
        return False
    return True


def digest_prefix(digest_hex: str) -> str:
    return digest_hex[: 2 * DIGEST_PREFIX_BYTES].lower()
