"""Club leaders: students appointed to the post for a term (换届), who step down for the next.

An appointment is a row of `club_leader`; stepping down ends it (`ended_at`), so the history
of who led which club when is kept, and so is every record of the students concerned. The
account's role follows the post: a student in post is a `leader` (the leader's pages and
home), and becomes a `student` again when they hold no post any more.

`appoint_leaders` is the one way in for people (the admin, the club's advisors); the club
edit (`services.clubs`) shares `set_leaders` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, aliased

from app import permissions
from app.models import STUDENT_ROLES, Club, ClubStatus, Role, User, club_leader
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.transactions import flush_unique, lock_row
from app.timeutil import term_of, utcnow

MAX_LEADERS = 20
# What a club not active means for an appointment, one message per status.
_ADMIN_ONLY = {
    ClubStatus.SUSPENDED: _l("The club is suspended: only the admin appoints its leaders"),
    ClubStatus.DISSOLVED: _l("The club is dissolved: only the admin appoints its leaders"),
}
_NO_ACTIVITY = {
    ClubStatus.SUSPENDED: _l("The club is suspended: its leaders are appointed, "
                             "but it runs no activity until it is active"),
    ClubStatus.DISSOLVED: _l("The club is dissolved: its leaders are appointed, "
                             "but it runs no activity until it is active"),
}


def posts_held(session: Session, user_id: int) -> int:
    """How many clubs this student leads now."""
    return len(session.execute(
        select(club_leader.c.id).where(club_leader.c.user_id == user_id, club_leader.c.ended_at.is_(None))
    ).all())


def set_leaders(
    session: Session, actor: User | None, club: Club, students: list[User], term: str | None = None,
    *, renew: bool = False,
) -> tuple[list[User], list[User]]:
    """Make `students` the club's leaders in post; the others step down. Returns (appointed, stepped down).

    The caller has checked the actor's permission and that every one is a student; the caller
    commits. Leaders who stay keep their appointment unchanged, unless `renew` (a 换届 for
    `term`): then one appointed for another term is appointed again for this one (the old
    appointment ends, so the history shows both terms).
    """
    term = term or term_of(utcnow())
    session.flush()
    current = {uid: (row_id, row_term) for uid, row_id, row_term in session.execute(
        select(club_leader.c.user_id, club_leader.c.id, club_leader.c.term)
        .where(club_leader.c.club_id == club.id, club_leader.c.ended_at.is_(None))
    ).all()}
    wanted = {s.id: s for s in students}
    appointed = [s for s in students if s.id not in current]
    renewed = [s for s in students if renew and s.id in current and current[s.id][1] != term]
    stepping_down = [uid for uid in current if uid not in wanted]
    now = utcnow()
    ending = [current[uid][0] for uid in stepping_down] + [current[s.id][0] for s in renewed]
    if ending:
        session.execute(update(club_leader).where(club_leader.c.id.in_(ending)).values(ended_at=now))
    if appointed or renewed:
        session.execute(insert(club_leader), [
            {"club_id": club.id, "user_id": s.id, "term": term, "appointed_at": now,
             "appointed_by_id": actor.id if actor is not None else None}
            for s in appointed + renewed
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
    if appointed or former or renewed:
        data = {
            "term": term,
            "appointed": [s.student_no for s in appointed],
            "stepped_down": [p.student_no for p in former],
        }
        if renewed:
            data["continued"] = [s.student_no for s in renewed]
        if club.status != ClubStatus.ACTIVE:
            data["club_status"] = club.status
        append_event(session, actor, "club.appoint_leaders", "club", club.id, data)
    return appointed, former


# --------------------------------------------------------------------------- appointing


@dataclass
class Appointment:
    """What an appointment did (or, previewed, would do)."""

    club: Club
    term: str
    leaders: list[User]          # in post afterwards, in the order given
    appointed: list[User]        # new in post
    continuing: list[User]       # were in post and stay
    stepping_down: list[User]    # were in post and step down
    warnings: list[str] = field(default_factory=list)


def _club(session: Session, club_id: int) -> Club:
    from app.services.clubs import get_club  # clubs calls set_leaders: imported here, not at the top

    return get_club(session, club_id)


def appointable_students(
    session: Session, *, student_nos: list[str] | None = None, user_ids: list[int] | None = None,
) -> list[User]:
    """The active students named by number (field `student_nos`) or by id (field `leader_ids`).

    Anyone else (unknown, deactivated, not a student) is a 422 naming the field and each one.
    """
    errors: list[str] = []
    people: list[User] = []
    by_id = user_ids is not None
    if by_id:
        field_name = "leader_ids"
        keys = list(dict.fromkeys(user_ids))
        found = {u.id: u for u in session.execute(select(User).where(User.id.in_(keys))).scalars()} if keys else {}
    else:
        field_name = "student_nos"
        keys = list(dict.fromkeys(n.strip() for n in (student_nos or []) if n and n.strip()))
        found = {u.student_no: u for u in session.execute(
            select(User).where(User.student_no.in_(keys))).scalars()} if keys else {}
    if len(keys) > MAX_LEADERS:
        raise Invalid({field_name: [_("At most %(n)s leaders", n=MAX_LEADERS)]})
    for key in keys:
        user = found.get(key)
        if user is None:
            errors.append(_("User %(key)s: no such student", key=key) if by_id
                          else _("Student number %(key)s: no such student", key=key))
        elif user.role not in STUDENT_ROLES:
            errors.append(_("User %(key)s: not a student; only students lead clubs", key=key) if by_id
                          else _("Student number %(key)s: not a student; only students lead clubs", key=key))
        elif not user.active:
            errors.append(_("User %(key)s: the account is deactivated", key=key) if by_id
                          else _("Student number %(key)s: the account is deactivated", key=key))
        else:
            people.append(user)
    if errors:
        raise Invalid({field_name: errors})
    return people


def _plan(
    session: Session, actor: User | None, club_id: int, student_nos: list[str] | None,
    user_ids: list[int] | None, term: str | None,
) -> Appointment:
    """Check everything an appointment needs and say what it would do; writes nothing."""
    from app.services.scorecard import parse_term

    club = _club(session, club_id)
    if not permissions.can_appoint_leaders(actor, club):
        raise Forbidden(_("Only the admin or the club's advisors appoint its leaders"))
    warnings = []
    if club.status != ClubStatus.ACTIVE:
        status = ClubStatus(club.status)
        if not permissions.is_admin(actor):
            raise Conflict(str(_ADMIN_ONLY[status]))
        warnings.append(str(_NO_ACTIVITY[status]))
    term = parse_term(term)
    students = appointable_students(session, student_nos=student_nos, user_ids=user_ids)
    before = list(club.leaders)
    wanted = {s.id for s in students}
    was = {u.id for u in before}
    return Appointment(
        club=club, term=term, leaders=students,
        appointed=[s for s in students if s.id not in was],
        continuing=[s for s in students if s.id in was],
        stepping_down=[u for u in before if u.id not in wanted],
        warnings=warnings,
    )


def preview_appointment(
    session: Session, actor: User | None, club_id: int, student_nos: list[str] | None = None, *,
    user_ids: list[int] | None = None, term: str | None = None,
) -> Appointment:
    """What `appoint_leaders` would do, for the page to show before it is confirmed."""
    return _plan(session, actor, club_id, student_nos, user_ids, term)


def appoint_leaders(
    session: Session, actor: User | None, club_id: int, student_nos: list[str] | None = None, *,
    user_ids: list[int] | None = None, term: str | None = None,
) -> Appointment:
    """Appoint these students the club's leaders for `term` (default: the current one); the
    leaders in post who are not named step down, keeping every record. The admin, or an
    organizer advising the club. Any active student may be appointed; an empty list leaves
    the club without leaders."""
    plan = _plan(session, actor, club_id, student_nos, user_ids, term)
    lock_row(session, Club, plan.club.id)  # two appointments at once: one after the other
    session.expire(plan.club, ["leaders"])
    appointed, former = set_leaders(session, actor, plan.club, plan.leaders, plan.term, renew=True)
    new = {u.id for u in appointed}
    plan.appointed, plan.stepping_down = appointed, former
    plan.continuing = [u for u in plan.leaders if u.id not in new]
    flush_unique(session, _("The leaders changed meanwhile; reload and try again"),
                  "student_nos" if user_ids is None else "leader_ids")
    return plan


# --------------------------------------------------------------------------- history


@dataclass
class Post:
    """One appointment: who, for which term, when it began and (if it did) ended."""

    id: int
    club_id: int
    user: User
    term: str
    appointed_at: datetime
    appointed_by: User | None
    ended_at: datetime | None

    @property
    def in_post(self) -> bool:
        return self.ended_at is None


def club_posts(session: Session, club_id: int, *, history: bool = False) -> list[Post]:
    """The club's leaders in post (and, with history, every past appointment), newest first.

    Who leads a club is public within the school (like the club page), so any signed-in
    person may ask."""
    club = _club(session, club_id)
    student, by = aliased(User), aliased(User)
    c = club_leader.c
    query = (
        select(c.id, c.term, c.appointed_at, c.ended_at, student, by)
        .join(student, student.id == c.user_id)
        .outerjoin(by, by.id == c.appointed_by_id)
        .where(c.club_id == club.id)
        .order_by(c.ended_at.is_not(None), c.appointed_at.desc(), c.id.desc())
    )
    if not history:
        query = query.where(c.ended_at.is_(None))
    return [
        Post(id=row_id, club_id=club.id, user=user, term=term, appointed_at=appointed_at,
             appointed_by=appointer, ended_at=ended_at)
        for row_id, term, appointed_at, ended_at, user, appointer in session.execute(query).all()
    ]
