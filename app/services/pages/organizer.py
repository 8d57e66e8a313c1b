"""The organizer's home, and the approval and sign-off queues (the admin's home shows them too).

Every list here is one page read in SQL (`common.paginate`): a school's queue runs to thousands
of rows and a home page shows twenty of them with the total.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import Select, Subquery, func, literal, select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import (
    Activity,
    ActivityStatus,
    Club,
    Participation,
    ParticipationStatus,
    Role,
    Unit,
    User,
    club_advisor,
)
from app.services.errors import Forbidden
from app.services.pages.common import PER_PAGE, Page, advised_club_ids, paginate
from app.services.participations import CERTIFIABLE
from app.timeutil import utcnow


def _in_scope(query: Select, organizer: User | None) -> Select:
    """Every club's rows (None: the office), or those of the clubs an organizer answers for."""
    if organizer is None:
        return query
    return query.where(Activity.club_id.in_(advised_club_ids(organizer)))


def approval_query(organizer: User | None) -> Select:
    """Submitted plans, oldest first. A suspended or dissolved club's plan (or one of a club
    without an advisor) waits: approving it would be refused."""
    query = (
        select(Activity).options(joinedload(Activity.club))
        .where(Activity.status == ActivityStatus.SUBMITTED,
               Activity.club_id.in_(permissions.running_club_ids()))
        .order_by(Activity.submitted_at, Activity.id)
    )
    return _in_scope(query, organizer)


def approval_queue(
    session: Session, organizer: User | None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """One page of the plans awaiting approval, with their total."""
    return paginate(session, approval_query(organizer), page, per_page)


# The waiting records, written so that SQLite uses the partial index ix_participation_recorded_activity:
# it matches only the literal of the index's WHERE (status = 'recorded'), never a bound parameter
# (60,000 waiting records: 20 ms with the literal, 260 ms without).
WAITING = Participation.status == literal(ParticipationStatus.RECORDED.value, literal_execute=True)


def _signoff_query(organizer: User | None, columns: Callable[[Subquery], tuple]) -> Select:
    """`columns` of the activities in the sign-off queue joined to their count of waiting records
    (grouped once over the partial index, then joined to the activities)."""
    grouped = select(Participation.activity_id, func.count().label("n")).where(WAITING)
    if organizer is not None:  # an organizer's few clubs: group only their records, not the school's
        grouped = grouped.where(Participation.activity_id.in_(
            select(Activity.id).where(Activity.club_id.in_(advised_club_ids(organizer)))))
    waiting = grouped.group_by(Participation.activity_id).subquery("waiting")
    query = (
        select(*columns(waiting)).select_from(waiting).join(Activity, Activity.id == waiting.c.activity_id)
        .where(
            Activity.status.in_(CERTIFIABLE),
            # Sign-off waits for the end: an activity still to come is not in the queue.
            Activity.ends_at <= utcnow(),
        )
    )
    return _in_scope(query, organizer)


@dataclass
class SignoffPage(Page):
    """A page of (activity, records waiting) and, over the whole queue, the records waiting."""

    records: int = 0


def signoff_queue(
    session: Session, organizer: User | None, page: int = 1, per_page: int = PER_PAGE
) -> SignoffPage:
    """Ended activities that can be signed off and still have records waiting, oldest first:
    grouped, counted and paged in SQL; the activities and the records waiting counted in one statement."""
    total, records = session.execute(_signoff_query(
        organizer, lambda w: (func.count(), func.coalesce(func.sum(w.c.n), 0)))).one()
    # The page is sorted on its keys alone, then its activities read by id: sorting the whole
    # queue's rows with every column of an activity took twice as long (PostgreSQL, 14,000 waiting).
    keys = _signoff_query(organizer, lambda w: (Activity.id, w.c.n)).order_by(Activity.starts_at, Activity.id)
    result = paginate(session, keys, page, per_page, rows=True, total=total)
    loaded = {a.id: a for a in session.execute(
        select(Activity).options(joinedload(Activity.club)).where(Activity.id.in_([i for i, _n in result.items]))
    ).scalars()} if result.items else {}
    return SignoffPage([(loaded[i], n) for i, n in result.items], result.total, result.page, result.per_page,
                       records=int(records))


@dataclass
class OrganizerHome:
    approvals: Page
    signoff: SignoffPage
    clubs: Page  # the clubs they advise
    college_clubs: Page | None = None  # the others of the college they oversee
    scope_unit: Unit | None = None


# The lists of the page, each paged on its own (?approvals=2, ?signoff=3, …).
LISTS = ("approvals", "signoff", "clubs", "college_clubs")


def organizer_home(session: Session, actor: User | None, pages: Mapping[str, int] | None = None) -> OrganizerHome:
    if actor is None or actor.role != Role.ORGANIZER:
        raise Forbidden(_("This page is for organizers"))
    pages = pages or {}
    advised = select(club_advisor.c.club_id).where(club_advisor.c.user_id == actor.id)
    clubs = paginate(session, select(Club).where(Club.id.in_(advised)).order_by(Club.name, Club.id),
                     pages.get("clubs", 1), PER_PAGE)
    college = None
    if actor.scope_unit_id is not None:
        college = paginate(session, select(Club).where(
            Club.unit_id == actor.scope_unit_id, Club.id.not_in(advised)).order_by(Club.name, Club.id),
            pages.get("college_clubs", 1), PER_PAGE)
    return OrganizerHome(
        approval_queue(session, actor, pages.get("approvals", 1)),
        signoff_queue(session, actor, pages.get("signoff", 1)), clubs,
        college_clubs=college, scope_unit=actor.scope_unit,
    )
