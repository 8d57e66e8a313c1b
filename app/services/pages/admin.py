"""The admin's pages: the home's counts and queues, the units and clubs lists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.models import PERSON_ROLES, Activity, ActivityStatus, Club, Role, Unit, User
from app.services.clubs import member_counts
from app.services.pages.common import PER_PAGE, Page, paginate, require_admin
from app.services.pages.organizer import SignoffPage, approval_queue, signoff_queue


@dataclass
class AdminOverview:
    units: int
    clubs: int
    people: dict[str, int]
    activities: dict[str, int]
    approvals: Page
    signoff: SignoffPage


# The lists of the page, each paged on its own (?approvals=2, ?signoff=3).
LISTS = ("approvals", "signoff")


def admin_overview(session: Session, actor: User | None, pages: Mapping[str, int] | None = None) -> AdminOverview:
    """The office's counts and one page of each queue (the queues run to thousands at a big school)."""
    require_admin(actor, _("Only the Youth League office sees the admin home page"))
    pages = pages or {}
    people = {r.value: 0 for r in PERSON_ROLES}
    people.update(dict(session.execute(
        select(User.role, func.count()).where(User.role != Role.SYSTEM).group_by(User.role)).all()))
    activities = {s.value: 0 for s in ActivityStatus}
    activities.update(
        dict(session.execute(select(Activity.status, func.count()).group_by(Activity.status)).all())
    )
    return AdminOverview(
        units=session.execute(select(func.count(Unit.id))).scalar_one(),
        clubs=session.execute(select(func.count(Club.id))).scalar_one(),
        people=people,
        activities=activities,
        approvals=approval_queue(session, None, pages.get("approvals", 1)),
        signoff=signoff_queue(session, None, pages.get("signoff", 1)),
    )


@dataclass
class UnitRow:
    unit: Unit
    clubs: int
    people: int


def units_page(
    session: Session, actor: User | None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    require_admin(actor, _("Only the Youth League office manages units"))
    result = paginate(session, select(Unit).order_by(Unit.code), page, per_page)
    ids = [u.id for u in result.items]
    clubs = dict(session.execute(
        select(Club.unit_id, func.count()).where(Club.unit_id.in_(ids)).group_by(Club.unit_id)
    ).all()) if ids else {}
    people = dict(session.execute(
        select(User.unit_id, func.count()).where(User.unit_id.in_(ids)).group_by(User.unit_id)
    ).all()) if ids else {}
    result.items = [UnitRow(u, clubs.get(u.id, 0), people.get(u.id, 0)) for u in result.items]
    return result


@dataclass
class ClubRow:
    club: Club
    members: int
    activities: int = 0


def clubs_page(
    session: Session, actor: User | None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    require_admin(actor, _("Only the Youth League office manages clubs"))
    query = select(Club).options(
        joinedload(Club.unit), selectinload(Club.advisors), selectinload(Club.leaders)
    ).order_by(Club.name)
    result = paginate(session, query, page, per_page)
    ids = [c.id for c in result.items]
    members = member_counts(session, ids)
    activities = dict(session.execute(
        select(Activity.club_id, func.count()).where(Activity.club_id.in_(ids))
        .group_by(Activity.club_id)
    ).all()) if ids else {}
    result.items = [ClubRow(c, members.get(c.id, 0), activities.get(c.id, 0)) for c in result.items]
    return result
