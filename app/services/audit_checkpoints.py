"""Signed checkpoints of the audit chain, kept outside the database (Certificate Transparency's
signed tree heads, for a hash chain).

A checkpoint is the chain's head — its length (`seq`) and last hash — and the time, signed
with an Ed25519 key that lives in a file under SIGNING_KEY_DIR, never in the database. The
checkpoints are appended to a file beside it, published at `/.well-known/audit-checkpoints.json`
and copied into every backup. Whoever can rewrite the database cannot re-sign the heads, and a
copy of the file held elsewhere still tells the truth: `audit verify` checks the chain against
every checkpoint, so a row edited (with every later hash recomputed) or rows cut off the end
behind a checkpoint are caught.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

import credentials
from app.models import AuditEvent, AuditHead, User
from app.services.audit import GENESIS, append_event, verify_chain
from app.services.errors import Conflict, Invalid
from app.timeutil import utcnow
from credentials.keys import b64u_decode, b64u_encode, load_key, public_jwk, save_key

KEY_FILE = "audit-checkpoint.key"  # not *.pem: the transcript key ring reads every .pem as its own
CHECKPOINTS_FILE = "audit-checkpoints.jsonl"
#: What a signature covers starts with this, so a checkpoint signature means nothing elsewhere.
CONTEXT = b"second-transcript audit checkpoint v1\n"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    key_id: str
    signature: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash, "at": self.at, "key_id": self.key_id,
                "signature": self.signature}


def signed_bytes(seq: int, head_hash: str, at: str) -> bytes:
    """The exact bytes a checkpoint's signature covers (published, so anyone can check it)."""
    body = json.dumps({"seq": seq, "hash": head_hash, "at": at}, sort_keys=True, separators=(",", ":"))
    return CONTEXT + body.encode("ascii")


def key_dir() -> Path:
    return Path(current_app.config["SIGNING_KEY_DIR"])


def checkpoints_path() -> Path:
    return key_dir() / CHECKPOINTS_FILE


def _key_path() -> Path:
    return key_dir() / KEY_FILE


def load_signing_key() -> credentials.SigningKey | None:
    path = _key_path()
    return load_key(path) if path.exists() else None


def ensure_signing_key(session: Session, actor: User) -> tuple[credentials.SigningKey, bool]:
    """The checkpoint key, made (0600) on first use; True when it was made now (and audited)."""
    existing = load_signing_key()
    if existing is not None:
        return existing, False
    directory = key_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _locked(directory / ".audit-checkpoint.lock"):
        existing = load_signing_key()
        if existing is not None:
            return existing, False
        key = credentials.generate_key()
        save_key(key, _key_path())
    append_event(session, actor, "key.generate", "key", key.kid, {"purpose": "audit-checkpoint"})
    session.flush()
    return key, True


class _locked:
    """An exclusive flock on a lock file: two checkpoints at once append one after the other."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def read_checkpoints(path: Path | None = None) -> list[Checkpoint]:
    """The checkpoints of a file: our JSON Lines, or a saved copy of the published document."""
    path = path or checkpoints_path()
    if not path.exists():
        return []
    text = path.read_text("utf-8")
    try:
        try:
            whole = json.loads(text)
        except ValueError:
            whole = None  # JSON Lines of more than one checkpoint
        if isinstance(whole, dict) and "checkpoints" in whole:
            rows = whole["checkpoints"]
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        return [Checkpoint(int(r["seq"]), str(r["hash"]), str(r["at"]), str(r["key_id"]),
                           str(r["signature"])) for r in rows]
    except (ValueError, KeyError, TypeError):
        raise Invalid({"checkpoints": [_("Not a file of audit checkpoints: %(path)s", path=str(path))]}) from None


def public_keys_of(path: Path | None = None) -> dict[str, Ed25519PublicKey]:
    """The public key a saved copy of the published document names (to check it offline)."""
    if path is None or not path.exists():
        return {}
    try:
        document = json.loads(path.read_text("utf-8"))
        return credentials.public_keys_from_jwks({"keys": document.get("keys", [])})
    except (ValueError, AttributeError):
        return {}


def _head(session: Session) -> AuditHead | None:
    """The head as the database has it now, not as this session last saw it."""
    return session.execute(
        select(AuditHead).where(AuditHead.id == 1).execution_options(populate_existing=True)
    ).scalar_one_or_none()


def create_checkpoint(session: Session, actor: User) -> Checkpoint | None:
    """Sign the chain's committed head and append it to the file; None when nothing is new.

    The chain is verified first: signing a broken chain would vouch for the damage.
    The caller commits before (the head must be the committed one) and after (a new key's event).
    """
    key, made = ensure_signing_key(session, actor)
    if made:
        session.commit()  # the key's own event is in the head we sign
    report = verify_chain(session)
    if not report.ok:
        raise Conflict(_("The audit chain is broken at event #%(seq)s (%(reason)s); no checkpoint was signed",
                         seq=report.broken_seq, reason=report.reason))
    head = _head(session)
    seq, head_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    with _locked(key_dir() / ".audit-checkpoint.lock"):
        existing = read_checkpoints()
        if existing and existing[-1].seq == seq and existing[-1].hash == head_hash:
            return None
        at = utcnow().isoformat()
        signature = b64u_encode(key.sign(signed_bytes(seq, head_hash, at)))
        checkpoint = Checkpoint(seq, head_hash, at, key.kid, signature)
        path = checkpoints_path()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(json.dumps(checkpoint.as_dict(), sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
    return checkpoint


def last_checkpoint() -> Checkpoint | None:
    found = read_checkpoints()
    return found[-1] if found else None


def published() -> dict[str, Any]:
    """The public document: how to check, the public key, every checkpoint (oldest first)."""
    key = load_signing_key()
    return {
        "description": "Signed heads of the audit log's hash chain. Each signature (Ed25519, "
                       "base64url) covers the bytes 'second-transcript audit checkpoint v1\\n' "
                       "followed by the JSON {\"at\",\"hash\",\"seq\"} with sorted keys and no spaces.",
        "keys": [{**public_jwk(key.public_key), "use": "sig"}] if key else [],
        "checkpoints": [c.as_dict() for c in read_checkpoints()],
    }


@dataclass
class CheckpointReport:
    ok: bool
    checked: int
    reason: str = ""


def _signature_ok(checkpoint: Checkpoint, keys: dict[str, Ed25519PublicKey]) -> bool:
    public = keys.get(checkpoint.key_id)
    if public is None:
        return False
    try:
        public.verify(b64u_decode(checkpoint.signature),
                      signed_bytes(checkpoint.seq, checkpoint.hash, checkpoint.at))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_checkpoints(session: Session, path: Path | None = None) -> CheckpointReport:
    """The chain in the database against every checkpoint of `path` (default: our own file).

    Each signature must be ours, the event at each checkpoint's seq must exist with the hash
    signed, and the chain must not be shorter than the last checkpoint.
    """
    checkpoints = read_checkpoints(path)
    key = load_signing_key()
    # Our own key file when we have it; only without it (a copy checked elsewhere) the key a
    # saved copy of the published document names.
    keys = {key.kid: key.public_key} if key else public_keys_of(path)
    if checkpoints and not keys:
        return CheckpointReport(False, 0, _("The checkpoint key is missing: the checkpoints cannot be checked"))
    head = _head(session)
    length = head.seq if head is not None else 0
    wanted = {c.seq for c in checkpoints}
    hashes = dict(session.execute(
        select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(wanted))
    ).all()) if wanted else {}
    for number, checkpoint in enumerate(checkpoints, start=1):
        if not _signature_ok(checkpoint, keys):
            return CheckpointReport(False, number - 1, _(
                "Checkpoint %(n)s (event #%(seq)s, %(at)s): its signature does not check out",
                n=number, seq=checkpoint.seq, at=checkpoint.at))
        if checkpoint.seq == 0:
            continue
        found = hashes.get(checkpoint.seq)
        if found is None:
            return CheckpointReport(False, number - 1, _(
                "Checkpoint %(n)s signed event #%(seq)s at %(at)s; the log no longer has it",
                n=number, seq=checkpoint.seq, at=checkpoint.at))
        if found != checkpoint.hash:
            return CheckpointReport(False, number - 1, _(
                "Checkpoint %(n)s signed event #%(seq)s at %(at)s with another hash: the log was rewritten",
                n=number, seq=checkpoint.seq, at=checkpoint.at))
    if checkpoints and length < checkpoints[-1].seq:
        last = checkpoints[-1]
        return CheckpointReport(False, len(checkpoints), _(
            "The log holds %(count)s events, but %(seq)s were signed at %(at)s: it was cut short",
            count=length, seq=last.seq, at=last.at))
    return CheckpointReport(True, len(checkpoints))
