"""Clubs, their advisors, leaders and members, and terms."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint, and_, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import Unit, User
from app.models.types import Labelled, UTCDateTime
from app.timeutil import term_of, utcnow


class ClubStatus(Labelled):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    DISSOLVED = "dissolved"

    __titles__ = {
        "active": _l("Active"),
        "suspended": _l("Suspended"),
        "dissolved": _l("Dissolved"),
    }


club_advisor = Table(
    "club_advisor",
    db.metadata,
    Column("club_id", ForeignKey("club.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id"), primary_key=True, index=True),
)

def _current_term() -> str:
    return term_of(utcnow())


# Leadership is a post, not an account: a student appointed to lead a club for a term
# (换届). Stepping down ends the row; it is kept, and so are the student's records.
club_leader = Table(
    "club_leader",
    db.metadata,
    Column("id", Integer, primary_key=True),
    Column("club_id", ForeignKey("club.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("user_id", ForeignKey("user_account.id"), nullable=False, index=True),
    Column("term", String(11), nullable=False, default=_current_term),
    Column("appointed_at", UTCDateTime, nullable=False, default=utcnow),
    Column("appointed_by_id", ForeignKey("user_account.id"), nullable=True, index=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Index("uq_club_leader_current", "club_id", "user_id", unique=True,
          sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
)

# The appointments in force: queries of who leads a club now filter on this.
LEADER_IN_POST = club_leader.c.ended_at.is_(None)


class Term(db.Model):
    """An academic term, e.g. 2025-2026-1 (autumn) or 2025-2026-2 (spring)."""

    __tablename__ = "term"

    code: Mapped[str] = mapped_column(String(11), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    starts_on: Mapped[date]
    ends_on: Mapped[date]


class Club(db.Model):
    __tablename__ = "club"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    category: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    charter: Mapped[str | None] = mapped_column(Text)
    founded_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), default=ClubStatus.ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    advisors: Mapped[list[User]] = relationship(secondary=club_advisor, order_by=User.id)
    # The leaders in post; appointments are written by services.leadership only.
    leaders: Mapped[list[User]] = relationship(
        secondary=club_leader,
        primaryjoin=lambda: and_(Club.id == club_leader.c.club_id, LEADER_IN_POST),
        secondaryjoin=lambda: User.id == club_leader.c.user_id,
        order_by=User.id, viewonly=True,
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="club", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return ClubStatus(self.status).label if self.status in ClubStatus._value2member_map_ else self.status


class Membership(db.Model):
    """A student on a club's roster for a term, with a role (会长, 干事, 成员…)."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("club_id", "user_id", "term", name="one_per_term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    club_id: Mapped[int] = mapped_column(ForeignKey("club.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    term: Mapped[str] = mapped_column(String(11))
    role: Mapped[str] = mapped_column(String(32), default="member")
    # Elections and handovers are facts of the term the five-izations scorecard reads.
    elected_on: Mapped[date | None]
    joined_on: Mapped[date | None]

    club: Mapped[Club] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()
