"""Ed25519 signing keys, key ids (RFC 7638 thumbprints), a key ring and its JWKS.

On-disk layout of a key directory (see :class:`KeyRing`)::

    keys/
      active            the kid of the active key, one line
      <kid>.pem         the active key: an unencrypted PKCS#8 PEM private key, mode 0600
      <kid>.pub         a retired key: its public part only (PEM SubjectPublicKeyInfo)
      revoked.json      {kid: "YYYY-MM-DD"}: keys revoked from that date (the issuer's local date)
      .lock             taken (flock) while generating, rotating or revoking

A *retired* key no longer signs, but its public part stays in the JWKS so that transcripts
it signed still verify.  Rotation destroys the retired private keys: what is not kept
cannot leak.  (A directory written before that keeps older ``<kid>.pem`` files as retired
keys until the next rotation destroys them.)  A *revoked* key is compromised: nothing it
signed on or after its revocation date verifies, and the JWKS says so (``revoked_from``).

One module, though long: the key ring on disk and the JWKS it publishes are read back by the
same parsing (key ids, revocations), which is what makes a saved JWKS verify offline.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

#: Length of a key id: a prefix of the base64url RFC 7638 thumbprint (96 bits).
KID_LENGTH = 16
_KID_RE = re.compile(rf"^[A-Za-z0-9_-]{{{KID_LENGTH}}}$")
ACTIVE_FILE = "active"
REVOKED_FILE = "revoked.json"
#: The JWK member (not a registered one; verifiers that do not know it ignore it, RFC 7517
#: 4) naming the first day on which nothing the key signed verifies.
REVOKED_MEMBER = "revoked_from"


class KeysMissing(FileNotFoundError, ValueError):
    """The key directory has no active key yet (``generate_in_dir`` creates one)."""


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64U_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def b64u_decode(text: str) -> bytes:
    """Strict base64url (no padding): only the one canonical spelling is accepted."""
    if not isinstance(text, str) or not _B64U_RE.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u_encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def jwk_thumbprint(public_key: Ed25519PublicKey) -> str:
    """The full RFC 7638 JWK thumbprint (SHA-256, base64url) of an Ed25519 public key."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64u_encode(_raw_public(public_key))}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode("ascii")
    return b64u_encode(hashlib.sha256(canonical).digest())


def key_id(public_key: Ed25519PublicKey) -> str:
    """Key id: the first :data:`KID_LENGTH` characters of the RFC 7638 thumbprint."""
    return jwk_thumbprint(public_key)[:KID_LENGTH]


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64u_encode(_raw_public(public_key)),
        "kid": key_id(public_key),
        "use": "sig",
        "alg": "EdDSA",
    }


class _KeyId:
    """What a signing key and its public part share: the JWK, checking a signature, and being
    the same key exactly when their key ids are equal (a retired key equals the key it was)."""

    kid: str
    public_key: Ed25519PublicKey

    def public_jwk(self) -> dict[str, str]:
        return public_jwk(self.public_key)

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self.public_key.verify(signature, data)
        except InvalidSignature:
            return False
        return True

    def __repr__(self) -> str:  # never print key material
        return f"{type(self).__name__}(kid={self.kid!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _KeyId) and other.kid == self.kid

    def __hash__(self) -> int:
        return hash(self.kid)


@dataclass(frozen=True, eq=False, repr=False)
class SigningKey(_KeyId):
    """An Ed25519 private key and its key id."""

    private_key: Ed25519PrivateKey
    kid: str = field(default="")

    def __post_init__(self) -> None:
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise TypeError("SigningKey needs an Ed25519PrivateKey")
        object.__setattr__(self, "kid", key_id(self.private_key.public_key()))

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.private_key.sign(bytes(data))

    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


@dataclass(frozen=True, eq=False, repr=False)
class VerifyKey(_KeyId):
    """The public part of a key, all a retired key keeps: it verifies, it cannot sign."""

    public_key: Ed25519PublicKey
    kid: str = field(default="")

    def __post_init__(self) -> None:
        if not isinstance(self.public_key, Ed25519PublicKey):
            raise TypeError("VerifyKey needs an Ed25519PublicKey")
        object.__setattr__(self, "kid", key_id(self.public_key))

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)


def generate_key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


def _atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def save_key(key: SigningKey, path: str | os.PathLike[str]) -> None:
    """Write the private key as PKCS#8 PEM, file mode 0600, atomically."""
    _atomic_write(Path(path), key.private_pem(), 0o600)


def load_key(path: str | os.PathLike[str]) -> SigningKey:
    """Read a PEM private key written by :func:`save_key`; ``ValueError`` if it is not one."""
    data = Path(path).read_bytes()
    try:
        pk = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not an unencrypted PEM private key") from exc
    if not isinstance(pk, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 key")
    return SigningKey(pk)


@contextlib.contextmanager
def _dir_lock(directory: Path):
    import fcntl

    fd = os.open(directory / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _destroy(path: Path) -> None:
    """Overwrite a private key file before unlinking it, so its blocks do not keep the key."""
    with contextlib.suppress(FileNotFoundError):
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.write(b"\0" * size)
            f.flush()
            os.fsync(f.fileno())
        path.unlink()


def _load_public(path: Path) -> VerifyKey:
    try:
        pub = serialization.load_pem_public_key(path.read_bytes())
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a PEM public key") from exc
    if not isinstance(pub, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 key")
    return VerifyKey(pub)


def _load_revocations(path: Path) -> dict[str, _dt.date]:
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a JSON file") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected {{kid: date}}")
    out = {}
    for kid, day in data.items():
        if not _KID_RE.match(str(kid)):
            raise ValueError(f"{path}: {kid!r} is not a key id")
        out[kid] = _revocation_date(day, str(path))
    return out


def _revocation_date(day: Any, where: str) -> _dt.date:
    if isinstance(day, str) and len(day) == 10:
        with contextlib.suppress(ValueError):
            return _dt.date.fromisoformat(day)
    raise ValueError(f"{where}: {day!r} is not a date YYYY-MM-DD")


@dataclass(frozen=True)
class KeyRing:
    """One active key that signs, retired keys whose public parts still verify, and the keys
    revoked from a date (``revocations``: kid → the first day nothing it signed verifies)."""

    active: SigningKey
    retired: tuple[SigningKey | VerifyKey, ...] = ()
    revocations: Mapping[str, _dt.date] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.active, SigningKey):
            raise TypeError("KeyRing.active must be a SigningKey")
        retired = tuple(k for k in self.retired if k.kid != self.active.kid)
        object.__setattr__(self, "retired", retired)
        object.__setattr__(self, "revocations", dict(self.revocations))

    @property
    def keys(self) -> tuple[SigningKey | VerifyKey, ...]:
        return (self.active, *self.retired)

    def get(self, kid: str) -> SigningKey | VerifyKey | None:
        for k in self.keys:
            if k.kid == kid:
                return k
        return None

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        return {k.kid: k.public_key for k in self.keys}

    def revoked_from(self, kid: str) -> _dt.date | None:
        return self.revocations.get(kid)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """JWKS with public parts only: the active key first, then retired ones; a revoked
        key carries ``revoked_from``."""
        out = []
        for k in self.keys:
            jwk = k.public_jwk()
            if k.kid in self.revocations:
                jwk[REVOKED_MEMBER] = self.revocations[k.kid].isoformat()
            out.append(jwk)
        return {"keys": out}

    # -- on disk ------------------------------------------------------------------------
    @classmethod
    def load_dir(cls, directory: str | os.PathLike[str]) -> KeyRing:
        d = Path(directory)
        try:
            active_kid = (d / ACTIVE_FILE).read_text("ascii").strip()
        except FileNotFoundError:
            raise KeysMissing(2, "no active signing key (generate one first)",
                              str(d / ACTIVE_FILE)) from None
        except UnicodeDecodeError:
            raise ValueError(f"{d / ACTIVE_FILE}: not a key id") from None
        if not _KID_RE.match(active_kid):
            raise ValueError(f"{d / ACTIVE_FILE}: not a key id")
        keys: dict[str, SigningKey | VerifyKey] = {}
        # Other .pem files (the PDF signing certificate) are not Ed25519 ring keys.
        pems = [p for p in d.glob("*.pem") if _KID_RE.match(p.stem)]
        for path in sorted(pems) + sorted(d.glob("*.pub")):
            k = load_key(path) if path.suffix == ".pem" else _load_public(path)
            if path.stem != k.kid:
                raise ValueError(f"{path}: file name does not match its key id {k.kid}")
            if isinstance(keys.get(k.kid), SigningKey):
                continue
            keys[k.kid] = k
        active = keys.pop(active_kid, None)
        if not isinstance(active, SigningKey):
            raise ValueError(f"{d}: active key {active_kid} has no {active_kid}.pem")
        retired = tuple(VerifyKey(k.public_key) if isinstance(k, SigningKey) else k
                        for k in (keys[kid] for kid in sorted(keys)))
        return cls(active, retired, _load_revocations(d / REVOKED_FILE))

    @classmethod
    def generate_in_dir(cls, directory: str | os.PathLike[str]) -> KeyRing:
        """Load the ring in ``directory``; create the directory and a first key if none."""
        d = Path(directory)
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _dir_lock(d):
            if not (d / ACTIVE_FILE).exists():
                key = generate_key()
                save_key(key, d / f"{key.kid}.pem")
                _atomic_write(d / ACTIVE_FILE, (key.kid + "\n").encode("ascii"), 0o600)
            return cls.load_dir(d)

    @classmethod
    def rotate_in_dir(cls, directory: str | os.PathLike[str]) -> KeyRing:
        """Make a new active key; the previous ones stay as retired keys, public parts only
        (their private keys are destroyed)."""
        d = Path(directory)
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        with _dir_lock(d):
            key = generate_key()
            save_key(key, d / f"{key.kid}.pem")
            _atomic_write(d / ACTIVE_FILE, (key.kid + "\n").encode("ascii"), 0o600)
            for pem in d.glob("*.pem"):
                if _KID_RE.match(pem.stem) and pem.stem != key.kid:
                    old = load_key(pem)
                    _atomic_write(d / f"{old.kid}.pub", VerifyKey(old.public_key).public_pem(), 0o644)
                    _destroy(pem)
            return cls.load_dir(d)

    @classmethod
    def revoke_in_dir(cls, directory: str | os.PathLike[str], kid: str, from_day: _dt.date) -> KeyRing:
        """Revoke ``kid`` from ``from_day``: what it signed on or after that day no longer
        verifies.  Revoking again moves the date (earlier or later); the key stays published."""
        d = Path(directory)
        with _dir_lock(d):
            ring = cls.load_dir(d)
            if ring.get(kid) is None:
                raise ValueError(f"no key {kid!r} in {d}")
            if not isinstance(from_day, _dt.date) or isinstance(from_day, _dt.datetime):
                raise ValueError("from_day: expected a date")
            revocations = {**{k: v.isoformat() for k, v in ring.revocations.items()}, kid: from_day.isoformat()}
            _atomic_write(d / REVOKED_FILE, (json.dumps(revocations, indent=2, sort_keys=True) + "\n").encode(),
                          0o644)
            return cls.load_dir(d)


_ring_cache: dict[str, tuple[tuple, KeyRing]] = {}
_ring_lock = threading.Lock()


def _dir_state(d: Path) -> tuple:
    entries = []
    for p in sorted(d.glob("*.pem")) + sorted(d.glob("*.pub")) + [d / ACTIVE_FILE, d / REVOKED_FILE]:
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        entries.append((p.name, st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(entries)


def get_keyring(directory: str | os.PathLike[str], *, create: bool = True) -> KeyRing:
    """The key ring of ``directory``, loaded once per process.

    It is re-read only when a file in the directory changed (a rotation by another
    process), which costs a few ``stat`` calls.  With ``create`` a first key is made
    if the directory has none.
    """
    d = Path(directory).resolve()
    if not (d / ACTIVE_FILE).exists():
        if not create:
            raise KeysMissing(2, "no active signing key (generate one first)",
                              str(d / ACTIVE_FILE))
        KeyRing.generate_in_dir(d)
    state = _dir_state(d)
    with _ring_lock:
        hit = _ring_cache.get(str(d))
        if hit and hit[0] == state:
            return hit[1]
    ring = KeyRing.load_dir(d)
    with _ring_lock:
        _ring_cache[str(d)] = (state, ring)
    return ring


# -- verifying keys from a JWKS or anything key-like ------------------------------------


def _public_from_jwk(jwk: Any) -> tuple[str, Ed25519PublicKey]:
    if not isinstance(jwk, Mapping):
        raise ValueError("JWK: expected an object")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("JWK: not an Ed25519 (OKP) key")
    if "d" in jwk:
        raise ValueError("JWK: contains a private key; publish public parts only")
    if jwk.get("alg", "EdDSA") != "EdDSA" or jwk.get("use", "sig") != "sig":
        raise ValueError("JWK: not a signature key")
    raw = b64u_decode(jwk.get("x", ""))
    if len(raw) != 32:
        raise ValueError("JWK: x is not a 32-byte key")
    pub = Ed25519PublicKey.from_public_bytes(raw)
    kid = key_id(pub)
    if jwk.get("kid", kid) != kid:
        raise ValueError(f"JWK: kid {jwk.get('kid')!r} is not the key's thumbprint {kid}")
    return kid, pub


def revocations_from_jwks(jwks: Mapping[str, Any]) -> dict[str, _dt.date]:
    """``{kid: revoked from}`` of the keys a JWKS marks revoked; ``ValueError`` if malformed."""
    public_keys_from_jwks(jwks)  # the same checks as for the keys themselves
    out = {}
    for jwk in jwks["keys"]:
        if REVOKED_MEMBER in jwk:
            kid, _pub = _public_from_jwk(jwk)
            out[kid] = _revocation_date(jwk[REVOKED_MEMBER], f"JWK {kid}")
    return out


def resolve_revocations(keys: KeysLike) -> dict[str, _dt.date]:
    """The revocations a key ring or a JWKS carries (bare keys carry none)."""
    if isinstance(keys, KeyRing):
        return dict(keys.revocations)
    if isinstance(keys, Mapping) and "keys" in keys:
        return revocations_from_jwks(keys)
    return {}


def public_keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """``{kid: public key}`` from a JWKS dict; ``ValueError`` if it is malformed."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise ValueError("JWKS: expected an object with a 'keys' list")
    out: dict[str, Ed25519PublicKey] = {}
    for jwk in jwks["keys"]:
        kid, pub = _public_from_jwk(jwk)
        out[kid] = pub
    return out


def load_jwks_file(path: str | os.PathLike[str]) -> dict[str, Ed25519PublicKey]:
    try:
        data = json.loads(Path(path).read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a JSON file") from exc
    return public_keys_from_jwks(data)


KeysLike = Any  # JWKS dict | KeyRing | SigningKey | Ed25519PublicKey | {kid: key} | iterable


def resolve_keys(keys: KeysLike) -> dict[str, Ed25519PublicKey]:
    """Turn anything key-like into ``{kid: Ed25519PublicKey}``; ``ValueError`` if unusable.

    Accepts a JWKS dict, a :class:`KeyRing`, a :class:`SigningKey`, an Ed25519 public or
    private key, a mapping of kid to any of those, or an iterable of those.
    """
    if isinstance(keys, KeyRing):
        return keys.public_keys()
    if isinstance(keys, SigningKey | VerifyKey):
        return {keys.kid: keys.public_key}
    if isinstance(keys, Ed25519PrivateKey):
        keys = keys.public_key()
    if isinstance(keys, Ed25519PublicKey):
        return {key_id(keys): keys}
    if isinstance(keys, Mapping):
        if "keys" in keys:
            return public_keys_from_jwks(keys)
        out: dict[str, Ed25519PublicKey] = {}
        for v in keys.values():
            out.update(resolve_keys(v))
        return out
    if isinstance(keys, Iterable) and not isinstance(keys, str | bytes):
        out = {}
        for v in keys:
            out.update(resolve_keys(v))
        return out
    raise ValueError(f"not a key, key ring or JWKS: {type(keys).__name__}")
