"""Signing in and out: passwords, the per-account lockout, and sign-ins that really end.

Every sign-in is a row of `auth_token` — a bearer token for the API or a browser session
whose signed cookie carries the token. A request is let in only while its row is open, so
logout, a password change and deactivation end sign-ins at once, copied cookies included.

A wrong password is counted per account (beside the per-client limit of the views): after
`ACCOUNT_LOCKOUT` misses (API.md: 10 in 15 minutes) the account waits, and even the right
password answers 429 until the window passes. The count lives in Flask-Limiter's storage,
so it is shared by every worker when that storage is Redis.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from limits import parse_many
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.extensions import limiter
from app.models import AuthToken, TokenKind, User
from app.services.audit import append_event
from app.services.errors import DomainError, Invalid, Unauthorized
from app.services.passwords import check_password, hash_password, password_problems
from app.timeutil import utcnow

WRONG = _l("Wrong username or password")


class Locked(DomainError):
    """Too many wrong passwords for one account: it waits `retry_after` seconds."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int):
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            _("Too many wrong passwords: this account is locked; try again in %(minutes)s min", minutes=minutes)
        )
        self.retry_after = retry_after


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---- the per-account lockout -------------------------------------------------------------

def _lockout_items():
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return []
    return parse_many(current_app.config["ACCOUNT_LOCKOUT"])


def _account_key(username: str) -> str:
    return username.strip().casefold()


def _refuse_if_locked(username: str) -> None:
    for item in _lockout_items():
        if not limiter.limiter.test(item, "account", _account_key(username)):
            reset_at = limiter.limiter.get_window_stats(item, "account", _account_key(username)).reset_time
            raise Locked(max(1, int(reset_at - time.time()) + 1))


def _count_miss(username: str) -> bool:
    """Count one wrong password; True when this miss locked the account."""
    items, key = _lockout_items(), _account_key(username)
    for item in items:
        limiter.limiter.hit(item, "account", key)
    return any(not limiter.limiter.test(item, "account", key) for item in items)


# ---- signing in ---------------------------------------------------------------------------

def authenticate(session: Session, username: str, password: str, *, client: str = "") -> User:
    """The account for this username and password, or Unauthorized / Locked (429).

    A miss is audited and counted against the account, whether or not the name exists, so
    the answer tells nobody which usernames are real.
    """
    username = (username or "").strip()
    _refuse_if_locked(username)
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    ok = check_password(user.password_hash if user else None, password or "")
    if ok and user.active:
        return user
    locked = _count_miss(username)
    object_id = user.id if user else username[:64]
    append_event(session, None, "user.sign_in_failed", "user", object_id,
                 {"username": username[:64], "client": client,
                  "reason": "inactive" if ok else "wrong_password"})
    if locked:
        append_event(session, None, "user.lockout", "user", object_id, {"username": username[:64], "client": client})
    session.commit()  # a refusal stays audited although the request fails and rolls back
    raise Unauthorized(str(WRONG))  # the miss that locks is still answered as a miss; the next one waits


def record_refused_sign_in(
    session: Session, method: str, identity: str | None, reason: str, *, client: str = ""
) -> None:
    """Audit a sign-in refused before any password was asked (single sign-on), and commit."""
    append_event(session, None, "user.sign_in_failed", "user", (identity or "?")[:64],
                 {"method": method, "identity": (identity or "")[:200], "reason": reason[:200], "client": client})
    session.commit()  # a refusal stays audited although the request fails and rolls back


def _open(session: Session, user: User, kind: str, method: str, client: str) -> tuple[str, datetime]:
    hours = current_app.config["TOKEN_LIFETIME_HOURS" if kind == TokenKind.API else "SESSION_LIFETIME_HOURS"]
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(hours=hours)
    session.add(AuthToken(token_hash=digest(token), kind=kind, method=method, user_id=user.id,
                          expires_at=expires_at))
    append_event(session, user, "user.sign_in", "user", user.id, {"kind": kind, "method": method, "client": client})
    session.flush()
    return token, expires_at


def issue_token(session: Session, username: str, password: str, *, client: str = "") -> tuple[str, datetime]:
    """A bearer token for the API, for a username and password."""
    return _open(session, authenticate(session, username, password, client=client), TokenKind.API, "password", client)


def open_web_session(session: Session, user: User, *, method: str = "password", client: str = "") -> str:
    """A browser session for a user already authenticated (password or single sign-on)."""
    if not user.active:
        raise Unauthorized(str(WRONG))
    token, _ = _open(session, user, TokenKind.WEB, method, client)
    return token


def user_for_token(session: Session, token: str, kind: str = TokenKind.API) -> User | None:
    """The user of an open sign-in; None once it has ended, expired or the user is deactivated."""
    return session.execute(
        select(User).join(AuthToken, AuthToken.user_id == User.id).where(
            AuthToken.token_hash == digest(token), AuthToken.kind == kind,
            AuthToken.ended_at.is_(None), AuthToken.expires_at > utcnow(), User.active.is_(True),
        )
    ).scalar_one_or_none()


# ---- ending sign-ins ------------------------------------------------------------------------

def sign_out(session: Session, user: User, token: str) -> None:
    """End this one sign-in (logout); the user's others stay open."""
    session.execute(
        update(AuthToken).where(AuthToken.token_hash == digest(token), AuthToken.user_id == user.id,
                                AuthToken.ended_at.is_(None)).values(ended_at=utcnow())
    )
    append_event(session, user, "user.sign_out", "user", user.id)
    session.flush()


def end_sign_ins(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """End every open sign-in of a user (but `keep`, the token of the request that asked).

    The caller audits why and commits.
    """
    query = update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.ended_at.is_(None))
    if keep is not None:
        query = query.where(AuthToken.token_hash != digest(keep))
    return session.execute(query.values(ended_at=utcnow())).rowcount or 0


def personal_words(user: User) -> tuple[str | None, ...]:
    return (user.username, user.display_name, user.student_no, (user.email or "").split("@")[0] or None)


def checked_new_password(user: User, password: str | None, field: str = "new_password") -> str:
    """The argon2 hash of an acceptable new password, or Invalid naming the field."""
    problems = password_problems(password, personal=personal_words(user))
    if problems:
        raise Invalid({field: problems})
    return hash_password(password)


def change_password(
    session: Session, user: User, current_password: str, new_password: str, *, keep: str | None = None,
    client: str = "",
) -> None:
    """The signed-in user changes their password; every other sign-in of theirs ends."""
    _refuse_if_locked(user.username)
    if not check_password(user.password_hash, current_password or ""):
        locked = _count_miss(user.username)
        append_event(session, user, "user.sign_in_failed", "user", user.id,
                     {"username": user.username, "client": client, "reason": "wrong_current_password"})
        if locked:
            append_event(session, user, "user.lockout", "user", user.id, {"username": user.username, "client": client})
        session.commit()  # a refusal stays audited although the request fails and rolls back
        raise Invalid({"current_password": [_("The current password is wrong")]})
    user.password_hash = checked_new_password(user, new_password)
    ended = end_sign_ins(session, user.id, keep=keep)
    append_event(session, user, "user.password_change", "user", user.id, {"ended_sign_ins": ended})
    session.flush()
