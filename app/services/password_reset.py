"""One-time links that set a password: a reset, and the activation of an imported account.

The admin makes a link (one user, or a batch for a roster); only the SHA-256 of its random
token is stored, so a copy of the database opens no account. A link works once, for
`PASSWORD_RESET_HOURS`, and only the newest of a user's links works. Setting the password
applies the password rules and ends every sign-in of the user. When the user has an e-mail
address and MAIL_SERVER is set, the link is also mailed; a failed send loses nothing, since
the link is still answered to the admin.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from operator import itemgetter

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app import permissions
from app.models import STUDENT_ROLES, PasswordReset, SchoolClass, Unit, User
from app.services import auth, mail
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.timeutil import to_local, utcnow

USED = _l("This link has expired or was already used")
INACTIVE = _l("This account is deactivated; ask the Youth League office")
PATH = "/password/reset/"


class ResetLink(tuple):
    """(url, expires_at) — it unpacks like that pair — and `emailed`: True when the mail server
    took it, False when sending failed, None when there was nothing to send it to."""

    url = property(itemgetter(0))
    expires_at = property(itemgetter(1))

    def __new__(cls, url: str, expires_at: datetime, emailed: bool | None = None):
        link = super().__new__(cls, (url, expires_at))
        link.emailed = emailed
        return link


def _lifetime() -> timedelta:
    return timedelta(hours=current_app.config["PASSWORD_RESET_HOURS"])


def _url(token: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + PATH + token


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, auth.digest(token)


def _require_admin(actor: User | None) -> None:
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin makes password links"))


def end_open_links(session: Session, user_ids) -> None:
    """The unused links of these users (ids, or a select of ids) stop working now; the caller commits."""
    now = utcnow()
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id.in_(user_ids), PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
        .values(expires_at=now).execution_options(synchronize_session=False)
    )


# ---- making links ---------------------------------------------------------------------------

def create_reset_link(session: Session, actor: User | None, user_id: int) -> ResetLink:
    """A fresh one-time link for one user (their earlier ones stop working); mailed when possible."""
    _require_admin(actor)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("No user #%(id)s", id=user_id))
    if not user.active:
        raise Conflict(_("The account is deactivated: reactivate it first"))
    end_open_links(session, [user.id])
    token, token_hash = _new_token()
    expires_at = utcnow() + _lifetime()
    session.add(PasswordReset(token_hash=token_hash, user_id=user.id,
                              created_by_id=actor.id if actor is not None else None, expires_at=expires_at))
    append_event(session, actor, "user.password_reset_link", "user", user.id,
                 {"count": 1, "user_ids": [user.id], "expires_at": expires_at.isoformat(),
                  "email": bool(user.email)})
    session.flush()
    url = _url(token)
    emailed = None
    if user.email and mail.configured():
        emailed = mail.send([_message(user, url, expires_at)])[0]
    return ResetLink(url, expires_at, emailed)


def reset_links(
    session: Session, actor: User | None, unit_id: int | None = None, class_id: int | None = None,
    cohort: int | None = None, only_without_password: bool = True,
) -> list[tuple[User, str, datetime]]:
    """Links for a roster's active students (by unit, class, cohort; by default only those who
    have no password yet), in a few statements whatever the size, audited as one event."""
    _require_admin(actor)
    errors = {}
    if unit_id is not None and session.get(Unit, unit_id) is None:
        errors["unit_id"] = [_("No unit #%(id)s", id=unit_id)]
    if class_id is not None and session.get(SchoolClass, class_id) is None:
        errors["class_id"] = [_("No class #%(id)s", id=class_id)]
    if errors:
        raise Invalid(errors)
    where = [User.active.is_(True), User.role.in_(STUDENT_ROLES)]
    if unit_id is not None:
        where.append(User.unit_id == unit_id)
    if class_id is not None:
        where.append(User.class_id == class_id)
    if cohort is not None:
        where.append(User.class_id.in_(select(SchoolClass.id).where(SchoolClass.cohort == cohort)))
    if only_without_password:
        where.append(User.password_hash.is_(None))
    users = list(session.execute(select(User).where(*where).order_by(User.student_no, User.id)).scalars())
    if not users:
        return []
    end_open_links(session, select(User.id).where(*where))
    expires_at = utcnow() + _lifetime()
    created_by = actor.id if actor is not None else None
    tokens = [_new_token() for _ in users]
    session.execute(insert(PasswordReset), [
        {"token_hash": token_hash, "user_id": user.id, "created_by_id": created_by, "expires_at": expires_at}
        for user, (_, token_hash) in zip(users, tokens, strict=True)
    ])
    append_event(session, actor, "user.password_reset_link", "user", "batch", {
        "count": len(users), "user_ids": [u.id for u in users], "expires_at": expires_at.isoformat(),
        "filters": {"unit_id": unit_id, "class_id": class_id, "cohort": cohort,
                    "only_without_password": only_without_password},
    })
    session.flush()
    return [(user, _url(token), expires_at) for user, (token, _) in zip(users, tokens, strict=True)]


def mail_links(links: list[tuple[User, str, datetime]]) -> int:
    """Mail a batch's links to those with an address, over one connection; how many went."""
    if not mail.configured():
        return 0
    with_address = [(user, url, expires_at) for user, url, expires_at in links if user.email]
    return sum(mail.send([_message(*link) for link in with_address]))


def _message(user: User, url: str, expires_at: datetime):
    """The link's e-mail, in the recipient's language (their choice on the site, else Chinese)."""
    until = to_local(expires_at).strftime("%Y-%m-%d %H:%M")
    school = current_app.config["INSTITUTION_NAME"]
    with mail.in_language_of(user):
        body = _(
            "Hello %(name)s,\n\n"
            "open the link below to set the password of your Second Transcript account "
            "(username %(username)s). It works once, until %(until)s (school time).\n\n%(url)s\n\n"
            "If you did not ask for it, ignore this e-mail; nothing changes on your account.\n\n"
            "— %(school)s Second Transcript\n",
            name=user.display_name, username=user.username, until=until, url=url, school=school,
        )
        subject = _("Set your Second Transcript password")
    return mail.message(user.email, subject, body)


# ---- using a link ---------------------------------------------------------------------------

def _usable(session: Session, token: str | None) -> PasswordReset:
    link = None
    if token:
        link = session.execute(
            select(PasswordReset).where(PasswordReset.token_hash == auth.digest(token))
        ).scalar_one_or_none()
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        raise Invalid({"token": [str(USED)]}, str(USED))
    if not link.user.active:
        raise Conflict(str(INACTIVE), {"token": [str(INACTIVE)]})
    return link


def link_user(session: Session, token: str | None) -> User:
    """Whose link this is, while it can still be used (the page shows the form); else Invalid/Conflict."""
    return _usable(session, token).user


def reset_password(session: Session, token: str | None, new_password: str | None) -> User:
    """Set the password through a link: once, in time, by the rules; every sign-in of the user ends."""
    link = _usable(session, token)
    user = link.user
    password_hash = auth.checked_new_password(user, new_password, "new_password")
    now = utcnow()
    claimed = session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == link.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # used by a request that got in first
        session.rollback()
        raise Invalid({"token": [str(USED)]}, str(USED))
    end_open_links(session, [user.id])
    user.password_hash = password_hash
    ended = auth.end_sign_ins(session, user.id)
    append_event(session, user, "user.password_set", "user", user.id,
                 {"via": "reset_link", "link_id": link.id, "ended_sign_ins": ended})
    session.flush()
    session.expire(link)
    return user
