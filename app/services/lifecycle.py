"""The activity lifecycle, written once: action → from which statuses, to which, and who may.

The services in `activities` apply a step through `require` / `require_state`; the activity
page offers exactly the steps `available` returns, so a button is shown only when its
service call would be allowed (same table, same answer).

    draft ──submit──▶ submitted ──approve──▶ approved ──complete──▶ completed
      ▲  ◀──return / edit──┘                    │
      └─ cancel from draft, submitted, approved ─┴──▶ cancelled
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _

from app import permissions
from app.models import Activity, ActivityStatus, Club, ClubStatus, User
from app.services.errors import Conflict, Forbidden
from app.timeutil import to_local, utcnow

DRAFT, SUBMITTED, APPROVED = ActivityStatus.DRAFT, ActivityStatus.SUBMITTED, ActivityStatus.APPROVED


@dataclass(frozen=True)
class Step:
    """One action on an activity."""

    sources: tuple[ActivityStatus, ...]  # the statuses it may start from
    target: ActivityStatus
    may: Callable[[User | None, Activity], bool]  # who may take it (a permissions predicate)
    denied: Callable[[], str]  # the 403 message
    wrong_state: Callable[[str], str]  # the 409 message, given the current status's label
    stamp: str | None = None  # sets `<stamp>_at` and `<stamp>_by_id`
    audit: str | None = None  # the audit action (every step is audited)
    # When the step may be taken at all, beyond the status (e.g. only after the end), and why not.
    ready: Callable[[Activity, datetime], bool] | None = None
    not_ready: Callable[[Activity], str] | None = None


def has_ended(activity: Activity, now: datetime) -> bool:
    """What happened can be completed and signed off only once it is over."""
    return activity.ends_at <= now


LIFECYCLE: dict[str, Step] = {
    # A changed plan goes back to draft so that what is approved is what was read.
    "edit": Step(
        (DRAFT, SUBMITTED), DRAFT, permissions.can_run_activity,
        lambda: _("Only a leader of this club edits it"),
        lambda status: _("An activity that is %(status)s cannot be edited", status=status),
        audit="activity.update",
    ),
    "submit": Step(
        (DRAFT,), SUBMITTED, permissions.can_run_activity,
        lambda: _("Only a leader of this club submits it"),
        lambda status: _("An activity that is %(status)s cannot be submitted", status=status),
        stamp="submitted", audit="activity.submitted",
    ),
    "approve": Step(
        (SUBMITTED,), APPROVED, permissions.can_approve_activity,
        lambda: _("Only the club's advisor or the admin approves"),
        lambda status: _("An activity that is %(status)s cannot be approved", status=status),
        stamp="approved", audit="activity.approved",
    ),
    "return": Step(
        (SUBMITTED,), DRAFT, permissions.can_approve_activity,
        lambda: _("Only the club's advisor or the admin returns a plan"),
        lambda status: _("Only a submitted plan can be returned"),
        stamp="returned", audit="activity.returned",
    ),
    "complete": Step(
        (APPROVED,), ActivityStatus.COMPLETED, permissions.can_run_activity,
        lambda: _("Only a leader of this club completes it"),
        lambda status: _("An activity that is %(status)s cannot be completed", status=status),
        stamp="completed", audit="activity.completed",
        ready=has_ended,
        not_ready=lambda activity: _("An activity is completed once it has ended (it ends %(ends)s)",
                                     ends=local_time(activity.ends_at)),
    ),
    "cancel": Step(
        (DRAFT, SUBMITTED, APPROVED), ActivityStatus.CANCELLED, permissions.can_cancel_activity,
        lambda: _("You may not cancel this activity"),
        lambda status: _("An activity that is %(status)s cannot be cancelled", status=status),
        stamp="cancelled", audit="activity.cancelled",
    ),
}

# The statuses in which a plan can still change.
EDITABLE = LIFECYCLE["edit"].sources


def local_time(moment: datetime) -> str:
    """A moment as the school's wall clock, for messages."""
    return to_local(moment).strftime("%Y-%m-%d %H:%M")


def club_not_running(club: Club) -> str | None:
    """Why this club runs no activities now, or None when it does."""
    if club.status != ClubStatus.ACTIVE:
        return _("%(club)s is %(status)s: its activities and records are read-only",
                 club=club.name, status=club.status_label)
    if not club.advisors:
        return _("%(club)s has no advisor: it runs no activities until the office appoints one",
                 club=club.name)
    return None


def require_running_club(club: Club) -> None:
    """Conflict unless the club is active and has an advisor (permissions.club_runs_activities)."""
    if not permissions.club_runs_activities(club):
        raise Conflict(club_not_running(club))


def available(actor: User | None, activity: Activity) -> set[str]:
    """The steps this actor may take on this activity now."""
    if not permissions.club_runs_activities(activity.club):
        return set()
    now = utcnow()
    return {
        name for name, step in LIFECYCLE.items()
        if activity.status in step.sources and step.may(actor, activity)
        and (step.ready is None or step.ready(activity, now))
    }


def require(actor: User | None, activity: Activity, action: str) -> Step:
    """The step, or Forbidden when this actor may not take it."""
    step = LIFECYCLE[action]
    if not step.may(actor, activity):
        raise Forbidden(step.denied())
    return step


def require_state(activity: Activity, action: str) -> Step:
    """The step, or Conflict when the club, the activity's status or the time does not allow it."""
    step = LIFECYCLE[action]
    require_running_club(activity.club)
    if activity.status not in step.sources:
        raise Conflict(step.wrong_state(activity.status_label))
    if step.ready is not None and not step.ready(activity, utcnow()):
        raise Conflict(step.not_ready(activity))
    return step
