"""A club's page: its activities (drafts only for insiders), members, leaders and roster."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import permissions
from app.models import Activity, Club, User
from app.services.clubs import ClubPeople, club_people, get_club, member_counts
from app.services.pages.common import PUBLIC_STATUSES, insider


@dataclass
class ClubPage:
    club: Club
    members: int
    activities: list[Activity]
    can_plan: bool
    is_insider: bool
    can_see_scorecard: bool = False
    people: ClubPeople | None = None


def club_page(session: Session, actor: User | None, club_id: int, term: str | None = None) -> ClubPage:
    """Any signed-in person sees a club; its drafts only its leaders, advisors and the admin.

    `people`: its leaders in post and past, and the roster of `term` for those who see it."""
    club = get_club(session, club_id)
    inside = insider(actor, club)
    query = select(Activity).where(Activity.club_id == club.id)
    if not inside:
        query = query.where(Activity.status.in_(PUBLIC_STATUSES))
    activities = list(session.execute(
        query.order_by(Activity.starts_at.desc(), Activity.id.desc())
    ).scalars())
    return ClubPage(
        club=club,
        members=member_counts(session, [club.id]).get(club.id, 0),
        activities=activities,
        can_plan=permissions.can_plan_activity(actor, club),
        can_see_scorecard=permissions.can_view_scorecard(actor, club),
        is_insider=inside,
        people=club_people(session, actor, club, term),
    )
