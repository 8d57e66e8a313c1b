"""A student's progress against their cohort's credit rules, from what is certified now: records
of activities and certified achievement claims, each counted in the module it belongs to and the
academic year it happened in (September to August). The caps and grades are credit_arithmetic's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app import permissions
from app.models import (
    Activity,
    Claim,
    ClaimStatus,
    Participation,
    ParticipationStatus,
    Role,
    StudentModuleTally,
    User,
)
from app.models.rules import RuleSet, YearGrade
from app.services import credit_arithmetic as arithmetic
from app.services import tallies
from app.services.accounts import student_by_number
from app.services.credit_rules import arithmetic_rules, current_rules
from app.services.errors import Forbidden
from app.services.modules import ModuleInfo, module_keys, module_list
from app.services.scope import student_in_scope

ZERO = Decimal("0.0")


def academic_year_of(day: date) -> str:
    """September starts the year: 2025-09-01 and 2026-08-31 are both in 2025-2026."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


@dataclass(slots=True)
class Hours:
    """One student's certified hours, per module and per academic year."""

    by_module: dict[str, Decimal]
    by_year: dict[str, Decimal]


def _record_sums(student_ids: Select | Iterable[int]) -> Select:
    """Certified records' hours per student, module and academic year, in one grouped query. The
    year is the first nine characters of the activity's term ("2025-2026-1")."""
    year = func.substr(Activity.term, 1, 9)
    return (select(Participation.student_id, Activity.module, year, func.sum(Participation.hours))
            .join(Activity, Activity.id == Participation.activity_id)
            .where(Participation.status == ParticipationStatus.CERTIFIED, Participation.student_id.in_(student_ids))
            .group_by(Participation.student_id, Activity.module, year))


def hours_of(session: Session, student_ids: Select | Iterable[int], *, from_records: bool = False) -> dict[int, Hours]:
    """Every listed student's certified hours, whatever the number of students: one grouped query
    of their module tallies by student, module and academic year (a term's first nine characters,
    "2025-2026-1"), each row adding to both the module's and the year's sum. `from_records`: from
    the records and certified claims themselves (two queries), the reference."""
    if not from_records:
        tallies.settle(session)
        return tally_hours(session, student_ids)
    return _sum_rows(session.execute(_record_sums(student_ids)), session, student_ids)


def tally_hours(session: Session, student_ids: Select | Iterable[int]) -> dict[int, Hours]:
    """`hours_of` from the module tallies as they stand (the tallies' own recomputation reads it
    while it settles them)."""
    t = StudentModuleTally
    year = func.substr(t.term, 1, 9)
    return _sum_rows(session.execute(select(t.student_id, t.module, year, func.sum(t.hours))
                                     .where(t.student_id.in_(student_ids)).group_by(t.student_id, t.module, year)))


def _sum_rows(rows, session: Session | None = None, claim_students=None) -> dict[int, Hours]:
    """Rows of (student, module, year, hours) into each student's sums; with `session`, the
    certified claims of `claim_students` added (the records' reference path)."""
    out: dict[int, Hours] = defaultdict(lambda: Hours({}, {}))
    for student_id, module, year, total in rows:
        h = out[student_id]
        by_module, by_year = h.by_module, h.by_year
        by_module[module] = by_module[module] + total if module in by_module else total  # a Decimal: Numeric's sum
        by_year[year] = by_year[year] + total if year in by_year else total
    if session is None:
        return out
    claims = session.execute(
        select(Claim.student_id, Claim.module, Claim.occurred_on, Claim.hours)
        .where(Claim.status == ClaimStatus.CERTIFIED, Claim.student_id.in_(claim_students)))
    for student_id, module, occurred_on, hours in claims:
        h = out[student_id]
        h.by_module[module] = h.by_module.get(module, ZERO) + Decimal(hours)
        year = academic_year_of(occurred_on)
        h.by_year[year] = h.by_year.get(year, ZERO) + Decimal(hours)
    return out


@dataclass(frozen=True)
class ModuleStanding:
    """One module's line of the progress page: what counts, what is required, what is still to go."""

    key: str
    label: str
    certified: Decimal
    counted: Decimal
    required: Decimal
    cap: Decimal | None
    met: bool

    @property
    def to_go(self) -> Decimal:
        return max(self.required - self.counted, ZERO)

    @property
    def percent(self) -> float:
        """How full the bar is: of the minimum when there is one, else of the cap, else full."""
        goal = self.required or self.cap
        if not goal:
            return 100.0 if self.counted else 0.0
        return round(min(float(self.counted / goal), 1.0) * 100, 1)


@dataclass
class StudentProgress:
    student: User
    rules: RuleSet | None
    result: arithmetic.Progress
    modules: list[ModuleInfo]
    recorded: dict[str, YearGrade]  # the year-end's grades, by academic year

    @property
    def rules_version(self) -> str | None:
        return self.rules.name if self.rules else None

    @property
    def standings(self) -> list[ModuleStanding]:
        caps = arithmetic_rules(self.rules).modules
        return [ModuleStanding(m.key, m.label, self.result.modules[m.key].certified,
                               self.result.modules[m.key].counted, self.result.modules[m.key].required,
                               caps[m.key].max_hours if m.key in caps else None, self.result.modules[m.key].met)
                for m in self.modules]

    @property
    def total_percent(self) -> float:
        if not self.result.required:
            return 100.0
        return round(min(float(self.result.counted / self.result.required), 1.0) * 100, 1)


def arithmetic_for(session: Session, student: User) -> tuple[RuleSet | None, arithmetic.Progress]:
    """The cohort's rules in force and what the student's certified hours count for under them."""
    cohort = student.school_class.cohort if student.school_class else None
    rule_set = current_rules(session, cohort)
    hours = hours_of(session, [student.id]).get(student.id, Hours({}, {}))
    return rule_set, arithmetic.progress(arithmetic_rules(rule_set), hours.by_module, hours.by_year,
                                         module_keys(session))


def progress_for(session: Session, student: User) -> StudentProgress:
    """The arithmetic for one student, no permission asked (transcripts and reports call it)."""
    rule_set, result = arithmetic_for(session, student)
    recorded = {g.academic_year: g for g in session.execute(
        select(YearGrade).where(YearGrade.student_id == student.id)).scalars()}
    return StudentProgress(student, rule_set, result, module_list(session), recorded)


def student_progress(session: Session, actor: User | None, student_no: str) -> StudentProgress:
    """The student themself, organizers for whom the student is in scope, and the admin."""
    student = student_by_number(session, student_no)
    in_scope = actor is not None and actor.role == Role.ORGANIZER and student_in_scope(session, actor, student)
    if not permissions.can_view_student_records(actor, student, in_scope=in_scope):
        raise Forbidden(_("You may not see this student's records"))
    return progress_for(session, student)

