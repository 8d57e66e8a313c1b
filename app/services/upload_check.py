"""The check of an uploaded PDF: byte for byte a file we issued (and its PAdES signature intact),
a copy of one saved again by another program, one changed after issue, or not ours at all.
Never raises on bad input; reads only."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

import credentials
import credentials.pades
from app.models import Transcript, TranscriptStatus
from app.services import holder
from app.services.transcripts import trust_roots
from app.services.verification import closed_note, key_revoked_reason, verification_ring, withdrawals
from app.timeutil import to_local


@dataclass
class UploadVerdict:
    genuine: bool
    status: str | None
    serial: str | None
    reason: str
    transcript: Transcript | None = None
    # A copy of this serial's transcript that is not the signed file (saved again by another
    # program): its content is the one issued, its file is not; `original_url` is its /v/ page.
    copy_of: str | None = None
    original_url: str | None = None


def pdf_signature_problem(data: bytes) -> str | None:
    """Why the file's PAdES signature fails pyHanko's check (intact, by the school's certificate,
    covering the whole file), or None. Files issued before PAdES carry none: for them the stored
    hash is the whole check."""
    if not credentials.pades.has_pades_signature(data):
        return None
    check = credentials.check_pades(data, trust_roots())
    if check.ok:
        return None
    if check.code == "untrusted":
        return _("The file's PDF signature is not by the school's certificate")
    return _("The file's PDF signature does not cover the file as it is: it was changed after signing")


def verify_upload(session: Session, data: bytes, *, everything: bool = False) -> UploadVerdict:
    """Is this file byte for byte a PDF we issued? Never raises on bad input.

    While the holder has closed the public check, the answer adds nothing the file does not
    say itself (no withdrawn records, no revocation reason) and says the check is closed;
    `everything` is the operator's command line, which always sees all.
    """
    digest = hashlib.sha256(data).hexdigest()
    transcript = session.execute(
        select(Transcript).where(Transcript.pdf_sha256 == digest)
    ).scalar_one_or_none()
    if transcript is not None:
        broken = pdf_signature_problem(data)
        if broken is not None:
            return UploadVerdict(False, transcript.status, transcript.serial, broken, transcript)
        reason = {
            TranscriptStatus.VALID: _("Byte-for-byte the file we issued"),
            TranscriptStatus.SUPERSEDED: _("Issued by us; a newer one exists"),
            TranscriptStatus.AMENDED: _("Issued by us; the school has since withdrawn records it carries"),
            TranscriptStatus.REVOKED: _("Revoked: %(reason)s", reason=transcript.revoke_reason),
        }[TranscriptStatus(transcript.status)]
        revoked_key = key_revoked_reason(verification_ring(transcript.key_id), transcript.key_id,
                                         transcript.issued_at)
        if revoked_key is not None:
            return UploadVerdict(False, TranscriptStatus.REVOKED.value, transcript.serial, revoked_key, transcript)
        # The holder closed the check: the verdict, nothing the file does not say itself.
        if not everything and not holder.is_open(transcript.public, transcript.public_until):
            reason = " · ".join([_("Issued by us") if transcript.status != TranscriptStatus.REVOKED
                                 else _("Revoked"), closed_note()])
            return UploadVerdict(transcript.status != TranscriptStatus.REVOKED, transcript.status,
                                 transcript.serial, reason, transcript)
        if transcript.status != TranscriptStatus.REVOKED:
            reason = " · ".join([reason, *withdrawal_notes(session, transcript)])
        return UploadVerdict(transcript.status != TranscriptStatus.REVOKED, transcript.status,
                             transcript.serial, reason, transcript)
    serial = None
    try:
        snapshot, link = credentials.extract_embedded(data)
        serial = snapshot.serial
    except Exception:  # noqa: BLE001 — any unreadable file is simply not ours
        return UploadVerdict(False, None, None, _("Not a transcript this service issued"))
    known = session.execute(select(Transcript).where(Transcript.serial == serial)).scalar_one_or_none()
    if known is None:
        return UploadVerdict(False, None, serial, _("No transcript with this serial was issued"))
    if _is_copy_of(snapshot, link, known):
        original = f"{current_app.config['PUBLIC_BASE_URL']}/v/{known.serial}"
        return UploadVerdict(
            False, known.status, known.serial,
            _("A copy of transcript %(serial)s, not the signed file: it was saved again after it was "
              "issued, so what it shows is not vouched for. The signed original can be checked at %(url)s",
              serial=known.serial, url=original),
            known, copy_of=known.serial, original_url=original)
    return UploadVerdict(False, known.status, serial,
                         _("The file was changed after it was issued"), known)


def _is_copy_of(snapshot: credentials.Snapshot, link: str, transcript: Transcript) -> bool:
    """The file carries exactly the transcript's content: its snapshot's digest is the stored one
    and its link is signed by our key for that serial and digest."""
    if credentials.snapshot_digest(snapshot) != transcript.digest:
        return False
    ring = verification_ring(transcript.key_id)
    verdict = credentials.verify_link(link, ring.public_keys(), expected_digest=transcript.digest)
    return verdict.genuine and verdict.serial == transcript.serial


def withdrawal_notes(session: Session, transcript: Transcript) -> list[str]:
    """One sentence per withdrawn record, for the upload check and the CLI."""
    found = withdrawals(session, transcript.id)
    if not found:
        return []
    hours = sum((w.hours for w in found), Decimal("0"))
    notes = [_("Withdrawn after issue: %(hours)s h no longer certified, %(still)s h still are.",
               hours=hours, still=Decimal(transcript.total_hours) - hours)]
    notes += [_("%(activity)s (%(hours)s h), withdrawn on %(date)s. Reason: %(reason)s", activity=w.activity,
                hours=w.hours, date=to_local(w.revoked_at).strftime("%Y-%m-%d"), reason=w.reason)
              for w in found]
    return notes
