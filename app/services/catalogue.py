"""The activity catalogue: what a student may sign up for, upcoming first, with places left.

Students see approved activities; a leader also sees every activity of the clubs they lead,
an organizer those of the clubs they oversee, the admin everything. One page is read with two
grouped counts over its own ids; the ordering sorts only the matching ids (bench/catalogue.py measures it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import (
    LEADER_IN_POST,
    Activity,
    ActivityStatus,
    Club,
    Registration,
    RegistrationStatus,
    Role,
    User,
    club_leader,
)
from app.services.registrations import LIVE
from app.services.scope import overseen_club_ids
from app.timeutil import school_zone, utcnow


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    module: str | None = None
    level: str | None = None
    club_id: int | None = None
    unit_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    # Only what has not ended yet (the page's default view).
    upcoming: bool = False


@dataclass(frozen=True)
class Entry:
    activity: Activity
    registered: int
    waitlisted: int
    my_registration: str | None

    @property
    def places_left(self) -> int | None:
        if self.activity.capacity is None:
            return None
        return max(self.activity.capacity - self.registered, 0)


def _visible(actor: User | None):
    """Which activities the actor may see in the catalogue, as a WHERE clause."""
    approved = Activity.status == ActivityStatus.APPROVED
    if permissions.is_admin(actor):
        return None
    if actor.role == Role.ORGANIZER:
        return or_(approved, Activity.club_id.in_(overseen_club_ids(actor)))
    if actor.role == Role.LEADER:
        led = select(club_leader.c.club_id).where(club_leader.c.user_id == actor.id, LEADER_IN_POST)
        return or_(approved, Activity.club_id.in_(led))
    return approved


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=school_zone())


def catalogue(
    session: Session, actor: User | None, filters: Filters, *, page: int = 1, per_page: int = 50,
    now: datetime | None = None,
) -> tuple[list[Entry], int]:
    """One page of the catalogue and the total: upcoming first (soonest first), then past ones."""
    now = now or utcnow()
    query = select(Activity)
    visible = _visible(actor)
    if visible is not None:
        query = query.where(visible)
    if filters.status:
        query = query.where(Activity.status == filters.status)
    if filters.module:
        query = query.where(Activity.module == filters.module)
    if filters.level:
        query = query.where(Activity.level == filters.level)
    if filters.club_id:
        query = query.where(Activity.club_id == filters.club_id)
    if filters.unit_id:
        query = query.where(Activity.club_id.in_(select(Club.id).where(Club.unit_id == filters.unit_id)))
    if filters.date_from:
        query = query.where(Activity.starts_at >= _day_start(filters.date_from))
    if filters.upcoming:
        query = query.where(Activity.ends_at >= now)
    if filters.date_to:
        query = query.where(Activity.starts_at < _day_start(filters.date_to + timedelta(days=1)))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    over = case((Activity.ends_at < now, 1), else_=0)
    soonest = case((Activity.ends_at < now, None), else_=Activity.starts_at)
    # The order needs every matching row; sort their ids only (a narrow scan), then load the page.
    ids = list(session.execute(
        query.with_only_columns(Activity.id)
        .order_by(over, soonest.asc(), Activity.starts_at.desc(), Activity.id)
        .offset((page - 1) * per_page).limit(per_page)
    ).scalars())
    loaded = {a.id: a for a in session.execute(
        select(Activity).where(Activity.id.in_(ids)).options(joinedload(Activity.club))).scalars()} if ids else {}
    activities = [loaded[i] for i in ids]
    counts: dict[tuple[int, str], int] = {}
    mine: dict[int, str] = {}
    if ids:
        counts = {
            (activity_id, status): n for activity_id, status, n in session.execute(
                select(Registration.activity_id, Registration.status, func.count())
                .where(Registration.activity_id.in_(ids), Registration.status.in_(LIVE))
                .group_by(Registration.activity_id, Registration.status)
            )
        }
        if actor is not None and permissions.can_register(actor):
            mine = dict(session.execute(
                select(Registration.activity_id, Registration.status).where(
                    Registration.activity_id.in_(ids), Registration.student_id == actor.id,
                    Registration.status.in_(LIVE))
            ).all())
    entries = [
        Entry(a, counts.get((a.id, RegistrationStatus.REGISTERED), 0),
              counts.get((a.id, RegistrationStatus.WAITLISTED), 0), mine.get(a.id))
        for a in activities
    ]
    return entries, total
