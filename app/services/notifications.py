"""Notifications: a row for the in-app list; its e-mail goes through the job queue after commit.

`notify` is what every service calls, inside its own unit of work. The text is not stored:
the row keeps a kind and its values, and `text_of` writes it in the reader's language (the
page's, the API caller's, or the recipient's for the e-mail, `mail.in_language_of`).

When MAIL_SERVER is set, `notify` asks `app.jobs` to mail the row once the transaction commits;
the worker's task calls `email_notification`. The organizers' daily digest is `send_digests`
(the worker at 08:00, or `flask --app app notifications digest`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from app import jobs
from app.models import Notification, Role, User
from app.models.appeals import AppealStatus
from app.models.claims import ClaimStatus
from app.services import mail
from app.services.errors import NotFound, Unauthorized
from app.timeutil import school_zone, to_local, utcnow

# kind → the values it carries (the services fill them; `text_of` writes them out).
KINDS = {
    "record.certified": ("activity", "hours"),
    "record.rejected": ("activity", "reason"),
    "record.revoked": ("activity", "reason"),
    "claim.certified": ("title", "hours"),
    "claim.rejected": ("title", "reason"),
    "claim.revoked": ("title", "reason"),
    "appeal.upheld": ("subject", "reason"),
    "appeal.dismissed": ("subject", "reason"),
    "registration.confirmed": ("activity", "starts_at"),
    "registration.waitlisted": ("activity", "position"),
    "registration.promoted": ("activity", "starts_at"),
    "registration.activity_cancelled": ("activity", "reason"),
    "transcript.amended": ("serial",),
    "transcript.issued": ("serial",),
    "digest": ("records", "claims", "appeals", "plans"),
}
MAX_PER_PAGE = 200


def notify(session: Session, user: User | int, kind: str, *, link: str | None = None, **params) -> Notification:
    """Tell `user` that `kind` happened; flushed with the caller's change, mailed after its commit."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    user_id = user if isinstance(user, int) else user.id
    row = Notification(user_id=user_id, kind=kind, params={k: str(v) for k, v in params.items()}, link=link)
    session.add(row)
    session.flush()
    if mail.configured():
        jobs.mail_after_commit(session, row.id)
    return row


# ---- the text, in the current language ------------------------------------------------------

def _when(value: str) -> str:
    """An ISO time a service stored (UTC) as the school's local time; anything else as it is."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return to_local(moment).strftime("%Y-%m-%d %H:%M")


# Each kind's (title, body); the English msgids carry the values as %(name)s.
_TEXTS: dict[str, Callable[[dict], tuple[str, str]]] = {
    "record.certified": lambda p: (
        _("Your record was certified"),
        _('Your participation in "%(activity)s" was certified: %(hours)s hours.', **p)),
    "record.rejected": lambda p: (
        _("Your record was not certified"),
        _('Your participation in "%(activity)s" was not certified. Reason: %(reason)s', **p)),
    "record.revoked": lambda p: (
        _("Your certification was revoked"),
        _('The certification of your participation in "%(activity)s" was revoked. Reason: %(reason)s', **p)),
    "claim.certified": lambda p: (
        _("Your claim was certified"),
        _('Your claim "%(title)s" was certified: %(hours)s hours.', **p)),
    "claim.rejected": lambda p: (
        _("Your claim was not certified"),
        _('Your claim "%(title)s" was not certified. Reason: %(reason)s', **p)),
    "claim.revoked": lambda p: (
        _("Your claim's certification was revoked"),
        _('The certification of your claim "%(title)s" was revoked. Reason: %(reason)s', **p)),
    "appeal.upheld": lambda p: (
        _("Your appeal was upheld"),
        _('Your appeal about "%(subject)s" was upheld: %(reason)s', **p)),
    "appeal.dismissed": lambda p: (
        _("Your appeal was dismissed"),
        _('Your appeal about "%(subject)s" was dismissed: %(reason)s', **p)),
    "registration.confirmed": lambda p: (
        _("You are signed up"),
        _('You have a place at "%(activity)s", starting %(starts_at)s.', **{**p, "starts_at": _when(p["starts_at"])})),
    "registration.waitlisted": lambda p: (
        _("You are on the waiting list"),
        _('You are number %(position)s on the waiting list of "%(activity)s"; you will be told when a place opens.',
          **p)),
    "registration.promoted": lambda p: (
        _("A place opened for you"),
        _('You moved up from the waiting list: you have a place at "%(activity)s", starting %(starts_at)s.',
          **{**p, "starts_at": _when(p["starts_at"])})),
    "registration.activity_cancelled": lambda p: (
        _("An activity you signed up for is cancelled"),
        _('"%(activity)s" is cancelled. Reason: %(reason)s', **p)),
    "transcript.amended": lambda p: (
        _("Your transcript was amended"),
        _("Your transcript %(serial)s was amended: a record it carries was withdrawn. "
          "Issue a new one when you need it.", **p)),
    "transcript.issued": lambda p: (
        _("Your transcript is issued"),
        _("The Youth League office issued your transcript %(serial)s with the graduation batch; "
          "download it from your transcripts.", **p)),
    "digest": lambda p: (
        _("Waiting for you"),
        _("Records awaiting sign-off: %(records)s; claims awaiting review: %(claims)s; "
          "open appeals: %(appeals)s; plans awaiting approval: %(plans)s.", **p)),
}


def text_of(notification: Notification) -> tuple[str, str]:
    """(title, body) in the current gettext language; a value the row lacks reads as empty."""
    write = _TEXTS.get(notification.kind)
    if write is None:  # a kind no longer known: say what it was rather than fail the list
        return notification.kind, ""
    stored = notification.params or {}
    return write({name: str(stored.get(name, "")) for name in KINDS[notification.kind]})


# ---- reading and marking one's own ----------------------------------------------------------

@dataclass
class NotificationPage:
    items: list[Notification]
    total: int
    unread: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _signed_in(actor: User | None) -> User:
    if actor is None:
        raise Unauthorized(_("Sign-in required"))
    return actor


def list_notifications(session: Session, actor: User | None, page: int = 1, per_page: int = 50) -> NotificationPage:
    """The actor's own notifications, newest first, with how many there are and how many are unread."""
    actor = _signed_in(actor)
    page = max(1, int(page or 1))
    per_page = max(1, min(MAX_PER_PAGE, int(per_page or 50)))
    total, unread = session.execute(
        select(func.count(Notification.id), func.count(case((Notification.read_at.is_(None), 1))))
        .where(Notification.user_id == actor.id)
    ).one()
    items = list(session.execute(
        select(Notification).where(Notification.user_id == actor.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).scalars())
    return NotificationPage(items, total, unread or 0, page, per_page)


def unread_count(session: Session, user: User | int) -> int:
    """How many of the user's notifications are unread: one count on ix_notification_user_read."""
    user_id = user if isinstance(user, int) else user.id
    return session.execute(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ).scalar_one()


def mark_read(session: Session, actor: User | None, notification_id: int) -> Notification:
    """Mark one of the actor's notifications read (again: no change); another's is not found."""
    actor = _signed_in(actor)
    row = session.execute(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == actor.id)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No notification #%(id)s", id=notification_id))
    if row.read_at is None:
        row.read_at = utcnow()
        session.flush()
    return row


def mark_all_read(session: Session, actor: User | None) -> int:
    """Mark every unread notification of the actor read; how many were."""
    actor = _signed_in(actor)
    result = session.execute(
        update(Notification)
        .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    session.expire_all()
    return result.rowcount or 0


# ---- the e-mail copy (the worker's task) --------------------------------------------------

def _mail_body(row: Notification, user: User, body: str) -> str:
    config = current_app.config
    lines = [_("Hello %(name)s,", name=user.display_name), "", body, ""]
    if row.link:
        lines += [_("Open it on the site: %(url)s", url=config["PUBLIC_BASE_URL"] + row.link), ""]
    lines += [_("— %(school)s Second Transcript", school=config["INSTITUTION_NAME"])]
    return "\n".join(lines) + "\n"


def email_notification(session: Session, notification_id: int) -> bool | None:
    """Mail one notification in its recipient's language and stamp `emailed_at`.

    None: nothing to send (no such row, already mailed, no address, an inactive account, mail off).
    False: the server did not take it (the job is tried again). True: sent.
    """
    row = session.get(Notification, notification_id)
    if row is None or row.emailed_at is not None or not mail.configured():
        return None
    user = row.user
    if not user.email or not user.active:
        return None
    with mail.in_language_of(user):
        title, body = text_of(row)
        message = mail.message(user.email, title, _mail_body(row, user, body))
    [sent] = mail.send([message])
    if not sent:
        return False
    row.emailed_at = utcnow()
    session.flush()
    return True


# ---- the organizers' daily digest ------------------------------------------------------------

def waiting_for(session: Session, organizer: User) -> dict[str, int]:
    """What waits for an organizer: the queues of their pages (sign-off and approval on the home
    page, the claims awaiting review and the open appeals of their lists), counted."""
    # Those modules import this one (they notify), so they are imported here.
    from app.services.appeals import list_appeals
    from app.services.claims import list_claims
    from app.services.pages.organizer import approval_queue, signoff_queue

    return {
        "records": signoff_queue(session, organizer, per_page=1).records,
        "claims": list_claims(session, organizer, ClaimStatus.SUBMITTED, per_page=1)[1],
        "appeals": list_appeals(session, organizer, AppealStatus.OPEN, per_page=1)[1],
        "plans": approval_queue(session, organizer, per_page=1).total,
    }


def send_digests(session: Session, now: datetime) -> int:
    """A `digest` notification for each active organizer with something waiting, at most one a day
    (the school's day of `now`); how many were made. Flushed: the caller commits."""
    local = to_local(now)
    start_of_day = datetime.combine(local.date(), time(0), tzinfo=school_zone())
    already = set(session.execute(
        select(Notification.user_id).where(Notification.kind == "digest", Notification.created_at >= start_of_day,
                                           Notification.created_at < start_of_day + timedelta(days=1))
    ).scalars())
    organizers = session.execute(
        select(User).where(User.role == Role.ORGANIZER, User.active.is_(True)).order_by(User.id)
    ).scalars().all()
    made = 0
    for organizer in organizers:
        if organizer.id in already:
            continue
        counts = waiting_for(session, organizer)
        if any(counts.values()):
            notify(session, organizer, "digest", link="/organizer", **counts)
            made += 1
    return made
