"""Sign-ups: before the start or the leader's deadline, a waiting line past capacity.

A sign-up never certifies anything: it reserves a place, so that a registered student's scan
at the venue is taken even when walk-ins have filled the room. Who signed up and did not come
(no record of any kind once the activity is over) is counted per student: organizers see it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import (
    Activity,
    ActivityStatus,
    Participation,
    ParticipationStatus,
    Registration,
    RegistrationStatus,
    User,
)
from app.services.activities import get_activity
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, NotFound
from app.services.lifecycle import require_running_club
from app.services.notifications import notify
from app.timeutil import utcnow

LIVE = (RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED)
LIVE_RECORD = (ParticipationStatus.RECORDED, ParticipationStatus.CERTIFIED)


@dataclass(frozen=True)
class SignUp:
    """A student's place: registered, or waiting at `position` (1 = next to move up)."""

    registration: Registration
    position: int | None

    @property
    def status(self) -> str:
        return self.registration.status


def _live(session: Session, activity_id: int, student_id: int) -> Registration | None:
    return session.execute(
        select(Registration).where(
            Registration.activity_id == activity_id, Registration.student_id == student_id,
            Registration.status.in_(LIVE),
        )
    ).scalar_one_or_none()


def registered_count(session: Session, activity_id: int) -> int:
    return session.execute(
        select(func.count(Registration.id)).where(
            Registration.activity_id == activity_id, Registration.status == RegistrationStatus.REGISTERED)
    ).scalar_one()


def position_of(session: Session, registration: Registration) -> int | None:
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = session.execute(
        select(func.count(Registration.id)).where(
            Registration.activity_id == registration.activity_id,
            Registration.status == RegistrationStatus.WAITLISTED,
            Registration.id < registration.id,
        )
    ).scalar_one()
    return ahead + 1


def sign_up_closed(activity: Activity, now=None) -> str | None:
    """Why this activity takes no sign-up now, or None when it does (for the page's button too)."""
    now = now or utcnow()
    if activity.status != ActivityStatus.APPROVED:
        return _("Only an approved activity takes sign-ups")
    if now >= activity.starts_at:
        return _("The activity has started: sign-ups are closed")
    if now >= activity.registration_closes_at:
        return _("Sign-ups closed at the deadline the leader set")
    return None


def register(session: Session, actor: User | None, activity_id: int) -> SignUp:
    """Sign the actor up: a place while there is one, else the end of the waiting line."""
    activity = get_activity(session, activity_id)
    if not permissions.can_register(actor):
        raise Forbidden(_("Only students sign up"))
    # The row lock orders simultaneous sign-ups, so the last place goes to one student only.
    activity = get_activity(session, activity_id, lock=True)
    require_running_club(activity.club)
    closed = sign_up_closed(activity)
    if closed:
        raise Conflict(closed)
    if _live(session, activity.id, actor.id) is not None:
        raise Conflict(_("You have already signed up for this activity"))
    recorded = session.execute(
        select(Participation.id).where(
            Participation.activity_id == activity.id, Participation.student_id == actor.id,
            Participation.status.in_(LIVE_RECORD))
    ).first()
    if recorded:
        raise Conflict(_("You are already recorded for this activity"))
    full = activity.capacity is not None and registered_count(session, activity.id) >= activity.capacity
    registration = Registration(
        activity_id=activity.id, student_id=actor.id,
        status=RegistrationStatus.WAITLISTED if full else RegistrationStatus.REGISTERED,
    )
    session.add(registration)
    try:
        session.flush()
    except IntegrityError:  # the same student's second tap, at the same moment
        session.rollback()
        raise Conflict(_("You have already signed up for this activity")) from None
    position = position_of(session, registration)
    append_event(session, actor, "registration.create", "activity", activity.id,
                 {"student_id": actor.id, "status": registration.status, "position": position})
    link = f"/activities/{activity.id}"
    if position is None:
        notify(session, actor, "registration.confirmed", link=link, activity=activity.title,
               starts_at=activity.starts_at.isoformat())
    else:
        notify(session, actor, "registration.waitlisted", link=link, activity=activity.title, position=position)
    return SignUp(registration, position)


def cancel(session: Session, actor: User | None, activity_id: int) -> Registration | None:
    """The actor withdraws their sign-up before the start; the first one waiting moves up.

    Answers the registration that moved up, if any."""
    activity = get_activity(session, activity_id)
    if not permissions.can_register(actor):
        raise Forbidden(_("Only students sign up"))
    activity = get_activity(session, activity_id, lock=True)
    own = _live(session, activity.id, actor.id)
    if own is None:
        raise NotFound(_("You have not signed up for this activity"))
    if utcnow() >= activity.starts_at:
        raise Conflict(_("The activity has started: a sign-up can no longer be withdrawn"))
    had_place = own.status == RegistrationStatus.REGISTERED
    own.status = RegistrationStatus.CANCELLED
    own.cancelled_at = utcnow()
    session.flush()
    append_event(session, actor, "registration.cancel", "activity", activity.id, {"student_id": actor.id})
    return promote_waiting(session, actor, activity) if had_place else None


def promote_waiting(session: Session, actor: User | None, activity: Activity) -> Registration | None:
    """Give a free place to the first one waiting (the activity's row is locked by the caller)."""
    if activity.capacity is not None and registered_count(session, activity.id) >= activity.capacity:
        return None
    first = session.execute(
        select(Registration).where(
            Registration.activity_id == activity.id, Registration.status == RegistrationStatus.WAITLISTED)
        .order_by(Registration.id).limit(1)
    ).scalar_one_or_none()
    if first is None:
        return None
    first.status = RegistrationStatus.REGISTERED
    first.promoted_at = utcnow()
    session.flush()
    append_event(session, actor, "registration.promote", "activity", activity.id, {"student_id": first.student_id})
    notify(session, first.student_id, "registration.promoted", link=f"/activities/{activity.id}",
           activity=activity.title, starts_at=activity.starts_at.isoformat())
    return first


def own_sign_up(session: Session, actor: User | None, activity_id: int) -> SignUp | None:
    """The actor's live sign-up for the activity page, or None."""
    if actor is None:
        return None
    own = _live(session, activity_id, actor.id)
    return SignUp(own, position_of(session, own)) if own else None


def holds_place(session: Session, activity_id: int, student_id: int) -> bool:
    """A registered (not waiting) student: their scan is taken even when the room is full."""
    own = _live(session, activity_id, student_id)
    return own is not None and own.status == RegistrationStatus.REGISTERED


def unclaimed_places(session: Session, activity: Activity) -> int:
    """Places held by registered students who have no record yet (walk-ins may not take them)."""
    return session.execute(
        select(func.count(Registration.id)).where(
            Registration.activity_id == activity.id, Registration.status == RegistrationStatus.REGISTERED,
            ~exists().where(and_(Participation.activity_id == Registration.activity_id,
                                 Participation.student_id == Registration.student_id,
                                 Participation.status.in_(LIVE_RECORD))),
        )
    ).scalar_one()


def _no_show_query():
    """Sign-ups with a place, for an activity that is over, with no record of any kind."""
    return (
        select(Registration.student_id, func.count(Registration.id))
        .join(Activity, Activity.id == Registration.activity_id)
        .where(
            Registration.status == RegistrationStatus.REGISTERED,
            Activity.ends_at < utcnow(), Activity.status != ActivityStatus.CANCELLED,
            ~exists().where(and_(Participation.activity_id == Registration.activity_id,
                                 Participation.student_id == Registration.student_id)),
        )
        .group_by(Registration.student_id)
    )


def no_show_counts(session: Session, student_ids: list[int]) -> dict[int, int]:
    if not student_ids:
        return {}
    rows = session.execute(_no_show_query().where(Registration.student_id.in_(student_ids)))
    return {student_id: count for student_id, count in rows}


@dataclass(frozen=True)
class Attendee:
    """A row of the leader's list: who signed up, whether they came, their no-shows overall."""

    registration: Registration
    position: int | None
    came: bool
    no_shows: int


def list_registrations(session: Session, actor: User | None, activity_id: int) -> list[Attendee]:
    """The activity's live sign-ups, places first then the line in order: its club's leaders,
    the organizers overseeing it, the admin."""
    activity = get_activity(session, activity_id)
    if not permissions.can_view_participations(actor, activity):
        raise Forbidden(_("Only the club's leaders and organizers see who signed up"))
    rows = list(session.execute(
        select(Registration).where(Registration.activity_id == activity.id, Registration.status.in_(LIVE))
        .options(joinedload(Registration.student))
        .order_by((Registration.status == RegistrationStatus.WAITLISTED), Registration.id)
    ).scalars())
    came = set(session.execute(
        select(Participation.student_id).where(
            Participation.activity_id == activity.id,
            Participation.status.in_((*LIVE_RECORD, ParticipationStatus.REJECTED)))
    ).scalars())
    no_shows = no_show_counts(session, [r.student_id for r in rows])
    out, line = [], 0
    for r in rows:
        waiting = r.status == RegistrationStatus.WAITLISTED
        line += waiting
        out.append(Attendee(r, line if waiting else None, r.student_id in came, no_shows.get(r.student_id, 0)))
    return out


def tell_cancelled(session: Session, activity: Activity) -> int:
    """The activity was cancelled: everyone signed up (or waiting) hears why. Answers how many."""
    waiting = list(session.execute(
        select(Registration.student_id).where(Registration.activity_id == activity.id,
                                              Registration.status.in_(LIVE))
    ).scalars())
    for student_id in waiting:
        notify(session, student_id, "registration.activity_cancelled", link=f"/activities/{activity.id}",
               activity=activity.title, reason=activity.cancel_reason or "")
    return len(waiting)
