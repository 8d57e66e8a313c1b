"""Column types shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware datetimes in and out, on SQLite (which keeps no zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Labelled(enum.StrEnum):
    """A StrEnum whose members carry their label, in the reader's language.

    A subclass sets `__titles__`: value → lazy_gettext text, or a (zh, en) pair of data
    (the transcript's vocabulary). `member.label` is the text; one place per label.
    """

    __titles__: dict

    @property
    def label(self) -> str:
        title = type(self).__titles__[self.value]
        if isinstance(title, tuple):
            from app.i18n import pick

            return pick(title)
        return str(title)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]
