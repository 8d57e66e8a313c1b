"""The reference: the scorecard's record and roster figures summed from the raw rows, as every
view did before the per-term tallies (#17). Kept to test the tallies against (a property test
after random changes: tests/test_tallies.py) and for `compute(..., from_records=True)`."""

from __future__ import annotations

from sqlalchemy import Float, and_, case, func, or_, select, type_coerce

from app.models import Activity, Membership, Participation, ParticipationRole, ParticipationStatus
from app.services.scorecard.facts import _activity_conditions, _count_if, add_activity_sums, signoff_delay
from app.services.scorecard.indicators import BAD, LIVE
from app.timeutil import term_bounds


def record_facts(session, facts, terms, scope, as_of) -> None:
    """The participation records, summed per activity in SQL (one pass over the records)
    and the per-activity sums added up per club here: the sign-off median needs each
    activity's delay anyway, and what depends on the activity alone (its module for
    volunteering, its level for the award weight) is applied once per activity instead
    of once per record."""
    certified = Participation.status == ParticipationStatus.CERTIFIED
    # Services store an award stripped, or NULL when there is none.
    awarded = and_(certified, Participation.award.is_not(None), Participation.award != "")
    query = (
        select(
            Activity.club_id, Activity.term, Activity.module, Activity.level,
            func.count(Participation.id),
            func.count(case((Participation.status.in_([s.value for s in BAD]), 1))),
            type_coerce(func.sum(case((certified, Participation.hours))), Float()),
            type_coerce(func.sum(case((
                and_(certified, Participation.role == ParticipationRole.VOLUNTEER),
                Participation.hours))), Float()),
            func.count(case((awarded, 1))),
            signoff_delay(func.min(func.coalesce(Participation.certified_at, Participation.rejected_at)), as_of),
        )
        .join(Participation, Participation.activity_id == Activity.id)
        .where(*_activity_conditions(terms, scope))
        # by the primary key: the activity's other columns depend on it (functional
        # dependency, accepted by PostgreSQL and SQLite); no sort of the records needed
        .group_by(Activity.id)
    )
    add_activity_sums(facts, session.execute(query))


def member_facts(session, facts, terms, scope) -> None:
    """Active members (took part in an activity: a live record) and, of them, those on the
    term's roster: the distinct (club, term, student) of live records, joined to the roster."""
    took_part = (
        select(Activity.club_id, Activity.term, Participation.student_id)
        .join(Participation, Participation.activity_id == Activity.id)
        .where(*_activity_conditions(terms, scope),
               Participation.status.in_([s.value for s in LIVE]))
        .distinct()
        .subquery()
    )
    query = (
        select(took_part.c.club_id, took_part.c.term, func.count(), func.count(Membership.id))
        .select_from(took_part)
        .outerjoin(Membership, and_(Membership.club_id == took_part.c.club_id,
                                    Membership.term == took_part.c.term,
                                    Membership.user_id == took_part.c.student_id))
        .group_by(took_part.c.club_id, took_part.c.term)
    )
    for club_id, term, active, on_roster in session.execute(query):
        f = facts.get((club_id, term))
        if f is not None:
            f.active, f.active_roster = int(active), int(on_roster)


def roster_facts(session, facts, terms, scope) -> None:
    # An election counts for the term whose dates it falls in (one branch per term).
    elected = or_(*(
        and_(Membership.term == term, Membership.elected_on.between(*term_bounds(term)))
        for term in terms
    ))
    query = (
        select(Membership.club_id, Membership.term, func.count(Membership.id), _count_if(elected))
        .where(Membership.term.in_(terms))
        .group_by(Membership.club_id, Membership.term)
    )
    if scope is not None:
        query = query.where(Membership.club_id.in_(scope))
    for club_id, term, roster, elections in session.execute(query):
        f = facts.get((club_id, term))
        if f is not None:
            f.roster, f.elections = int(roster), int(elections)


