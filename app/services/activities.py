"""Activities as projects: plan, submit, approve, complete, cancel.

The lifecycle (who moves an activity from which status to which) is the table in
`services.lifecycle`; these services apply it, stamp who did it and audit what is audited.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import permissions
from app.models import Activity, ActivityStatus, Level, Participation, ParticipationStatus, User
from app.models.activities import MAX_HOURS
from app.services import lifecycle
from app.services.audit import append_event
from app.services.clubs import get_club
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, checked_reason
from app.services.lifecycle import require_running_club
from app.services.modules import module_keys
from app.services.system import acting
from app.services.transactions import lock_row
from app.timeutil import term_of, utcnow

PLAN_FIELDS = (
    "title", "module", "level", "starts_at", "ends_at", "location", "hours", "capacity",
    "registration_deadline", "description", "objectives", "budget", "partners",
)
MAX_TEXT = 20000


def get_activity(session: Session, activity_id: int, *, lock: bool = False) -> Activity:
    query = select(Activity).where(Activity.id == activity_id)
    if lock:
        lock_row(session, Activity, activity_id)
        query = query.execution_options(populate_existing=True)
    activity = session.execute(query).scalar_one_or_none()
    if activity is None:
        raise NotFound(_("No activity #%(id)s", id=activity_id))
    return activity


def parse_hours(value, errors: dict[str, list[str]], field: str) -> Decimal | None:
    """Hours are numbers with one decimal: 0 < hours ≤ 200."""
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.setdefault(field, []).append(_("Required"))
        return None
    try:
        hours = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("Must be a number"))
        return None
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS:
        errors.setdefault(field, []).append(_("Must be > 0 and ≤ 200"))
        return None
    return hours


def _one_of(values) -> list[str]:
    return [_("One of: %(choices)s", choices=", ".join(v.value for v in values))]


def check_title_module_level(values: dict, errors: dict[str, list[str]], out: dict,
                             modules: tuple[str, ...]) -> None:
    """What an activity and an achievement claim both name: a title, a module of the office's list
    (`modules`) and a level."""
    title = (values.get("title") or "").strip()
    if not title:
        errors["title"] = [_("Required")]
    elif len(title) > 200:
        errors["title"] = [_("At most 200 characters")]
    out["title"] = title
    if values.get("module") not in modules:
        errors["module"] = [_("One of: %(choices)s", choices=", ".join(modules))]
    out["module"] = values.get("module")
    if values.get("level") not in {lv.value for lv in Level}:
        errors["level"] = _one_of(Level)
    out["level"] = values.get("level")


def check_plan(values: dict, modules: tuple[str, ...]) -> dict:
    errors: dict[str, list[str]] = {}
    out: dict = {}
    check_title_module_level(values, errors, out, modules)
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    for field, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            errors[field] = [_("A date and time with offset")]
    if "starts_at" not in errors and "ends_at" not in errors and ends_at < starts_at:
        errors["ends_at"] = [_("Ends before it starts")]
    out["starts_at"], out["ends_at"] = starts_at, ends_at
    deadline = values.get("registration_deadline")
    if deadline is not None:
        if not isinstance(deadline, datetime) or deadline.tzinfo is None:
            errors["registration_deadline"] = [_("A date and time with offset")]
        elif "starts_at" not in errors and deadline > starts_at:
            errors["registration_deadline"] = [_("Sign-ups close at the start or before it")]
    out["registration_deadline"] = deadline
    location = (values.get("location") or "").strip()
    if not location:
        errors["location"] = [_("Required")]
    elif len(location) > 200:
        errors["location"] = [_("At most 200 characters")]
    out["location"] = location
    out["hours"] = parse_hours(values.get("hours"), errors, "hours")
    capacity = values.get("capacity")
    if capacity is not None and (not isinstance(capacity, int) or capacity <= 0 or capacity > 100000):
        errors["capacity"] = [_("A positive whole number")]
    out["capacity"] = capacity
    budget = values.get("budget")
    if budget is not None:
        try:
            budget = Decimal(str(budget)).quantize(Decimal("0.01"))
            if budget < 0 or budget >= Decimal("1e10"):
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["budget"] = [_("A non-negative amount")]
    out["budget"] = budget
    partners = values.get("partners") or []
    if not isinstance(partners, list) or any(
        not isinstance(p, str) or not p.strip() or len(p) > 200 for p in partners
    ):
        errors["partners"] = [_("A list of partner names (1–200 characters each)")]
    else:
        partners = [p.strip() for p in partners]
    out["partners"] = partners
    for field in ("description", "objectives"):
        text = values.get(field)
        if text is not None and len(text) > MAX_TEXT:
            errors[field] = [_("At most 20,000 characters")]
        out[field] = (text or "").strip() or None
    if errors:
        raise Invalid(errors)
    out["term"] = term_of(starts_at)
    return out


def plan_problems(session: Session, values: dict) -> dict[str, list[str]]:
    """What is wrong with an activity plan, without storing anything.

    Pages call this when some fields could not even be parsed, so that one submission shows
    every message at once (the service itself validates again when the plan is saved).
    """
    try:
        check_plan(values, module_keys(session))
    except Invalid as error:
        return error.fields
    return {}


def club_for_planning(session: Session, actor: User | None, club_id: int):
    """The club whose new activity this actor may plan (the empty form's page)."""
    club = get_club(session, club_id)
    if not permissions.can_plan_activity(actor, club):
        raise Forbidden(_("Only a leader of this club plans its activities"))
    require_running_club(club)
    return club


def activity_for_editing(session: Session, actor: User | None, activity_id: int) -> Activity:
    """The activity whose plan this actor may edit (the filled form's page)."""
    activity = get_activity(session, activity_id)
    lifecycle.require(actor, activity, "edit")
    return activity


def create_activity(session: Session, actor: User | None, club_id: int, **values) -> Activity:
    club = club_for_planning(session, actor, club_id)
    plan = check_plan(values, module_keys(session))
    twin = session.execute(
        select(Activity.id).where(
            Activity.club_id == club.id, Activity.title == plan["title"],
            Activity.starts_at == plan["starts_at"], Activity.status != ActivityStatus.CANCELLED,
        )
    ).first()
    if twin:
        # The same plan saved twice (a resubmitted form, a retried request) is one activity.
        raise Conflict(_("This club already has this activity at this time"),
                       {"title": [_("Already planned as activity #%(id)s", id=twin.id)]})
    activity = Activity(
        club_id=club.id,
        status=ActivityStatus.DRAFT,
        created_by_id=acting(session, actor).id,
        **plan,
    )
    session.add(activity)
    session.flush()
    append_event(session, acting(session, actor), "activity.create", "activity", activity.id,
                 {"club_id": club.id, "title": activity.title, "starts_at": activity.starts_at.isoformat()})
    return activity


def update_activity(session: Session, actor: User | None, activity_id: int, **values) -> Activity:
    activity = get_activity(session, activity_id, lock=True)
    lifecycle.require(actor, activity, "edit")
    step = lifecycle.require_state(activity, "edit")
    checked = check_plan({**{f: getattr(activity, f) for f in PLAN_FIELDS}, **values}, module_keys(session))
    changed = sorted(key for key, value in checked.items() if getattr(activity, key) != value)
    before = activity.status
    for key, value in checked.items():
        setattr(activity, key, value)
    activity.status = step.target
    append_event(session, acting(session, actor), step.audit, "activity", activity.id,
                 {"from": before, "changed": changed})
    session.flush()
    return activity


def _take(
    session: Session, actor: User | None, activity_id: int, action: str, *,
    extra: dict | None = None, audit_data: dict | None = None,
) -> Activity:
    """Take one step of the lifecycle: check who and from where, move, stamp, audit."""
    activity = get_activity(session, activity_id, lock=True)
    lifecycle.require(actor, activity, action)
    step = lifecycle.require_state(activity, action)
    actor = acting(session, actor)
    before = activity.status
    activity.status = step.target
    if step.stamp:
        setattr(activity, f"{step.stamp}_at", utcnow())
        setattr(activity, f"{step.stamp}_by_id", actor.id)
    for key, value in (extra or {}).items():
        setattr(activity, key, value)
    if step.audit:
        data = audit_data if audit_data is not None else {"from": before, "title": activity.title, **(extra or {})}
        append_event(session, actor, step.audit, "activity", activity.id, data)
    session.flush()
    return activity


def submit_activity(session: Session, actor: User | None, activity_id: int) -> Activity:
    return _take(session, actor, activity_id, "submit")


def approve_activity(session: Session, actor: User | None, activity_id: int) -> Activity:
    return _take(session, actor, activity_id, "approve")


def return_activity(session: Session, actor: User | None, activity_id: int, reason: str) -> Activity:
    """An advisor sends a submitted plan back to draft with a reason."""
    activity = get_activity(session, activity_id)
    lifecycle.require(actor, activity, "return")
    reason = checked_reason(reason)
    # Kept on the activity (and shown to its leaders while the plan is back in draft).
    return _take(session, actor, activity_id, "return", extra={"return_reason": reason},
                 audit_data={"reason": reason})


def complete_activity(
    session: Session, actor: User | None, activity_id: int, outcome: str | None = None
) -> Activity:
    outcome = (outcome or "").strip() or None
    if outcome is not None and len(outcome) > MAX_TEXT:
        raise Invalid({"outcome": [_("At most 20,000 characters")]})
    activity = get_activity(session, activity_id)
    return _take(session, actor, activity_id, "complete", extra={"outcome": outcome or activity.outcome})


def cancel_activity(session: Session, actor: User | None, activity_id: int, reason: str) -> Activity:
    activity = get_activity(session, activity_id)
    lifecycle.require(actor, activity, "cancel")
    reason = checked_reason(reason)
    certified = session.execute(
        select(func.count(Participation.id)).where(
            Participation.activity_id == activity.id,
            Participation.status == ParticipationStatus.CERTIFIED,
        )
    ).scalar_one()
    if certified:
        # Held and signed off: cancelling would leave certified hours for an event that "never was".
        raise Conflict(ngettext("%(num)s certified record: revoke it before cancelling",
                                "%(num)s certified records: revoke them before cancelling", certified))
    activity = _take(session, actor, activity_id, "cancel", extra={"cancel_reason": reason})
    from app.services import registrations  # sign-ups build on activities

    registrations.tell_cancelled(session, activity)
    return activity


def counts_by_status(session: Session, activity_ids: list[int]) -> dict[int, dict[str, int]]:
    """Records per activity, counted by status, in one grouped query."""
    counts = {aid: {s.value: 0 for s in ParticipationStatus} for aid in activity_ids}
    if not activity_ids:
        return counts
    rows = session.execute(
        select(Participation.activity_id, Participation.status, func.count(Participation.id))
        .where(Participation.activity_id.in_(activity_ids))
        .group_by(Participation.activity_id, Participation.status)
    ).all()
    for activity_id, status, n in rows:
        counts[activity_id][status] = n
    return counts


def with_counts(session: Session, activity: Activity) -> Activity:
    """Attach the activity's records counted by status (for its detail view)."""
    activity.counts = counts_by_status(session, [activity.id])[activity.id]
    return activity
