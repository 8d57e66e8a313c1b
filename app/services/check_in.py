"""On-site check-in (scan in, scan out): the venue's rotating code, check-in, check-out, late entry.

The leader's screen shows a QR code of a link that carries a short code. The code is an HMAC
(a key derived from SECRET_KEY for this purpose only) of the activity, the direction (in or
out) and the number of the current period of CHECK_IN_PERIOD_S seconds: the server can check
it without storing anything, it changes every period, and a photo of it sent to a friend is
refused once the next period has passed too (the current and the previous period are
accepted, so a student who scans at the turn of a period is not refused).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import permissions
from app.models import (
    CHECK_IN_OPENS,
    Activity,
    ActivityStatus,
    Participation,
    ParticipationRole,
    ParticipationSource,
    ParticipationStatus,
    User,
)
from app.services import registrations
from app.services.accounts import student_by_number
from app.services.activities import get_activity, parse_hours
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid, NotFound, checked_reason
from app.services.participations import places_left
from app.services.system import acting
from app.services.transactions import lock_row
from app.timeutil import utcnow

PURPOSE = b"second-transcript/check-in-code/v1"
CODE_LENGTH = 10
# Check-out stays open a while after the end: people leave a lecture hall slowly.
CHECK_OUT_GRACE = timedelta(minutes=30)
LIVE = (ParticipationStatus.RECORDED, ParticipationStatus.CERTIFIED)
TENTH = Decimal("0.1")


class Direction(enum.StrEnum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True)
class VenueCode:
    """What the venue screen shows now (API.md: check-in-code)."""

    url: str
    code: str
    expires_at: datetime
    period_s: int
    direction: str


def period_seconds() -> int:
    return int(current_app.config["CHECK_IN_PERIOD_S"])


def _period_of(moment: datetime) -> int:
    return int(moment.timestamp()) // period_seconds()


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, PURPOSE, hashlib.sha256).digest()


def code_for(activity_id: int, direction: str, period: int) -> str:
    message = f"{activity_id}|{direction}|{period}".encode()
    digest = hmac.new(_key(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:CODE_LENGTH]


def current_code(activity_id: int, direction: str) -> str:
    """The code a venue screen shows this period (the screen, a script of the school's own)."""
    return code_for(activity_id, direction, _period_of(utcnow()))


def direction_of(value: str | None) -> Direction:
    try:
        return Direction(value or Direction.IN)
    except ValueError:
        raise Invalid({"direction": [_("One of: %(choices)s", choices="in, out")]}) from None


def code_url(activity_id: int, code: str, direction: str) -> str:
    """The link in the QR code: the page a phone's camera opens (API.md: `c` carries the code)."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/c/{activity_id}?c={code}&d={direction}"


def venue_code(session: Session, actor: User | None, activity_id: int, direction: str | None = None) -> VenueCode:
    """The code the venue screen shows now: a leader of the club (or the admin)."""
    activity = get_activity(session, activity_id)
    if not permissions.can_show_check_in_code(actor, activity):
        raise Forbidden(_("Only a leader of this club shows the check-in code"))
    if activity.status != ActivityStatus.APPROVED:
        raise Conflict(_("Only an approved activity takes check-ins"))
    way = direction_of(direction)
    period = _period_of(utcnow())
    code = code_for(activity.id, way, period)
    expires_at = datetime.fromtimestamp((period + 1) * period_seconds(), UTC)
    return VenueCode(code_url(activity.id, code, way), code, expires_at, period_seconds(), way.value)


def _check_code(activity: Activity, direction: Direction, code: object, now: datetime) -> None:
    if not isinstance(code, str) or not code.strip():
        raise Invalid({"code": [_("Scan the code shown at the venue")]})
    code = code.strip()
    period = _period_of(now)
    for candidate in (period, period - 1):
        if hmac.compare_digest(code_for(activity.id, direction, candidate), code):
            return
    raise Invalid({"code": [_("This code has expired or is not this activity's: scan the code on the screen again")]})


def _own_record(session: Session, activity: Activity, student: User) -> Participation | None:
    return session.execute(
        select(Participation).where(
            Participation.activity_id == activity.id, Participation.student_id == student.id,
            Participation.status.in_(LIVE),
        )
    ).scalar_one_or_none()


def scanned(session: Session, actor: User | None, activity_id: int) -> Activity:
    """The activity whose code a phone scanned; only a student checks in (the confirm page)."""
    activity = get_activity(session, activity_id)
    if not permissions.can_check_in(actor):
        raise Forbidden(_("Only students check in"))
    return activity


def _taking_part(session: Session, actor: User | None, activity_id: int) -> Activity:
    activity = get_activity(session, activity_id)
    if not permissions.can_check_in(actor):
        raise Forbidden(_("Only students check in"))
    lock_row(session, Activity, activity.id)  # the last free place goes to one student only
    if activity.status != ActivityStatus.APPROVED:
        raise Conflict(_("Only an approved activity takes check-ins"))
    return activity


def _room_for(session: Session, activity: Activity, student: User) -> bool:
    """A registered student's place is kept for them; a walk-in takes only a place nobody holds."""
    left = places_left(session, activity)
    if left is None:
        return True
    if registrations.holds_place(session, activity.id, student.id):
        return left > 0
    return left - registrations.unclaimed_places(session, activity) > 0


def check_in(session: Session, actor: User | None, activity_id: int, code: object) -> Participation:
    """A student checks in with the code of the venue's screen; the record awaits sign-off."""
    activity = _taking_part(session, actor, activity_id)
    now = utcnow()
    _check_code(activity, Direction.IN, code, now)
    if not activity.check_in_window_open(now):
        raise Conflict(_("Check-in is open from 30 minutes before the start to the end"))
    if _own_record(session, activity, actor) is not None:
        raise Conflict(_("You are already recorded for this activity"))
    if not _room_for(session, activity, actor):
        raise Conflict(_("The activity is full"))
    record = Participation(
        activity_id=activity.id, student_id=actor.id, role=ParticipationRole.PARTICIPANT,
        hours=activity.hours, recorded_by_id=actor.id, checked_in_at=now,
        source=ParticipationSource.CHECK_IN,
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:  # the same student's second phone, at the same moment
        session.rollback()
        raise Conflict(_("You are already recorded for this activity")) from None
    append_event(session, actor, "participation.check_in", "participation", record.id,
                 {"activity_id": activity.id, "at": now.isoformat()})
    session.flush()
    return record


def span_hours(checked_in_at: datetime, checked_out_at: datetime, cap: Decimal) -> Decimal:
    """The time between check-in and check-out in tenths of an hour (rounded down), at least
    0.1 h and at most the activity's hours."""
    tenths = Decimal((checked_out_at - checked_in_at).total_seconds() / 3600).quantize(TENTH, ROUND_DOWN)
    return min(max(tenths, TENTH), cap)


def check_out(session: Session, actor: User | None, activity_id: int, code: object) -> Participation:
    """A student checks out with the venue's check-out code; the hours become the time spent."""
    activity = _taking_part(session, actor, activity_id)
    now = utcnow()
    _check_code(activity, Direction.OUT, code, now)
    if not (activity.starts_at - CHECK_IN_OPENS <= now <= activity.ends_at + CHECK_OUT_GRACE):
        raise Conflict(_("Check-out is open until 30 minutes after the end"))
    record = _own_record(session, activity, actor)
    if record is None or record.checked_in_at is None:
        raise Conflict(_("You have not checked in to this activity"))
    if record.checked_out_at is not None:
        raise Conflict(_("You have already checked out"))
    if record.status != ParticipationStatus.RECORDED:
        raise Conflict(_("This record is already signed off"))
    record.checked_out_at = now
    record.hours = span_hours(record.checked_in_at, now, activity.hours)
    append_event(session, actor, "participation.check_out", "participation", record.id,
                 {"activity_id": activity.id, "at": now.isoformat(), "hours": str(record.hours)})
    session.flush()
    return record


def late_entry_window(activity: Activity) -> tuple[datetime, datetime]:
    days = int(current_app.config["LATE_ENTRY_DAYS"])
    return activity.starts_at, activity.ends_at + timedelta(days=days)


def late_entry_allowed(session: Session, actor: User | None, activity: Activity) -> None:
    """Late entries are a leader's of the club (the empty form's page asks too)."""
    if not permissions.can_record_participation(actor, activity):
        raise Forbidden(_("Only a leader of this club records participation"))


def late_entry(
    session: Session, actor: User | None, activity_id: int, student_no: str, reason: str | None,
    hours: object = None, checked_in_at: datetime | None = None, checked_out_at: datetime | None = None,
) -> Participation:
    """A leader records a student whose scan failed (a late entry): with a reason, within the window."""
    activity = get_activity(session, activity_id)
    late_entry_allowed(session, actor, activity)
    lock_row(session, Activity, activity.id)
    if activity.status not in (ActivityStatus.APPROVED, ActivityStatus.COMPLETED):
        raise Conflict(_("An activity that is %(status)s takes no records", status=activity.status_label))
    opens, closes = late_entry_window(activity)
    now = utcnow()
    if not opens <= now <= closes:
        raise Conflict(_("Late entries are taken from the start until %(days)s days after the end",
                         days=current_app.config["LATE_ENTRY_DAYS"]))
    errors: dict[str, list[str]] = {}
    try:
        reason = checked_reason(reason)
    except Invalid as error:
        errors.update(error.fields)
    student = None
    try:
        student = student_by_number(session, (student_no or "").strip())
    except NotFound as error:
        errors["student_no"] = [error.message]
    if hours in (None, ""):
        hours = activity.hours
    else:
        hours = parse_hours(hours, errors, "hours")
        if hours is not None and hours > activity.hours:
            errors["hours"] = [_("A late entry is worth at most the activity's %(hours)s h", hours=activity.hours)]
    earliest, latest = activity.starts_at - CHECK_IN_OPENS, activity.ends_at + CHECK_OUT_GRACE
    for field, moment in (("checked_in_at", checked_in_at), ("checked_out_at", checked_out_at)):
        if moment is not None and not earliest <= moment <= latest:
            errors[field] = [_("A time during the activity")]
    if checked_in_at and checked_out_at and checked_out_at < checked_in_at and "checked_out_at" not in errors:
        errors["checked_out_at"] = [_("Before the check-in")]
    if errors:
        raise Invalid(errors)
    if _own_record(session, activity, student) is not None:
        raise Invalid({"student_no": [
            _("%(number)s is already recorded for this activity", number=student.student_no)]})
    if places_left(session, activity) == 0:
        raise Conflict(_("The activity is full"))
    record = Participation(
        activity_id=activity.id, student_id=student.id, role=ParticipationRole.PARTICIPANT, hours=hours,
        recorded_by_id=acting(session, actor).id, checked_in_at=checked_in_at, checked_out_at=checked_out_at,
        source=ParticipationSource.LATE_ENTRY, late_entry_reason=reason,
    )
    session.add(record)
    session.flush()
    append_event(session, acting(session, actor), "participation.late_entry", "participation", record.id,
                 {"activity_id": activity.id, "student_id": student.id, "reason": reason, "hours": str(hours)})
    session.flush()
    return record


def recent_check_ins(session: Session, activity_id: int, limit: int = 8) -> tuple[int, list[Participation]]:
    """How many have checked in, and the latest ones, for the venue screen."""
    base = select(Participation).where(
        Participation.activity_id == activity_id, Participation.checked_in_at.is_not(None),
        Participation.status.in_(LIVE),
    )
    count = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    latest = list(session.execute(base.order_by(Participation.checked_in_at.desc()).limit(limit)).scalars())
    return count, latest
