"""Per-term tallies of the records (#17): what the scorecards and the office's dashboard read
instead of a million participation rows on every view.

Each row is derived data: `services.tallies` recomputes it from its raw rows in the same
transaction as the change that affects it, and `flask scorecards rebuild` makes them all again.
A row is also the lock its recomputation takes (INSERT … ON CONFLICT DO NOTHING, then FOR
UPDATE), so two sign-offs of the same activity or club-term queue instead of clashing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import UTCDateTime

ZERO = Decimal("0.0")


class ActivityTally(db.Model):
    """One activity's records summed: what the scorecard's record figures add up per club-term.
    Kept per activity, not per club-term, because the sign-off delay is judged at the moment
    of viewing (`as_of`) from each activity's end and its first sign-off."""

    __tablename__ = "activity_tally"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True)
    records: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)  # rejected or revoked
    certified_hours: Mapped[Decimal] = mapped_column(Numeric(10, 1), default=ZERO)
    volunteer_role_hours: Mapped[Decimal] = mapped_column(Numeric(10, 1), default=ZERO)
    awards: Mapped[int] = mapped_column(Integer, default=0)
    first_signoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ClubTermTally(db.Model):
    """A club's people in a term: distinct active members (a live record), those of them on the
    roster, the roster and its elections held in the term."""

    __tablename__ = "club_term_tally"

    club_id: Mapped[int] = mapped_column(ForeignKey("club.id", ondelete="CASCADE"), primary_key=True)
    term: Mapped[str] = mapped_column(String(11), primary_key=True)
    active: Mapped[int] = mapped_column(Integer, default=0)
    active_roster: Mapped[int] = mapped_column(Integer, default=0)
    roster: Mapped[int] = mapped_column(Integer, default=0)
    elections: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_club_term_tally_term", "term"),)


class StudentTermTally(db.Model):
    """A student's certified hours in a term (records of the term's activities and certified
    claims dated in it): the dashboard's trend and distribution; the lock of its module rows."""

    __tablename__ = "student_term_tally"

    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    term: Mapped[str] = mapped_column(String(11), primary_key=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(10, 1), default=ZERO)

    __table_args__ = (Index("ix_student_term_tally_term", "term", "student_id", "hours"),)


class StudentModuleTally(db.Model):
    """A student's certified hours of one module in a term; a row only where there are some.
    The dashboard's participation per college and module, a student's progress, the
    requirements report and the attainment by cohort read these."""

    __tablename__ = "student_module_tally"

    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    term: Mapped[str] = mapped_column(String(11), primary_key=True)
    module: Mapped[str] = mapped_column(String(20), primary_key=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(10, 1), default=ZERO)

    __table_args__ = (Index("ix_student_module_tally_term", "term", "module", "student_id"),)


class StudentStanding(db.Model):
    """A student's certified hours in all and where they stand under their cohort's current
    credit rules (no class: no rules) now — the hours counted (each module at most its cap), the
    hours required, how many they are short by, whether they meet the rules: the dashboard's
    distribution and attainment by cohort and the office's requirements report read these
    instead of summing every term and running the rules' arithmetic for the whole school on each
    view. Recomputed with the student's tallies, and for a whole cohort when its rules change
    (for everyone when the module list does)."""

    __tablename__ = "student_standing"

    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    hours: Mapped[Decimal] = mapped_column(Numeric(10, 1), default=ZERO)
    met: Mapped[bool] = mapped_column(default=False)
    # None on a row made before the report read the standings (migration c18d4e5f6a7b): the
    # report recomputes such a row when it meets one, `flask scorecards rebuild` all of them.
    counted: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    required: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
    short_by: Mapped[Decimal | None] = mapped_column(Numeric(10, 1))
