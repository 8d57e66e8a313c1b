"""Gathering the ``Facts`` the indicators read: SQL aggregates for any number of clubs and terms."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    Float,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from app.models import (
    LEADER_IN_POST,
    Activity,
    ActivityStatus,
    ActivityTally,
    Club,
    ClubTermTally,
    Module,
    Unit,
    club_advisor,
    club_leader,
)
from app.models.types import UTCDateTime
from app.services import tallies
from app.services.scorecard.indicators import (
    AWARD_WEIGHTS,
    REACH_LEVELS,
    SCHOOL_MARKERS,
)
from app.services.scorecard.scoring import ClubInfo, Facts, Scorecard
from app.timeutil import utcnow

#: Statements one call of ``compute`` issues, however many clubs and terms it covers
#: (clubs, activities, the activities' tallies, the club-terms' tallies).
QUERIES_PER_COMPUTE = 4


# =========================================================================== queries


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _has_text(column):
    return and_(column.is_not(None), func.length(func.trim(column)) > 0)


def _json_text(column):
    return cast(column, String)


def _partner_like(marker: str):
    """Partners are JSON text: match the marker as written and as JSON escapes it (\\uXXXX)."""
    escaped = "".join(f"\\u{ord(ch):04x}" for ch in marker)
    text = _json_text(Activity.partners)
    return or_(text.like(f"%{marker}%", escape="/"), text.like(f"%{escaped}%", escape="/"))


def _activity_conditions(terms: list[str], club_ids: Select | list[int] | None):
    conds = [Activity.term.in_(terms), Activity.status != ActivityStatus.CANCELLED]
    if club_ids is not None:
        conds.append(Activity.club_id.in_(club_ids))
    return conds


def _club_rows(session: Session, club_ids, unit_id, category) -> list[ClubInfo]:
    advisors = (select(func.count()).select_from(club_advisor)
                .where(club_advisor.c.club_id == Club.id).scalar_subquery())
    leaders = (select(func.count()).select_from(club_leader)
               .where(club_leader.c.club_id == Club.id, LEADER_IN_POST).scalar_subquery())
    query = (
        select(Club.id, Club.name, Club.category, Club.unit_id, Unit.name,
               case((_has_text(Club.charter), 1), else_=0), advisors, leaders)
        .join(Unit, Unit.id == Club.unit_id)
        .where(*club_conditions(club_ids, unit_id, category))
        .order_by(Club.name)
    )
    return [ClubInfo(cid, name, cat, uid, uname, bool(charter), adv, lead)
            for cid, name, cat, uid, uname, charter, adv, lead in session.execute(query)]


def club_conditions(club_ids, unit_id, category) -> list:
    conds = []
    if club_ids is not None:
        conds.append(Club.id.in_(club_ids))
    if unit_id is not None:
        conds.append(Club.unit_id == unit_id)
    if category:
        conds.append(Club.category == category)
    return conds


def compute(
    session: Session,
    terms: Iterable[str],
    *,
    club_ids: list[int] | None = None,
    unit_id: int | None = None,
    category: str | None = None,
    as_of: datetime | None = None,
    from_records: bool = False,
) -> dict[tuple[int, str], Scorecard]:
    """Scorecards of the selected clubs (all by default) for each of ``terms``.

    No permission check: callers below do that.  Issues ``QUERIES_PER_COMPUTE``
    statements whatever the number of clubs and terms, reading the per-term tallies;
    ``from_records`` sums the raw records instead (``from_records``: the reference the
    tallies are tested against).
    """
    tallies.settle(session)  # this transaction's own changes first
    terms = sorted(set(terms))
    as_of = as_of or utcnow()
    clubs = _club_rows(session, club_ids, unit_id, category)
    facts: dict[tuple[int, str], Facts] = {}
    for club in clubs:
        for term in terms:
            facts[(club.id, term)] = Facts(
                advisors=club.advisors, leaders=club.leaders, charter=club.charter)
    if clubs and terms:
        # The same clubs the first query found, as a subquery (never a long IN list).
        conds = club_conditions(club_ids, unit_id, category)
        scope = select(Club.id).where(*conds) if conds else None
        _activity_facts(session, facts, terms, scope, as_of)
        if from_records:
            from app.services.scorecard import from_records as reference

            reference.record_facts(session, facts, terms, scope, as_of)
            reference.member_facts(session, facts, terms, scope)
            reference.roster_facts(session, facts, terms, scope)
        else:
            _tally_record_facts(session, facts, terms, scope, as_of)
            _tally_member_facts(session, facts, terms, scope)
    return {(club.id, term): Scorecard(club, term, facts[(club.id, term)]) for club in clubs for term in terms}


def _activity_facts(session, facts, terms, scope, as_of) -> None:
    started = Activity.starts_at <= as_of
    ended = Activity.ends_at <= as_of
    completed = Activity.status == ActivityStatus.COMPLETED
    partners = and_(Activity.partners.is_not(None),
                    _json_text(Activity.partners).not_in(["[]", "null"]))
    reach = or_(Activity.level.in_([lv.value for lv in REACH_LEVELS]),
                and_(partners, or_(*(_partner_like(m) for m in SCHOOL_MARKERS))))
    query = (
        select(
            Activity.club_id, Activity.term,
            func.count(Activity.id),
            _count_if(and_(_has_text(Activity.objectives), Activity.budget.is_not(None))),
            _count_if(completed),
            _count_if(and_(completed, _has_text(Activity.outcome))),
            _count_if(started),
            _count_if(and_(started, Activity.approved_at.is_not(None),
                           Activity.approved_at <= Activity.starts_at)),
            _count_if(ended),
            _count_if(partners),
            _count_if(reach),
        )
        .where(*_activity_conditions(terms, scope))
        .group_by(Activity.club_id, Activity.term)
    )
    for row in session.execute(query):
        f = facts.get((row[0], row[1]))
        if f is None:
            continue
        (f.activities, f.planned, f.completed, f.completed_with_outcome, f.started,
         f.approved_before_start, f.ended, f.partnered, f.reaching) = (int(v) for v in row[2:])


class _DaysBetween(FunctionElement):
    """``later - earlier`` in days (a float), in SQL: the datetimes never reach Python."""

    type = Float()
    inherit_cache = True


@compiles(_DaysBetween, "sqlite")
def _days_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({later}) - julianday({earlier}))"


@compiles(_DaysBetween)
def _days_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({later}) - ({earlier})) / 86400.0)"



def signoff_delay(first_signoff, as_of: datetime):
    """Days from the end to the first sign-off (certified or rejected), or to as_of while every
    record still waits; only for an activity that has ended (else NULL)."""
    moment = literal(as_of, UTCDateTime())
    return case((Activity.ends_at <= moment,
                 _DaysBetween(func.coalesce(first_signoff, moment), Activity.ends_at)))


def add_activity_sums(facts, rows) -> None:
    """Each activity's sums added to its club-term: what depends on the activity alone (its
    module for volunteering, its level for the award weight) is applied once per activity.
    A row: club, term, module, level, records, rejected, certified hours, volunteer-role
    hours, awards, days to the first sign-off (None: not ended)."""
    for (club_id, term, module, level, records, bad, certified_hours, volunteer_role,
         awards, days) in rows:
        f = facts.get((club_id, term))
        if f is None:
            continue
        f.records += records
        f.rejected += bad
        f.awards += awards
        f.award_points += awards * AWARD_WEIGHTS.get(level, 0)
        certified_hours = float(certified_hours or 0)
        f.certified_hours += certified_hours
        # Volunteering: every certified hour of a volunteering activity, else the hours of
        # records in the volunteer role.
        f.volunteer_hours += certified_hours if module == Module.VOLUNTEERING else \
            float(volunteer_role or 0)
        if days is not None:
            f.ended_with_records += 1
            f.signoff_days.append(max(0.0, float(days)))
    for f in facts.values():  # hours are tenths: sums of floats drift in the 12th digit
        f.certified_hours = round(f.certified_hours, 1)
        f.volunteer_hours = round(f.volunteer_hours, 1)


def _tally_record_facts(session, facts, terms, scope, as_of) -> None:
    """The records' figures from each activity's tally (a row per activity, not per record)."""
    t = ActivityTally
    # The hours as floats from the database: a Decimal made for each of the school's 5,000
    # activities only to be turned into a float (add_activity_sums) costs more than the query.
    query = (
        select(Activity.club_id, Activity.term, Activity.module, Activity.level, t.records, t.rejected,
               cast(t.certified_hours, Float), cast(t.volunteer_role_hours, Float), t.awards,
               signoff_delay(t.first_signoff_at, as_of))
        .join(t, t.activity_id == Activity.id)
        .where(*_activity_conditions(terms, scope), t.records > 0)
    )
    add_activity_sums(facts, session.execute(query))


def _tally_member_facts(session, facts, terms, scope) -> None:
    """Active members, those on the roster, the roster and its elections: the club-terms' tallies."""
    t = ClubTermTally
    query = select(t.club_id, t.term, t.active, t.active_roster, t.roster, t.elections).where(t.term.in_(terms))
    if scope is not None:
        query = query.where(t.club_id.in_(scope))
    for club_id, term, active, on_roster, roster, elections in session.execute(query):
        f = facts.get((club_id, term))
        if f is not None:
            f.active, f.active_roster, f.roster, f.elections = active, on_roster, roster, elections
