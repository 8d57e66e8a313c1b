"""The club leader's home: the clubs they lead and their activities."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Activity, Club, Role, User
from app.services.activities import counts_by_status
from app.services.errors import Forbidden
from app.services.pages.common import led_club_ids


@dataclass
class LeaderClub:
    club: Club
    activities: list[Activity]
    counts: dict[int, dict[str, int]]


def leader_home(session: Session, actor: User | None) -> list[LeaderClub]:
    if actor is None or actor.role != Role.LEADER:
        raise Forbidden(_("This page is for club leaders"))
    clubs = list(session.execute(
        select(Club).where(Club.id.in_(led_club_ids(actor))).order_by(Club.name)
    ).scalars())
    activities = list(session.execute(
        select(Activity).where(Activity.club_id.in_([c.id for c in clubs]))
        .order_by(Activity.starts_at.desc(), Activity.id.desc())
    ).scalars())
    counts = counts_by_status(session, [a.id for a in activities])
    return [
        LeaderClub(club, [a for a in activities if a.club_id == club.id], counts)
        for club in clubs
    ]
