"""Typed SQLAlchemy 2 models, one module per part of the record."""

from app.models.activities import (
    CHECK_IN_OPENS,
    Activity,
    ActivityStatus,
    Level,
    Module,
    Participation,
    ParticipationRole,
    ParticipationSource,
    ParticipationStatus,
    Vocabulary,
)
from app.models.appeals import Appeal, AppealStatus
from app.models.audit import AuditEvent, AuditHead
from app.models.batches import (
    BatchScope,
    BatchStatus,
    ChunkStatus,
    GraduationBatch,
    GraduationBatchChunk,
    GraduationBatchItem,
    ItemStatus,
)
from app.models.claims import Claim, ClaimFile, ClaimStatus
from app.models.clubs import LEADER_IN_POST, Club, ClubStatus, Membership, Term, club_advisor, club_leader
from app.models.notifications import Notification
from app.models.people import (
    PERSON_ROLES,
    STUDENT_ROLES,
    AuthToken,
    PasswordReset,
    Role,
    SchoolClass,
    TokenKind,
    Unit,
    User,
)
from app.models.registrations import Registration, RegistrationStatus
from app.models.rules import CreditModule, Grade, RuleSet, YearGrade
from app.models.tallies import ActivityTally, ClubTermTally, StudentModuleTally, StudentTermTally
from app.models.transcripts import (
    Transcript,
    TranscriptClaim,
    TranscriptRecord,
    TranscriptShare,
    TranscriptStatus,
)

__all__ = [
    "LEADER_IN_POST",
    "CHECK_IN_OPENS",
    "PERSON_ROLES",
    "STUDENT_ROLES",
    "Activity",
    "ActivityTally",
    "ClubTermTally",
    "StudentModuleTally",
    "StudentTermTally",
    "ActivityStatus",
    "Appeal",
    "AppealStatus",
    "BatchScope",
    "BatchStatus",
    "ChunkStatus",
    "GraduationBatch",
    "GraduationBatchChunk",
    "GraduationBatchItem",
    "ItemStatus",
    "Claim",
    "ClaimFile",
    "ClaimStatus",
    "Notification",
    "Registration",
    "RegistrationStatus",
    "TranscriptClaim",
    "AuditEvent",
    "AuthToken",
    "AuditHead",
    "Club",
    "CreditModule",
    "Grade",
    "RuleSet",
    "YearGrade",
    "ClubStatus",
    "Level",
    "Membership",
    "Module",
    "Participation",
    "ParticipationRole",
    "ParticipationSource",
    "ParticipationStatus",
    "PasswordReset",
    "Role",
    "SchoolClass",
    "Term",
    "TokenKind",
    "Transcript",
    "TranscriptRecord",
    "TranscriptShare",
    "TranscriptStatus",
    "Unit",
    "User",
    "Vocabulary",
    "club_advisor",
    "club_leader",
]
