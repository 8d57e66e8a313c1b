"""Club leaders: students appointed to the post for a term (换届), who step down for the next.

An appointment is a row of `club_leader`; stepping down ends it (`ended_at`), so the history
of who led which club when is kept, and so is every record of the students concerned. The
account's role follows the post: a student in post is a `leader` (the leader's pages and
home), and becomes a `student` again when they hold no post any more.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.models import STUDENT_ROLES, Club, Role, User, club_leader
from app.services.audit import append_event
from app.timeutil import term_of, utcnow


def posts_held(session: Session, user_id: int) -> int:
    """How many clubs this student leads now."""
    return len(session.execute(
        select(club_leader.c.id).where(club_leader.c.user_id == user_id, club_leader.c.ended_at.is_(None))
    ).all())


def set_leaders(
    session: Session, actor: User | None, club: Club, students: list[User], term: str | None = None
) -> tuple[list[User], list[User]]:
    """Make `students` the club's leaders in post; the others step down. Returns (appointed, stepped down).

    The caller has checked the actor's permission and that every one is a student; the caller
    commits. Leaders who stay keep their appointment unchanged.
    """
    term = term or term_of(utcnow())
    session.flush()
    current = dict(session.execute(
        select(club_leader.c.user_id, club_leader.c.id)
        .where(club_leader.c.club_id == club.id, club_leader.c.ended_at.is_(None))
    ).all())
    wanted = {s.id: s for s in students}
    appointed = [s for s in students if s.id not in current]
    stepping_down = [uid for uid in current if uid not in wanted]
    now = utcnow()
    if stepping_down:
        session.execute(
            update(club_leader)
            .where(club_leader.c.id.in_([current[uid] for uid in stepping_down]))
            .values(ended_at=now)
        )
    if appointed:
        session.execute(insert(club_leader), [
            {"club_id": club.id, "user_id": s.id, "term": term, "appointed_at": now,
             "appointed_by_id": actor.id if actor is not None else None}
            for s in appointed
        ])
    for student in appointed:
        if student.role in STUDENT_ROLES:
            student.role = Role.LEADER
    former = list(session.execute(select(User).where(User.id.in_(stepping_down))).scalars()) if stepping_down else []
    session.flush()
    for person in former:
        if person.role == Role.LEADER and posts_held(session, person.id) == 0:
            person.role = Role.STUDENT
    session.expire(club, ["leaders"])
    if appointed or former:
        append_event(session, actor, "club.appoint_leaders", "club", club.id, {
            "term": term,
            "appointed": [s.student_no for s in appointed],
            "stepped_down": [p.student_no for p in former],
        })
    return appointed, former
