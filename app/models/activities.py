"""Activities (run as projects) and the participation records certified from them."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.clubs import Club
from app.models.people import User
from app.models.types import UTCDateTime
from app.timeutil import utcnow
from credentials.snapshot import LEVELS, MODULES, ROLES


class Module(enum.StrEnum):
    IDEOLOGY = "ideology"
    PRACTICE = "practice"
    VOLUNTEERING = "volunteering"
    INNOVATION = "innovation"
    CULTURE_SPORTS = "culture_sports"
    LEADERSHIP = "leadership"
    SKILLS = "skills"


# The vocabulary is the transcript's: one list of labels, in credentials.snapshot.
MODULE_LABELS = {Module(key): (zh, en) for key, zh, en in MODULES}


class Level(enum.StrEnum):
    NATIONAL = "national"
    PROVINCIAL = "provincial"
    SCHOOL = "school"
    COLLEGE = "college"
    CLUB = "club"


LEVEL_LABELS = {Level(key): zh for key, zh, _ in LEVELS}


class ActivityStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


ACTIVITY_STATUS_LABELS = {
    ActivityStatus.DRAFT: "草稿",
    ActivityStatus.SUBMITTED: "待审批",
    ActivityStatus.APPROVED: "已批准",
    ActivityStatus.COMPLETED: "已结项",
    ActivityStatus.CANCELLED: "已取消",
}


class ParticipationRole(enum.StrEnum):
    PARTICIPANT = "participant"
    ORGANIZER = "organizer"
    VOLUNTEER = "volunteer"
    LEADER = "leader"
    AWARDEE = "awardee"


ROLE_LABELS = {ParticipationRole(key): zh for key, zh, _ in ROLES}


class ParticipationStatus(enum.StrEnum):
    RECORDED = "recorded"
    CERTIFIED = "certified"
    REJECTED = "rejected"
    REVOKED = "revoked"


PARTICIPATION_STATUS_LABELS = {
    ParticipationStatus.RECORDED: "待认证",
    ParticipationStatus.CERTIFIED: "已认证",
    ParticipationStatus.REJECTED: "已驳回",
    ParticipationStatus.REVOKED: "已撤销",
}

MAX_HOURS = Decimal("200")


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class Activity(db.Model):
    __tablename__ = "activity"
    __table_args__ = (
        CheckConstraint(_in("module", Module), name="module_known"),
        CheckConstraint(_in("level", Level), name="level_known"),
        CheckConstraint(_in("status", ActivityStatus), name="status_known"),
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        CheckConstraint("hours > 0 AND hours <= 200", name="hours_in_range"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        Index("ix_activity_club_term", "club_id", "term"),
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

    club: Mapped[Club] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    participations: Mapped[list[Participation]] = relationship(
        back_populates="activity", order_by="Participation.id"
    )

    @property
    def module_label(self) -> str:
        return MODULE_LABELS[Module(self.module)][0]

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[Level(self.level)]

    @property
    def status_label(self) -> str:
        return ACTIVITY_STATUS_LABELS[ActivityStatus(self.status)]


# Only one live record (recorded or certified) per student per activity; a rejected or
# revoked one may be followed by a corrected record.
LIVE_STATUS = "status IN ('recorded', 'certified')"


class Participation(db.Model):
    __tablename__ = "participation"
    __table_args__ = (
        CheckConstraint(_in("role", ParticipationRole), name="role_known"),
        CheckConstraint(_in("status", ParticipationStatus), name="status_known"),
        CheckConstraint("hours > 0 AND hours <= 200", name="hours_in_range"),
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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    role: Mapped[str] = mapped_column(String(12), default=ParticipationRole.PARTICIPANT)
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    award: Mapped[str | None] = mapped_column(String(100))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
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
        return ROLE_LABELS[ParticipationRole(self.role)]

    @property
    def status_label(self) -> str:
        return PARTICIPATION_STATUS_LABELS[ParticipationStatus(self.status)]
