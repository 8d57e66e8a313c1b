"""The five-izations (五化) scorecard: each club's standing per term, measured from its records.

PRODUCT.md ("The five-izations"): 组织化 organized, 项目化 activities as projects,
规范化 standardized, 成果化 results, 社会化 socialized.  Nothing here is typed in by hand:
every figure is counted from clubs, rosters, activities and participation records.

How a score is made
-------------------
* The term's activities of a club are those that start in the term (``Activity.term``)
  and were not cancelled; drafts count (a plan is an activity in the making).
* Each indicator maps a raw figure to 0–100 with a straight line between two named
  thresholds (``scoring._ramp``), or is all-or-nothing (an advisor is assigned or not).
* An indicator whose figure has no basis yet (no activity has ended, nothing to sign
  off) is ``None`` — "no data", never zero.  A dimension is the mean of its indicators
  that have data, the overall score the mean of the dimensions that have data.
* A club with no activity in the term has no data at all: every score is ``None``.
* "Started" and "ended" are judged at ``as_of`` (default: now), so a term in progress
  is scored on what has happened so far.

Queries
-------
Every figure is aggregated in SQL, for any number of clubs and terms at once: four
statements for the whole school (``QUERIES_PER_COMPUTE``), whatever the number of clubs.
Clubs and activities are grouped by (club, term). The participation records are not read:
each activity's tally (#17, ``services.tallies``: its records summed, kept as they change)
is added up per club here, and its sign-off delay (computed in SQL from the tally's first
sign-off and the viewing moment) feeds the median, taken in Python because SQLite has no
median aggregate. Active members and the roster come from the club-term tallies.
``from_records=True`` sums the raw records instead (``from_records``), the reference the
tallies are tested against.

The package: ``indicators`` holds the thresholds and the vocabulary (data only),
``scoring`` the rules that turn figures into scores, ``facts`` the SQL that gathers the
figures, and this module the services and pages.
Permissions live in ``app.permissions``: the admin sees every club; an organizer the clubs
they advise or whose college they oversee (院团委); a leader the clubs they lead; students none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property

from flask_babel import gettext as _
from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session

from app import permissions
from app.models import (
    LEADER_IN_POST,
    Activity,
    ActivityStatus,
    ActivityTally,
    Club,
    Participation,
    ParticipationStatus,
    Role,
    Term,
    Unit,
    User,
    club_leader,
)
from app.services import tallies
from app.services.clubs import get_club
from app.services.errors import Forbidden, Invalid
from app.services.modules import module_list
from app.services.scope import overseen_club_ids
from app.services.scorecard.facts import QUERIES_PER_COMPUTE, club_conditions, compute
from app.services.scorecard.indicators import (
    DIMENSION_KEYS,
    DIMENSION_LABELS,
    DIMENSIONS,
    INDICATORS,
    WEAK_SCORE,
)
from app.services.scorecard.scoring import Dimension, Facts, Indicator, Scorecard, score_facts, score_only
from app.timeutil import term_bounds, term_of, to_local, utcnow

TERM_PATTERN = re.compile(r"^(\d{4})-(\d{4})-([12])$")

__all__ = [  # what the pages, the API, the exports and the tests use from outside
    "DIMENSIONS", "DIMENSION_KEYS", "DIMENSION_LABELS", "INDICATORS", "QUERIES_PER_COMPUTE",
    "WEAK_SCORE", "Dimension", "Facts", "Indicator", "Invalid", "Scorecard", "compute", "score_facts", "score_only",
    "club_scorecard", "club_trend", "overview", "my_overview", "overview_page", "club_scorecard_page",
    "module_hours_by_unit", "known_terms", "parse_term", "previous_term", "term_in_progress", "rank",
    "HeatTable", "Overview", "filter_choices",
]


# =========================================================================== terms


def parse_term(value: str | None, field_name: str = "term") -> str:
    """A term code ``YYYY-YYYY-N`` (N 1 autumn, 2 spring); empty means the current term."""
    if value is None or not str(value).strip():
        return term_of(utcnow())
    value = str(value).strip()
    match = TERM_PATTERN.match(value)
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise Invalid({field_name: [_("A term is written YYYY-YYYY-N, e.g. 2026-2027-1")]})
    return value


def term_in_progress(term: str, today: date | datetime | None = None) -> bool:
    """Whether the term has not ended yet (its scores are "so far")."""
    if today is None:
        today = utcnow()
    if isinstance(today, datetime):
        today = (to_local(today) or today).date()
    return today <= term_bounds(term)[1]


def previous_term(term: str) -> str:
    first, second, half = term.split("-")
    if half == "2":
        return f"{first}-{second}-1"
    return f"{int(first) - 1}-{first}-2"


def known_terms(session: Session, club_id: int | None = None) -> list[str]:
    """Terms with a Term row or an activity (of the club, if given), newest first."""
    query = select(Activity.term).distinct()
    if club_id is not None:
        query = query.where(Activity.club_id == club_id)
    terms = set(session.execute(query).scalars())
    terms |= set(session.execute(select(Term.code)).scalars())
    terms.add(term_of(utcnow()))
    return sorted((t for t in terms if TERM_PATTERN.match(t)), reverse=True)


# =========================================================================== permissions


def _visible_club_ids(session: Session, actor: User | None) -> list[int] | None:
    """None for every club (admin); else the clubs the actor advises, oversees (院团委) or leads."""
    if permissions.is_admin(actor):
        return None
    if actor.role == Role.ORGANIZER:
        query = overseen_club_ids(actor)
    elif actor.role == Role.LEADER:
        query = select(club_leader.c.club_id).where(club_leader.c.user_id == actor.id, LEADER_IN_POST)
    else:
        raise Forbidden(_("Students do not see club scorecards"))
    return list(session.execute(query).scalars())


# =========================================================================== services


def club_scorecard(
    session: Session, actor: User | None, club_id: int, term: str | None = None,
    *, as_of: datetime | None = None,
) -> Scorecard:
    club = get_club(session, club_id)
    if not permissions.can_view_scorecard(actor, club):
        raise Forbidden(_("Only the admin, the club's advisors and its leaders see its scorecard"))
    term = parse_term(term)
    return compute(session, [term], club_ids=[club.id], as_of=as_of)[(club.id, term)]


def club_trend(
    session: Session, actor: User | None, club_id: int, terms: list[str] | None = None,
    *, as_of: datetime | None = None,
) -> list[Scorecard]:
    """The club's scorecard in every known term, oldest first."""
    club = get_club(session, club_id)
    if not permissions.can_view_scorecard(actor, club):
        raise Forbidden(_("Only the admin, the club's advisors and its leaders see its scorecard"))
    terms = sorted(terms or known_terms(session, club.id))
    cards = compute(session, terms, club_ids=[club.id], as_of=as_of)
    return [cards[(club.id, t)] for t in terms]


@dataclass
class RankedRow:
    rank: int | None
    card: Scorecard
    previous: Scorecard | None = None

    @property
    def change(self) -> float | None:
        if self.previous is None or self.previous.overall is None or self.card.overall is None:
            return None
        return round(self.card.overall - self.previous.overall, 1)


@dataclass
class Overview:
    term: str
    previous_term: str
    unit_id: int | None
    category: str | None
    rows: list[RankedRow]
    in_progress: bool = False

    @property
    def total(self) -> int:
        return len(self.rows)


def rank(cards: list[Scorecard]) -> list[tuple[int | None, Scorecard]]:
    """Best overall first; equal scores share a rank; no data last and unranked."""
    ordered = sorted(cards, key=lambda c: (c.overall is None, -(c.overall or 0), c.club.name))
    out, position, last, last_rank = [], 0, None, None
    for card in ordered:
        if card.overall is None:
            out.append((None, card))
            continue
        position += 1
        if card.overall != last:
            last, last_rank = card.overall, position
        out.append((last_rank, card))
    return out


def _overview(session, club_ids, term, unit_id, category, as_of, compare) -> Overview:
    before = previous_term(term)
    cards = compute(session, [term, before] if compare else [term], club_ids=club_ids,
                    unit_id=unit_id, category=category, as_of=as_of)
    now = [c for (_, t), c in cards.items() if t == term]
    rows = [RankedRow(r, c, cards.get((c.club.id, before))) for r, c in rank(now)]
    return Overview(term, before, unit_id, category, rows, term_in_progress(term, as_of))


def _check_unit(session: Session, unit_id: int | None) -> None:
    if unit_id is not None and session.get(Unit, unit_id) is None:
        raise Invalid({"unit": [_("No unit #%(id)s", id=unit_id)]})


def overview(
    session: Session, actor: User | None, term: str | None = None, *,
    unit_id: int | None = None, category: str | None = None, as_of: datetime | None = None,
    compare: bool = False,
) -> Overview:
    """Every club's scorecard in the term, ranked; with ``compare`` also the term before
    (for the change), which doubles the work.

    The admin's view of the whole school (API ``GET /scorecards``).
    """
    if not permissions.can_view_overview(actor):
        raise Forbidden(_("Only the admin sees the school's ranking"))
    term = parse_term(term)
    _check_unit(session, unit_id)
    return _overview(session, None, term, unit_id, category or None, as_of, compare)


def my_overview(
    session: Session, actor: User | None, term: str | None = None, *,
    unit_id: int | None = None, category: str | None = None, as_of: datetime | None = None,
    compare: bool = True,
) -> Overview:
    """The ranking as the actor may see it (all clubs for the admin, else their own clubs),
    by default with the term before for the change."""
    club_ids = _visible_club_ids(session, actor)
    term = parse_term(term)
    _check_unit(session, unit_id)
    return _overview(session, club_ids, term, unit_id, category or None, as_of, compare)


@dataclass
class HeatTable:
    """Certified hours per module (columns) per unit of the club (rows) in a term."""

    term: str
    units: list[tuple[int, str]]
    modules: list[tuple[str, str, str]]
    cells: dict[tuple[int, str], float]

    @cached_property
    def peak(self) -> float:  # read for every cell's colour: worked out once
        return max(self.cells.values(), default=0.0)

    def value(self, unit_id: int, module: str) -> float:
        return self.cells.get((unit_id, module), 0.0)

    def unit_total(self, unit_id: int) -> float:
        return round(sum(v for (u, _), v in self.cells.items() if u == unit_id), 1)

    def module_total(self, module: str) -> float:
        return round(sum(v for (_, m), v in self.cells.items() if m == module), 1)

    def level(self, value: float, steps: int = 5) -> int:
        """0 for none, else 1..steps by share of the peak (for the heat colours)."""
        if value <= 0 or self.peak <= 0:
            return 0
        return max(1, min(steps, int(-(-value * steps // self.peak))))


def module_hours_by_unit(
    session: Session, actor: User | None, term: str | None = None, *,
    unit_id: int | None = None, category: str | None = None, from_records: bool = False,
) -> HeatTable:
    """One statement: certified hours grouped by the club's unit and the module, summed from
    the activities' tallies (``from_records``: from the records themselves, the reference)."""
    club_ids = _visible_club_ids(session, actor)
    term = parse_term(term)
    _check_unit(session, unit_id)
    conds = [Activity.term == term, Activity.status != ActivityStatus.CANCELLED,
             *club_conditions(club_ids, unit_id, category or None)]
    if from_records:
        hours = func.sum(Participation.hours)
        source = (select(Unit.id, Unit.name, Activity.module, hours).select_from(Participation)
                  .join(Activity, Activity.id == Participation.activity_id)
                  .where(Participation.status == ParticipationStatus.CERTIFIED))
    else:
        tallies.settle(session)
        source = (select(Unit.id, Unit.name, Activity.module, func.sum(ActivityTally.certified_hours))
                  .select_from(ActivityTally).join(Activity, Activity.id == ActivityTally.activity_id)
                  .where(ActivityTally.certified_hours > 0))
    query = (
        source
        .join(Club, Club.id == Activity.club_id)
        .join(Unit, Unit.id == Club.unit_id)
        .where(*conds)
        .group_by(Unit.id, Unit.name, Activity.module)
    )
    units: dict[int, str] = {}
    cells: dict[tuple[int, str], float] = {}
    for uid, uname, module, hours in session.execute(query):
        units[uid] = uname
        cells[(uid, module)] = round(float(hours or Decimal(0)), 1)
    modules = [(m.key, *m.pair) for m in module_list(session)]
    return HeatTable(term, sorted(units.items(), key=lambda u: u[1]), modules, cells)


def filter_choices(session: Session, actor: User | None) -> dict:
    """Units and categories for the overview's filters (of the clubs the actor sees)."""
    club_ids = _visible_club_ids(session, actor)
    query = select(Unit.id, Unit.name, Club.category).join(Club, Club.unit_id == Unit.id)
    if club_ids is not None:
        query = query.where(Club.id.in_(club_ids))
    rows = session.execute(query).all()
    return {
        "units": sorted({(uid, name) for uid, name, _ in rows}, key=lambda u: u[1]),
        "categories": sorted({cat for _, _, cat in rows}),
        "terms": known_terms(session),
    }


# =========================================================================== pages


@dataclass
class OverviewPage:
    overview: Overview
    heat: HeatTable
    units: list[tuple[int, str]]
    categories: list[str]
    terms: list[str]
    whole_school: bool


def overview_page(
    session: Session, actor: User | None, term: str | None = None, *,
    unit_id: int | None = None, category: str | None = None, as_of: datetime | None = None,
) -> OverviewPage:
    """The overview page: the ranking (the admin's: every club; an organizer's or a
    leader's: their own clubs), the module-hours heat table and the filter choices."""
    ranking = my_overview(session, actor, term, unit_id=unit_id, category=category, as_of=as_of)
    heat = module_hours_by_unit(session, actor, ranking.term, unit_id=unit_id, category=category)
    choices = filter_choices(session, actor)
    return OverviewPage(ranking, heat, choices["units"], choices["categories"], choices["terms"],
                        permissions.is_admin(actor))


@dataclass
class ClubPage:
    card: Scorecard
    trend: list[Scorecard]
    terms: list[str]
    in_progress: bool = False


def club_scorecard_page(
    session: Session, actor: User | None, club_id: int, term: str | None = None, *,
    as_of: datetime | None = None,
) -> ClubPage:
    """One club's scorecard in a term with its trend across every known term."""
    term = parse_term(term)
    club = get_club(session, club_id)
    if not permissions.can_view_scorecard(actor, club):
        raise Forbidden(_("Only the admin, the club's advisors and its leaders see its scorecard"))
    terms = sorted(set(known_terms(session, club.id)) | {term})
    cards = compute(session, terms, club_ids=[club.id], as_of=as_of)
    trend = [cards[(club.id, t)] for t in terms]
    return ClubPage(cards[(club.id, term)], trend, sorted(terms, reverse=True),
                    term_in_progress(term, as_of))
