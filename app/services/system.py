"""The system actor: the command line's own account, so that what a command does is stamped
as the system's and never as a person's.

One reserved account (username `system`, role `system`) with no password that is not active,
so it never signs in: no password matches, SSO and reset links refuse inactive accounts.
`permissions` lets it do what the command line may do.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Role, User
from app.services.errors import Conflict

SYSTEM_USERNAME = "system"
SYSTEM_DISPLAY_NAME = "System"


def is_system(user: User | None) -> bool:
    return user is not None and user.role == Role.SYSTEM


def acting(session: Session, actor: User | None) -> User:
    """Whom a write is stamped with: the actor, or for None (the command line) the system actor."""
    return actor if actor is not None else system_actor(session)


def system_actor(session: Session) -> User:
    """The system account, created (and flushed) on first use."""
    found = _find(session)
    if found is not None:
        if found.active or found.password_hash is not None:
            # Made or changed by hand (the people pages do not guard this role): shut it again.
            found.active, found.password_hash = False, None
            session.flush()
        return found
    if session.execute(select(User.id).where(User.username == SYSTEM_USERNAME)).first():
        raise Conflict(_("The username %(name)s is reserved for the command line: rename that account",
                         name=SYSTEM_USERNAME))
    account = User(username=SYSTEM_USERNAME, password_hash=None, display_name=SYSTEM_DISPLAY_NAME,
                   role=Role.SYSTEM, active=False)
    try:
        with session.begin_nested():  # two commands at once: one creates it, the other finds it
            session.add(account)
            session.flush()
    except IntegrityError:
        found = _find(session)
        if found is None:
            raise
        return found
    return account


def _find(session: Session) -> User | None:
    return session.execute(
        select(User).where(User.role == Role.SYSTEM, User.username == SYSTEM_USERNAME)
    ).scalar_one_or_none()
