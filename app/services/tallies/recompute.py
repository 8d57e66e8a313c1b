"""Recomputing tally rows from their raw rows: for a few keys (a change) or for all (a rebuild).

A row is recomputed whole from the records it sums, never moved by +1/-1: a key is a few
hundred rows at most, and a recomputation cannot drift from the records whatever path changed
them. Concurrency: the key's row is made if missing (INSERT … ON CONFLICT DO NOTHING: of two
writers at once neither fails), then locked (FOR UPDATE on PostgreSQL; SQLite has one writer),
and only then are the records read, so under READ COMMITTED a writer that waited for the lock
sees the other's committed records and writes a row that includes them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import (
    Activity,
    ActivityStatus,
    ActivityTally,
    Claim,
    ClaimStatus,
    Club,
    ClubTermTally,
    Membership,
    Participation,
    ParticipationRole,
    ParticipationStatus,
    StudentModuleTally,
    StudentTermTally,
    User,
)
from app.timeutil import term_bounds

CHUNK = 400  # keys per statement: SQLite binds at most 32,766 values
LIVE = (ParticipationStatus.RECORDED, ParticipationStatus.CERTIFIED)
BAD = (ParticipationStatus.REJECTED, ParticipationStatus.REVOKED)
ZERO = Decimal("0.0")


def claim_term(day: date) -> str:
    """The term a claim counts in, from its date, as timeutil.term_of names an activity's."""
    if day.month >= 9:
        return f"{day.year}-{day.year + 1}-1"
    if day.month == 1:
        return f"{day.year - 1}-{day.year}-1"
    return f"{day.year - 1}-{day.year}-2"


def claim_term_sql():
    """`claim_term` in SQL; the casts make it text on both databases."""
    year = cast(extract("year", Claim.occurred_on), Integer)
    month = cast(extract("month", Claim.occurred_on), Integer)
    start = case((month >= 9, year), else_=year - 1)
    half = case((month >= 9, literal("1")), (month == 1, literal("1")), else_=literal("2"))
    return cast(start, String) + literal("-") + cast(start + 1, String) + literal("-") + half


def _chunks(keys: Iterable, size: int = CHUNK) -> Iterator[list]:
    ordered = sorted(keys)
    for i in range(0, len(ordered), size):
        yield ordered[i:i + size]


def _ensure_and_lock(session: Session, model, rows: list[dict], where) -> None:
    """Make the missing rows (none fails when another writer makes them at once), then lock them
    in key order (two writers with overlapping keys never wait on each other in a circle)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    make = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model).on_conflict_do_nothing()
    session.execute(make, rows)
    if dialect == "postgresql":
        keys = list(model.__table__.primary_key.columns)
        session.execute(select(*keys).where(where).order_by(*keys).with_for_update())


def _write(session: Session, model, values: list[dict]) -> None:
    if values:
        session.execute(model.__table__.update().where(and_(*(
            col == _param(col.name) for col in model.__table__.primary_key.columns))).values(
            {k: _param(k) for k in values[0] if k not in model.__table__.primary_key.columns.keys()}),
            [{f"k_{k}": v for k, v in row.items()} for row in values])


def _param(name: str):
    return bindparam(f"k_{name}")


# --------------------------------------------------------------------------- activities


def activity_sums(condition) -> select:
    """Per activity: its records, those rejected or revoked, certified hours, hours of certified
    records in the volunteer role, awards on certified records, the first sign-off."""
    certified = Participation.status == ParticipationStatus.CERTIFIED
    awarded = and_(certified, Participation.award.is_not(None), Participation.award != "")
    return (
        select(
            Participation.activity_id,
            func.count(Participation.id),
            func.count(case((Participation.status.in_([s.value for s in BAD]), 1))),
            func.coalesce(func.sum(case((certified, Participation.hours))), ZERO),
            func.coalesce(func.sum(case((and_(certified, Participation.role == ParticipationRole.VOLUNTEER),
                                             Participation.hours))), ZERO),
            func.count(case((awarded, 1))),
            func.min(func.coalesce(Participation.certified_at, Participation.rejected_at)),
        )
        .where(condition)
        .group_by(Participation.activity_id)
    )


ACTIVITY_COLUMNS = ("activity_id", "records", "rejected", "certified_hours", "volunteer_role_hours", "awards",
                    "first_signoff_at")


def activities(session: Session, activity_ids: Iterable[int]) -> None:
    for chunk in _chunks(set(activity_ids)):
        found = list(session.execute(select(Activity.id).where(Activity.id.in_(chunk))).scalars())
        if not found:
            continue
        _ensure_and_lock(session, ActivityTally, [{"activity_id": i} for i in found],
                         ActivityTally.activity_id.in_(found))
        sums = {row[0]: row for row in session.execute(activity_sums(Participation.activity_id.in_(found)))}
        empty = (0, 0, ZERO, ZERO, 0, None)
        _write(session, ActivityTally, [
            dict(zip(ACTIVITY_COLUMNS, (i, *(sums[i][1:] if i in sums else empty)), strict=True)) for i in found])


# --------------------------------------------------------------------------- club-terms


def club_term_rows(session: Session, keys: list[tuple[int, str]] | None) -> dict[tuple[int, str], dict]:
    """(club, term) → active, active_roster, roster, elections; `keys` None: every club-term."""
    activity_key = tuple_(Activity.club_id, Activity.term)
    member_key = tuple_(Membership.club_id, Membership.term)
    took_part = (
        select(Activity.club_id, Activity.term, Participation.student_id)
        .join(Participation, Participation.activity_id == Activity.id)
        .where(Activity.status != ActivityStatus.CANCELLED, Participation.status.in_([s.value for s in LIVE]))
        .distinct()
    )
    roster = select(Membership.club_id, Membership.term, Membership.elected_on)
    if keys is not None:  # clubs and terms apart as well as the pairs: an index for SQLite
        clubs, terms = {c for c, _ in keys}, {t for _, t in keys}
        took_part = took_part.where(Activity.club_id.in_(clubs), Activity.term.in_(terms), activity_key.in_(keys))
        roster = roster.where(Membership.club_id.in_(clubs), Membership.term.in_(terms), member_key.in_(keys))
    took_part = took_part.subquery()
    active = (
        select(took_part.c.club_id, took_part.c.term, func.count(), func.count(Membership.id))
        .select_from(took_part)
        .outerjoin(Membership, and_(Membership.club_id == took_part.c.club_id, Membership.term == took_part.c.term,
                                    Membership.user_id == took_part.c.student_id))
        .group_by(took_part.c.club_id, took_part.c.term)
    )
    out: dict[tuple[int, str], dict] = defaultdict(lambda: {"active": 0, "active_roster": 0, "roster": 0,
                                                             "elections": 0})
    for club_id, term, n, on_roster in session.execute(active):
        out[(club_id, term)].update(active=int(n), active_roster=int(on_roster))
    # An election counts for the term whose dates it falls in; the dates are the term code's.
    for club_id, term, elected_on in session.execute(roster):
        row = out[(club_id, term)]
        row["roster"] += 1
        if elected_on is not None:
            first, last = term_bounds(term)
            row["elections"] += first <= elected_on <= last
    return out


def club_terms(session: Session, keys: Iterable[tuple[int, str]]) -> None:
    for chunk in _chunks(set(keys)):
        clubs = set(session.execute(select(Club.id).where(Club.id.in_({c for c, _ in chunk}))).scalars())
        chunk = [k for k in chunk if k[0] in clubs]
        if not chunk:
            continue
        _ensure_and_lock(session, ClubTermTally, [{"club_id": c, "term": t} for c, t in chunk],
                         tuple_(ClubTermTally.club_id, ClubTermTally.term).in_(chunk))
        rows = club_term_rows(session, chunk)
        _write(session, ClubTermTally, [{"club_id": c, "term": t, **rows[(c, t)]} for c, t in chunk])


# --------------------------------------------------------------------------- students


def record_hours(condition) -> select:
    """Certified records' hours per (student, term, module)."""
    return (select(Participation.student_id, Activity.term, Activity.module, func.sum(Participation.hours))
            .join(Activity, Activity.id == Participation.activity_id)
            .where(Participation.status == ParticipationStatus.CERTIFIED, condition)
            .group_by(Participation.student_id, Activity.term, Activity.module))


def student_terms(session: Session, keys: Iterable[tuple[int, str]]) -> None:
    for chunk in _chunks(set(keys)):
        students = set(session.execute(select(User.id).where(User.id.in_({s for s, _ in chunk}))).scalars())
        chunk = [k for k in chunk if k[0] in students]
        if not chunk:
            continue
        wanted = set(chunk)
        _ensure_and_lock(session, StudentTermTally, [{"student_id": s, "term": t} for s, t in chunk],
                         tuple_(StudentTermTally.student_id, StudentTermTally.term).in_(chunk))
        hours: dict[tuple[int, str, str], Decimal] = defaultdict(lambda: ZERO)
        students, terms = {s for s, _ in chunk}, {t for _, t in chunk}
        # By student alone (a student's certified records, from the index that starts with the
        # student), the terms not asked for dropped here: with the (student, term) pairs or the
        # terms in SQL, SQLite's planner starts from the term's activities (some 170,000 records).
        for student_id, term, module, total in session.execute(
                record_hours(Participation.student_id.in_(students))):
            if (student_id, term) in wanted:
                hours[(student_id, term, module)] += Decimal(total)
        claims = select(Claim.student_id, Claim.occurred_on, Claim.module, Claim.hours).where(
            Claim.status == ClaimStatus.CERTIFIED, Claim.student_id.in_(students))
        for student_id, occurred_on, module, total in session.execute(claims):
            term = claim_term(occurred_on)
            if (student_id, term) in wanted:
                hours[(student_id, term, module)] += Decimal(total)
        session.execute(delete(StudentModuleTally).where(
            StudentModuleTally.student_id.in_(students), StudentModuleTally.term.in_(terms),
            tuple_(StudentModuleTally.student_id, StudentModuleTally.term).in_(chunk)))
        if hours:
            session.execute(insert(StudentModuleTally), [
                {"student_id": s, "term": t, "module": m, "hours": h} for (s, t, m), h in sorted(hours.items())])
        totals: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
        for (s, t, _m), h in hours.items():
            totals[(s, t)] += h
        _write(session, StudentTermTally, [{"student_id": s, "term": t, "hours": totals[(s, t)]} for s, t in chunk])


# --------------------------------------------------------------------------- resolving marks


def activity_places(session: Session, activity_ids: set[int]) -> dict[int, tuple[int, str]]:
    out = {}
    for chunk in _chunks(activity_ids):
        out.update({aid: (club, term) for aid, club, term in session.execute(
            select(Activity.id, Activity.club_id, Activity.term).where(Activity.id.in_(chunk)))})
    return out


def students_of(session: Session, activity_ids: set[int]) -> dict[int, set[int]]:
    out: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(activity_ids):
        for aid, sid in session.execute(select(Participation.activity_id, Participation.student_id)
                                        .where(Participation.activity_id.in_(chunk))):
            out[aid].add(sid)
    return out

