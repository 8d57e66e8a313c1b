"""Single sign-on: which of our accounts an identity from the school's system names.

The identity server (CAS or OpenID Connect) says who the person is; this service only finds
the account that value names — by username or by student number (`SSO_MATCH`). It never
creates one: a person without an account here, or with a deactivated one, is refused with a
message that tells them whom to ask.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import User
from app.services.errors import Forbidden, Unauthorized

# SSO_MATCH → the column of our account that the identity's value is compared with.
MATCH_FIELDS = {"username": User.username, "student_no": User.student_no}
MAX_VALUE = 200


def check_match_field(match_field: str) -> str:
    """The setting as given, or ValueError naming the choices (raised when the app starts)."""
    if match_field not in MATCH_FIELDS:
        raise ValueError(f"SSO_MATCH must be one of {', '.join(MATCH_FIELDS)}, not {match_field!r}")
    return match_field


def account_for_identity(session: Session, match_field: str, value: str | None) -> User:
    """The active account whose `match_field` equals `value`.

    Unauthorized when the identity server gave no usable value; Forbidden (403) when no
    account here has it, or that account is deactivated. Nothing is ever created.
    """
    column = MATCH_FIELDS[check_match_field(match_field)]
    value = (value or "").strip()
    if not value or len(value) > MAX_VALUE:
        raise Unauthorized(
            _("The school sign-in did not say which account this is; ask the IT office.")
        )
    user = session.execute(select(User).where(column == value)).scalar_one_or_none()
    if user is None:
        raise Forbidden(
            _("The school account %(value)s has no account here; ask the Youth League office.", value=value)
        )
    if not user.active:
        raise Forbidden(
            _("The account for the school account %(value)s is deactivated; ask the Youth League office.",
              value=value)
        )
    return user
