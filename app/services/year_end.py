"""The yearly certification (学年认定): for one academic year, each student's certified hours of that
year graded under their cohort's current rules (优秀 / 合格 / 不合格), written as a YearGrade and an
audited `grade.record` event. Run again (a late sign-off, a withdrawn record) it writes only the
grades that changed; the log keeps every one it replaced.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import SchoolClass, User
from app.models.people import STUDENT_ROLES
from app.models.rules import Grade, RuleSet, YearGrade
from app.services import credit_arithmetic as arithmetic
from app.services.audit import append_event
from app.services.credit_rules import arithmetic_rules, rules_by_cohort
from app.services.errors import Forbidden, Invalid
from app.services.progress import academic_year_of, hours_of
from app.timeutil import to_local, utcnow

YEAR = re.compile(r"^(\d{4})-(\d{4})$")
ZERO = Decimal("0.0")


def check_academic_year(text: str | None) -> str:
    match = YEAR.match((text or "").strip())
    if not match or int(match[2]) != int(match[1]) + 1:
        raise Invalid({"academic_year": [_("Like 2025-2026")]}, _("Check the academic year"))
    year = match[0]
    if int(match[1]) > int(academic_year_of(to_local(utcnow()).date())[:4]):
        raise Invalid({"academic_year": [_("This academic year has not begun")]}, _("Check the academic year"))
    return year


def recent_years(count: int = 5) -> list[str]:
    """The current academic year and the ones before it, newest first (the page's choices)."""
    start = int(academic_year_of(to_local(utcnow()).date())[:4])
    return [f"{y}-{y + 1}" for y in range(start, start - count, -1)]


@dataclass
class YearEndResult:
    academic_year: str
    graded: int = 0  # students graded under a rule set
    changed: int = 0  # grades written this run (new or different)
    without_rules: int = 0  # students whose cohort has no rule set
    counts: Counter = field(default_factory=Counter)  # grade → students


def run_year_end(session: Session, actor: User | None, academic_year: str,
                 cohort: int | None = None) -> YearEndResult:
    """Grade every student (of one cohort, or all) for the year; return what it found."""
    if not permissions.can_run_year_end(actor):
        raise Forbidden(_("Only the admin runs the yearly certification"))
    year = check_academic_year(academic_year)
    rule_sets = rules_by_cohort(session)
    if cohort is not None and cohort not in rule_sets:
        raise Invalid({"cohort": [_("Cohort %(cohort)d has no credit rules", cohort=cohort)]}, _("Check the cohort"))
    students = (select(User.id, SchoolClass.cohort).join(SchoolClass, SchoolClass.id == User.class_id)
                .where(User.role.in_(STUDENT_ROLES), User.active.is_(True)))
    if cohort is not None:
        students = students.where(SchoolClass.cohort == cohort)
    people = session.execute(students.order_by(User.id)).all()
    hours = hours_of(session, students.with_only_columns(User.id)) if people else {}
    existing = {g.student_id: g for g in session.execute(
        select(YearGrade).where(YearGrade.academic_year == year)).scalars()}
    numbers = dict(session.execute(select(User.id, User.student_no).where(User.id.in_(
        students.with_only_columns(User.id)))).all()) if people else {}
    result = YearEndResult(year)
    rules_of = {c: (r, arithmetic_rules(r)) for c, r in rule_sets.items()}
    now = utcnow()
    for student_id, student_cohort in people:
        if student_cohort not in rules_of:
            result.without_rules += 1
            continue
        rule_set, rules = rules_of[student_cohort]
        h = hours[student_id].by_year.get(year, ZERO) if student_id in hours else ZERO
        grade = arithmetic.grade(h, rules)
        result.graded += 1
        result.counts[grade] += 1
        before = existing.get(student_id)
        if before and before.grade == grade and Decimal(before.hours) == h and before.rule_set_id == rule_set.id:
            continue
        previous = before.grade if before else None
        if before is None:
            session.add(YearGrade(student_id=student_id, academic_year=year, hours=h, grade=grade,
                                  rule_set_id=rule_set.id, graded_at=now, graded_by_id=actor.id if actor else None))
        else:
            before.hours, before.grade, before.rule_set_id = h, grade, rule_set.id
            before.graded_at, before.graded_by_id = now, actor.id if actor else None
        append_event(session, actor, "grade.record", "student", numbers[student_id], {
            "academic_year": year, "hours": str(h), "grade": grade, "rules": rule_set.name,
            **({"before": previous} if previous else {}),
        })
        result.changed += 1
    session.flush()
    return result


@dataclass
class YearGrades:
    academic_year: str
    items: list[YearGrade]
    total: int
    counts: dict[str, int]  # grade → students (within the cohort filter)


def year_grades(session: Session, actor: User | None, academic_year: str, *, cohort: int | None = None,
                grade: str | None = None, page: int = 1, per_page: int = 50) -> YearGrades:
    """The grades written for a year, with the count of each grade; by student number."""
    if not permissions.can_run_year_end(actor):
        raise Forbidden(_("Only the admin runs the yearly certification"))
    year = check_academic_year(academic_year)
    if grade is not None and grade not in {g.value for g in Grade}:
        reason = _("One of: %(choices)s", choices=", ".join(g.value for g in Grade))
        raise Invalid({"grade": [reason]}, _("Check the grade"))
    base = select(YearGrade).join(User, User.id == YearGrade.student_id).where(YearGrade.academic_year == year)
    if cohort is not None:
        base = base.join(RuleSet, RuleSet.id == YearGrade.rule_set_id).where(RuleSet.cohort == cohort)
    counts = dict(session.execute(
        base.with_only_columns(YearGrade.grade, func.count()).group_by(YearGrade.grade)).all())
    if grade is not None:
        base = base.where(YearGrade.grade == grade)
    total = session.execute(base.with_only_columns(func.count())).scalar_one()
    items = list(session.execute(
        base.options(joinedload(YearGrade.student), joinedload(YearGrade.rule_set))
        .order_by(User.student_no).offset((page - 1) * per_page).limit(per_page)).scalars())
    return YearGrades(year, items, total, {g.value: counts.get(g.value, 0) for g in Grade})
