"""Clubs: creation, advisors and leaders, roster."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import permissions
from app.models import STUDENT_ROLES, Club, ClubStatus, Membership, Role, Unit, User
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.leadership import set_leaders
from app.services.transactions import commit_unique


def get_club(session: Session, club_id: int) -> Club:
    club = session.get(Club, club_id)
    if club is None:
        raise NotFound(f"没有编号为 {club_id} 的社团 No such club")
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
            errors.setdefault(field, []).append(f"没有编号为 {user_id} 的用户 No user {user_id}")
        elif user.role not in roles:
            errors.setdefault(field, []).append(
                f"用户 {user_id} 不是 {roles[0]} User {user_id} is not a {roles[0]}"
            )
        elif not user.active:
            errors.setdefault(field, []).append(f"用户 {user_id} 已停用 User {user_id} is deactivated")
        else:
            people.append(user)
    return people


def _club_values(session: Session, values: dict) -> dict:
    errors: dict[str, list[str]] = {}
    name = (values.get("name") or "").strip()
    category = (values.get("category") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = ["1–200 个字符 1–200 characters"]
    if not category or len(category) > 64:
        errors["category"] = ["1–64 个字符 1–64 characters"]
    unit_id = values.get("unit_id")
    if unit_id is None:
        errors["unit_id"] = ["请选择院系 Choose a unit"]
    elif session.get(Unit, unit_id) is None:
        errors["unit_id"] = [f"没有编号为 {unit_id} 的院系 No such unit"]
    status = values.get("status") or ClubStatus.ACTIVE
    if status not in {s.value for s in ClubStatus}:
        errors["status"] = ["one of active, suspended, dissolved"]
    founded_on = values.get("founded_on")
    if founded_on is not None and founded_on > date.today():
        errors["founded_on"] = ["不能晚于今天 Cannot be in the future"]
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
        raise Forbidden("只有校团委可以建立社团 Only the admin creates clubs")
    checked = _club_values(session, values)
    if session.execute(select(Club.id).where(Club.name == checked["name"])).first():
        raise Conflict("社团名称已存在 Club name taken", {"name": ["已被占用 Taken"]})
    leaders = checked.pop("leaders")
    club = Club(**checked)
    session.add(club)
    session.flush()
    set_leaders(session, actor, club, leaders)
    commit_unique(session, "社团名称已存在 Club name taken", "name")
    return club


def club_for_editing(session: Session, actor: User | None, club_id: int) -> Club:
    club = get_club(session, club_id)
    if not permissions.can_manage_people(actor):
        raise Forbidden("只有校团委可以修改社团 Only the admin edits clubs")
    return club


def update_club(session: Session, actor: User | None, club_id: int, **values) -> Club:
    club = get_club(session, club_id)
    if not permissions.can_manage_people(actor):
        raise Forbidden("只有校团委可以修改社团 Only the admin edits clubs")
    checked = _club_values(session, values)
    clash = session.execute(
        select(Club.id).where(Club.name == checked["name"], Club.id != club.id)
    ).first()
    if clash:
        raise Conflict("社团名称已存在 Club name taken", {"name": ["已被占用 Taken"]})
    leaders = checked.pop("leaders")
    for key, value in checked.items():
        setattr(club, key, value)
    set_leaders(session, actor, club, leaders)
    commit_unique(session, "社团名称已存在 Club name taken", "name")
    return club


def patch_club(session: Session, actor: User | None, club_id: int, **values) -> Club:
    """Change some of a club's fields; the others keep their values."""
    club = club_for_editing(session, actor, club_id)
    current = {
        "name": club.name, "category": club.category, "unit_id": club.unit_id, "status": club.status,
        "charter": club.charter, "founded_on": club.founded_on,
        "advisor_ids": [u.id for u in club.advisors], "leader_ids": [u.id for u in club.leaders],
    }
    return update_club(session, actor, club_id, **{**current, **values})


def list_members(session: Session, actor: User | None, club_id: int, term: str | None = None) -> list[Membership]:
    club = get_club(session, club_id)
    if not (permissions.is_admin(actor) or permissions.advises(actor, club) or permissions.leads(actor, club)):
        raise Forbidden("只有本社团的负责人、指导老师或校团委可以查看名册 Only the club's people see its roster")
    query = select(Membership).where(Membership.club_id == club.id)
    if term:
        query = query.where(Membership.term == term)
    return list(session.execute(query.order_by(Membership.term.desc(), Membership.id)).scalars())


def add_member(
    session: Session,
    actor: User | None,
    club_id: int,
    student_no: str,
    term: str,
    role: str = "member",
    elected_on: date | None = None,
) -> Membership:
    """Put a student on the club's roster for a term; admin or the club's leaders keep it."""
    from app.services.accounts import student_by_number

    club = get_club(session, club_id)
    if not (permissions.can_manage_people(actor) or permissions.leads(actor, club)):
        raise Forbidden("只有校团委或社团负责人可以维护名册 Only the admin or a leader keeps the roster")
    try:
        student = student_by_number(session, student_no)
    except NotFound as exc:
        raise Invalid({"student_no": [exc.message]}) from None
    exists = session.execute(
        select(Membership.id).where(
            Membership.club_id == club.id, Membership.user_id == student.id, Membership.term == term
        )
    ).first()
    if exists:
        raise Conflict("该学生已在本学期名册中 Already on the roster for this term")
    member = Membership(
        club_id=club.id, user_id=student.id, term=term, role=role or "member",
        elected_on=elected_on, joined_on=date.today(),
    )
    session.add(member)
    commit_unique(session, "该学生已在本学期名册中 Already on the roster", "student_no")
    return member


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
