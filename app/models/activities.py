"""Activities (run as projects) and the participation records certified from them."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from app.extensions import db
from app.models.clubs import Club
from app.models.people import User
from app.models.types import Labelled, UTCDateTime
from app.timeutil import utcnow
from credentials.snapshot import LEVELS, MODULES, ROLES


def _titles(vocabulary: tuple[tuple[str, str, str], ...]) -> dict[str, tuple[str, str]]:
    return {key: (zh, en) for key, zh, en in vocabulary}


class Vocabulary(Labelled):
    """The transcript's vocabulary (credentials.snapshot): each title is a (zh, en) pair of data."""

    @property
    def pair(self) -> tuple[str, str]:
        """Both halves, for what prints them side by side (the PDF, the scorecard)."""
        return type(self).__titles__[self.value]


class Module(Vocabulary):
    IDEOLOGY = "ideology"
    PRACTICE = "practice"
    VOLUNTEERING = "volunteering"
    INNOVATION = "innovation"
    CULTURE_SPORTS = "culture_sports"
    LEADERSHIP = "leadership"
    SKILLS = "skills"

    __titles__ = _titles(MODULES)


class Level(Vocabulary):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    SCHOOL = "school"
    COLLEGE = "college"
    CLUB = "club"

    __titles__ = _titles(LEVELS)


class ActivityStatus(Labelled):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    __titles__ = {
        "draft": _l("Draft"),
        "submitted": _l("Awaiting approval"),
        "approved": _l("Approved"),
        "completed": _l("Completed"),
        "cancelled": _l("Cancelled"),
    }


class ParticipationRole(Vocabulary):
    PARTICIPANT = "participant"
    ORGANIZER = "organizer"
    VOLUNTEER = "volunteer"
    LEADER = "leader"
    AWARDEE = "awardee"

    __titles__ = _titles(ROLES)


class ParticipationSource(Labelled):
    """How a record came to be: the leader's list, a CSV, the student's scan, or a late entry."""

    LIST = "list"
    IMPORT = "import"
    CHECK_IN = "check_in"
    LATE_ENTRY = "late_entry"
    APPEAL = "appeal"

    __titles__ = {
        "list": _l("Leader's list"),
        "import": _l("CSV import"),
        "check_in": _l("On-site check-in"),
        "late_entry": _l("Late entry"),
        "appeal": _l("Upheld appeal"),
    }


class ParticipationStatus(Labelled):
    RECORDED = "recorded"
    CERTIFIED = "certified"
    REJECTED = "rejected"
    REVOKED = "revoked"

    __titles__ = {
        "recorded": _l("Awaiting sign-off"),
        "certified": _l("Certified"),
        "rejected": _l("Rejected"),
        "revoked": _l("Revoked"),
    }


# Students may check in from half an hour before the start until the end.
CHECK_IN_OPENS = timedelta(minutes=30)

MAX_HOURS = Decimal("200")


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Activity(db.Model):
    __tablename__ = "activity"
    __table_args__ = (
        # The office's module list is data (services.modules); the key must only be there.
        CheckConstraint("length(module) > 0", name="module_given"),
        CheckConstraint(_in("level", Level), name="level_known"),
        CheckConstraint(_in("status", ActivityStatus), name="status_known"),
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        CheckConstraint("hours > 0 AND hours <= 200", name="hours_in_range"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "registration_deadline IS NULL OR registration_deadline <= starts_at", name="deadline_before_start"
        ),
        # The catalogue: approved activities, upcoming first.
        Index("ix_activity_status_starts", "status", "starts_at"),
        Index("ix_activity_club_term", "club_id", "term"),
        # Open check-ins and the activities still to complete: by status, ending first.
        Index("ix_activity_status_ends", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("club.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    module: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(12))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The term it starts in (API.md); kept as a column so per-term queries can use an index.
    term: Mapped[str] = mapped_column(String(11), index=True)
    location: Mapped[str] = mapped_column(String(200))
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    capacity: Mapped[int | None] = mapped_column(Integer)
    # Sign-ups close at this moment, or at the start when it is not set.
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    description: Mapped[str | None] = mapped_column(Text)
    objectives: Mapped[str | None] = mapped_column(Text)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    partners: Mapped[list[str]] = mapped_column(JSON, default=list)
    outcome: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=ActivityStatus.DRAFT)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # The last time an advisor sent the plan back, and why: shown to the leader until resubmitted.
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    return_reason: Mapped[str | None] = mapped_column(Text)

    club: Mapped[Club] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    participations: Mapped[list[Participation]] = relationship(
        back_populates="activity", order_by="Participation.id"
    )

    @property
    def module_label(self) -> str:
        from app.services.modules import module_label  # the office's names are data

        return module_label(object_session(self) or db.session, self.module)

    @property
    def level_label(self) -> str:
        return Level(self.level).label

    @property
    def status_label(self) -> str:
        return ActivityStatus(self.status).label

    @property
    def registration_closes_at(self) -> datetime:
        return self.registration_deadline or self.starts_at

    # The check-in window, one expression for Python (a student checking in) and for SQL (a
    # student's list of activities open for check-in): from CHECK_IN_OPENS before the start
    # to the end. `&` is AND for both bools and SQL. Whether the activity takes check-ins
    # at all (approved) is asked apart, with its own message.
    @hybrid_method
    def check_in_window_open(self, now: datetime):
        return (self.starts_at <= now + CHECK_IN_OPENS) & (self.ends_at >= now)


# Only one live record (recorded or certified) per student per activity; a rejected or
# revoked one may be followed by a corrected record.
LIVE_STATUS = "status IN ('recorded', 'certified')"


class Participation(db.Model):
    __tablename__ = "participation"
    __table_args__ = (
        CheckConstraint(_in("role", ParticipationRole), name="role_known"),
        CheckConstraint(_in("status", ParticipationStatus), name="status_known"),
        CheckConstraint(_in("source", ParticipationSource), name="source_known"),
        CheckConstraint("hours > 0 AND hours <= 200", name="hours_in_range"),
        CheckConstraint(
            "source <> 'late_entry' OR late_entry_reason IS NOT NULL", name="late_entry_has_reason"
        ),
        CheckConstraint(
            "status <> 'certified' OR certified_by_id IS NOT NULL", name="certified_has_certifier"
        ),
        Index(
            "uq_participation_live",
            "activity_id",
            "student_id",
            unique=True,
            sqlite_where=text(LIVE_STATUS),
            postgresql_where=text(LIVE_STATUS),
        ),
        Index("ix_participation_student_status", "student_id", "status"),
        # Progress and the requirements report (#15) sum a student's certified hours by the
        # activity's module and year: covering, so the records themselves are not read.
        Index("ix_participation_student_hours", "student_id", "status", "activity_id", "hours"),
        # The sign-off queue: the records still waiting, per activity.
        Index("ix_participation_recorded_activity", "activity_id",
              sqlite_where=text("status = 'recorded'"), postgresql_where=text("status = 'recorded'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    role: Mapped[str] = mapped_column(String(12), default=ParticipationRole.PARTICIPANT)
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    award: Mapped[str | None] = mapped_column(String(100))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Hours above the activity's are allowed only with the leader's reason (API.md).
    hours_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(12), default=ParticipationSource.LIST, server_default="list")
    late_entry_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=ParticipationStatus.RECORDED)

    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    certified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    certified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    certify_note: Mapped[str | None] = mapped_column(Text)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reject_reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    activity: Mapped[Activity] = relationship(back_populates="participations")
    student: Mapped[User] = relationship(foreign_keys=[student_id])
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    certified_by: Mapped[User | None] = relationship(foreign_keys=[certified_by_id])

    @property
    def role_label(self) -> str:
        return ParticipationRole(self.role).label

    @property
    def status_label(self) -> str:
        return ParticipationStatus(self.status).label

    @property
    def source_label(self) -> str:
        return ParticipationSource(self.source).label
