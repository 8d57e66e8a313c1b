"""The office's requirements report (#17) is read from the students' standings, kept with the
tallies, and filtered, sorted and cut into pages in SQL: after records, a rule change, a module
change and a class change it lists what the rules' arithmetic run on the records gives (the
reference, `from_records=True`, filtered and sorted in Python), in the same order, page by page.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, update

from app.models import Claim, ClaimStatus, ParticipationStatus, SchoolClass, StudentStanding, User
from app.services import credit_rules, modules, requirements

COHORT = 2024
STARTS = datetime(2026, 4, 10, 1, tzinfo=UTC)
# Names and classes that sort differently by code point (Python's order) and by a locale's
# collation (lower case after upper case; Latin before Han), with ties broken by student number.
NAMES = ("张三", "张三", "alice", "Bob", "Zoe", "李四", "王五", "张三", "bob", "阿明", "Émile", "李四")


@pytest.fixture
def school(make, session):
    """Cohort 2024 in two colleges and three classes, twelve students (two of another cohort),
    an organizer over one club; rules with a total, a module minimum and a cap; certified hours
    that tie on counted and short-by."""
    s = type("School", (), {})()
    s.admin = make.admin()
    s.units = [make.unit(), make.unit()]
    s.classes = [make.school_class(s.units[0], cohort=COHORT, name="2024级b班"),
                 make.school_class(s.units[0], cohort=COHORT, name="2024级B班"),
                 make.school_class(s.units[1], cohort=COHORT, name="2024级a班")]
    s.other = make.school_class(s.units[1], cohort=2025)
    s.students = [make.student(name=name, school_class=s.classes[i % 3]) for i, name in enumerate(NAMES)]
    s.younger = [make.student(school_class=s.other) for _ in range(2)]
    s.advisor = make.organizer(unit=s.units[1])
    s.leader = make.leader(unit=s.units[1], school_class=s.other)
    s.club = make.club(advisors=[s.advisor], leaders=[s.leader], unit=s.units[1])
    credit_rules.set_rules(session, s.admin, COHORT, {
        "total_min_hours": "8", "annual": {"pass_hours": "2", "excellent_hours": "6"},
        "modules": {"volunteering": {"min_hours": "2"}, "practice": {"max_hours": "3"}}})
    session.commit()
    for i, student in enumerate(s.students + s.younger):
        for module, hours in (("volunteering", i % 3 * 2), ("practice", i % 4 * 2), ("innovation", i % 2 * 4)):
            if hours:
                certify(make, s, student, module, hours)
    return s


def certify(make, school, student, module: str, hours: int) -> None:
    """A certified record of `hours` in `module` (each of another activity of the term)."""
    make.participation(make.activity(school.club, module=module, starts_at=STARTS), student,
                       status=ParticipationStatus.CERTIFIED, hours=str(hours))


def counted(session, school) -> dict[int, Decimal]:
    return {r.student_id: r.counted
            for r in requirements.report(session, school.admin, cohort=COHORT, per_page=None).items}


def assert_report_is_the_reference(session, actor, **filters) -> None:
    """Every sort, both directions, met or not or both, whole (and, met or not, in pages of 5
    and one past the end): the rows, the counts and the rules' version as the reference gives."""
    seen = 0
    for sort in requirements.SORTS:
        for descending in (False, True):
            for met in (None, True, False):
                args = dict(cohort=COHORT, sort=sort, descending=descending, met=met, **filters)
                reference = requirements.report(session, actor, per_page=None, from_records=True, **args)
                whole = requirements.report(session, actor, per_page=None, **args)
                assert (whole.items, whole.total, whole.students, whole.met_count, whole.rules_version) == (
                    reference.items, reference.total, reference.students, reference.met_count,
                    reference.rules_version), args
                for page in range(1, len(reference.items) // 5 + 3) if met is None else ():
                    found = requirements.report(session, actor, page=page, per_page=5, **args)
                    assert found.items == reference.items[(page - 1) * 5: page * 5], (args, page)
                    assert (found.total, found.page, found.per_page) == (reference.total, page, 5)
                seen += len(reference.items)
    assert seen, "the report listed no one"


def test_the_report_is_the_reference_in_every_order_filter_and_page(session, school):
    rows = requirements.report(session, school.admin, cohort=COHORT, per_page=None).items
    assert len({r.short_by for r in rows}) < len(rows) and len({r.name for r in rows}) < len(rows), "ties"
    assert {r.met for r in rows} == {True, False}
    assert_report_is_the_reference(session, school.admin)
    assert_report_is_the_reference(session, school.admin, unit_id=school.units[0].id)
    assert_report_is_the_reference(session, school.admin, class_id=school.classes[2].id)
    assert_report_is_the_reference(session, school.advisor)  # the organizer's scope: their college


def test_names_sort_by_code_point_with_ties_broken_by_student_number(session, school):
    rows = requirements.report(session, school.admin, cohort=COHORT, sort="name", per_page=None).items
    assert [r.name for r in rows] == sorted(NAMES)  # "Bob" < "Zoe" < "alice" < "bob" < "Émile" < Han
    same = [r.student_no for r in rows if r.name == "张三"]
    assert same == sorted(same) and len(same) == 3
    back = requirements.report(session, school.admin, cohort=COHORT, sort="name", descending=True,
                               per_page=None).items
    assert back == rows[::-1]


def test_the_report_follows_new_records_and_claims(session, make, school):
    capped = school.students[5]  # 4 h volunteering, 2 h practice (capped at 3), 4 h innovation
    assert counted(session, school)[capped.id] == Decimal("10")
    certify(make, school, school.students[2], "volunteering", 6)
    certify(make, school, capped, "practice", 8)  # above the cap: counts 1 more
    session.add(Claim(student_id=school.students[7].id, title="校外竞赛", module="innovation", level="school",
                      occurred_on=date(2026, 3, 15), hours=Decimal("5"), status=ClaimStatus.CERTIFIED,
                      reviewed_by_id=school.advisor.id, reviewed_at=STARTS))
    session.flush()  # not yet committed: the report sees this transaction's changes
    assert_report_is_the_reference(session, school.admin)
    session.commit()
    assert counted(session, school)[capped.id] == Decimal("11")


def test_the_report_follows_a_new_version_of_the_rules(session, school):
    before = requirements.report(session, school.admin, cohort=COHORT, per_page=None)
    credit_rules.set_rules(session, school.admin, COHORT, {
        "total_min_hours": "6", "annual": {"pass_hours": "2", "excellent_hours": "6"},
        "modules": {"innovation": {"min_hours": "4"}, "practice": {"max_hours": "1"}}})
    session.commit()
    after = requirements.report(session, school.admin, cohort=COHORT, per_page=None)
    assert after.rules_version != before.rules_version and after.items != before.items
    assert_report_is_the_reference(session, school.admin)


def test_the_report_follows_the_module_list(session, school):
    """Hours in a module the office has not listed count for nothing until it lists it."""
    student = school.students[0]
    session.add(Claim(student_id=student.id, title="马拉松", module="running", level="school",
                      occurred_on=date(2026, 3, 15), hours=Decimal("7"), status=ClaimStatus.CERTIFIED,
                      reviewed_by_id=school.advisor.id, reviewed_at=STARTS))
    session.commit()
    assert_report_is_the_reference(session, school.admin)
    before = counted(session, school)
    modules.add_module(session, school.admin, {"key": "running", "name_zh": "长跑", "name_en": "Running"})
    session.commit()
    assert_report_is_the_reference(session, school.admin)
    assert counted(session, school)[student.id] == before[student.id] + 7


def test_the_report_follows_students_and_classes_changing_cohort(session, school):
    leaving, joining = school.students[1], school.younger[0]
    leaving.class_id = school.other.id
    joining.class_id = school.classes[1].id
    session.commit()
    listed = {r.student_id for r in requirements.report(session, school.admin, cohort=COHORT, per_page=None).items}
    assert joining.id in listed and leaving.id not in listed
    assert_report_is_the_reference(session, school.admin)
    session.get(SchoolClass, school.other.id).cohort = COHORT  # the class was entered under the wrong year
    session.commit()
    assert_report_is_the_reference(session, school.admin)


def test_a_standing_not_kept_for_the_report_yet_is_computed_and_written_by_it(session, school):
    """As after the upgrade that added the report's columns (NULL), or a standing lost."""
    half = [s.id for s in school.students[::2]]
    session.execute(update(StudentStanding).where(StudentStanding.student_id.in_(half))
                    .values(counted=None, required=None, short_by=None))
    session.execute(delete(StudentStanding).where(StudentStanding.student_id == school.students[1].id))
    session.commit()
    assert_report_is_the_reference(session, school.admin)
    session.commit()  # as the request that showed it
    kept = session.execute(select(func.count()).select_from(StudentStanding).join(
        User, User.id == StudentStanding.student_id).where(
        User.class_id.in_([c.id for c in school.classes]), StudentStanding.counted.is_not(None))).scalar_one()
    assert kept == len(school.students)


def test_the_report_reads_the_standings_not_the_records(session, school, count_queries):
    requirements.report(session, school.admin, cohort=COHORT)  # the module list read once per session
    with count_queries() as counted:
        found = requirements.report(session, school.admin, cohort=COHORT, sort="counted", met=False, page=2,
                                    per_page=3)
    assert found.items
    text = " ".join(counted.statements).lower()
    assert "student_standing" in text and "limit" in text
    for table in ("participation", "claim ", "student_module_tally"):
        assert table not in text, f"the report read {table}"
