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

from flask_babel import gettext as _

from app import permissions
from app.models import Activity, ActivityStatus, User
from app.services.errors import Conflict, Forbidden

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
    audit: str | None = None  # the audit action, for the steps that are audited


LIFECYCLE: dict[str, Step] = {
    # A changed plan goes back to draft so that what is approved is what was read.
    "edit": Step(
        (DRAFT, SUBMITTED), DRAFT, permissions.can_run_activity,
        lambda: _("Only a leader of this club edits it"),
        lambda status: _("An activity that is %(status)s cannot be edited", status=status),
    ),
    "submit": Step(
        (DRAFT,), SUBMITTED, permissions.can_run_activity,
        lambda: _("Only a leader of this club submits it"),
        lambda status: _("An activity that is %(status)s cannot be submitted", status=status),
        stamp="submitted",
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
        audit="activity.returned",
    ),
    "complete": Step(
        (APPROVED,), ActivityStatus.COMPLETED, permissions.can_run_activity,
        lambda: _("Only a leader of this club completes it"),
        lambda status: _("An activity that is %(status)s cannot be completed", status=status),
        stamp="completed",
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


def available(actor: User | None, activity: Activity) -> set[str]:
    """The steps this actor may take on this activity now."""
    return {
        name for name, step in LIFECYCLE.items()
        if activity.status in step.sources and step.may(actor, activity)
    }


def require(actor: User | None, activity: Activity, action: str) -> Step:
    """The step, or Forbidden when this actor may not take it."""
    step = LIFECYCLE[action]
    if not step.may(actor, activity):
        raise Forbidden(step.denied())
    return step


def require_state(activity: Activity, action: str) -> Step:
    """The step, or Conflict when the activity's status does not allow it."""
    step = LIFECYCLE[action]
    if activity.status not in step.sources:
        raise Conflict(step.wrong_state(activity.status_label))
    return step
