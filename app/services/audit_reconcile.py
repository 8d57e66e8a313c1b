"""The record against its log: every status that matters must have the event that made it so.

The chain and the checkpoints prove the log was not rewritten; this proves the tables were not
written around it. A certification set straight in the table (an UPDATE by hand, a restored
dump edited) has no `participation.certify` event by its certifier, and is named here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Participation, ParticipationStatus, Transcript, TranscriptStatus

#: The actions whose events this check reads (the rest of the log is not loaded).
_ACTIONS = ("participation.certify", "participation.reject", "participation.revoke",
            "transcript.issue", "transcript.revoke")


@dataclass
class ReconcileReport:
    ok: bool
    checked: int
    reason: str = ""


def _ids(value) -> list[int]:
    try:
        return [int(v) for v in (value or [])]
    except (TypeError, ValueError):
        return []


class _Witness:
    """Who did what, as the log says: (participation id, actor id) per verb; transcripts by serial."""

    def __init__(self, session: Session):
        self.participations: dict[str, set[tuple[int, int | None]]] = {
            "certify": set(), "reject": set(), "revoke": set(),
        }
        self.issued: dict[str, str | None] = {}
        self.revoked: dict[str, int | None] = {}
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.object_type, AuditEvent.object_id,
                   AuditEvent.actor_id, AuditEvent.data)
            .where(AuditEvent.action.in_(_ACTIONS))
        )
        for action, object_type, object_id, actor_id, data in rows:
            data = data or {}
            subject, verb = action.split(".", 1)
            if subject == "participation":
                # A batch sign-off names the activity and lists its records; one record, itself.
                ids = (_ids(data.get("participation_ids")) if object_type == "activity"
                       else _ids([object_id]) if object_type == "participation" else [])
                self.participations[verb].update((pid, actor_id) for pid in ids)
            elif verb == "issue":
                self.issued[object_id] = data.get("digest")
            else:
                self.revoked[object_id] = actor_id


def _problems(session: Session) -> Iterator[str]:
    seen = _Witness(session)
    closed = (ParticipationStatus.CERTIFIED, ParticipationStatus.REJECTED, ParticipationStatus.REVOKED)
    records = session.execute(
        select(Participation.id, Participation.status, Participation.certified_by_id,
               Participation.rejected_by_id, Participation.revoked_by_id)
        .where(Participation.status.in_(closed)).order_by(Participation.id)
    )
    for pid, status, certified_by, rejected_by, revoked_by in records:
        if status in (ParticipationStatus.CERTIFIED, ParticipationStatus.REVOKED) and \
                (pid, certified_by) not in seen.participations["certify"]:
            yield _("Participation #%(id)s is certified by user #%(user)s, but the log has no such certification",
                    id=pid, user=certified_by)
        if status == ParticipationStatus.REJECTED and (pid, rejected_by) not in seen.participations["reject"]:
            yield _("Participation #%(id)s is rejected by user #%(user)s, but the log has no such rejection",
                    id=pid, user=rejected_by)
        if status == ParticipationStatus.REVOKED and (pid, revoked_by) not in seen.participations["revoke"]:
            yield _("Participation #%(id)s is revoked by user #%(user)s, but the log has no such revocation",
                    id=pid, user=revoked_by)
    transcripts = session.execute(
        select(Transcript.serial, Transcript.digest, Transcript.status, Transcript.revoked_by_id)
        .order_by(Transcript.id)
    )
    for serial, digest, status, revoked_by in transcripts:
        if serial not in seen.issued:
            yield _("Transcript %(serial)s has no issue event in the log", serial=serial)
        elif seen.issued[serial] != digest:
            yield _("Transcript %(serial)s does not carry the content its issue event recorded", serial=serial)
        if status == TranscriptStatus.REVOKED and seen.revoked.get(serial, -1) != revoked_by:
            yield _("Transcript %(serial)s is revoked, but the log has no revocation", serial=serial)


def reconcile(session: Session) -> ReconcileReport:
    """The first record whose status the log does not account for, or OK."""
    for problem in _problems(session):
        return ReconcileReport(False, 0, problem)
    records = session.execute(select(func.count()).select_from(Participation).where(
        Participation.status != ParticipationStatus.RECORDED)).scalar_one()
    transcripts = session.execute(select(func.count()).select_from(Transcript)).scalar_one()
    return ReconcileReport(True, records + transcripts)
