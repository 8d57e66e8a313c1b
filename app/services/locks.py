"""Serialising writers on SQLite and PostgreSQL alike.

PostgreSQL honours SELECT … FOR UPDATE; SQLite ignores it. A no-op UPDATE of the row takes
a row lock on PostgreSQL and the database write lock on SQLite, so a read that follows it
in the same transaction cannot be overtaken by another writer.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session


def lock_row(session: Session, model, row_id: int) -> None:
    session.execute(update(model).where(model.id == row_id).values(id=model.id))
