"""The club leader's home: the clubs they lead, the plans returned to them, one page of their activities."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.models import Activity, ActivityStatus, Club, Role, User
from app.services.activities import counts_by_status
from app.services.errors import Forbidden
from app.services.lifecycle import club_not_running
from app.services.pages.common import PER_PAGE, Page, led_club_ids, paginate


@dataclass
class LeaderClub:
    club: Club
    returned: dict[int, str] = field(default_factory=dict)  # activity id → the advisor's reason
    returned_plans: list[Activity] = field(default_factory=list)
    problem: str | None = None  # why the club plans nothing now (suspended, dissolved, no advisor)


@dataclass
class LeaderHome:
    clubs: list[LeaderClub]
    activities: Page  # of every club they lead, newest first
    counts: dict[int, dict[str, int]]  # records by status of the activities on the page


def _returned_plans(session: Session, club_ids: list[int]) -> list[Activity]:
    """Drafts sent back by the advisor and not resubmitted since: pages.activity.pending_return
    in SQL, so the warnings are read without the club's whole history. The newest PER_PAGE: a
    leader answers a handful; the rest are in the list below with their draft badge."""
    return list(session.execute(
        select(Activity).where(
            Activity.club_id.in_(club_ids), Activity.status == ActivityStatus.DRAFT,
            Activity.return_reason.is_not(None), Activity.return_reason != "",
            Activity.returned_at.is_not(None),
            or_(Activity.submitted_at.is_(None), Activity.submitted_at <= Activity.returned_at),
        ).order_by(Activity.returned_at.desc(), Activity.id.desc()).limit(PER_PAGE)
    ).scalars()) if club_ids else []


def leader_home(session: Session, actor: User | None, page: int = 1) -> LeaderHome:
    if actor is None or actor.role != Role.LEADER:
        raise Forbidden(_("This page is for club leaders"))
    # A leader leads a club or two: their clubs are listed whole, their activities paged.
    clubs = list(session.execute(
        select(Club).where(Club.id.in_(led_club_ids(actor))).options(selectinload(Club.advisors))
        .order_by(Club.name)
    ).scalars())
    ids = [c.id for c in clubs]
    activities = paginate(session, select(Activity).options(joinedload(Activity.club)).where(
        Activity.club_id.in_(ids)).order_by(Activity.starts_at.desc(), Activity.id.desc()), page, PER_PAGE)
    returned = _returned_plans(session, ids)
    return LeaderHome(
        [LeaderClub(
            club,
            returned={a.id: a.return_reason for a in returned if a.club_id == club.id},
            returned_plans=[a for a in returned if a.club_id == club.id],
            problem=club_not_running(club),
        ) for club in clubs],
        activities,
        counts_by_status(session, [a.id for a in activities.items]),
    )
