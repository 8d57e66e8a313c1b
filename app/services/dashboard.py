"""The school dashboard (#15, the office's view): participation rate per college and module in a
term, the distribution of students' certified hours, the trend over recent terms and the share of
each cohort that meets its credit rules. The page draws them (dashboard_charts); the API answers
the same figures as JSON.

What counts is what is certified: a record of an activity (in its activity's term) or a certified
achievement claim (in the term its date falls in), the same sources as a student's progress. Every
figure is one grouped statement over the students' per-term tallies (#17: `services.tallies`, a
row per student and term and per student, term and module), whatever the number of students; with
`from_records` over the records and claims themselves, the reference the tallies are tested
against. The attainment is the requirements report's own arithmetic
(`requirements.attainment_by_cohort`).

A student's college is their unit (`User.unit_id`, as an organizer's college scope reads it). Rates
and the distribution are of the students whose accounts are active now; the trend counts every
certified record of the term, graduated students' too, because that is what the term produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import Integer, String, Subquery, case, cast, distinct, extract, func, literal, select, union_all
from sqlalchemy.orm import Session

from app import permissions
from app.models import (
    Activity,
    Claim,
    ClaimStatus,
    Participation,
    ParticipationStatus,
    StudentModuleTally,
    StudentStanding,
    StudentTermTally,
    Unit,
    User,
)
from app.models.people import STUDENT_ROLES
from app.services import tallies
from app.services.errors import Forbidden
from app.services.modules import ModuleInfo, module_list
from app.services.requirements import attainment_by_cohort
from app.services.scorecard import known_terms, parse_term, previous_term

TREND_TERMS = 6  # the trend shows the chosen term and the five before it (three academic years)
BIN_EDGES = (8, 16, 24, 32, 40)  # hours; a bin holds low <= hours < high, and 0 h is a bin of its own
HEAT_LEVELS = (0, 20, 40, 60, 80)  # a rate above each of these is one shade darker
ZERO = Decimal("0.0")


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class CollegeParticipation:
    """One college's row of the heat map: its active students and, per module, how many of them
    have at least one certified record or claim of that module in the term."""

    unit_id: int
    name: str
    students: int
    participants: dict[str, int]  # every module of the office's list, in its order

    def rate(self, key: str) -> float:
        return _percent(self.participants.get(key, 0), self.students) or 0.0

    def level(self, key: str) -> int:
        """The cell's shade, 0 (nobody) to 5 (above 80 %)."""
        rate = self.rate(key)
        return sum(1 for floor in HEAT_LEVELS if rate > floor)


@dataclass(frozen=True)
class HoursBin:
    low: int
    high: int | None  # None: no upper bound; low == high == 0: exactly no hours
    students: int
    share: float | None  # percent of the active students

    @property
    def label(self) -> str:
        if self.high is None:
            return f"{self.low}+"
        if self.high == 0:
            return "0"
        return f"{self.low}\u2013{self.high}"


@dataclass(frozen=True)
class TermFigures:
    term: str
    hours: Decimal  # certified hours of the term's records and claims
    students: int  # distinct students with at least one of them


@dataclass(frozen=True)
class CohortAttainment:
    cohort: int
    students: int
    met: int

    @property
    def rate(self) -> float | None:
        return _percent(self.met, self.students)


@dataclass
class Dashboard:
    term: str
    terms: list[str]  # the trend's terms, oldest first, ending with `term`
    term_choices: list[str]  # the terms the page offers, newest first
    modules: list[ModuleInfo]
    students: int  # active students in the whole school
    colleges: list[CollegeParticipation]
    hours_bins: list[HoursBin]
    trend: list[TermFigures]
    cohorts: list[CohortAttainment]

    @property
    def this_term(self) -> TermFigures:
        return self.trend[-1]


def _claim_term():
    """A claim's term from its date, in SQL, as timeutil.term_of names it: autumn from September
    (…-1, with January), spring from February (…-2). The casts make it text on both databases."""
    year = cast(extract("year", Claim.occurred_on), Integer)
    month = cast(extract("month", Claim.occurred_on), Integer)
    start = case((month >= 9, year), else_=year - 1)
    half = case((month >= 9, literal("1")), (month == 1, literal("1")), else_=literal("2"))
    return (cast(start, String) + literal("-") + cast(start + 1, String) + literal("-") + half)


def certified_entries() -> Subquery:
    """Every certified record and certified claim as (student_id, module, term, hours)."""
    records = (select(Participation.student_id.label("student_id"), Activity.module.label("module"),
                      Activity.term.label("term"), Participation.hours.label("hours"))
               .join(Activity, Activity.id == Participation.activity_id)
               .where(Participation.status == ParticipationStatus.CERTIFIED))
    claims = (select(Claim.student_id, Claim.module, _claim_term(), Claim.hours)
              .where(Claim.status == ClaimStatus.CERTIFIED))
    return union_all(records, claims).subquery("certified")


def _active_students():
    return (User.active.is_(True)) & User.role.in_(STUDENT_ROLES)


def recent_terms(term: str, count: int = TREND_TERMS) -> list[str]:
    """`count` terms ending with `term`, oldest first."""
    terms = [term]
    while len(terms) < count:
        terms.append(previous_term(terms[-1]))
    return terms[::-1]


def college_participation(session: Session, term: str, modules: list[ModuleInfo], *,
                          from_records: bool = False) -> list[CollegeParticipation]:
    """Two grouped statements: each college's active students, and its participants per module
    (a student's module tally of the term; `from_records`: the records and claims themselves)."""
    colleges = session.execute(
        select(Unit.id, Unit.name, func.count(User.id)).join(User, User.unit_id == Unit.id)
        .where(_active_students()).group_by(Unit.id, Unit.name).order_by(Unit.name, Unit.id)).all()
    if from_records:
        entries = certified_entries()
        participants = (select(User.unit_id, entries.c.module, func.count(distinct(entries.c.student_id)))
                        .join(User, User.id == entries.c.student_id).where(entries.c.term == term)
                        .group_by(User.unit_id, entries.c.module))
    else:
        tallies.settle(session)
        # One row per student, term and module, and only where there are hours: a count is of
        # distinct participants, read from the (term, module, student) index alone.
        t = StudentModuleTally
        participants = (select(User.unit_id, t.module, func.count()).join(User, User.id == t.student_id)
                        .where(t.term == term).group_by(User.unit_id, t.module))
    counts: dict[tuple[int, str], int] = {
        (unit_id, module): n for unit_id, module, n in session.execute(
            participants.where(_active_students(), User.unit_id.is_not(None)))}
    return [CollegeParticipation(unit_id, name, students, {m.key: counts.get((unit_id, m.key), 0) for m in modules})
            for unit_id, name, students in colleges]


def hours_distribution(session: Session, *, from_records: bool = False) -> tuple[int, list[HoursBin]]:
    """(active students, the bins): each active student's certified total falls in exactly one bin."""
    if from_records:
        entries = certified_entries()
        totals = (select(entries.c.student_id, func.sum(entries.c.hours).label("total"))
                  .group_by(entries.c.student_id).subquery("totals"))
    else:
        # A student's total is kept with their standing. While some active student has none yet
        # (after the migration, before a rebuild) every total is summed from the terms' tallies.
        # (A per-row fallback would be a correlated subquery whose estimate sets off PostgreSQL's
        # JIT: 270 ms of compiling for a subquery never run.)
        tallies.settle(session)
        standing = select(StudentStanding.student_id).where(StudentStanding.student_id == User.id)
        missing = session.execute(select(User.id).where(_active_students(), ~standing.exists()).limit(1)).first()
        if missing is None:
            totals = select(StudentStanding.student_id, StudentStanding.hours.label("total")).subquery("totals")
        else:
            totals = (select(StudentTermTally.student_id, func.sum(StudentTermTally.hours).label("total"))
                      .group_by(StudentTermTally.student_id).subquery("totals"))
    total = func.coalesce(totals.c.total, 0)
    bin_of = case((total <= 0, 0), *((total < edge, i + 1) for i, edge in enumerate(BIN_EDGES)),
                  else_=len(BIN_EDGES) + 1)
    # The bin is computed in a subquery and grouped outside it: PostgreSQL would not take a CASE
    # with bound values in both the select list and GROUP BY as the same expression.
    per_student = (select(bin_of.label("bin")).select_from(User)
                   .outerjoin(totals, totals.c.student_id == User.id).where(_active_students())
                   .subquery("per_student"))
    counts = dict(session.execute(
        select(per_student.c.bin, func.count()).group_by(per_student.c.bin)).all())
    students = sum(counts.values())
    bounds = [(0, 0), (0, BIN_EDGES[0]), *zip(BIN_EDGES, BIN_EDGES[1:], strict=False), (BIN_EDGES[-1], None)]
    bins = [HoursBin(low, high, counts.get(i, 0), _percent(counts.get(i, 0), students))
            for i, (low, high) in enumerate(bounds)]
    return students, bins


def term_trend(session: Session, terms: list[str], *, from_records: bool = False) -> list[TermFigures]:
    if from_records:
        entries = certified_entries()
        query = (select(entries.c.term, func.sum(entries.c.hours), func.count(distinct(entries.c.student_id)))
                 .where(entries.c.term.in_(terms)).group_by(entries.c.term))
    else:
        tallies.settle(session)
        t = StudentTermTally
        query = (select(t.term, func.sum(t.hours), func.count()).where(t.term.in_(terms), t.hours > 0)
                 .group_by(t.term))
    found = {term: (Decimal(hours), n) for term, hours, n in session.execute(query)}
    return [TermFigures(t, *found.get(t, (ZERO, 0))) for t in terms]


def school_dashboard(session: Session, actor: User | None, term: str | None = None) -> Dashboard:
    """The dashboard for a term (default: the current one); the office's alone."""
    if not permissions.can_view_dashboard(actor):
        raise Forbidden(_("Only the office sees the school dashboard"))
    term = parse_term(term)
    modules = module_list(session)
    terms = recent_terms(term)
    students, bins = hours_distribution(session)
    choices = known_terms(session)
    if term not in choices:
        choices = sorted([*choices, term], reverse=True)
    return Dashboard(
        term=term, terms=terms, term_choices=choices, modules=modules, students=students,
        colleges=college_participation(session, term, modules), hours_bins=bins,
        trend=term_trend(session, terms),
        cohorts=[CohortAttainment(*row) for row in attainment_by_cohort(session)],
    )
