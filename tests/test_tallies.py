"""The per-term tallies (#17) are the records summed: after any sequence of changes — recording,
sign-off, rejection, revocation (a withdrawal), claims, an activity cancelled, moved to another
term or club or module, roster changes — the figures read from the tallies equal the figures
summed from the raw rows (the reference, `from_records=True`). SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from app.models import (
    Activity,
    ActivityStatus,
    ActivityTally,
    Claim,
    ClaimStatus,
    ClubTermTally,
    CreditModule,
    Membership,
    Participation,
    ParticipationStatus,
    RuleSet,
    StudentModuleTally,
    StudentStanding,
    StudentTermTally,
    User,
)
from app.services import dashboard, participations, progress, requirements, scorecard
from app.services.errors import DomainError
from app.services.modules import module_list
from app.services.participations import Entry

TERMS = ("2025-2026-2", "2026-2027-1")
STARTS = {TERMS[0]: datetime(2026, 4, 10, 1, tzinfo=UTC), TERMS[1]: datetime(2026, 10, 10, 1, tzinfo=UTC)}
AS_OF = datetime(2026, 11, 20, 4, tzinfo=UTC)
MODULES = ("volunteering", "practice", "innovation")
CLAIM_DAYS = (date(2026, 3, 15), date(2026, 10, 20), date(2027, 1, 10))


@pytest.fixture
def school(make, session):
    """Two clubs of one college with an advisor and a leader each, three activities per club over
    two terms, six students."""
    s = type("School", (), {})()
    s.unit = make.unit()
    s.admin = make.admin()
    s.advisor = make.organizer(unit=s.unit)
    s.leader = make.leader(unit=s.unit)
    s.clubs = [make.club(advisors=[s.advisor], leaders=[s.leader], unit=s.unit) for _ in range(2)]
    s.activities = [make.activity(club, starts_at=STARTS[TERMS[i % 2]], module=MODULES[i % 3],
                                  level=("school", "national", "club")[i % 3])
                    for club in s.clubs for i in range(3)]
    s.classes = [make.school_class(s.unit, cohort=cohort) for cohort in (2024, 2025)]
    s.students = [make.student(unit=s.unit, school_class=s.classes[i % 2]) for i in range(6)]
    session.add(rules(2024, 1, total="4"))
    session.add(rules(2025, 1, total="8", volunteering_min="4"))
    session.commit()
    return s


def rules(cohort: int, version: int, *, total: str, volunteering_min: str = "0", cap: str | None = None) -> RuleSet:
    module = {"min_hours": volunteering_min, **({"max_hours": cap} if cap else {})}
    return RuleSet(cohort=cohort, version=version, total_min_hours=Decimal(total),
                   modules={"volunteering": module}, pass_hours=Decimal("2"), excellent_hours=Decimal("6"),
                   years_required=0)


def figures(session, school, *, from_records: bool) -> dict:
    """Everything the views show from the records: every club's facts and scores in both terms,
    the heat table, the dashboard's colleges, distribution and trend, and students' hours."""
    cards = scorecard.compute(session, TERMS, as_of=AS_OF, from_records=from_records)
    out = {}
    for key, card in sorted(cards.items()):
        facts = dataclasses.asdict(card.facts)
        facts["signoff_days"] = sorted(round(d, 6) for d in facts["signoff_days"])
        out[("card", key)] = (facts, card.overall, {k: d.score for k, d in card.dimensions.items()})
    modules = module_list(session)
    for term in TERMS:
        heat = scorecard.module_hours_by_unit(session, school.admin, term, from_records=from_records)
        out[("heat", term)] = heat.cells
        out[("colleges", term)] = [(c.unit_id, c.students, c.participants) for c in dashboard.college_participation(
            session, term, modules, from_records=from_records)]
    out["distribution"] = dashboard.hours_distribution(session, from_records=from_records)
    out["trend"] = dashboard.term_trend(session, list(TERMS), from_records=from_records)
    hours = progress.hours_of(session, [s.id for s in school.students], from_records=from_records)
    out["hours"] = {sid: (dict(h.by_module), dict(h.by_year)) for sid, h in sorted(hours.items())}
    out["attainment"] = requirements.attainment_by_cohort(session, from_records=from_records)
    for cohort in (2024, 2025):
        out[("requirements", cohort)] = requirements.cohort_rows(session, None, cohort, from_records=from_records)[1]
    return out


def assert_tallies_equal_records(session, school) -> None:
    from_tallies = figures(session, school, from_records=False)
    reference = figures(session, school, from_records=True)
    assert from_tallies == reference


def _pick(session, query, n: int):
    rows = list(session.execute(query).scalars())
    return rows[n % len(rows)] if rows else None


def apply(session, school, op: tuple) -> None:
    """One change, through the services where there is one, straight on the ORM otherwise."""
    kind, a, b, c = op
    activity = session.get(Activity, school.activities[a % len(school.activities)].id)
    student = session.get(User, school.students[b % len(school.students)].id)
    records = select(Participation).order_by(Participation.id)
    if kind == "record":
        role = ("participant", "volunteer", "organizer")[c % 3]
        participations.record_participations(session, school.leader, activity.id, [
            Entry(student_no=student.student_no, role=role, award="一等奖" if c % 4 == 0 else None)])
    elif kind == "certify_all":
        participations.certify(session, school.advisor, activity.id)
    elif kind == "certify_one":
        record = _pick(session, records.where(Participation.status == ParticipationStatus.RECORDED), c)
        if record is not None:
            participations.certify(session, school.advisor, record.activity_id, [record.id])
    elif kind == "reject":
        record = _pick(session, records.where(Participation.status == ParticipationStatus.RECORDED), c)
        if record is not None:
            participations.reject(session, school.advisor, record.id, "未到场")
    elif kind == "revoke":  # a withdrawal
        record = _pick(session, records.where(Participation.status == ParticipationStatus.CERTIFIED), c)
        if record is not None:
            participations.revoke(session, school.advisor, record.id, "核查不实")
    elif kind == "hours":
        record = _pick(session, records, c)
        if record is not None:
            record.hours = record.hours + 1 if record.hours < 6 else record.hours - 1
    elif kind == "cancel":
        activity.status = ActivityStatus.CANCELLED if activity.status != ActivityStatus.CANCELLED \
            else ActivityStatus.COMPLETED
    elif kind == "move_term":
        activity.term = TERMS[c % 2]
    elif kind == "move_club":
        activity.club_id = school.clubs[c % 2].id
    elif kind == "module":
        activity.module = MODULES[c % 3]
    elif kind == "roster":
        club, term = school.clubs[a % 2], TERMS[c % 2]
        found = session.execute(select(Membership).where(
            Membership.club_id == club.id, Membership.user_id == student.id, Membership.term == term)).scalar()
        if found is None:
            session.add(Membership(club_id=club.id, user_id=student.id, term=term,
                                   elected_on=STARTS[term].date() + timedelta(days=5) if c % 3 == 0 else None))
        elif c % 2:
            session.delete(found)
        else:
            found.elected_on = None if found.elected_on else STARTS[term].date()
    elif kind == "claim":
        session.add(Claim(student_id=student.id, title="校外竞赛", module=MODULES[a % 3], level="school",
                          occurred_on=CLAIM_DAYS[c % 3], hours=2 + c % 3, status=ClaimStatus.CERTIFIED,
                          reviewed_by_id=school.advisor.id, reviewed_at=AS_OF))
    elif kind == "claim_status":
        claim = _pick(session, select(Claim).order_by(Claim.id), c)
        if claim is not None:
            claim.status = (ClaimStatus.REVOKED, ClaimStatus.CERTIFIED, ClaimStatus.REJECTED)[a % 3]
    elif kind == "rules":  # a new version of a cohort's rules
        cohort = (2024, 2025)[a % 2]
        latest = session.execute(select(func.max(RuleSet.version)).where(RuleSet.cohort == cohort)).scalar()
        session.add(rules(cohort, latest + 1, total=str(2 + c), volunteering_min=str(c % 4),
                          cap=str(3 + b % 4) if b % 2 else None))
    elif kind == "class":  # a student changes class (and cohort)
        student.class_id = school.classes[c % 2].id
    elif kind == "new_module":  # the office adds a module to its list
        key = f"extra{c}"
        if session.get(CreditModule, key) is None:
            session.add(CreditModule(key=key, name_zh=f"模块{c}", name_en=f"Module {c}", position=10 + c))
            session.info.pop("credit_modules", None)  # the session's cached module list
    session.flush()


KINDS = ("record", "record", "record", "certify_all", "certify_one", "reject", "revoke", "hours", "cancel",
         "move_term", "move_club", "module", "roster", "roster", "claim", "claim_status", "rules", "class",
         "new_module")
operations = st.tuples(st.sampled_from(KINDS), st.integers(0, 11), st.integers(0, 11), st.integers(0, 11))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(operations, min_size=1, max_size=10))
def test_after_any_changes_the_tallies_give_the_figures_the_records_give(session, school, steps):
    # The examples run one after the other on the same school: each starts where the last ended,
    # so this is one long random history, checked after every few changes.
    for op in steps:
        try:
            apply(session, school, op)
        except DomainError:  # a refused change changes nothing, as a request's rollback
            session.rollback()
            session.info.pop("credit_modules", None)
    assert_tallies_equal_records(session, school)  # inside the transaction: its own changes
    session.commit()
    assert_tallies_equal_records(session, school)


def test_scorecard_overview_reads_the_term_aggregates_not_the_records(session, school, count_queries):
    activity = school.activities[0]
    participations.record_participations(session, school.leader, activity.id,
                                          [Entry(student_no=s.student_no) for s in school.students])
    participations.certify(session, school.advisor, activity.id)
    session.commit()
    with count_queries() as counted:
        scorecard.overview(session, school.admin, TERMS[0], as_of=AS_OF)
    text = " ".join(counted.statements).lower()
    assert "activity_tally" in text and "club_term_tally" in text
    assert " participation" not in text.replace("participation_", ""), "the overview read the records"


def test_a_sign_off_updates_its_tallies_in_the_same_transaction(session, school):
    activity = school.activities[1]
    participations.record_participations(session, school.leader, activity.id,
                                          [Entry(student_no=s.student_no, role="volunteer") for s in school.students])
    participations.certify(session, school.advisor, activity.id)
    # No commit yet: a read of the tallies settles this transaction's changes first.
    card = scorecard.compute(session, [activity.term], club_ids=[activity.club_id], as_of=AS_OF)[
        (activity.club_id, activity.term)]
    assert (card.facts.records, card.facts.certified_hours, card.facts.active) == (6, 24.0, 6)
    tally = session.get(ActivityTally, activity.id)
    assert (tally.records, tally.certified_hours, tally.volunteer_role_hours) == (6, 24, 24)
    session.rollback()  # the request failed: its tallies go with its records
    assert session.execute(select(func.count()).select_from(ActivityTally)).scalar_one() == 0


def test_rebuild_makes_the_tallies_again_from_the_records(app, session, school):
    for op in [("record", 0, i, i) for i in range(6)] + [("certify_all", 0, 0, 0), ("roster", 0, 1, 0),
                                                            ("claim", 1, 2, 1), ("record", 1, 3, 0)]:
        apply(session, school, op)
    session.commit()
    expected = figures(session, school, from_records=True)
    session.execute(delete(StudentStanding))  # as after the migration: the standings need Python
    assert figures(session, school, from_records=False) == expected
    for model in (ActivityTally, ClubTermTally, StudentModuleTally, StudentTermTally, StudentStanding):
        session.execute(delete(model))  # lost: a restore from before the tallies, rows loaded by hand
    session.commit()
    result = app.test_cli_runner().invoke(args=["scorecards", "rebuild"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert figures(session, school, from_records=False) == expected
    result = app.test_cli_runner().invoke(args=["scorecards", "rebuild", "--term", TERMS[0]])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert figures(session, school, from_records=False) == expected


def test_every_statement_that_bypasses_the_orm_on_the_records_tells_the_tallies():
    """The flush listeners see what the unit of work writes; a Core INSERT, UPDATE or DELETE of a
    table the tallies read must touch them itself, in the same function."""
    import re
    from pathlib import Path

    tables = ("Participation", "Activity", "Membership", "Claim", "RuleSet", "CreditModule", "SchoolClass")
    core = re.compile(rf"\b(insert|update|delete)\(({'|'.join(tables)})\b")
    offenders = []
    for path in Path("app").rglob("*.py"):
        if "tallies" in path.parts or "models" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for function in re.split(r"\n(?=def |    def )", text):
            if core.search(function) and "tallies.touch" not in function:
                offenders.append(f"{path}: {function.splitlines()[0]}")
    assert offenders == []


def test_the_migration_fills_the_tallies_as_the_rebuild_does(session, school):
    """The revision's plain SQL (both dialects) gives the rows the app's rebuild gives."""
    import importlib.util

    from sqlalchemy import text

    from app import ROOT

    path = ROOT / "migrations" / "versions" / "c18c3d4e5f60_term_aggregates.py"
    spec = importlib.util.spec_from_file_location("term_aggregates", path)
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    steps = [("record", a, b, b) for a in range(4) for b in range(6)] + [
        ("certify_all", a, 0, 0) for a in range(3)] + [("reject", 0, 0, 1), ("revoke", 0, 0, 2), ("cancel", 3, 0, 0),
                                                       ("claim", 1, 2, 0), ("claim", 2, 3, 2)]
    steps += [("roster", a, b, c) for a in range(2) for b in range(4) for c in (3, 6)]  # elected, both terms
    steps += [("roster", a, 5, c) for a in range(2) for c in (1, 2)]  # on the roster, not elected
    for op in steps:
        try:
            apply(session, school, op)
        except DomainError:
            session.rollback()
    session.commit()
    models = (ActivityTally, ClubTermTally, StudentTermTally, StudentModuleTally)

    def rows():
        return {m.__tablename__: sorted(tuple(r) for r in session.execute(select(*m.__table__.columns)))
                for m in models}

    expected = rows()
    assert all(expected.values()) and any(r[-1] for r in expected["club_term_tally"]), "elections counted"
    for model in models:
        session.execute(delete(model))
    year, month = revision.PARTS[session.get_bind().dialect.name]
    for statement in (revision.ACTIVITY_TALLY, revision.STUDENT_MODULE_TALLY.format(
            claim_term=revision.CLAIM_TERM.format(y=year, m=month)), revision.STUDENT_TERM_TALLY,
            revision.CLUB_TERM_TALLY):
        session.execute(text(statement))
    # Either may hold rows of nothing the other has not (the app keeps a row it once made, at
    # zero; the migration makes one per club-term with an activity or a roster): compare the rest.
    got = rows()

    def counted(table, first):
        return [r for r in got[table] if any(r[first:])], [r for r in expected[table] if any(r[first:])]

    for table, first in (("activity_tally", 1), ("club_term_tally", 2), ("student_term_tally", 2)):
        mine, theirs = counted(table, first)
        assert mine == theirs, table
    assert got["student_module_tally"] == expected["student_module_tally"]
    session.rollback()
