"""Passwords: argon2 hashes, and the rule that no password is short or common.

Hashing costs tens of milliseconds by design, so it happens only where a person sets a
password (a reset link, a change, an admin creating a staff account) — never per row of an
imported roster, whose accounts start with no password at all.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from flask_babel import gettext as _
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 128
# zxcvbn's score: 0–1 are guessed within about 10^6 tries (the common-password lists, names,
# keyboard walks, dates); 2 and up resist an online attack behind the per-account lockout.
MIN_SCORE = 2

_hasher: PasswordHasher | None = None
_fast_hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# A real hash to spend the same time on unknown usernames as on wrong passwords.
_dummy_hash: str | None = None


def _password_hasher() -> PasswordHasher:
    global _hasher
    if has_app_context() and current_app.config.get("PASSWORD_HASH_FAST"):
        return _fast_hasher
    if _hasher is None:
        _hasher = PasswordHasher()
    return _hasher


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; an account without a password never matches."""
    global _dummy_hash
    hasher = _password_hasher()
    if password_hash is None:
        if _dummy_hash is None:
            _dummy_hash = hasher.hash("not-a-password")
        try:
            hasher.verify(_dummy_hash, password)
        except VerificationError:
            pass
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str | None, *, personal: tuple[str | None, ...] = ()) -> list[str]:
    """Why this password may not be set (empty when it may). `personal`: the username, name, number."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return [_("At least %(n)s characters", n=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_("At most %(n)s characters", n=MAX_LENGTH)]
    inputs = [p for p in personal if p]
    lowered = password.casefold()
    if any(len(p) >= 4 and p.casefold() in lowered for p in inputs):
        return [_("Must not contain your username, name or number")]
    if zxcvbn(password, user_inputs=inputs)["score"] < MIN_SCORE:
        return [_("Too common or too easy to guess; choose a longer, unusual one")]
    return []
