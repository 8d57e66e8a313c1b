"""The office's requirements report (达标情况): for one cohort, every student's counted hours under
the cohort's current rules, whether they meet them and by how much they are short. Filters by
college and class and by met / not met; sorted; one page for the screen, every row for 教务处's
CSV or xlsx. The admin sees the whole cohort, an organizer the students in their scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import case, collate, func, select
from sqlalchemy.orm import Session

from app import permissions
from app.models import Role, SchoolClass, StudentStanding, Unit, User
from app.models.people import STUDENT_ROLES
from app.models.rules import RuleSet
from app.services import credit_arithmetic as arithmetic
from app.services import tallies
from app.services.credit_rules import arithmetic_rules, cohort_students, current_rules
from app.services.errors import Forbidden, Invalid
from app.services.exports import Table
from app.services.gc_pause import no_cyclic_gc
from app.services.modules import module_keys
from app.services.progress import Hours, hours_of
from app.services.scope import scoped_student_ids
from app.services.tallies.standing import standing_of, standings

SORTS = ("short_by", "student_no", "name", "class", "counted")


@dataclass(frozen=True, slots=True)
class RequirementRow:
    student_id: int
    student_no: str
    name: str
    unit: str
    class_name: str
    counted: Decimal
    required: Decimal
    met: bool
    short_by: Decimal


@dataclass
class RequirementsReport:
    cohort: int
    rules: RuleSet | None
    items: list[RequirementRow]  # this page's
    total: int  # rows after every filter
    students: int  # the students of the cohort within the college, class and scope
    met_count: int  # of those, how many meet the rules
    page: int
    per_page: int

    @property
    def rules_version(self) -> str | None:
        return self.rules.name if self.rules else None


def _conditions(actor: User | None, cohort: int, unit_id: int | None, class_id: int | None) -> list:
    """Which students a report lists: the cohort's (students and leaders), within the college and
    class asked for and the organizer's scope. The classes as a subquery: SQLite then reads the
    cohort's classes first and their students by index, not every student to find the cohort's."""
    classes = select(SchoolClass.id).where(SchoolClass.cohort == cohort)
    if unit_id is not None:
        classes = classes.where(SchoolClass.unit_id == unit_id)
    if class_id is not None:
        classes = classes.where(SchoolClass.id == class_id)
    found = [User.class_id.in_(classes), User.role.in_(STUDENT_ROLES)]
    if actor is not None and actor.role == Role.ORGANIZER:
        found.append(User.id.in_(scoped_student_ids(actor)))
    return found


def _students(actor: User | None, cohort: int, unit_id: int | None, class_id: int | None):
    return (select(User.id, User.student_no, User.display_name, Unit.name, SchoolClass.name)
            .join(SchoolClass, SchoolClass.id == User.class_id)
            .join(Unit, Unit.id == SchoolClass.unit_id)
            .where(*_conditions(actor, cohort, unit_id, class_id)))


def cohort_rows(session: Session, actor: User | None, cohort: int, *, unit_id: int | None = None,
                class_id: int | None = None, from_records: bool = False) -> tuple[RuleSet | None, list[RequirementRow]]:
    """Every student of the cohort (within the filters and the actor's scope) with their standing,
    in student number order: read from the students' standings, or `from_records`: the rules'
    arithmetic run on each student's certified records and claims (the reference)."""
    if not from_records:
        found = _from_standings(session, actor, cohort, unit_id=unit_id, class_id=class_id, met=None,
                                sort="student_no", descending=False, page=1, per_page=None)
        return found.rules, found.items
    rule_set = current_rules(session, cohort)
    rules = arithmetic_rules(rule_set)
    keys = module_keys(session)
    students = _students(actor, cohort, unit_id, class_id)
    with no_cyclic_gc():
        people = session.execute(students).all()
        hours = hours_of(session, students.with_only_columns(User.id), from_records=True) if people else {}
        empty = Hours({}, {})
        standing, row, hours_for = arithmetic.progress, RequirementRow, hours.get  # hoisted: 7,500 a cohort
        rows = []
        for student_id, student_no, name, unit, class_name in people:
            h = hours_for(student_id, empty)
            result = standing(rules, h.by_module, h.by_year, keys)
            rows.append(row(student_id, student_no or "", name, unit, class_name, result.counted,
                            result.required, result.met, result.short_by))
    rows.sort(key=_sort_key("student_no"))
    return rule_set, rows


def _sort_key(sort: str):
    return {
        "short_by": lambda r: (-r.short_by, r.student_no),
        "student_no": lambda r: r.student_no,
        "name": lambda r: (r.name, r.student_no),
        "class": lambda r: (r.class_name, r.student_no),
        "counted": lambda r: (r.counted, r.student_no),
    }[sort]


def _order_by(sort: str, descending: bool, dialect: str) -> list:
    """`_sort_key`'s order in SQL: each key ascending unless marked, all reversed by `descending`;
    text by code point as Python compares it (PostgreSQL's "C" collation; SQLite's own BINARY)."""
    def text(column):
        return collate(column, "C") if dialect == "postgresql" else column

    number = text(func.coalesce(User.student_no, ""))
    keys = {
        "short_by": [(StudentStanding.short_by, False), (number, True)],
        "student_no": [(number, True)],
        "name": [(text(User.display_name), True), (number, True)],
        "class": [(text(SchoolClass.name), True), (number, True)],
        "counted": [(StudentStanding.counted, True), (number, True)],
    }[sort] + [(User.id, True)]  # students without a number (none should be): still one order
    return [column.asc() if ascending != descending else column.desc() for column, ascending in keys]


def _counts(session: Session, conditions: list) -> tuple[int, int, int]:
    """(students, meeting the rules, without a standing kept for the report) within `conditions`."""
    standing = StudentStanding
    students, met, stale = session.execute(
        select(func.count(User.id), func.count(case((standing.met.is_(True), 1))),
               func.count(case((standing.counted.is_(None), 1))))
        .join(SchoolClass, SchoolClass.id == User.class_id)
        .outerjoin(standing, standing.student_id == User.id)
        .where(*conditions)).one()
    return students, met, stale


def _from_standings(session: Session, actor: User | None, cohort: int, *, unit_id: int | None,
                    class_id: int | None, met: bool | None, sort: str, descending: bool, page: int,
                    per_page: int | None) -> RequirementsReport:
    """The report in SQL from the students' standings (`tallies.standing`, kept with the tallies):
    one count, then the page filtered, sorted and cut in the database. A student without a
    standing kept for it yet (a row from before the report read them, a student added by hand)
    has it computed and written here first, so the report is right from the first view after an
    upgrade and quick from the next."""
    tallies.settle(session)
    conditions = _conditions(actor, cohort, unit_id, class_id)
    students, met_count, stale = _counts(session, conditions)
    if stale:
        missing = (select(User.id).join(SchoolClass, SchoolClass.id == User.class_id)
                   .outerjoin(StudentStanding, StudentStanding.student_id == User.id)
                   .where(*conditions, StudentStanding.counted.is_(None)))
        standings(session, session.execute(missing).scalars().all())
        students, met_count, _stale = _counts(session, conditions)
    standing = StudentStanding
    query = (select(User.id, func.coalesce(User.student_no, ""), User.display_name, Unit.name, SchoolClass.name,
                    standing.counted, standing.required, standing.met, standing.short_by)
             .join(SchoolClass, SchoolClass.id == User.class_id)
             .join(Unit, Unit.id == SchoolClass.unit_id)
             .join(standing, standing.student_id == User.id)
             .where(*conditions)
             .order_by(*_order_by(sort, descending, session.get_bind().dialect.name)))
    if met is not None:
        query = query.where(standing.met.is_(met))
    total = students if met is None else met_count if met else students - met_count
    if per_page is not None:
        query = query.limit(per_page).offset(max(page - 1, 0) * per_page)
    with no_cyclic_gc():
        rows = [RequirementRow(*row) for row in session.execute(query)]
    return RequirementsReport(cohort, current_rules(session, cohort), rows, total, students, met_count, page,
                              per_page or total)


def _no_student(cohort: int) -> Invalid:
    return Invalid({"cohort": [_("No student of cohort %(cohort)d", cohort=cohort)]}, _("Check the cohort"))


def report(session: Session, actor: User | None, *, cohort: int, unit_id: int | None = None,
           class_id: int | None = None, met: bool | None = None, sort: str = "short_by",
           descending: bool = False, page: int = 1, per_page: int | None = 50,
           from_records: bool = False) -> RequirementsReport:
    """The cohort's standing, filtered and sorted; `per_page=None` for every row (the exports).
    `from_records`: every row computed from the records, then filtered, sorted and cut in Python
    (the reference the standings are checked against)."""
    if not permissions.can_view_requirements(actor):
        raise Forbidden(_("Only the office and organizers see the requirements report"))
    if sort not in SORTS:
        raise Invalid({"sort": [_("One of: %(choices)s", choices=", ".join(SORTS))]}, _("Check the sort"))
    if not from_records:
        found = _from_standings(session, actor, cohort, unit_id=unit_id, class_id=class_id, met=met, sort=sort,
                                descending=descending, page=page, per_page=per_page)
        if found.students == 0 and cohort_students(session, cohort) == 0:  # asked only when it counted none
            raise _no_student(cohort)
        return found
    if cohort_students(session, cohort) == 0:
        raise _no_student(cohort)
    rule_set, rows = cohort_rows(session, actor, cohort, unit_id=unit_id, class_id=class_id, from_records=True)
    students, met_count = len(rows), sum(1 for r in rows if r.met)
    if met is not None:
        rows = [r for r in rows if r.met == met]
    rows.sort(key=_sort_key(sort), reverse=descending)
    total = len(rows)
    if per_page is not None:
        rows = rows[(page - 1) * per_page: page * per_page]
    return RequirementsReport(cohort, rule_set, rows, total, students, met_count, page, per_page or total)


def report_table(report_: RequirementsReport) -> Table:
    """The rows for 教务处, headed as API.md says (学号, 姓名, 班级, 已计学时, 要求学时, 是否达标), then
    the college and the shortfall."""
    headers = [_("Student no."), _("Full name"), _("Class"), _("Counted hours"), _("Required hours"),
               _("Requirement met"), _("College"), _("Hours short")]
    rows = [[r.student_no, r.name, r.class_name, r.counted, r.required, r.met, r.unit, r.short_by]
            for r in report_.items]
    return Table(_("Requirements %(cohort)d", cohort=report_.cohort), headers, rows,
                 f"requirements-{report_.cohort}")


def attainment_by_cohort(session: Session, *, from_records: bool = False) -> list[tuple[int, int, int]]:
    """(cohort, students, meeting the rules) for every cohort with a rule set (the dashboard): one
    grouped count of the students' standings (`tallies.standing`), the arithmetic run only for a
    student without one yet; `from_records`: the requirements report's rows of every cohort, the
    reference."""
    from app.services.credit_rules import rules_by_cohort

    cohorts = sorted(rules_by_cohort(session))
    if from_records:
        out = []
        for cohort in cohorts:
            _rules, rows = cohort_rows(session, None, cohort, from_records=True)
            if rows:
                out.append((cohort, len(rows), sum(1 for r in rows if r.met)))
        return out
    tallies.settle(session)
    found = session.execute(
        select(SchoolClass.cohort, func.count(User.id), func.count(case((StudentStanding.met.is_(True), 1))))
        .join(SchoolClass, SchoolClass.id == User.class_id)
        .outerjoin(StudentStanding, StudentStanding.student_id == User.id)
        .where(SchoolClass.cohort.in_(cohorts), User.role.in_(STUDENT_ROLES))
        .group_by(SchoolClass.cohort)).all()
    missing = list(session.execute(
        select(User.id, SchoolClass.cohort).join(SchoolClass, SchoolClass.id == User.class_id)
        .outerjoin(StudentStanding, StudentStanding.student_id == User.id)
        .where(SchoolClass.cohort.in_(cohorts), User.role.in_(STUDENT_ROLES), StudentStanding.student_id.is_(None))))
    late = {s: found.met for s, found in standing_of(session, [tuple(row) for row in missing]).items()} \
        if missing else {}
    extra: dict[int, int] = {}
    for student_id, cohort in missing:
        extra[cohort] = extra.get(cohort, 0) + late[student_id]
    return [(cohort, students, met + extra.get(cohort, 0)) for cohort, students, met in sorted(found) if students]
