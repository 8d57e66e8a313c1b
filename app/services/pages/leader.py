"""The club leader's home: the clubs they lead and their activities."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Activity, Club, Role, User
from app.services.activities import counts_by_status
from app.services.errors import Forbidden
from app.services.lifecycle import club_not_running
from app.services.pages.activity import pending_return
from app.services.pages.common import led_club_ids


@dataclass
class LeaderClub:
    club: Club
    activities: list[Activity]
    counts: dict[int, dict[str, int]]
    returned: dict[int, str] = field(default_factory=dict)  # activity id → the advisor's reason
    problem: str | None = None  # why the club plans nothing now (suspended, dissolved, no advisor)


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
    by_club = {club.id: [a for a in activities if a.club_id == club.id] for club in clubs}
    return [
        LeaderClub(
            club, by_club[club.id], counts,
            returned={a.id: reason for a in by_club[club.id] if (reason := pending_return(a))},
            problem=club_not_running(club),
        )
        for club in clubs
    ]
