"""Transactions on SQLite and PostgreSQL alike: serialising writers, unique clashes.

PostgreSQL honours SELECT … FOR UPDATE; SQLite ignores it. A no-op UPDATE of the row takes
a row lock on PostgreSQL and the database write lock on SQLite, so a read that follows it
in the same transaction cannot be overtaken by another writer.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def lock_row(session: Session, model, row_id: int) -> None:
    session.execute(update(model).where(model.id == row_id).values(id=model.id))


def flush_unique(session: Session, message: str, field: str) -> None:
    """Flush; a unique constraint lost to a concurrent writer is a 409, not a 500.

    The whole transaction is rolled back, not only this statement: the use case failed, so
    nothing it did stays (on PostgreSQL the transaction is aborted anyway).
    """
    from app.services.errors import Conflict

    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(message, {field: [_("Taken")]}) from None
