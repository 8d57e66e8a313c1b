"""An organizer's scope: the clubs they advise, the college they oversee (院团委), and the
students those reach. The queries behind `permissions.oversees` and the organizer's lists.

`permissions` stays pure (no database): the services ask here and pass the answer on.
"""

from __future__ import annotations

from sqlalchemy import Select, exists, literal, or_, select, union
from sqlalchemy.orm import Session

from app.models import Activity, Club, Membership, Participation, Role, User, club_advisor, club_leader


def overseen_club_ids(organizer: User) -> Select:
    """The ids of the clubs this organizer advises or whose college they oversee (a subquery)."""
    advised = select(club_advisor.c.club_id).where(club_advisor.c.user_id == organizer.id)
    if organizer.scope_unit_id is None:
        return advised
    return select(Club.id).where(or_(Club.id.in_(advised), Club.unit_id == organizer.scope_unit_id))


def student_in_scope(session: Session, organizer: User | None, student: User) -> bool:
    """Whether an organizer may read this student's record: a student of the college they oversee,
    or one on the roster of, leading, or with a participation in an activity of a club they
    advise or oversee (any term, any status)."""
    if organizer is None or organizer.role != Role.ORGANIZER:
        return False
    if organizer.scope_unit_id is not None and student.unit_id == organizer.scope_unit_id:
        return True
    clubs = overseen_club_ids(organizer)
    on_roster = exists().where(Membership.user_id == student.id, Membership.club_id.in_(clubs))
    led = exists().where(club_leader.c.user_id == student.id, club_leader.c.club_id.in_(clubs))
    took_part = exists().where(
        Participation.student_id == student.id,
        Participation.activity_id == Activity.id,
        Activity.club_id.in_(clubs),
    )
    return bool(session.execute(select(literal(True)).where(or_(on_roster, led, took_part))).scalar())


def scoped_student_ids(organizer: User) -> Select:
    """The ids of every student `student_in_scope` admits for this organizer, as one subquery
    (the organizer's lists of claims and appeals)."""
    clubs = overseen_club_ids(organizer)
    parts = [
        select(Membership.user_id).where(Membership.club_id.in_(clubs)),
        select(club_leader.c.user_id).where(club_leader.c.club_id.in_(clubs)),
        select(Participation.student_id).join(Activity, Activity.id == Participation.activity_id)
        .where(Activity.club_id.in_(clubs)),
    ]
    if organizer.scope_unit_id is not None:
        parts.append(select(User.id).where(User.unit_id == organizer.scope_unit_id))
    return select(union(*parts).subquery().c[0])
