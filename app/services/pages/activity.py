"""An activity's pages: its detail page, the recording page and the sign-off table."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import Activity, ActivityStatus, Participation, ParticipationStatus, User
from app.services import lifecycle, registrations
from app.services.activities import counts_by_status, get_activity
from app.services.check_in import late_entry_window
from app.services.errors import Conflict, Forbidden
from app.services.pages.common import PUBLIC_STATUSES, insider
from app.services.participations import (
    LIVE,
    RECORDABLE,
    flag_labels,
    places_left,
    require_recordable,
    signoff_closed,
)
from app.timeutil import utcnow


@dataclass
class ActivityPage:
    activity: Activity
    counts: dict[str, int]
    actions: set[str]
    records: list[Participation] | None
    my_record: Participation | None
    returned: str | None = None  # the advisor's reason, shown to insiders while the plan is back in draft
    club_problem: str | None = None  # why the club runs no activities now
    signoff_note: str | None = None  # for those who sign off: why not yet (e.g. it has not ended)
    sign_up: object = None  # the viewer's own sign-up (registrations.SignUp) or None
    sign_up_closed: str | None = None  # why no sign-up is taken now (shown to students)
    sign_ups: list | None = None  # for its club's people: who signed up, came, their no-shows
    registered: int = 0


def pending_return(activity: Activity) -> str | None:
    """The reason of the last return while the plan waits for its leaders (draft, not resubmitted)."""
    if activity.status != ActivityStatus.DRAFT or not activity.return_reason or activity.returned_at is None:
        return None
    if activity.submitted_at is not None and activity.submitted_at > activity.returned_at:
        return None  # resubmitted since, then edited back to draft: that return is answered
    return activity.return_reason


def activity_actions(session: Session, actor: User | None, activity: Activity) -> set[str]:
    """What the viewer may do with this activity now (the page shows only these): the steps
    of the lifecycle table, and what may be done with its records."""
    actions = lifecycle.available(actor, activity)
    if (
        permissions.can_record_participation(actor, activity) and activity.status in RECORDABLE
        and permissions.club_runs_activities(activity.club)
    ):
        actions.add("record")
    if permissions.can_certify(actor, activity):
        actions.add("signoff")
    if permissions.can_view_participations(actor, activity):
        actions.add("view_records")
    return actions


def activity_page(session: Session, actor: User | None, activity_id: int) -> ActivityPage:
    activity = get_activity(session, activity_id)
    if not insider(actor, activity.club) and activity.status not in (*PUBLIC_STATUSES, ActivityStatus.CANCELLED):
        raise Forbidden(_("This activity is not approved yet"))
    actions = activity_actions(session, actor, activity)
    records = None
    if "view_records" in actions:
        records = list(session.execute(
            select(Participation).where(Participation.activity_id == activity.id)
            .options(joinedload(Participation.student), joinedload(Participation.certified_by))
            .order_by(Participation.id)
        ).scalars())
    my_record = None
    if actor is not None and actor.is_student:
        my_record = session.execute(
            select(Participation).where(
                Participation.activity_id == activity.id, Participation.student_id == actor.id
            ).order_by(Participation.id.desc())
        ).scalars().first()
        live = my_record is not None and my_record.status in LIVE
        if (
            permissions.can_check_in(actor) and not live
            and activity.status == ActivityStatus.APPROVED
            and activity.check_in_window_open(utcnow())
        ):
            actions.add("check_in")
    if activity.status == ActivityStatus.APPROVED and permissions.can_show_check_in_code(actor, activity):
        actions.add("check_in_screen")
    opens, closes = late_entry_window(activity)
    if (
        activity.status in (ActivityStatus.APPROVED, ActivityStatus.COMPLETED)
        and permissions.can_record_participation(actor, activity) and opens <= utcnow() <= closes
    ):
        actions.add("late_entry")
    sign_up = sign_up_closed = sign_ups = None
    if permissions.can_register(actor):
        sign_up = registrations.own_sign_up(session, actor, activity.id)
        sign_up_closed = registrations.sign_up_closed(activity)
        if sign_up is None and sign_up_closed is None and not (my_record and my_record.status in LIVE):
            actions.add("sign_up")
        if sign_up is not None and utcnow() < activity.starts_at:
            actions.add("withdraw")
    if "view_records" in actions:
        sign_ups = registrations.list_registrations(session, actor, activity.id)
    return ActivityPage(
        sign_up=sign_up, sign_up_closed=sign_up_closed, sign_ups=sign_ups,
        registered=registrations.registered_count(session, activity.id),
        activity=activity,
        counts=counts_by_status(session, [activity.id])[activity.id],
        actions=actions,
        records=records,
        my_record=my_record,
        returned=pending_return(activity) if insider(actor, activity.club) else None,
        club_problem=lifecycle.club_not_running(activity.club) if insider(actor, activity.club) else None,
        signoff_note=signoff_closed(activity) if "signoff" in actions else None,
    )


@dataclass
class RecordingPage:
    activity: Activity
    records: list[Participation]
    open: bool
    closed_reason: str | None = None
    places_left: int | None = None


def recording_page(session: Session, actor: User | None, activity_id: int) -> RecordingPage:
    activity = get_activity(session, activity_id)
    if not permissions.can_record_participation(actor, activity):
        raise Forbidden(_("Only a leader of this club records participation"))
    records = list(session.execute(
        select(Participation).where(Participation.activity_id == activity.id)
        .options(joinedload(Participation.student))
        .order_by(Participation.id)
    ).scalars())
    try:
        require_recordable(activity)
    except Conflict as closed:
        return RecordingPage(activity, records, False, closed.message)
    return RecordingPage(activity, records, True, places_left=places_left(session, activity))


@dataclass
class SignoffPage:
    activity: Activity
    recorded: list[Participation]
    certified: list[Participation]
    closed: list[Participation]
    open: bool
    own_ids: set[int]
    closed_reason: str | None = None  # why nothing can be signed off now (e.g. it has not ended)
    flags: dict[int, list[tuple[str, str]]] | None = None  # record id → (flag, label)


def signoff_page(session: Session, actor: User | None, activity_id: int) -> SignoffPage:
    """The sign-off table for one activity: only for those who may certify its records."""
    activity = get_activity(session, activity_id)
    if not permissions.can_certify(actor, activity):
        raise Forbidden(_("Only the club's advisor or the admin signs off"))
    records = list(session.execute(
        select(Participation).where(Participation.activity_id == activity.id)
        .options(joinedload(Participation.student), joinedload(Participation.certified_by))
        .order_by(Participation.id)
    ).scalars())
    by = {s: [r for r in records if r.status == s] for s in ParticipationStatus}
    closed = signoff_closed(activity)
    return SignoffPage(
        activity=activity,
        recorded=by[ParticipationStatus.RECORDED],
        certified=by[ParticipationStatus.CERTIFIED],
        closed=by[ParticipationStatus.REJECTED] + by[ParticipationStatus.REVOKED],
        open=closed is None,
        own_ids={r.id for r in records if permissions.is_participant(actor, r)},
        closed_reason=closed,
        flags={r.id: flag_labels(r) for r in records},
    )


def activity_of_participation(session: Session, participation_id: int) -> int | None:
    """Where to go back to after acting on one record."""
    return session.execute(
        select(Participation.activity_id).where(Participation.id == participation_id)
    ).scalar_one_or_none()
