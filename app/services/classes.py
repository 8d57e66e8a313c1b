"""Classes (班级 / 团支部): one unit, one cohort (the year of entry); students belong to one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app import permissions
from app.models import STUDENT_ROLES, SchoolClass, Unit, User
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.queries import Page
from app.services.transactions import commit_unique

MAX_NAME = 100
FIRST_COHORT, LAST_COHORT = 1950, 2200
PER_PAGE = 50


def _require_admin(actor: User | None) -> None:
    if not permissions.can_manage_people(actor):
        raise Forbidden("只有校团委可以管理班级 Only the admin manages classes")


def cohort_problem(cohort) -> str | None:
    """Why this is not a year of entry, or None."""
    if isinstance(cohort, bool) or not isinstance(cohort, int) or not FIRST_COHORT <= cohort <= LAST_COHORT:
        return (f"入学年级须为 {FIRST_COHORT}–{LAST_COHORT} 年之间的年份 "
                f"A year of entry from {FIRST_COHORT} to {LAST_COHORT}")
    return None


def create_class(
    session: Session, actor: User | None, unit_id: int | None, name: str | None, cohort: int | None
) -> SchoolClass:
    _require_admin(actor)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > MAX_NAME:
        errors["name"] = [f"1–{MAX_NAME} 个字符 1–{MAX_NAME} characters"]
    if (problem := cohort_problem(cohort)) is not None:
        errors["cohort"] = [problem]
    unit = session.get(Unit, unit_id) if isinstance(unit_id, int) else None
    if unit is None:
        errors["unit_id"] = [
            "请选择院系 Choose a unit" if unit_id is None else f"没有编号为 {unit_id} 的院系 No such unit"
        ]
    if errors:
        raise Invalid(errors)
    taken = session.execute(
        select(SchoolClass.id).where(SchoolClass.unit_id == unit.id, SchoolClass.name == name)
    ).first()
    if taken:
        raise Conflict(f"{unit.name}已有班级「{name}」 This unit already has a class of that name",
                       {"name": ["已被占用 Taken"]})
    school_class = SchoolClass(unit_id=unit.id, name=name, cohort=cohort)
    session.add(school_class)
    session.flush()
    append_event(session, actor, "class.create", "class", school_class.id,
                 {"unit_id": unit.id, "unit": unit.code, "name": name, "cohort": cohort})
    commit_unique(session, "该院系已有同名班级 This unit already has a class of that name", "name")
    return school_class


def _filtered(query, unit_id: int | None, cohort: int | None):
    if unit_id is not None:
        query = query.where(SchoolClass.unit_id == unit_id)
    if cohort is not None:
        query = query.where(SchoolClass.cohort == cohort)
    return query


ORDER = (SchoolClass.unit_id, SchoolClass.cohort.desc(), SchoolClass.name)


def list_classes(
    session: Session, unit_id: int | None = None, cohort: int | None = None,
    *, page: int = 1, per_page: int | None = None,
) -> tuple[list[SchoolClass], int]:
    """Classes of a unit and/or a cohort (every signed-in person may see them), and the total."""
    query = _filtered(select(SchoolClass), unit_id, cohort)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    query = query.order_by(*ORDER)
    if per_page is not None:
        query = query.limit(per_page).offset((max(1, page) - 1) * per_page)
    return list(session.execute(query).scalars()), total


@dataclass
class ClassRow:
    school_class: SchoolClass
    unit_code: str
    unit_name: str
    students: int


def classes_page(
    session: Session, actor: User | None, unit_id: int | None = None, cohort: int | None = None,
    page: int = 1, per_page: int = PER_PAGE,
) -> Page:
    """The admin's list: classes by unit and cohort, each with its number of students."""
    _require_admin(actor)
    page, per_page = max(1, int(page or 1)), max(1, min(200, int(per_page or PER_PAGE)))
    total = session.execute(
        select(func.count()).select_from(_filtered(select(SchoolClass.id), unit_id, cohort).subquery())
    ).scalar_one()
    # One grouped query: each class with its unit and its students counted.
    rows = session.execute(
        _filtered(
            select(SchoolClass, Unit.code, Unit.name, func.count(User.id))
            .join(Unit, Unit.id == SchoolClass.unit_id)
            .outerjoin(User, and_(User.class_id == SchoolClass.id, User.role.in_(STUDENT_ROLES))),
            unit_id, cohort,
        )
        .group_by(SchoolClass.id, Unit.id)
        .order_by(Unit.code, SchoolClass.cohort.desc(), SchoolClass.name)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page([ClassRow(c, code, uname, n) for c, code, uname, n in rows], total, page, per_page)


def cohort_choices(session: Session, actor: User | None) -> list[int]:
    """The cohorts that have classes, newest first (the page's filter)."""
    _require_admin(actor)
    return list(session.execute(
        select(SchoolClass.cohort).distinct().order_by(SchoolClass.cohort.desc())
    ).scalars())
