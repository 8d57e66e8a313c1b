"""Achievement claims: a student's outside achievement with evidence files."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from app.extensions import db
from app.models.activities import Level, _in
from app.models.people import User
from app.models.types import Labelled, UTCDateTime
from app.timeutil import utcnow


class ClaimStatus(Labelled):
    SUBMITTED = "submitted"
    CERTIFIED = "certified"
    REJECTED = "rejected"
    REVOKED = "revoked"

    __titles__ = {
        "submitted": _l("Awaiting review"),
        "certified": _l("Certified"),
        "rejected": _l("Rejected"),
        "revoked": _l("Revoked"),
    }


class Claim(db.Model):
    __tablename__ = "claim"
    __table_args__ = (
        # The office's module list is data (services.modules); the key must only be there.
        CheckConstraint("length(module) > 0", name="module_given"),
        CheckConstraint(_in("level", Level), name="level_known"),
        CheckConstraint(_in("status", ClaimStatus), name="status_known"),
        CheckConstraint("hours > 0 AND hours <= 200", name="hours_in_range"),
        CheckConstraint("status <> 'certified' OR reviewed_by_id IS NOT NULL", name="certified_has_reviewer"),
        CheckConstraint("reviewed_by_id IS NULL OR reviewed_by_id <> student_id", name="not_self_reviewed"),
        Index("ix_claim_student_status", "student_id", "status"),
        Index("ix_claim_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    title: Mapped[str] = mapped_column(String(200))
    module: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(12))
    occurred_on: Mapped[date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    award: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=ClaimStatus.SUBMITTED)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The reviewer's note on a certification, the reason of a rejection.
    reason: Mapped[str | None] = mapped_column(Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    files: Mapped[list[ClaimFile]] = relationship(
        back_populates="claim", order_by="ClaimFile.position", cascade="all, delete-orphan"
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
        return ClaimStatus(self.status).label


class ClaimFile(db.Model):
    """One evidence file; its bytes live under EVIDENCE_DIR, named by their SHA-256."""

    __tablename__ = "claim_file"
    __table_args__ = (
        CheckConstraint("media_type IN ('application/pdf', 'image/jpeg', 'image/png')", name="type_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    # 1, 2, ... within the claim: the {n} of /claims/{id}/files/{n}.
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)

    claim: Mapped[Claim] = relationship(back_populates="files")
