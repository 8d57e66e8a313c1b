"""Notifications: a row for the in-app list; its e-mail goes through the job queue after commit.

`notify` is what every service calls, inside its own unit of work. The text is not stored:
the row keeps a kind and its values, and `text_of` writes it in the reader's language.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.models import Notification, User

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
    "transcript.amended": ("serial",),
    "digest": ("records", "claims", "appeals", "plans"),
}


def notify(session: Session, user: User | int, kind: str, *, link: str | None = None, **params) -> Notification:
    """Tell `user` that `kind` happened; flushed with the caller's change, mailed after its commit."""
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    user_id = user if isinstance(user, int) else user.id
    row = Notification(user_id=user_id, kind=kind, params={k: str(v) for k, v in params.items()}, link=link)
    session.add(row)
    session.flush()
    return row
