"""Transactions on SQLite and PostgreSQL alike: serialising writers, unique clashes.

PostgreSQL honours SELECT … FOR UPDATE (a row lock, no new row version); SQLite ignores it,
so there a no-op UPDATE of the row takes the database write lock. Either way a read that
follows it in the same transaction cannot be overtaken by another writer. The UPDATE sets a
plain column, never the key: SQLite re-checks every foreign key pointing at a row whose key
is assigned, even to itself (for a user, a scan of each unindexed referencing column).
"""

from __future__ import annotations

import functools

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session


def lock_row(session: Session, model, row_id: int) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(model.id).where(model.id == row_id).with_for_update())
        return
    column = _plain_column(model.__table__)
    session.execute(update(model).where(model.id == row_id).values({column.name: column}))


def locked(session: Session, model, row_id: int):
    """The row, locked as `lock_row` locks it and read fresh after the lock (None if it is gone):
    on PostgreSQL one SELECT … FOR UPDATE."""
    query = select(model).where(model.id == row_id).execution_options(populate_existing=True)
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(query.with_for_update()).scalar_one_or_none()
    lock_row(session, model, row_id)
    return session.execute(query).scalar_one_or_none()


@functools.cache
def _plain_column(table):
    """A column no key or foreign key involves (assigning it to itself checks nothing)."""
    referenced = {fk.column for t in table.metadata.tables.values() for fk in t.foreign_keys}
    for column in table.columns:
        if not (column.primary_key or column.foreign_keys or column in referenced or column.unique):
            return column
    raise TypeError(f"{table.name} has no plain column to lock its rows with")


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
