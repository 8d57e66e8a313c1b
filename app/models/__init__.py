"""Typed SQLAlchemy 2 models, one module per part of the record."""

from app.models.activities import (
    ACTIVITY_STATUS_LABELS,
    LEVEL_LABELS,
    MODULE_LABELS,
    PARTICIPATION_STATUS_LABELS,
    ROLE_LABELS,
    Activity,
    ActivityStatus,
    Level,
    Module,
    Participation,
    ParticipationRole,
    ParticipationStatus,
)
from app.models.audit import AuditEvent, AuditHead
from app.models.clubs import Club, ClubStatus, Membership, Term, club_advisor, club_leader
from app.models.people import STUDENT_ROLES, ApiToken, Role, Unit, User
from app.models.transcripts import Transcript, TranscriptStatus

__all__ = [
    "ACTIVITY_STATUS_LABELS",
    "LEVEL_LABELS",
    "MODULE_LABELS",
    "PARTICIPATION_STATUS_LABELS",
    "ROLE_LABELS",
    "STUDENT_ROLES",
    "Activity",
    "ActivityStatus",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Club",
    "ClubStatus",
    "Level",
    "Membership",
    "Module",
    "Participation",
    "ParticipationRole",
    "ParticipationStatus",
    "Role",
    "Term",
    "Transcript",
    "TranscriptStatus",
    "Unit",
    "User",
    "club_advisor",
    "club_leader",
]
