"""Domain errors. Services raise these; each blueprint maps them to its medium in one place."""

from __future__ import annotations

from flask_babel import gettext as _


class DomainError(Exception):
    status = 400
    code = "error"

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Invalid(DomainError):
    """Input that names a field wrongly; `fields` says which and why."""

    status = 422
    code = "validation_error"

    def __init__(self, fields: dict[str, list[str]], message: str | None = None):
        super().__init__(message or _("Invalid input"), fields)


MAX_REASON = 2000


def checked_reason(reason: str | None) -> str:
    """Rejections, revocations, returns and cancellations all need a reason a person can read."""
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise Invalid({"reason": [_("A reason of 1–%(max)s characters", max=MAX_REASON)]})
    return reason
