"""Times are stored in UTC and shown in the school's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> datetime:
    return datetime.now(UTC)


def school_zone() -> ZoneInfo:
    name = current_app.config["TIMEZONE"] if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def to_local(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(school_zone())


def term_of(moment: datetime) -> str:
    """The term an activity belongs to: autumn from September (…-1), spring from February (…-2).

    January still belongs to the autumn semester that began the September before.
    """
    local = to_local(moment)
    assert local is not None
    year, month = local.year, local.month
    if month >= 9:
        return f"{year}-{year + 1}-1"
    if month == 1:
        return f"{year - 1}-{year}-1"
    return f"{year - 1}-{year}-2"


def term_bounds(code: str) -> tuple[date, date]:
    """First and last day of a term, for listing and filtering."""
    first, second, half = (int(p) for p in code.split("-"))
    if half == 1:
        return date(first, 9, 1), date(second, 1, 31)
    return date(second, 2, 1), date(second, 8, 31)
