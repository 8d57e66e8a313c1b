"""Units and users: creating, finding, listing and editing them, and the account lifecycle
(deactivate / reactivate, role changes). Signing in is services.auth; reset links services.password_reset."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from app import permissions
from app.models import LEADER_IN_POST, PERSON_ROLES, STUDENT_ROLES, Club, Role, SchoolClass, Unit, User, club_leader
from app.services import auth, password_reset
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.leadership import posts_held
from app.services.passwords import hash_password, password_problems
from app.services.transactions import flush_unique

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
STUDENT_NO_RE = re.compile(r"^[A-Za-z0-9-]{4,32}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PER_PAGE = 200


def create_unit(session: Session, actor: User | None, code: str, name: str) -> Unit:
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin manages units"))
    code, name = code.strip(), name.strip()
    errors: dict[str, list[str]] = {}
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
        errors["code"] = [_("1–32 letters, digits, - or _")]
    if not name:
        errors["name"] = [_("Required")]
    if errors:
        raise Invalid(errors)
    if session.execute(select(Unit.id).where(Unit.code == code)).first():
        raise Conflict(_("Unit code %(code)s already exists", code=code), {"code": [_("Taken")]})
    unit = Unit(code=code, name=name)
    session.add(unit)
    flush_unique(session, _("Unit code already exists"), "code")
    append_event(session, actor, "unit.create", "unit", unit.id, {"code": code, "name": name})
    return unit


def create_user(
    session: Session,
    actor: User | None,
    *,
    username: str,
    password: str | None = None,
    display_name: str,
    role: str,
    student_no: str | None = None,
    unit_id: int | None = None,
    class_id: int | None = None,
    scope_unit_id: int | None = None,
    email: str | None = None,
) -> User:
    """One account. Without a password none works until its owner sets one by a link (or SSO)."""
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin manages people"))
    user = User(**check_user_values(
        session, username=username, password=password, display_name=display_name, role=role,
        student_no=student_no, unit_id=unit_id, class_id=class_id, scope_unit_id=scope_unit_id, email=email,
    ))
    session.add(user)
    session.flush()
    append_event(session, actor, "user.create", "user", user.id, {
        "username": user.username, "role": user.role, "student_no": user.student_no,
        "unit_id": user.unit_id, "class_id": user.class_id, "scope_unit_id": user.scope_unit_id,
        "has_password": user.password_hash is not None,
    })
    flush_unique(session, _("Username or student number taken"), "username")
    return user


def _email_problem(email: str | None) -> list[str]:
    if email is not None and (len(email) > 200 or not EMAIL_RE.match(email)):
        return [_("A valid e-mail address, e.g. name@school.edu.cn")]
    return []


def _place_problems(
    session: Session, role: str, unit_id: int | None, class_id: int | None, scope_unit_id: int | None,
) -> dict[str, list[str]]:
    """Unit, class and college scope: each exists, the class is of the unit, a scope only for organizers."""
    errors: dict[str, list[str]] = {}
    if unit_id is not None and session.get(Unit, unit_id) is None:
        errors["unit_id"] = [_("No unit #%(id)s", id=unit_id)]
    if class_id is not None:
        school_class = session.get(SchoolClass, class_id)
        if school_class is None:
            errors["class_id"] = [_("No class #%(id)s", id=class_id)]
        elif school_class.unit_id != unit_id and "unit_id" not in errors:
            errors["class_id"] = [_("The class must belong to the user's unit")]
    if scope_unit_id is not None:
        if role != Role.ORGANIZER:
            errors["scope_unit_id"] = [_("Only an organizer oversees a college")]
        elif session.get(Unit, scope_unit_id) is None:
            errors["scope_unit_id"] = [_("No unit #%(id)s", id=scope_unit_id)]
    return errors


def check_user_values(session: Session, **values) -> dict:
    """Validate one user's values against the rules and the database; raise Invalid/Conflict."""
    errors: dict[str, list[str]] = {}
    username = (values["username"] or "").strip()
    student_no = (values.get("student_no") or "").strip() or None
    display_name = (values["display_name"] or "").strip()
    role = values["role"]
    email = (values.get("email") or "").strip() or None
    if not USERNAME_RE.match(username):
        errors["username"] = [_("3–64 letters, digits or . _ @ -")]
    password = values.get("password") or None
    if password is not None:
        # No password is fine: the owner activates the account by a one-time link or SSO.
        problems = password_problems(password, personal=(username, display_name, student_no))
        if problems:
            errors["password"] = problems
    if not display_name or len(display_name) > 200:
        errors["display_name"] = [_("1–200 characters")]
    if role not in {r.value for r in PERSON_ROLES}:
        errors["role"] = [_("Choose a role: admin, organizer, leader or student")]
    if role in (Role.STUDENT, Role.LEADER) and not student_no:
        errors["student_no"] = [_("A student needs a student number")]
    if student_no and not STUDENT_NO_RE.match(student_no):
        errors["student_no"] = [_("4–32 letters, digits or -")]
    if problem := _email_problem(email):
        errors["email"] = problem
    unit_id, class_id = values.get("unit_id"), values.get("class_id")
    scope_unit_id = values.get("scope_unit_id")
    errors.update(_place_problems(session, role, unit_id, class_id, scope_unit_id))
    if errors:
        raise Invalid(errors)
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict(_("Username taken"), {"username": [_("Taken")]})
    if student_no and session.execute(select(User.id).where(User.student_no == student_no)).first():
        raise Conflict(_("Student number taken"), {"student_no": [_("Taken")]})
    return {
        "username": username,
        "password_hash": hash_password(password) if password is not None else None,
        "display_name": display_name,
        "role": role,
        "student_no": student_no,
        "unit_id": unit_id,
        "class_id": class_id,
        "scope_unit_id": scope_unit_id,
        "email": email,
    }


def student_by_number(session: Session, student_no: str, *, options: tuple = ()) -> User:
    """The student with this number (``options``: loader options, e.g. their unit and class at once)."""
    user = session.execute(select(User).where(User.student_no == student_no).options(*options)).scalar_one_or_none()
    if user is None or not user.is_student:
        raise NotFound(_("No student with number %(no)s", no=student_no))
    return user


def find_unit(session: Session, code: str) -> Unit:
    unit = session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if unit is None:
        raise NotFound(_("No unit with code %(code)s", code=code))
    return unit


def find_class(session: Session, name: str, unit_id: int | None = None) -> SchoolClass:
    """A class by name: within a unit, or in the whole school when the name is unique."""
    query = select(SchoolClass).where(SchoolClass.name == name)
    if unit_id is not None:
        query = query.where(SchoolClass.unit_id == unit_id)
    found = list(session.execute(query.limit(2)).scalars())
    if not found:
        raise NotFound(_("No class named %(name)s", name=name))
    if len(found) > 1:
        raise Invalid({"class_id": [_("Several units have a class of this name: give the unit too")]})
    return found[0]


def find_user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(_("No user %(username)s", username=username))
    return user


def list_units(session: Session) -> list[Unit]:
    return list(session.execute(select(Unit).order_by(Unit.code)).scalars())


# ---- the account lifecycle: edit, role, deactivate / reactivate ----------------------------

EDITABLE = ("display_name", "email", "role", "unit_id", "class_id", "scope_unit_id", "active")
LEADER_BY_HAND = _l("Leaders are appointed on the club")


def get_user(session: Session, actor: User | None, user_id: int) -> User:
    """One account, for the admin who manages it."""
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin manages people"))
    user = session.get(User, user_id)
    if user is None or user.role == Role.SYSTEM:  # the command line's account is no one to manage
        raise NotFound(_("No user #%(id)s", id=user_id))
    return user


def clubs_led(session: Session, actor: User | None, user_id: int) -> list[Club]:
    """The clubs this person leads now (their role changes only after they step down there)."""
    get_user(session, actor, user_id)
    return list(session.execute(
        select(Club).join(club_leader, club_leader.c.club_id == Club.id)
        .where(club_leader.c.user_id == user_id, LEADER_IN_POST).order_by(Club.name)
    ).scalars())


def _other_active_admins(session: Session, user: User) -> int:
    """Active admins but this one. Every active admin row is locked in id order (PostgreSQL), so
    two admins demoting each other at once queue, and the second sees the first's change."""
    ids = session.execute(
        select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id).with_for_update()
    ).scalars()
    return sum(1 for admin_id in ids if admin_id != user.id)


def update_user(session: Session, actor: User | None, user_id: int, **values) -> User:
    """Change an account (PATCH: only the given keys). Deactivating ends its sign-ins at once.

    Leadership is a post on a club (services.leadership): the role `leader` is never set here,
    and a leader in post is stepped down on the club before their role can change.
    """
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise TypeError(f"update_user() got unexpected keys {sorted(unknown)}")
    user = get_user(session, actor, user_id)
    old = {key: getattr(user, key) for key in EDITABLE}
    new = dict(old)
    if "display_name" in values:
        new["display_name"] = (values["display_name"] or "").strip()
    if "email" in values:
        new["email"] = (values["email"] or "").strip() or None
    for key in ("role", "unit_id", "class_id", "scope_unit_id"):
        if key in values:
            new[key] = values[key]
    if "active" in values:
        new["active"] = bool(values["active"])
    role_changes = new["role"] != old["role"]
    if role_changes and old["role"] == Role.ORGANIZER and "scope_unit_id" not in values:
        new["scope_unit_id"] = None  # a college's scope goes with the organizer's role (audited below)

    errors: dict[str, list[str]] = {}
    if not new["display_name"] or len(new["display_name"]) > 200:
        errors["display_name"] = [_("1–200 characters")]
    if problem := _email_problem(new["email"]):
        errors["email"] = problem
    if role_changes:
        if new["role"] not in {r.value for r in PERSON_ROLES}:
            errors["role"] = [_("Choose a role: admin, organizer or student")]
        elif new["role"] == Role.LEADER:
            errors["role"] = [str(LEADER_BY_HAND)]
        elif new["role"] in STUDENT_ROLES and not user.student_no:
            errors["role"] = [_("A student needs a student number; this account has none")]
    if "role" not in errors:
        errors.update(_place_problems(session, new["role"], new["unit_id"], new["class_id"], new["scope_unit_id"]))
    if errors:
        by_hand = str(LEADER_BY_HAND)
        raise Invalid(errors, by_hand if errors.get("role") == [by_hand] else _("Invalid input"))

    demoted = role_changes and old["role"] == Role.ADMIN
    deactivated = old["active"] and not new["active"]
    if role_changes and old["role"] == Role.LEADER and posts_held(session, user.id):
        raise Conflict(_("This student leads a club now: step them down on the club first"), {"role": [
                           _("Step them down on the club first")]})
    if actor is not None and actor.id == user.id and (demoted or deactivated):
        raise Conflict(_("You cannot deactivate or demote yourself"),
                       {"active" if deactivated else "role": [_("Not on your own account")]})
    if old["role"] == Role.ADMIN and old["active"] and (demoted or deactivated) \
            and _other_active_admins(session, user) == 0:
        raise Conflict(_("This is the last active admin: it cannot be deactivated or demoted"),
                       {"active" if deactivated else "role": [_("Keep at least one admin")]})

    changes = {key: [old[key], new[key]] for key in EDITABLE if new[key] != old[key]}
    if not changes:
        return user
    for key, (_old, value) in changes.items():
        setattr(user, key, value)
    details = {key: change for key, change in changes.items() if key not in ("role", "active")}
    if details:
        append_event(session, actor, "user.update", "user", user.id, {"changes": details})
    if "role" in changes:
        append_event(session, actor, "user.role_change", "user", user.id,
                     {"from": old["role"], "to": new["role"]})
    if deactivated:
        ended = auth.end_sign_ins(session, user.id)
        password_reset.end_open_links(session, [user.id])  # reactivating restores neither
        append_event(session, actor, "user.deactivate", "user", user.id, {"ended_sign_ins": ended})
    elif "active" in changes:
        append_event(session, actor, "user.reactivate", "user", user.id)
    session.flush()
    return user


# ---- finding people --------------------------------------------------------------------------

def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def list_users(
    session: Session, actor: User | None, page: int = 1, per_page: int = 50, role: str | None = None,
    unit_id: int | None = None, class_id: int | None = None, q: str | None = None, active: bool | None = None,
) -> tuple[list[User], int]:
    """One page of people, newest last, and how many match: by role, unit, class, active, and
    `q` — part of the name, username or student number (any case)."""
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin lists people"))
    page = max(1, int(page or 1))
    per_page = max(1, min(MAX_PER_PAGE, int(per_page or 50)))
    query = select(User).where(User.role != Role.SYSTEM)
    if role:
        query = query.where(User.role == role)
    if unit_id is not None:
        query = query.where(User.unit_id == unit_id)
    if class_id is not None:
        query = query.where(User.class_id == class_id)
    if active is not None:
        query = query.where(User.active.is_(bool(active)))
    q = (q or "").strip()
    if q:
        like = _like(q)
        query = query.where(or_(
            User.display_name.ilike(like, escape="\\"), User.username.ilike(like, escape="\\"),
            User.student_no.ilike(like, escape="\\"),
        ))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    users = session.execute(
        query.options(joinedload(User.unit), joinedload(User.school_class))
        .order_by(User.id).limit(per_page).offset((page - 1) * per_page)
    ).scalars()
    return list(users), total


def class_choices(session: Session, actor: User | None, unit_id: int | None = None) -> list[tuple[int, str, int]]:
    """(id, "name（cohort 级）", unit_id) of the classes, of one unit or all, for the people pages."""
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin manages people"))
    query = select(SchoolClass).order_by(SchoolClass.unit_id, SchoolClass.cohort.desc(), SchoolClass.name)
    if unit_id is not None:
        query = query.where(SchoolClass.unit_id == unit_id)
    return [(c.id, _("%(name)s (class of %(cohort)s)", name=c.name, cohort=c.cohort), c.unit_id)
            for c in session.execute(query).scalars()]


def remember_language(user: User, language: str) -> None:
    """The account reads the site in `language` from now on (a preference, not the record)."""
    user.locale = language
