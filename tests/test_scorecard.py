"""The five-izations scorecard: hand-built clubs whose scores are worked out here from the
rules (one perfect club, one with each weakness), the "no data" cases, and the number of
SQL statements the overview issues (bounded, whatever the number of clubs).

Every test runs on SQLite and on PostgreSQL (the fixtures), against the same expected
numbers, so both databases give the same results.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from app.extensions import db
from app.models import Activity, Club, Membership, Participation, Unit, User
from app.services import scorecard
from app.services.scorecard import DIMENSION_KEYS, INDICATORS, compute, score_facts

TERM = "2025-2026-2"                     # spring 2026: 2026-02-01 … 2026-08-31
OTHER_TERM = "2025-2026-1"
AS_OF = datetime(2026, 7, 1, tzinfo=UTC)  # every activity below has ended by then
STARTS = [datetime(2026, 3, 2, 2, 0, tzinfo=UTC) + timedelta(days=14 * i) for i in range(4)]


# --------------------------------------------------------------------------- the rules, by hand


def ramp(value, zero, full):
    return round(100 * min(1.0, max(0.0, (value - zero) / (full - zero))), 1)


def mean(values):
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 1) if present else None


def expected(changes: dict[str, float | None]) -> tuple[float | None, dict[str, float | None]]:
    """Dimension and overall scores when every indicator is 100 except ``changes``."""
    scores = {key: 100.0 for key in INDICATORS}
    scores.update(changes)
    dims = {d: mean(v for k, v in scores.items() if INDICATORS[k][0] == d) for d in DIMENSION_KEYS}
    return mean(dims.values()), dims


# --------------------------------------------------------------------------- building clubs


@dataclass
class Plan:
    """A model club: 4 completed volunteering activities in TERM, each planned, approved five
    days ahead, reported, with an outside partner; 4 roster members, each certified for 3 h
    in each activity two days after it ended; one national and one school award."""

    advisors: int = 1
    leaders: int = 1
    charter: bool = True
    roster: bool = True
    extra_roster: int = 0             # roster members who never take part
    elected_on: date | None = date(2026, 3, 1)
    unplanned: int = 0                # activities without objectives and budget
    unreported: int = 0               # completed activities without an outcome report
    approved_late: int = 0            # approved a day after the start
    unrecorded: int = 0               # ended activities nobody was recorded for
    signoff_days: float = 2.0
    hours: str = "3"
    awards: list = field(default_factory=lambda: [("national", "一等奖"), ("school", "二等奖")])
    level: str = "school"
    partners: list = field(default_factory=lambda: ["阳光敬老院"])
    module: str = "volunteering"
    role: str = "participant"
    rejected: int = 0                 # extra records rejected
    revoked: int = 0                  # extra records certified, then revoked


_seq = itertools.count(1)


def _person(session, role: str, unit: Unit) -> User:
    """A user without a password (these tests never sign in): cheap to make in bulk."""
    n = next(_seq)
    number = f"2026{n:06d}" if role in ("student", "leader") else None
    user = User(username=f"sc-{role}-{n}", password_hash="!", display_name=f"测试{n}", role=role,
                unit_id=unit.id, student_no=number)
    session.add(user)
    return user


def build(make, session, plan: Plan, name: str) -> Club:
    """The club of ``plan``, added in one transaction (the factory's commit per object is
    too slow for two dozen clubs on two databases)."""
    unit = Unit(code=f"SC{next(_seq)}", name=f"测试学院{name}")
    session.add(unit)
    session.flush()
    advisors = [_person(session, "organizer", unit) for _ in range(plan.advisors)]
    leaders = [_person(session, "leader", unit) for _ in range(plan.leaders)]
    certifier = advisors[0] if advisors else _person(session, "admin", unit)
    students = [_person(session, "student", unit) for _ in range(4)]
    club = Club(name=name, category="志愿公益", unit_id=unit.id, advisors=advisors,
                charter="以服务同学、锻炼能力为宗旨。" if plan.charter else None)
    session.add(club)
    session.flush()
    make.put_in_post(club, leaders)
    if plan.roster:
        idle = [_person(session, "student", unit) for _ in range(plan.extra_roster)]
        session.flush()
        for i, person in enumerate(students + idle):
            session.add(Membership(club_id=club.id, user_id=person.id, term=TERM,
                                   role="会长" if i == 0 else "成员",
                                   elected_on=plan.elected_on if i == 0 else None))
    awards = list(plan.awards)
    for i, start in enumerate(STARTS):
        activity = Activity(
            club_id=club.id, title=f"{name}活动{i}", module=plan.module,
            level=awards[i][0] if i < len(awards) else plan.level,
            starts_at=start, ends_at=start + timedelta(hours=3), term=TERM, location="社区",
            hours=Decimal(plan.hours), status="completed", created_by_id=certifier.id,
            objectives=None if i < plan.unplanned else "服务社区",
            budget=None if i < plan.unplanned else 800,
            outcome=None if i < plan.unreported else "圆满完成",
            approved_at=start + timedelta(days=1 if i < plan.approved_late else -5),
            completed_at=start + timedelta(days=1), partners=list(plan.partners),
        )
        session.add(activity)
        session.flush()
        if i >= len(STARTS) - plan.unrecorded:
            continue
        signed = activity.ends_at + timedelta(days=plan.signoff_days)
        entries = [(s, "certified", awards[i][1] if i < len(awards) and j == 0 else None)
                   for j, s in enumerate(students)]
        if i == 0:
            entries += [(_person(session, "student", unit), "rejected", None)
                        for _ in range(plan.rejected)]
            entries += [(_person(session, "student", unit), "revoked", None)
                        for _ in range(plan.revoked)]
            session.flush()
        for student, status, award in entries:
            session.add(Participation(
                activity_id=activity.id, student_id=student.id, hours=Decimal(plan.hours),
                role="awardee" if award else plan.role, award=award, status=status,
                recorded_by_id=certifier.id,
                certified_by_id=certifier.id if status != "rejected" else None,
                certified_at=signed if status != "rejected" else None,
                rejected_at=signed if status == "rejected" else None,
                revoked_at=signed + timedelta(days=3) if status == "revoked" else None,
            ))
    session.commit()
    return club


# Each weakness: the plan that has it, and the indicator scores it changes, worked out from
# the rules (see the thresholds in app/services/scorecard/indicators.py).
WEAKNESSES = {
    "perfect": (Plan(), {}),
    "no advisor": (Plan(advisors=0), {"advisors": 0.0}),
    "no leader": (Plan(leaders=0), {"leaders": 0.0}),
    "no charter": (Plan(charter=False), {"charter": 0.0}),
    # 4 of 10 on the roster took part: 0.4 of the 0.8 that earns full marks
    "inactive roster": (Plan(extra_roster=6), {"active_members": ramp(4 / 10, 0, 0.8)}),
    "no roster": (Plan(roster=False), {"active_members": 0.0, "election": 0.0}),
    "no election": (Plan(elected_on=None), {"election": 0.0}),
    # elected in the autumn: not an election of this (spring) term
    "election last term": (Plan(elected_on=date(2025, 10, 8)), {"election": 0.0}),
    "half unplanned": (Plan(unplanned=2), {"plans": 50.0}),
    # 3 of 4 reports: 75 % of the share, and 3 reports are still full marks for the count
    "one unreported": (Plan(unreported=1), {"outcome_share": 75.0}),
    "all unreported": (Plan(unreported=4), {"outcome_share": 0.0, "outcome_reports": 0.0}),
    "approved late": (Plan(approved_late=2), {"approved_before_start": 50.0}),
    # one ended activity with nobody recorded: 3 of 4 recorded; 3 × 4 × 3 h = 36 h
    # volunteering (90 % of 40); 36 h / 4 members = 9 h each (still ≥ 8)
    "no attendance": (Plan(unrecorded=1), {"attendance": 75.0, "volunteer_hours": 90.0}),
    # 18.5 days is half-way between 7 (full) and 30 (zero)
    "slow sign-off": (Plan(signoff_days=18.5), {"signoff_days": 50.0}),
    "sign-off a month late": (Plan(signoff_days=31), {"signoff_days": 0.0}),
    # 1 rejected + 1 revoked of 18 records; a fifth would be zero
    "rejected records": (Plan(rejected=1, revoked=1),
                         {"rejected_share": ramp(2 / 18, 0.2, 0.0)}),
    # 1 h records: 16 h / 4 members = 4 h each (half of 8); 16 h of volunteering (40 %)
    "few hours": (Plan(hours="1"), {"hours_per_member": 50.0, "volunteer_hours": 40.0}),
    "no awards": (Plan(awards=[]), {"awards": 0.0}),
    # one college-level award: 2 points of the 10 that earn full marks
    "one college award": (Plan(awards=[("college", "三等奖")], level="school"), {"awards": 20.0}),
    "club-level, no partners": (Plan(awards=[], level="club", partners=[]),
                                {"awards": 0.0, "partners": 0.0, "reach": 0.0}),
    # a company partner is external, but not another school
    "college level, company partner": (Plan(awards=[], level="college",
                                            partners=["华为技术有限公司"]),
                                       {"awards": 0.0, "reach": 0.0}),
    # a partner that is another school reaches out even at college level
    "college level, partner school": (Plan(awards=[], level="college", partners=["邻校机器人协会"]),
                                      {"awards": 0.0}),
    "no volunteering": (Plan(module="culture_sports"), {"volunteer_hours": 0.0}),
    # volunteers at a sports event: volunteering hours although the module is not
    "volunteer role": (Plan(module="culture_sports", role="volunteer"), {}),
}


def test_each_club_scores_as_the_rules_say(make, session):
    clubs = {label: build(make, session, plan, f"社团·{label}")
             for label, (plan, _) in WEAKNESSES.items()}
    cards = compute(session, [TERM], as_of=AS_OF)
    assert len(cards) == len(WEAKNESSES)
    for label, (_, changes) in WEAKNESSES.items():
        card = cards[(clubs[label].id, TERM)]
        scores = {i.key: i.score for d in card.dimensions.values() for i in d.indicators}
        want = {key: 100.0 for key in INDICATORS} | changes
        assert scores == want, label
        overall, dims = expected(changes)
        assert card.scores() == dims, label
        assert card.overall == overall, label
        assert {i.key for i in card.weak} == {k for k, v in changes.items() if v < 60}, label
    perfect = cards[(clubs["perfect"].id, TERM)]
    assert perfect.overall == 100.0 and not perfect.weak


def test_raw_figures_explain_each_score(make, session):
    club = build(make, session, Plan(approved_late=1, rejected=1, unplanned=1), "看得见的社团")
    card = compute(session, [TERM], as_of=AS_OF)[(club.id, TERM)]
    items = {i.key: i for d in card.dimensions.values() for i in d.indicators}
    approved = items["approved_before_start"]
    assert approved.value == 0.75 and approved.score == 75.0
    # In the reader's language (Chinese by default), and in each language on its own.
    assert approved.detail == approved.detail_zh == "4 项中 3 项在开始前获批"
    assert approved.detail_en == "3 of 4 activities approved before start"
    assert approved.figures == {"count": 3, "of": 4}
    assert approved.label == approved.label_zh == "先审批后开展"
    assert approved.label_en == "Approved before the start"
    assert items["rejected_share"].detail_en == "1 of 17 records rejected or revoked"
    assert items["plans"].detail_zh == "4 项中 3 项活动写明了目标和预算"
    hours = items["hours_per_member"]
    assert hours.value == 12.0 and hours.figures == {"certified_hours": 48.0, "active_members": 4}
    assert items["signoff_days"].value == 2.0
    assert items["awards"].figures == {"awards": 2, "points": 8 + 3}
    # English counts its plurals; Chinese has none.
    assert (items["advisors"].detail_en, items["advisors"].detail_zh) == ("1 advisor", "1 位指导老师")
    assert items["awards"].detail_en == "2 awards, 11 weighted points"
    assert items["awards"].detail_zh == "2 个奖项，加权 11 分"
    # A weak indicator carries a hint; a strong one none.
    club2 = build(make, session, Plan(approved_late=3), "要改进的社团")
    card2 = compute(session, [TERM], as_of=AS_OF)[(club2.id, TERM)]
    weak = card2.weak
    assert [i.key for i in weak] == ["approved_before_start"]
    assert weak[0].score == 25.0 and "批准" in weak[0].hint and "approves" in weak[0].hint_en
    assert items["plans"].hint is None


# --------------------------------------------------------------------------- no data


def test_a_club_without_activity_in_the_term_has_no_data(make, session):
    club = build(make, session, Plan(), "只在春季活动的社团")
    idle = make.club(advisors=[make.organizer()], leaders=[make.leader()], name="新成立的社团")
    make.activity(idle, status="cancelled", starts_at=STARTS[0], partners=[])  # cancelled: none
    cards = compute(session, [TERM, OTHER_TERM], as_of=AS_OF)
    for key in ((club.id, OTHER_TERM), (idle.id, TERM), (idle.id, OTHER_TERM)):
        card = cards[key]
        assert card.no_data and card.overall is None
        assert all(d.score is None for d in card.dimensions.values())
        assert all(i.score is None for d in card.dimensions.values() for i in d.indicators)
        assert card.weak == []
    # …while the figures that exist are still shown: one advisor, one leader.
    advisors = cards[(idle.id, TERM)].dimensions["organized"].indicators[0]
    assert advisors.key == "advisors" and advisors.value == 1 and advisors.score is None
    assert cards[(club.id, TERM)].overall == 100.0
    ranking = scorecard.rank([cards[(club.id, TERM)], cards[(idle.id, TERM)]])
    assert [(r, c.club.id) for r, c in ranking] == [(1, club.id), (None, idle.id)]


def test_a_dimension_without_data_is_null_not_zero(make, session):
    """A term in progress: one approved activity that has not started yet."""
    advisor, leader = make.organizer(), make.leader()
    club = make.club(advisors=[advisor], leaders=[leader], name="刚起步的社团")
    club.charter = "章程"
    session.commit()
    start = AS_OF + timedelta(days=10)
    make.activity(club, status="approved", starts_at=start, objectives="目标", budget=100,
                  approved_at=AS_OF - timedelta(days=1), partners=[], level="club")
    card = compute(session, [TERM], as_of=AS_OF)[(club.id, TERM)]
    assert card.dimensions["results"].score is None
    items = {i.key: i for d in card.dimensions.values() for i in d.indicators}
    for key in ("outcome_share", "approved_before_start", "attendance", "signoff_days",
                "rejected_share", "hours_per_member", "awards", "outcome_reports",
                "volunteer_hours"):
        assert items[key].score is None, key
    # organized: advisor, leader, charter yes; no roster, no election → 3 of 5 indicators
    organized = mean([100.0, 100.0, 100.0, 0.0, 0.0])
    projects = 100.0                      # planned; nothing completed yet (no data)
    standardized = None                   # nothing started, ended or recorded yet
    socialized = mean([0.0, 0.0])         # no partner, club level; volunteering: no data
    assert card.scores() == {"organized": organized, "projects": projects,
                             "standardized": standardized, "results": None,
                             "socialized": socialized}
    assert card.overall == mean([organized, projects, socialized])


def test_signoff_still_waiting_counts_until_today(make, session):
    """Records nobody has signed off: the delay runs until ``as_of``."""
    w = make.world()
    w.activity.starts_at = datetime(2026, 5, 1, 2, tzinfo=UTC)
    w.activity.ends_at = w.activity.starts_at + timedelta(hours=3)
    w.activity.term = TERM
    session.commit()
    make.participation(w.activity, w.students[0])  # recorded, never certified
    as_of = w.activity.ends_at + timedelta(days=18.5)
    card = compute(session, [TERM], as_of=as_of)[(w.club.id, TERM)]
    signoff = next(i for i in card.dimensions["standardized"].indicators if i.key == "signoff_days")
    assert signoff.value == 18.5 and signoff.score == 50.0


def test_score_facts_is_pure():
    """The rules without a database: facts in, scores out."""
    facts = scorecard.Facts(advisors=1, leaders=1, charter=True, roster=10, active_roster=8,
                            elections=1, activities=4, planned=4, completed=4,
                            completed_with_outcome=4, started=4, approved_before_start=4,
                            ended=4, ended_with_records=4, partnered=2, reaching=2, records=20,
                            certified_hours=80.0, volunteer_hours=40.0, awards=2,
                            award_points=10, active=10, signoff_days=[1.0, 30.0, 7.0])
    overall, dims = score_facts(facts)
    assert overall == 100.0 and all(d.score == 100.0 for d in dims.values())
    overall, dims = score_facts(scorecard.Facts())
    assert overall is None and all(d.score is None for d in dims.values())


counts = st.integers(min_value=0, max_value=40)
hours = st.floats(min_value=0, max_value=500, allow_nan=False).map(lambda h: round(h, 1))
any_facts = st.builds(
    scorecard.Facts, **{name: counts for name in (
        "advisors", "leaders", "roster", "active_roster", "elections", "activities", "planned",
        "completed", "completed_with_outcome", "started", "approved_before_start", "ended",
        "ended_with_records", "partnered", "reaching", "records", "rejected", "awards",
        "award_points", "active")},
    charter=st.booleans(), certified_hours=hours, volunteer_hours=hours,
    signoff_days=st.lists(st.floats(min_value=0, max_value=200, allow_nan=False), max_size=9),
)


@settings(max_examples=300, deadline=None)
@given(any_facts)
def test_the_ranking_scores_a_club_as_its_own_page_does(facts):
    """The ranking's scores (without the indicators' figures in words) are the indicators'."""
    overall, dims = score_facts(facts)
    assert scorecard.score_only(facts) == (overall, {key: d.score for key, d in dims.items()})
    card = scorecard.Scorecard(None, TERM, facts)
    assert (card.overall, card.scores()) == scorecard.score_only(facts)
    assert card.dimensions == dims
    # A zero prints as 0, never -0 (a ramp falling to zero, like the sign-off days', gives -0.0).
    scores = [i.score for d in dims.values() for i in d.indicators] + [d.score for d in dims.values()]
    assert all(f"{s:g}" != "-0" for s in scores if s is not None)


# --------------------------------------------------------------------------- terms


def test_terms_are_checked(session):
    assert scorecard.parse_term("2026-2027-1") == "2026-2027-1"
    for bad in ("2026-2028-1", "2026-2027-3", "2026", "秋季"):
        with pytest.raises(scorecard.Invalid) as caught:
            scorecard.parse_term(bad)
        assert "term" in caught.value.fields
    assert scorecard.previous_term("2026-2027-1") == "2025-2026-2"
    assert scorecard.previous_term("2025-2026-2") == "2025-2026-1"


# --------------------------------------------------------------------------- bounded queries


class Statements:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args, **kwargs):
        self.count += 1


def _small_club(make, session, n: int):
    advisor, leader = make.organizer(), make.leader()
    club = make.club(advisors=[advisor], leaders=[leader], name=f"小社团{n}")
    for start in STARTS[:2]:
        activity = make.activity(club, status="completed", starts_at=start, partners=[],
                                 approved_at=start - timedelta(days=2))
        make.participation(activity, make.student(), status="certified")
    session.add(Membership(club_id=club.id, user_id=leader.id, term=TERM, role="会长",
                           elected_on=date(2026, 3, 1)))
    session.commit()


def test_the_overview_issues_the_same_few_statements_for_any_number_of_clubs(make, session):
    admin = make.admin()
    counts, made = {}, 0
    for total in (3, 12):
        while made < total:
            _small_club(make, session, made)
            made += 1
        assert admin.role == "admin"  # the signed-in user is loaded before the page's work
        with Statements(db.engine) as statements:
            result = scorecard.overview(session, admin, TERM, as_of=AS_OF)
        assert result.total == total
        assert all(row.card.overall is not None for row in result.rows)
        with Statements(db.engine) as both_terms:  # the page: with the term before
            scorecard.overview(session, admin, TERM, as_of=AS_OF, compare=True)
        counts[total] = (statements.count, both_terms.count)
    assert counts[3] == counts[12] == (scorecard.QUERIES_PER_COMPUTE,) * 2
    with Statements(db.engine) as statements:
        scorecard.compute(session, [TERM, OTHER_TERM, "2026-2027-1"], as_of=AS_OF)
    assert statements.count == scorecard.QUERIES_PER_COMPUTE


# --------------------------------------------------------------------------- the demo school


def test_the_demo_school_has_visibly_different_scorecards(tmp_path):
    """The demo's clubs differ the way its HABITS say.  On SQLite only: the demo takes
    seconds to build, and the rules are checked on both databases above."""
    from tests.conftest import make_test_app

    app = make_test_app("sqlite", tmp_path)
    with app.app_context():
        _check_demo(db.session)
        db.session.remove()
        db.engine.dispose()


def _check_demo(session):
    from app.services.demo import load_demo

    load_demo(session)
    terms = sorted(scorecard.known_terms(session))
    current, previous = terms[-1], terms[-2]
    past = scorecard.overview(session, None, previous)
    overall = [row.card.overall for row in past.rows if row.card.overall is not None]
    assert len(overall) == 9 and len(set(overall)) >= 8
    assert max(overall) - min(overall) >= 20
    for key in DIMENSION_KEYS:
        values = [row.card.dimensions[key].score for row in past.rows if not row.card.no_data]
        assert max(values) - min(values) >= 15, key
    cards = {row.card.club.name: row.card for row in past.rows}
    weak = {name: {i.key for i in card.weak} for name, card in cards.items()}
    assert "signoff_days" in weak["开源软件协会"]          # its advisor signs off late
    assert "outcome_share" in weak["篮球协会"]             # it writes no outcome reports
    assert "election" in weak["创业俱乐部"]                 # no election on its roster
    assert cards["摄影协会"].no_data                        # founded, nothing done yet
    now = scorecard.overview(session, None, current)
    assert next(r for r in now.rows if r.card.club.name == "摄影协会").card.no_data
