"""Credit rules (认定规则): the office's list of modules, the rule set of each cohort (versioned:
a change is a new row, never an edit), and the yearly certification's grades (学年认定)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.people import User
from app.models.types import Labelled, UTCDateTime
from app.timeutil import utcnow


class CreditModule(db.Model):
    """One module of the office's list: its key is what records carry, its names are the office's to
    change (the seven national modules are seeded; adding one is data, not code)."""

    __tablename__ = "credit_module"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def pair(self) -> tuple[str, str]:
        return (self.name_zh, self.name_en)


class RuleSet(db.Model):
    """One version of a cohort's rules. `modules` maps a module key to its `min_hours` and
    `max_hours` (the cap; absent: none), as strings of decimals."""

    __tablename__ = "rule_set"
    __table_args__ = (
        UniqueConstraint("cohort", "version", name="uq_rule_set_cohort_version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("total_min_hours >= 0", name="total_not_negative"),
        CheckConstraint("pass_hours >= 0 AND excellent_hours >= pass_hours", name="annual_ordered"),
        CheckConstraint("years_required >= 0", name="years_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    total_min_hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    modules: Mapped[dict] = mapped_column(JSON, default=dict)
    pass_hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    excellent_hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    years_required: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    created_by: Mapped[User | None] = relationship()

    @property
    def name(self) -> str:
        """How a transcript names it: the cohort and the version ("2023 v2")."""
        return f"{self.cohort} v{self.version}"


class Grade(Labelled):
    EXCELLENT = "excellent"
    PASS = "pass"
    FAIL = "fail"

    __titles__ = {"excellent": _l("Excellent"), "pass": _l("Pass"), "fail": _l("Fail")}


class YearGrade(db.Model):
    """A student's grade for one academic year, written by the year-end run under the rule set
    it used. A later run for the same year replaces it (and the audit log keeps both)."""

    __tablename__ = "year_grade"
    __table_args__ = (
        UniqueConstraint("student_id", "academic_year", name="uq_year_grade_student_year"),
        CheckConstraint("grade IN ('excellent', 'pass', 'fail')", name="grade_known"),
        Index("ix_year_grade_year", "academic_year", "grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    academic_year: Mapped[str] = mapped_column(String(9))
    hours: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    grade: Mapped[str] = mapped_column(String(10))
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("rule_set.id"))
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)

    student: Mapped[User] = relationship(foreign_keys=[student_id])
    rule_set: Mapped[RuleSet] = relationship()

    @property
    def grade_label(self) -> str:
        return Grade(self.grade).label
