"""Clubs: creation, advisors and leaders, the roster (members with a role and a term)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import STUDENT_ROLES, Club, ClubStatus, Membership, Role, Unit, User
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.leadership import Post, appointable_students, club_posts, set_leaders
from app.services.transactions import flush_unique
from app.timeutil import term_of, utcnow

DEFAULT_MEMBER_ROLE = "member"
MAX_MEMBER_ROLE = 32


def get_club(session: Session, club_id: int) -> Club:
    club = session.get(Club, club_id)
    if club is None:
        raise NotFound(_("No club #%(id)s", id=club_id))
    return club


def _people(
    session: Session, ids: list[int], roles: tuple[str, ...], field: str, errors: dict[str, list[str]]
) -> list[User]:
    ids = list(dict.fromkeys(ids))
    found = {u.id: u for u in session.execute(select(User).where(User.id.in_(ids))).scalars()}
    people = []
    for user_id in ids:
        user = found.get(user_id)
        if user is None:
            errors.setdefault(field, []).append(_("No user #%(id)s", id=user_id))
        elif user.role not in roles:
            errors.setdefault(field, []).append(
                _("User %(id)s is not a %(role)s", id=user_id, role=Role(roles[0]).label)
            )
        elif not user.active:
            errors.setdefault(field, []).append(_("User %(id)s is deactivated", id=user_id))
        else:
            people.append(user)
    return people


def _club_values(session: Session, values: dict) -> dict:
    errors: dict[str, list[str]] = {}
    name = (values.get("name") or "").strip()
    category = (values.get("category") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = [_("1–200 characters")]
    if not category or len(category) > 64:
        errors["category"] = [_("1–64 characters")]
    unit_id = values.get("unit_id")
    if unit_id is None:
        errors["unit_id"] = [_("Choose a unit")]
    elif session.get(Unit, unit_id) is None:
        errors["unit_id"] = [_("No unit #%(id)s", id=unit_id)]
    status = values.get("status") or ClubStatus.ACTIVE
    if status not in {s.value for s in ClubStatus}:
        errors["status"] = [_("One of active, suspended, dissolved")]
    founded_on = values.get("founded_on")
    if founded_on is not None and founded_on > date.today():
        errors["founded_on"] = [_("Cannot be in the future")]
    advisors = _people(session, values.get("advisor_ids") or [], (Role.ORGANIZER,), "advisor_ids", errors)
    # Any student may be appointed: leadership is a post, not a kind of account.
    leaders = _people(session, values.get("leader_ids") or [], STUDENT_ROLES, "leader_ids", errors)
    if errors:
        raise Invalid(errors)
    return {
        "name": name,
        "category": category,
        "unit_id": unit_id,
        "status": status,
        "charter": values.get("charter") or None,
        "founded_on": founded_on,
        "advisors": advisors,
        "leaders": leaders,
    }


def create_club(session: Session, actor: User | None, **values) -> Club:
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin creates clubs"))
    checked = _club_values(session, values)
    if session.execute(select(Club.id).where(Club.name == checked["name"])).first():
        raise Conflict(_("Club name taken"), {"name": [_("Taken")]})
    leaders = checked.pop("leaders")
    club = Club(**checked)
    session.add(club)
    session.flush()
    append_event(session, actor, "club.create", "club", club.id, _described(club))
    set_leaders(session, actor, club, leaders)
    flush_unique(session, _("Club name taken"), "name")
    return club


def _described(club: Club) -> dict:
    """A club's fields as the audit log keeps them."""
    return {
        "name": club.name, "category": club.category, "unit_id": club.unit_id, "status": club.status,
        "founded_on": club.founded_on, "advisor_ids": sorted(u.id for u in club.advisors),
        "charter_sha256": hashlib.sha256((club.charter or "").encode()).hexdigest()[:16],
    }


def club_for_editing(session: Session, actor: User | None, club_id: int) -> Club:
    club = get_club(session, club_id)
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin edits clubs"))
    return club


def update_club(session: Session, actor: User | None, club_id: int, **values) -> Club:
    """Save every field of a club (the admin's edit form); leaders who stay keep their appointment."""
    club = club_for_editing(session, actor, club_id)
    _save_club(session, actor, club, values, renew_leaders=False)
    return club


def _save_club(session: Session, actor: User | None, club: Club, values: dict, *, renew_leaders: bool) -> None:
    checked = _club_values(session, values)
    clash = session.execute(
        select(Club.id).where(Club.name == checked["name"], Club.id != club.id)
    ).first()
    if clash:
        raise Conflict(_("Club name taken"), {"name": [_("Taken")]})
    leaders = checked.pop("leaders")
    before = _described(club)
    for key, value in checked.items():
        setattr(club, key, value)
    after = _described(club)
    changed = {k: after[k] for k in after if after[k] != before[k]}
    if changed:
        append_event(session, actor, "club.update", "club", club.id, changed)
    set_leaders(session, actor, club, leaders, renew=renew_leaders)
    flush_unique(session, _("Club name taken"), "name")


def patch_club(session: Session, actor: User | None, club_id: int, **values) -> Club:
    """Change some of a club's fields; the others keep their values.

    `leader_ids`, when given, may name any active student: they become the club's leaders for
    the current term and the leaders in post who are not named step down (their records stay),
    as through `leadership.appoint_leaders`.
    """
    club = club_for_editing(session, actor, club_id)
    current = {
        "name": club.name, "category": club.category, "unit_id": club.unit_id, "status": club.status,
        "charter": club.charter, "founded_on": club.founded_on,
        "advisor_ids": [u.id for u in club.advisors], "leader_ids": [u.id for u in club.leaders],
    }
    if "leader_ids" in values:
        appointable_students(session, user_ids=values["leader_ids"] or [])  # 422 naming each one
    _save_club(session, actor, club, {**current, **values}, renew_leaders="leader_ids" in values)
    return club


def list_members(session: Session, actor: User | None, club_id: int, term: str | None = None) -> list[Membership]:
    club = get_club(session, club_id)
    if not permissions.can_view_roster(actor, club):
        raise Forbidden(_("Only the club's people see its roster"))
    query = select(Membership).where(Membership.club_id == club.id).options(joinedload(Membership.user))
    if term:
        query = query.where(Membership.term == term)
    return list(session.execute(query.order_by(Membership.term.desc(), Membership.id)).scalars())


def _roster_keeper(session: Session, actor: User | None, club_id: int) -> Club:
    club = get_club(session, club_id)
    if not permissions.can_keep_roster(actor, club):
        raise Forbidden(_("Only the admin, the club's leaders or its advisors keep its roster"))
    return club


def _member_role(role: str | None) -> str:
    role = (role or "").strip() or DEFAULT_MEMBER_ROLE
    if len(role) > MAX_MEMBER_ROLE:
        raise Invalid({"role": [_("At most %(n)s characters", n=MAX_MEMBER_ROLE)]})
    return role


def _member_term(term: str | None) -> str:
    from app.services.scorecard import parse_term

    if term is None or not str(term).strip():
        raise Invalid({"term": [_("Give the term, e.g. 2026-2027-1")]})
    return parse_term(term)


def _on_roster(session: Session, club_id: int, user_id: int, term: str, but: int | None = None) -> bool:
    query = select(Membership.id).where(
        Membership.club_id == club_id, Membership.user_id == user_id, Membership.term == term
    )
    if but is not None:
        query = query.where(Membership.id != but)
    return session.execute(query).first() is not None


def _member_data(member: Membership) -> dict:
    return {"club_id": member.club_id, "student_no": member.user.student_no, "term": member.term,
            "role": member.role}


def add_member(
    session: Session,
    actor: User | None,
    club_id: int,
    student_no: str,
    term: str,
    role: str = DEFAULT_MEMBER_ROLE,
    elected_on: date | None = None,
) -> Membership:
    """Put an active student on the club's roster for a term: the admin, its leaders or its advisors."""
    from app.services.accounts import student_by_number

    club = _roster_keeper(session, actor, club_id)
    errors: dict[str, list[str]] = {}
    student = None
    try:
        student = student_by_number(session, (student_no or "").strip())
    except NotFound as exc:
        errors["student_no"] = [exc.message]
    if student is not None and not student.active:
        errors["student_no"] = [_("The account of student number %(no)s is deactivated", no=student.student_no)]
    for check, value in ((_member_term, term), (_member_role, role)):
        try:
            check(value)
        except Invalid as exc:
            errors.update(exc.fields)
    if errors:
        raise Invalid(errors)
    term, role = _member_term(term), _member_role(role)
    if _on_roster(session, club.id, student.id, term):
        raise Conflict(_("Already on the roster for this term"),
                       {"student_no": [_("Already on the roster")]})
    member = Membership(
        club_id=club.id, user_id=student.id, term=term, role=role,
        elected_on=elected_on, joined_on=date.today(),
    )
    session.add(member)
    session.flush()
    append_event(session, actor, "membership.create", "membership", member.id,
                 {**_member_data(member), "elected_on": elected_on})
    flush_unique(session, _("Already on the roster"), "student_no")
    return member


def _membership(session: Session, club: Club, membership_id: int) -> Membership:
    member = session.get(Membership, membership_id)
    if member is None or member.club_id != club.id:
        raise NotFound(_("No member #%(id)s on this club's roster", id=membership_id))
    return member


def update_member(
    session: Session, actor: User | None, club_id: int, membership_id: int, *,
    role: str | None = None, term: str | None = None,
) -> Membership:
    """Change a member's role or term (what is not given stays)."""
    club = _roster_keeper(session, actor, club_id)
    member = _membership(session, club, membership_id)
    errors: dict[str, list[str]] = {}
    new_role, new_term = member.role, member.term
    try:
        if role is not None:
            new_role = _member_role(role)
    except Invalid as exc:
        errors.update(exc.fields)
    try:
        if term is not None:
            new_term = _member_term(term)
    except Invalid as exc:
        errors.update(exc.fields)
    if errors:
        raise Invalid(errors)
    if new_term != member.term and _on_roster(session, club.id, member.user_id, new_term, but=member.id):
        raise Conflict(_("Already on the roster for that term"),
                       {"term": [_("Already on that term's roster")]})
    before = {"role": member.role, "term": member.term}
    member.role, member.term = new_role, new_term
    changed = {k: v for k, v in (("role", new_role), ("term", new_term)) if before[k] != v}
    if changed:
        append_event(session, actor, "membership.update", "membership", member.id, {
            **_member_data(member), "before": {k: before[k] for k in changed},
        })
    flush_unique(session, _("Already on the roster for that term"), "term")
    return member


def remove_member(session: Session, actor: User | None, club_id: int, membership_id: int) -> None:
    """Take a member off the roster of a term; their participation records are not touched."""
    club = _roster_keeper(session, actor, club_id)
    member = _membership(session, club, membership_id)
    data = _member_data(member)
    session.delete(member)
    append_event(session, actor, "membership.delete", "membership", membership_id, data)
    session.flush()


def roster_terms(session: Session, club_id: int) -> list[str]:
    """Terms of the club's roster, plus the current one, newest first."""
    terms = set(session.execute(
        select(Membership.term).where(Membership.club_id == club_id).distinct()
    ).scalars())
    terms.add(term_of(utcnow()))
    return sorted(terms, reverse=True)


def member_counts(session: Session, club_ids: list[int]) -> dict[int, int]:
    """People on each club's roster (any term), in one grouped query."""
    if not club_ids:
        return {}
    rows = session.execute(
        select(Membership.club_id, func.count(func.distinct(Membership.user_id)))
        .where(Membership.club_id.in_(club_ids))
        .group_by(Membership.club_id)
    ).all()
    return {club_id: n for club_id, n in rows}


def list_clubs(session: Session, unit_id: int | None = None) -> list[Club]:
    query = select(Club).order_by(Club.name)
    if unit_id is not None:
        query = query.where(Club.unit_id == unit_id)
    return list(session.execute(query).scalars())


@dataclass
class ClubPeople:
    """The club page's people: leaders in post and past, and (for its keepers) the roster of a term."""

    term: str
    terms: list[str]
    leaders: list[Post]
    past_leaders: list[Post]
    roster: list[Membership] | None  # None: the viewer does not see the roster
    can_keep_roster: bool
    can_appoint: bool


def club_people(session: Session, actor: User | None, club: Club, term: str | None = None) -> ClubPeople:
    from app.services.scorecard import parse_term

    posts = club_posts(session, club.id, history=True)
    sees_roster = permissions.can_view_roster(actor, club)
    try:
        term = parse_term(term)
    except Invalid:
        term = term_of(utcnow())
    return ClubPeople(
        term=term,
        terms=sorted(set(roster_terms(session, club.id)) | {term}, reverse=True),
        leaders=[p for p in posts if p.in_post],
        past_leaders=[p for p in posts if not p.in_post],
        roster=list_members(session, actor, club.id, term) if sees_roster else None,
        can_keep_roster=permissions.can_keep_roster(actor, club),
        can_appoint=permissions.can_appoint_leaders(actor, club),
    )
