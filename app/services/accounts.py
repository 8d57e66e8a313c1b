"""Units and users: creating, finding and listing them (signing in is services.auth)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import permissions
from app.models import Role, Unit, User
from app.services.errors import Conflict, Forbidden, Invalid, NotFound
from app.services.passwords import hash_password, password_problems
from app.services.transactions import commit_unique

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
STUDENT_NO_RE = re.compile(r"^[A-Za-z0-9-]{4,32}$")


def create_unit(session: Session, actor: User | None, code: str, name: str) -> Unit:
    if not permissions.can_manage_people(actor):
        raise Forbidden("只有校团委可以管理院系 Only the admin manages units")
    code, name = code.strip(), name.strip()
    errors: dict[str, list[str]] = {}
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
        errors["code"] = ["1–32 个字母、数字、- 或 _ 1–32 letters, digits, - or _"]
    if not name:
        errors["name"] = ["不能为空 Required"]
    if errors:
        raise Invalid(errors)
    if session.execute(select(Unit.id).where(Unit.code == code)).first():
        raise Conflict(f"院系代码 {code} 已存在 Unit code already exists", {"code": ["已被占用 Taken"]})
    unit = Unit(code=code, name=name)
    session.add(unit)
    commit_unique(session, "院系代码已存在 Unit code already exists", "code")
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
    email: str | None = None,
) -> User:
    if not permissions.can_manage_people(actor):
        raise Forbidden("只有校团委可以管理用户 Only the admin manages people")
    user = User(**check_user_values(
        session, username=username, password=password, display_name=display_name, role=role,
        student_no=student_no, unit_id=unit_id, email=email,
    ))
    session.add(user)
    commit_unique(session, "用户名或学号已存在 Username or student number taken", "username")
    return user


def check_user_values(session: Session, **values) -> dict:
    """Validate one user's values against the rules and the database; raise Invalid/Conflict."""
    errors: dict[str, list[str]] = {}
    username = (values["username"] or "").strip()
    student_no = (values.get("student_no") or "").strip() or None
    display_name = (values["display_name"] or "").strip()
    role = values["role"]
    if not USERNAME_RE.match(username):
        errors["username"] = ["3–64 个字母、数字或 . _ @ - 3–64 letters, digits or . _ @ -"]
    password = values.get("password") or None
    if password is not None:
        # No password is fine: the owner activates the account by a one-time link or SSO.
        problems = password_problems(password, personal=(username, display_name, student_no))
        if problems:
            errors["password"] = problems
    if not display_name or len(display_name) > 200:
        errors["display_name"] = ["1–200 个字符 1–200 characters"]
    if role not in {r.value for r in Role}:
        errors["role"] = ["请选择角色 Choose a role: admin, organizer, leader or student"]
    if role in (Role.STUDENT, Role.LEADER) and not student_no:
        errors["student_no"] = ["学生必须有学号 A student needs a student number"]
    if student_no and not STUDENT_NO_RE.match(student_no):
        errors["student_no"] = ["4–32 个字母、数字或 - 4–32 letters, digits or -"]
    unit_id = values.get("unit_id")
    if unit_id is not None and session.get(Unit, unit_id) is None:
        errors["unit_id"] = [f"没有编号为 {unit_id} 的院系 No such unit"]
    if errors:
        raise Invalid(errors)
    if session.execute(select(User.id).where(User.username == username)).first():
        raise Conflict("用户名已存在 Username taken", {"username": ["已被占用 Taken"]})
    if student_no and session.execute(select(User.id).where(User.student_no == student_no)).first():
        raise Conflict("学号已存在 Student number taken", {"student_no": ["已被占用 Taken"]})
    return {
        "username": username,
        "password_hash": hash_password(password) if password is not None else None,
        "display_name": display_name,
        "role": role,
        "student_no": student_no,
        "unit_id": unit_id,
        "email": (values.get("email") or None),
    }


def student_by_number(session: Session, student_no: str) -> User:
    user = session.execute(select(User).where(User.student_no == student_no)).scalar_one_or_none()
    if user is None or not user.is_student:
        raise NotFound(f"没有学号为 {student_no} 的学生 No such student")
    return user


def list_units(session: Session) -> list[Unit]:
    return list(session.execute(select(Unit).order_by(Unit.code)).scalars())


def list_users(
    session: Session, actor: User | None, page: int = 1, per_page: int = 50, role: str | None = None
) -> tuple[list[User], int]:
    if not permissions.can_manage_people(actor):
        raise Forbidden("只有校团委可以查看用户列表 Only the admin lists people")
    from sqlalchemy import func

    query = select(User)
    if role:
        query = query.where(User.role == role)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    users = session.execute(
        query.order_by(User.id).limit(per_page).offset((page - 1) * per_page)
    ).scalars()
    return list(users), total
