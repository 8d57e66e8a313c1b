"""Sign-ups for approved activities, with a waiting line past capacity."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.activities import Activity
from app.models.people import User
from app.models.types import Labelled, UTCDateTime
from app.timeutil import utcnow


class RegistrationStatus(Labelled):
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"

    __titles__ = {
        "registered": _l("Registered"),
        "waitlisted": _l("On the waiting list"),
        "cancelled": _l("Cancelled"),
    }


# One live sign-up per student per activity; a cancelled one may be followed by a new one.
LIVE_REGISTRATION = "status IN ('registered', 'waitlisted')"


class Registration(db.Model):
    __tablename__ = "registration"
    __table_args__ = (
        CheckConstraint("status IN ('registered', 'waitlisted', 'cancelled')", name="status_known"),
        Index(
            "uq_registration_live", "activity_id", "student_id", unique=True,
            sqlite_where=text(LIVE_REGISTRATION), postgresql_where=text(LIVE_REGISTRATION),
        ),
        Index("ix_registration_activity_status", "activity_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a waiting student got a place (moved up from the line).
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    activity: Mapped[Activity] = relationship()
    student: Mapped[User] = relationship()

    @property
    def status_label(self) -> str:
        return RegistrationStatus(self.status).label
