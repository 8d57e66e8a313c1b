"""The transcript as a verifiable credential, the status lists that say which are revoked, and the
issuer's did:web document. `credentials.vc` builds and signs; this module decides who may have what.

The status lists are built from the database on every request (one indexed query for the revoked
positions of one list, one signature): revoking a transcript flips its bit from the next request,
with no cache to invalidate.

A superseded or amended transcript is not revoked: its bit stays 0. Superseded only means a newer
copy exists, and an amended one is still the file the school issued (its public check lists the
withdrawn records); only `revoke_transcript` takes the school's word back.
"""

from __future__ import annotations

import datetime as _dt
import json

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import credentials
from app import permissions
from app.models import Transcript, TranscriptStatus, User
from app.services import verification
from app.services.errors import Conflict, Forbidden, NotFound
from app.services.transcripts import get_transcript, keyring
from app.timeutil import utcnow
from credentials import vc


def _base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/")


def _signing(transcript: Transcript) -> tuple[credentials.SigningKey, _dt.datetime]:
    """The key that signs the credential and the proof's time.

    The transcript's own key while it is the active one, dated at issue, so every download is the
    same file; after a rotation the retired private key is gone, so the active key signs it now.
    """
    ring = keyring()
    # A transcript whose key was revoked is revoked: no new credential vouches for it; nor does a
    # revoked active key sign anything more.
    revoked = verification.key_revoked_reason(ring, transcript.key_id, transcript.issued_at)
    if revoked is not None:
        raise Conflict(revoked)
    if ring.revoked_from(ring.active.kid) is not None:
        raise Conflict(_("The signing key is revoked: run `%(command)s` first", command="flask --app app keys rotate"))
    if ring.active.kid == transcript.key_id:
        return ring.active, transcript.issued_at
    return ring.active, utcnow().replace(microsecond=0)


def transcript_credential(session: Session, actor: User | None, serial: str) -> dict:
    """The signed OpenBadgeCredential of a transcript: the student owning it, or admin."""
    transcript = get_transcript(session, serial)
    if not permissions.can_issue_transcript(actor, transcript.student):
        raise Forbidden(_("Only the student or the admin downloads it"))
    text = session.execute(select(Transcript.snapshot).where(Transcript.id == transcript.id)).scalar_one()
    snapshot = credentials.snapshot_from_bytes(text.encode("utf-8"))
    key, created = _signing(transcript)
    return vc.transcript_credential(snapshot, base_url=_base_url(), status_index=transcript.status_list_index,
                                    key=key, created=created)


def credential_bytes(document: dict) -> bytes:
    """The file served (API and page alike): UTF-8 JSON, members in the order they were built."""
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def status_list(session: Session, list_id: int) -> dict:
    """The signed BitstringStatusListCredential number `list_id` (public).

    `validFrom` is the latest revocation in the list (or the first issue, when none), so the same
    state gives the same bytes and a verifier can tell an old copy from a newer one.
    """
    if list_id < 1:
        raise NotFound(_("No such status list"))
    low = (list_id - 1) * vc.LIST_SIZE
    in_list = (Transcript.status_list_index >= low) & (Transcript.status_list_index < low + vc.LIST_SIZE)
    revoked = list(session.execute(
        select(Transcript.status_list_index, Transcript.revoked_at)
        .where(in_list, Transcript.status == TranscriptStatus.REVOKED)).all())
    if revoked:
        valid_from = max((at for _index, at in revoked if at is not None), default=utcnow())
    else:
        valid_from = session.execute(select(func.min(Transcript.issued_at)).where(in_list)).scalar_one()
        if valid_from is None:
            if list_id != 1:  # the first list exists before anything is issued; later ones do not
                raise NotFound(_("No such status list"))
            valid_from = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)
    return vc.status_list_credential(_base_url(), list_id, [index - low for index, _at in revoked],
                                     keyring().active, valid_from)


def did_document() -> dict:
    """The issuer's did:web document: every key, active and retired, as a Multikey."""
    ring = keyring()
    return vc.did_document(vc.did_web(_base_url()), ring)
