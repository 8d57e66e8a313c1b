"""The transcript as a W3C Verifiable Credential 2.0 (Open Badges 3.0), its status list, its DID.

* :func:`transcript_credential` — an ``OpenBadgeCredential``: the issuer is the school's
  ``did:web``, the subject the student, the achievement the transcript (``CoCurricular``) with
  one result (and its result description) per certified record, a ``BitstringStatusListEntry``
  for revocation, and a Data Integrity proof ``eddsa-jcs-2022`` by the active Ed25519 key.
* :func:`status_list_credential` — the signed ``BitstringStatusListCredential`` the entries
  point to (a GZIP'd bitstring of :data:`LIST_SIZE` bits, the spec's minimum for herd privacy).
* :func:`did_document` — the ``did:web`` document: every key as a ``Multikey``.
* :func:`verify_credential` — the offline check: proof (JCS + Ed25519), issuer key, status.

Why JCS and not RDF canonicalization: the proof then covers the exact JSON members, so the
verifier needs no JSON-LD processor, and nothing is fetched; the contexts are still bundled
(:data:`CONTEXTS`) for the verifiers that do expand the document.

One module, though long: the credential, its proof, the status list and the DID document
share the issuer's identifiers and the proof code; an offline verifier imports one place.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import gzip
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any
from urllib.parse import quote, urlsplit

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .keys import KeyRing, SigningKey, key_id, resolve_keys, resolve_revocations
from .snapshot import LEVELS, ROLES, Record, Snapshot

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
#: The JSON-LD contexts the documents name, bundled in the package (see ``contexts/README.md``).
CONTEXTS: dict[str, str] = {
    VC_V2: "credentials-v2.json",
    OB_V3: "ob-v3p0-3.0.3.json",
    DID_V1: "did-v1.json",
    MULTIKEY_V1: "multikey-v1.json",
}
MEDIA_TYPE = "application/vc"
CRYPTOSUITE = "eddsa-jcs-2022"
#: Bits in one status list: the spec's minimum (16 KB), so one index hides among many.
LIST_SIZE = 131_072
#: The multicodec prefix of an Ed25519 public key (0xed, varint) in a Multikey.
_ED25519_PUB_PREFIX = b"\xed\x01"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


# ---- encodings ---------------------------------------------------------------------------

def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58[r])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    n = 0
    for c in text:
        if c not in _B58_INDEX:
            raise ValueError("not base58btc")
        n = n * 58 + _B58_INDEX[c]
    zeros = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * zeros + body


def jcs(obj: Any) -> bytes:
    """RFC 8785 canonical JSON: the bytes the proof signs."""
    return rfc8785.dumps(obj)


def multikey(public_key: Ed25519PublicKey) -> str:
    """``publicKeyMultibase``: ``z`` + base58btc(0xed01 + the raw 32-byte key)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "z" + b58encode(_ED25519_PUB_PREFIX + raw)


def public_key_from_multikey(value: str) -> Ed25519PublicKey:
    if not isinstance(value, str) or not value.startswith("z"):
        raise ValueError("publicKeyMultibase: not base58btc multibase")
    data = b58decode(value[1:])
    if len(data) != 34 or not data.startswith(_ED25519_PUB_PREFIX):
        raise ValueError("publicKeyMultibase: not an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(data[2:])


def did_web(base_url: str) -> str:
    """``did:web:<host>``, the port percent-encoded (``%3A``) as the did:web method says."""
    parts = urlsplit(base_url)
    if not parts.hostname:
        raise ValueError(f"not an absolute URL: {base_url!r}")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return "did:web:" + quote(host, safe="")


def context_document(url: str) -> dict[str, Any]:
    """A bundled context by its URL (``KeyError`` if it is not one of :data:`CONTEXTS`)."""
    name = CONTEXTS[url]
    return json.loads(resources.files(__package__).joinpath("contexts", name).read_text("utf-8"))


def _utc(moment: _dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a time zone is needed")
    return moment.astimezone(_dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_utc(text: Any) -> _dt.datetime:
    if not isinstance(text, str):
        raise ValueError("not a date-time")
    moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a date-time without a time zone")
    return moment


# ---- the DID document --------------------------------------------------------------------

def did_document(did: str, keys: KeyRing | Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    """Every key (active first, then retired) as a Multikey method the issuer asserts with; a
    revoked key carries ``revoked`` (the security vocabulary's dateTime: the start of its day)."""
    public = keys.public_keys() if isinstance(keys, KeyRing) else dict(keys)
    revocations = keys.revocations if isinstance(keys, KeyRing) else {}
    methods = []
    for kid, pub in public.items():
        method = {"id": f"{did}#{kid}", "type": "Multikey", "controller": did, "publicKeyMultibase": multikey(pub)}
        if kid in revocations:
            method["revoked"] = f"{revocations[kid].isoformat()}T00:00:00Z"
        methods.append(method)
    return {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def keys_from_did_document(doc: Mapping[str, Any]) -> dict[str, Ed25519PublicKey]:
    """``{kid: key}`` from a saved did.json, each fragment checked against the key's thumbprint."""
    out: dict[str, Ed25519PublicKey] = {}
    asserting = set(doc.get("assertionMethod") or ())
    for method in doc.get("verificationMethod") or ():
        if not isinstance(method, Mapping) or method.get("id") not in asserting:
            continue
        pub = public_key_from_multikey(method.get("publicKeyMultibase"))
        kid = str(method["id"]).rpartition("#")[2]
        if kid != key_id(pub):
            raise ValueError(f"DID document: {method['id']} is not the key's thumbprint")
        out[kid] = pub
    return out


# ---- the proof ---------------------------------------------------------------------------

def _hash_data(document: Mapping[str, Any], proof_options: Mapping[str, Any]) -> bytes:
    """eddsa-jcs-2022: SHA-256(JCS(proof options)) ‖ SHA-256(JCS(document without its proof)).

    The proof carries the document's ``@context`` (the suite's sign step puts it there), so a
    verifier hashes the proof as it reads it; the document is hashed under the proof's context.
    """
    config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    if "@context" in config:
        unsecured["@context"] = config["@context"]
    return hashlib.sha256(jcs(config)).digest() + hashlib.sha256(jcs(unsecured)).digest()


def sign(document: Mapping[str, Any], key: SigningKey, did: str, created: _dt.datetime) -> dict[str, Any]:
    """The document with a DataIntegrityProof; deterministic (Ed25519, fixed ``created``)."""
    proof: dict[str, Any] = {
        "@context": document["@context"],
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": _utc(created),
        "verificationMethod": f"{did}#{key.kid}",
        "proofPurpose": "assertionMethod",
    }
    proof["proofValue"] = "z" + b58encode(key.sign(_hash_data(document, proof)))
    return {**document, "proof": proof}


# ---- the status list ---------------------------------------------------------------------

def status_position(index: int) -> tuple[int, int]:
    """A transcript's status index (0, 1, …) → (list number from 1, index within that list)."""
    if index < 0:
        raise ValueError("a status index is not negative")
    return index // LIST_SIZE + 1, index % LIST_SIZE


def status_list_url(base_url: str, list_id: int) -> str:
    return f"{base_url.rstrip('/')}/status/{list_id}"


def encode_bitstring(set_bits: Iterable[int], size: int = LIST_SIZE) -> str:
    """Multibase base64url (``u``) of the GZIP of the bitstring; bit 0 is the first byte's MSB.

    ``mtime=0`` keeps the bytes the same for the same bits, so the signed list is reproducible.
    """
    bits = bytearray(size // 8)
    for i in set_bits:
        if not 0 <= i < size:
            raise ValueError(f"status index {i} outside the list")
        bits[i // 8] |= 0x80 >> (i % 8)
    packed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode_bitstring(encoded: str) -> bytes:
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise ValueError("encodedList: not multibase base64url")
    body = encoded[1:]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        # A bound on the unpacked size: a small "gzip bomb" must not fill the memory.
        with gzip.GzipFile(fileobj=io.BytesIO(packed)) as f:
            bits = f.read(LIST_SIZE * 64 // 8 + 1)
    except (binascii.Error, OSError, EOFError) as exc:
        raise ValueError("encodedList: not base64url GZIP") from exc
    if len(bits) > LIST_SIZE * 64 // 8:
        raise ValueError("encodedList: too long")
    return bits


def bit_is_set(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise ValueError("statusListIndex outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(base_url: str, list_id: int, revoked: Iterable[int], key: SigningKey,
                           valid_from: _dt.datetime) -> dict[str, Any]:
    """The signed list: ``revoked`` are indexes within this list whose bit is 1."""
    did = did_web(base_url)
    url = status_list_url(base_url, list_id)
    document = {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        # A plain DID, as in the transcripts' `issuer.id`: verifiers compare the two.
        "issuer": did,
        "validFrom": _utc(valid_from),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bitstring(revoked),
        },
    }
    return sign(document, key, did, valid_from)


# ---- the transcript credential -----------------------------------------------------------

def _pick(vocab: tuple[tuple[str, str, str], ...], key: str) -> dict[str, str]:
    for k, zh, en in vocab:
        if k == key:
            return {"key": k, "zh": zh, "en": en}
    return {"key": key}


def _hours(value: Decimal) -> str:
    return f"{value:.1f}"


def _result(r: Record, description_id: str, modules: dict[str, dict[str, str]]) -> dict[str, Any]:
    # The terms after `status` are not Open Badges ones: the VC 2.0 context's @vocab maps them to
    # issuer-dependent IRIs, which JCS signs like any member.
    result: dict[str, Any] = {
        "type": ["Result"],
        "resultDescription": description_id,
        "value": _hours(r.hours),
        "status": "Completed",
        "activity": r.activity,
        "date": r.date.isoformat(),
        "hours": _hours(r.hours),
        "module": modules.get(r.module, {"key": r.module}),
        "level": _pick(LEVELS, r.level),
        "role": _pick(ROLES, r.role),
        "source": r.source,
    }
    if r.club:
        result["club"] = r.club
    if r.award:
        result["award"] = r.award
    if r.certified_by:
        result["certifiedBy"] = r.certified_by
    if r.certified_at is not None:
        result["certifiedAt"] = _utc(r.certified_at)
    return result


def credential_id(base_url: str, serial: str) -> str:
    """A stable ``urn:uuid`` per transcript: the same credential every time it is downloaded."""
    name = base_url.rstrip("/") + "/transcripts/" + serial
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def transcript_credential(snapshot: Snapshot, *, base_url: str, status_index: int,
                          key: SigningKey, created: _dt.datetime | None = None) -> dict[str, Any]:
    """The signed ``OpenBadgeCredential`` of a transcript snapshot.

    Deterministic: ``validFrom`` is the issue time, and so is the proof's ``created`` unless
    given (a key newer than the transcript signs it later); Ed25519 signs deterministically, so
    the same transcript, key and time give the same bytes.
    """
    base = base_url.rstrip("/")
    did = did_web(base)
    vc_id = credential_id(base, snapshot.serial)
    list_id, index = status_position(status_index)
    list_url = status_list_url(base, list_id)
    modules = {k: {"key": k, "zh": zh, "en": en} for k, zh, en in snapshot.modules}
    descriptions = []
    results = []
    for i, r in enumerate(snapshot.records, start=1):
        rd_id = f"{vc_id}#record-{i}"
        descriptions.append({"id": rd_id, "type": ["ResultDescription"], "name": r.activity,
                             "resultType": "ext:CertifiedHours"})
        results.append(_result(r, rd_id, modules))
    # The student number is only hashed (salted with the serial), as OB's IdentityObject allows:
    # whoever knows the number can match it, nobody reads it off the credential.
    salt = snapshot.serial
    number_hash = hashlib.sha256((snapshot.student_no + salt).encode("utf-8")).hexdigest()
    issued = _utc(snapshot.issued_at)
    document: dict[str, Any] = {
        "@context": [VC_V2, OB_V3],
        "id": vc_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"Second Transcript {snapshot.serial}",
        "issuer": {"id": did, "type": ["Profile"], "name": snapshot.institution, "url": base},
        "validFrom": issued,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": snapshot.student_name,
            "identifier": [
                {"type": "IdentityObject", "identityType": "name", "hashed": False,
                 "identityHash": snapshot.student_name},
                {"type": "IdentityObject", "identityType": "studentId", "hashed": True,
                 "identityHash": f"sha256${number_hash}", "salt": salt},
            ],
            "achievement": {
                "id": f"{vc_id}#achievement",
                "type": ["Achievement"],
                "achievementType": "CoCurricular",
                "name": "Second Transcript (第二课堂成绩单)",
                "description": (f"{snapshot.activity_count} certified records, "
                                f"{_hours(snapshot.total_hours)} hours"),
                "criteria": {"narrative": "Activities and achievements certified by the school's "
                                          "second-classroom office."},
                "resultDescription": descriptions,
                "serial": snapshot.serial,
                "unit": snapshot.unit,
                "totalHours": _hours(snapshot.total_hours),
            },
            "result": results,
        },
        "credentialStatus": {
            "id": f"{list_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": list_url,
        },
    }
    if snapshot.school_class:
        document["credentialSubject"]["achievement"]["schoolClass"] = snapshot.school_class
    return sign(document, key, did, created or snapshot.issued_at)


# ---- verification ------------------------------------------------------------------------

NOT_CHECKED = "status not checked"


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool | None  # None: not checked
    detail: str = ""


@dataclass(frozen=True)
class CredentialVerdict:
    verified: bool
    reason: str
    steps: tuple[Step, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"verified": self.verified, "reason": self.reason,
                "steps": [{"name": s.name, "ok": s.ok, "detail": s.detail} for s in self.steps]}


def _resolve(keys: Any) -> dict[str, Ed25519PublicKey]:
    if isinstance(keys, Mapping) and "verificationMethod" in keys:
        return keys_from_did_document(keys)
    return resolve_keys(keys)


def _revocations(keys: Any) -> dict[str, _dt.date]:
    """{kid: revoked from} that a key ring, a JWKS or a saved did.json carries."""
    if isinstance(keys, Mapping) and "verificationMethod" in keys:
        out = {}
        for method in keys.get("verificationMethod") or ():
            if isinstance(method, Mapping) and "revoked" in method:
                out[str(method.get("id")).rpartition("#")[2]] = _parse_utc(method["revoked"]).date()
        return out
    return resolve_revocations(keys)


def _check_proof(document: Mapping[str, Any], keys: dict[str, Ed25519PublicKey]) -> tuple[bool, str, str]:
    """(ok, step that failed or 'signature', detail)."""
    proof = document.get("proof")
    if not isinstance(proof, Mapping):
        return False, "format", "no proof"
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        return False, "format", f"not a {CRYPTOSUITE} DataIntegrityProof"
    if proof.get("proofPurpose") != "assertionMethod":
        return False, "format", "the proof is not for assertionMethod"
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    method = proof.get("verificationMethod")
    if not isinstance(issuer_id, str) or not isinstance(method, str) or not method.startswith(issuer_id + "#"):
        return False, "issuer key", "the proof's key is not the issuer's"
    kid = method[len(issuer_id) + 1:]
    public = keys.get(kid)
    if public is None:
        return False, "issuer key", f"unknown key {kid}"
    context = proof.get("@context")
    if context is not None:
        # The spec's step: the document's context must start with the proof's, in order.
        ours = context if isinstance(context, list) else [context]
        theirs = document.get("@context")
        theirs = theirs if isinstance(theirs, list) else [theirs]
        if theirs[:len(ours)] != ours:
            return False, "signature", "the document's @context does not start with the proof's"
    value = proof.get("proofValue")
    try:
        if not isinstance(value, str) or not value.startswith("z"):
            raise ValueError
        signature = b58decode(value[1:])
        _parse_utc(proof.get("created"))
        public.verify(signature, _hash_data(document, proof))
    except (ValueError, InvalidSignature, TypeError):
        return False, "signature", "the signature does not match the document"
    return True, "signature", f"signed by {kid}"


def verify_credential(vc: Mapping[str, Any], keys: Any, status_list: Mapping[str, Any] | None = None,
                      *, now: _dt.datetime | None = None) -> CredentialVerdict:
    """Check a credential offline: its proof (JCS, Ed25519), the issuer's key, and its status.

    ``keys``: a JWKS, a saved did.json, a :class:`KeyRing` or anything ``resolve_keys`` takes.
    ``status_list``: a saved ``BitstringStatusListCredential``; without it the status step says
    "status not checked" and the credential can still verify (as a signature, not a status).
    """
    steps: list[Step] = []

    def fail(name: str, detail: str) -> CredentialVerdict:
        steps.append(Step(name, False, detail))
        return CredentialVerdict(False, detail, tuple(steps))

    if not isinstance(vc, Mapping) or "VerifiableCredential" not in (vc.get("type") or ()):
        return fail("format", "not a verifiable credential")
    if (vc.get("@context") or [None])[0] != VC_V2:
        return fail("format", "not a VC 2.0 credential")
    steps.append(Step("format", True))
    try:
        public = _resolve(keys)
        revocations = _revocations(keys)
    except ValueError as exc:
        return fail("issuer key", str(exc))
    ok, name, detail = _check_proof(vc, public)
    if not ok:
        if name == "signature":
            steps.append(Step("issuer key", True))
        return fail(name, detail)
    kid = vc["proof"]["verificationMethod"].rpartition("#")[2]
    revoked = revocations.get(kid)
    if revoked is not None and _parse_utc(vc["proof"]["created"]).date() >= revoked:
        return fail("issuer key", f"key {kid} revoked from {revoked.isoformat()}")
    steps.extend((Step("issuer key", True), Step("signature", True, detail)))
    moment = now or _dt.datetime.now(_dt.UTC)
    try:
        if _parse_utc(vc.get("validFrom")) > moment:
            return fail("validity", "not valid yet")
        if "validUntil" in vc and _parse_utc(vc["validUntil"]) < moment:
            return fail("validity", "expired")
    except ValueError:
        return fail("validity", "validFrom is not a date-time")
    steps.append(Step("validity", True))
    entry = vc.get("credentialStatus")
    if entry is None:
        steps.append(Step("status", None, "no status"))
        return CredentialVerdict(True, "verified", tuple(steps))
    if status_list is None:
        steps.append(Step("status", None, NOT_CHECKED))
        return CredentialVerdict(True, f"verified; {NOT_CHECKED}", tuple(steps))
    return _check_status(vc, entry, status_list, public, steps)


def _check_status(vc: Mapping[str, Any], entry: Any, status_list: Mapping[str, Any],
                  public: dict[str, Ed25519PublicKey], steps: list[Step]) -> CredentialVerdict:
    def fail(detail: str) -> CredentialVerdict:
        steps.append(Step("status", False, detail))
        return CredentialVerdict(False, detail, tuple(steps))

    if not isinstance(entry, Mapping) or entry.get("type") != "BitstringStatusListEntry":
        return fail("credentialStatus is not a BitstringStatusListEntry")
    if not isinstance(status_list, Mapping) or status_list.get("id") != entry.get("statusListCredential"):
        return fail("the status list is not the one the credential names")
    issuer = vc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if status_list.get("issuer") != issuer_id:
        return fail("the status list has another issuer")
    ok, _name, detail = _check_proof(status_list, public)
    if not ok:
        return fail(f"the status list's proof fails: {detail}")
    subject = status_list.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("statusPurpose") != entry.get("statusPurpose"):
        return fail("the status list is for another purpose")
    try:
        index = int(entry.get("statusListIndex"))
        revoked = bit_is_set(decode_bitstring(subject.get("encodedList")), index)
    except (TypeError, ValueError) as exc:
        return fail(str(exc) or "bad status index")
    if revoked:
        return fail("revoked")
    steps.append(Step("status", True, f"not revoked (list of {status_list.get('validFrom')})"))
    return CredentialVerdict(True, "verified", tuple(steps))
