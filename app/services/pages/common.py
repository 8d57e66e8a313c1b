"""What several pages share: one page of a longer list, and who sees a club from inside."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app import permissions
from app.models import LEADER_IN_POST, ActivityStatus, Club, User, club_leader
from app.services.errors import Forbidden
from app.services.scope import overseen_club_ids

PER_PAGE = 20
# The API's bound too (schemas.common.PageArgsSchema): past it an OFFSET overflows the database's integer.
MAX_PAGE = 1_000_000
# What anyone signed in sees of a club's activities; its insiders also see the rest.
PUBLIC_STATUSES = (ActivityStatus.APPROVED, ActivityStatus.COMPLETED)


@dataclass
class Page:
    """One page of a longer list."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_number(raw: object) -> int:
    """A page number as a visitor may type it ("x", 0, -1, 10**30): a whole number from 1 to MAX_PAGE."""
    try:
        number = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):
        return 1
    return max(1, min(MAX_PAGE, number))


def paginate(
    session: Session, query: Select, page: int, per_page: int, *, rows: bool = False, total: int | None = None,
    empty_past_end: bool = False,
) -> Page:
    """One page of `query` in SQL: a count, then LIMIT/OFFSET. A page past the end is the last page
    (a bookmark kept while the list shrank still shows something), or with `empty_past_end` no
    rows: the API's lists, which a client reads page after page until one comes back empty.
    `rows`: the query selects several columns (an entity and its counts); its items are tuples.
    `total`: the caller counted the rows already (with sums of its own, in the same statement)."""
    page = page_number(page or 1)
    per_page = max(1, min(200, int(per_page or PER_PAGE)))
    if total is None:
        counted = select(func.count()).select_from(query.order_by(None).subquery())
        total = session.execute(counted).scalar_one()
    if not empty_past_end:
        page = min(page, max(1, math.ceil(total / per_page)))
    if total <= (page - 1) * per_page:  # nothing to read: the count said so
        return Page([], 0, page, per_page)
    window = query.limit(per_page).offset((page - 1) * per_page)
    result = session.execute(window).unique()
    items = [tuple(row) for row in result.all()] if rows else list(result.scalars())
    return Page(items, total, page, per_page)


def require_admin(actor: User | None, message: str) -> None:
    if not permissions.can_manage_people(actor):
        raise Forbidden(message)


def insider(actor: User | None, club: Club) -> bool:
    """The admin, the club's advisors (and its college's organizer) and its leaders see its
    drafts and records."""
    return (
        permissions.is_admin(actor)
        or permissions.oversees(actor, club)
        or permissions.leads(actor, club)
    )


def advised_club_ids(actor: User) -> Select:
    """The clubs an organizer answers for: those they advise and those of the college they oversee."""
    return overseen_club_ids(actor)


def led_club_ids(actor: User) -> Select:
    return select(club_leader.c.club_id).where(club_leader.c.user_id == actor.id, LEADER_IN_POST)
