"""Appeals: a student contests a rejection, or says a record is missing."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.activities import Activity, Participation
from app.models.claims import Claim
from app.models.people import User
from app.models.types import Labelled, UTCDateTime
from app.timeutil import utcnow


class AppealStatus(Labelled):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"

    __titles__ = {
        "open": _l("Open"),
        "upheld": _l("Upheld"),
        "dismissed": _l("Dismissed"),
    }


class Appeal(db.Model):
    __tablename__ = "appeal"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name="status_known"),
        # What it is about: a rejected record, a rejected claim, or an activity with no record.
        CheckConstraint(
            "(CASE WHEN participation_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN claim_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN activity_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
        Index("ix_appeal_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    participation_id: Mapped[int | None] = mapped_column(ForeignKey("participation.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=AppealStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolution: Mapped[str | None] = mapped_column(Text)
    # The record the upheld appeal certified (a corrected or a missing one).
    result_participation_id: Mapped[int | None] = mapped_column(ForeignKey("participation.id"))

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    participation: Mapped[Participation | None] = relationship(foreign_keys=[participation_id])
    claim: Mapped[Claim | None] = relationship()
    activity: Mapped[Activity | None] = relationship()

    @property
    def status_label(self) -> str:
        return AppealStatus(self.status).label
