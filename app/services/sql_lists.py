"""A column matched against a long list of values in one bound parameter.

A plain IN list binds one parameter per value: a file of 10,000 student numbers makes a
statement of 10,000 placeholders (psycopg spends seconds splitting it) and nears the drivers'
limits around 30,000. An array on PostgreSQL and a JSON array on SQLite keep it to one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import String, any_, bindparam, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement


def one_of(session: Session, column, values: Iterable[str], name: str = "wanted") -> ColumnElement[bool]:
    """`column` is one of `values` (strings), as one bound parameter."""
    wanted = sorted(set(values))
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == any_(bindparam(name, wanted, type_=ARRAY(String)))
    listed = select(literal_column("value")).select_from(
        func.json_each(bindparam(name, json.dumps(wanted, ensure_ascii=False))))
    return column.in_(listed)
