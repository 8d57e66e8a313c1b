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
from app.models.clubs import LEADER_IN_POST, Club, ClubStatus, Membership, Term, club_advisor, club_leader
from app.models.people import STUDENT_ROLES, AuthToken, PasswordReset, Role, SchoolClass, TokenKind, Unit, User
from app.models.transcripts import Transcript, TranscriptStatus

__all__ = [
    "LEADER_IN_POST",
    "ACTIVITY_STATUS_LABELS",
    "LEVEL_LABELS",
    "MODULE_LABELS",
    "PARTICIPATION_STATUS_LABELS",
    "ROLE_LABELS",
    "STUDENT_ROLES",
    "Activity",
    "ActivityStatus",
    "AuditEvent",
    "AuthToken",
    "AuditHead",
    "Club",
    "ClubStatus",
    "Level",
    "Membership",
    "Module",
    "Participation",
    "ParticipationRole",
    "ParticipationStatus",
    "PasswordReset",
    "Role",
    "SchoolClass",
    "Term",
    "TokenKind",
    "Transcript",
    "TranscriptStatus",
    "Unit",
    "User",
    "club_advisor",
    "club_leader",
]
