"""The organizer's home, and the approval and sign-off queues (the admin's home shows them too)."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import Activity, ActivityStatus, Club, Participation, ParticipationStatus, Role, Unit, User
from app.services.errors import Forbidden
from app.services.pages.common import advised_club_ids
from app.services.participations import CERTIFIABLE
from app.timeutil import utcnow


def approval_queue(session: Session, organizer: User | None) -> list[Activity]:
    """Submitted plans, oldest first: every club's (None), or those an organizer answers for."""
    query = (
        select(Activity).options(joinedload(Activity.club))
        .where(Activity.status == ActivityStatus.SUBMITTED)
        .order_by(Activity.submitted_at, Activity.id)
    )
    if organizer is not None:
        query = query.where(Activity.club_id.in_(advised_club_ids(organizer)))
    # A suspended or dissolved club's plan waits (approving it would be refused).
    return [a for a in session.execute(query).scalars() if permissions.club_runs_activities(a.club)]


def signoff_queue(session: Session, organizer: User | None) -> list[tuple[Activity, int]]:
    """Ended activities that can be signed off and still have records waiting, oldest first."""
    waiting = func.count(Participation.id)
    query = (
        select(Activity, waiting)
        .join(Participation, Participation.activity_id == Activity.id)
        .options(joinedload(Activity.club))
        .where(
            Participation.status == ParticipationStatus.RECORDED,
            Activity.status.in_(CERTIFIABLE),
            # Sign-off waits for the end: an activity still to come is not in the queue.
            Activity.ends_at <= utcnow(),
        )
        .group_by(Activity.id)
        .order_by(Activity.starts_at, Activity.id)
    )
    if organizer is not None:
        query = query.where(Activity.club_id.in_(advised_club_ids(organizer)))
    return [(a, n) for a, n in session.execute(query).unique().all()]


@dataclass
class OrganizerHome:
    approvals: list[Activity]
    signoff: list[tuple[Activity, int]]
    clubs: list[Club]  # the clubs they advise
    college_clubs: list[Club] = field(default_factory=list)  # the others of the college they oversee
    scope_unit: Unit | None = None


def organizer_home(session: Session, actor: User | None) -> OrganizerHome:
    if actor is None or actor.role != Role.ORGANIZER:
        raise Forbidden(_("This page is for organizers"))
    in_scope = list(session.execute(
        select(Club).where(Club.id.in_(advised_club_ids(actor))).order_by(Club.name)
    ).scalars())
    advised = [c for c in in_scope if permissions.advises(actor, c)]
    return OrganizerHome(
        approval_queue(session, actor), signoff_queue(session, actor), advised,
        college_clubs=[c for c in in_scope if c not in advised], scope_unit=actor.scope_unit,
    )
