"""Classes (班级 / 团支部): one unit, one cohort (the year of entry); students belong to one."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app import permissions
from app.models import STUDENT_ROLES, SchoolClass, Unit, User
from app.services.audit import append_event
from app.services.errors import Conflict, Forbidden, Invalid
from app.services.pages import Page
from app.services.transactions import flush_unique

MAX_NAME = 100
FIRST_COHORT, LAST_COHORT = 1950, 2200
PER_PAGE = 50


def _require_admin(actor: User | None) -> None:
    if not permissions.can_manage_people(actor):
        raise Forbidden(_("Only the admin manages classes"))


def cohort_problem(cohort) -> str | None:
    """Why this is not a year of entry, or None."""
    if isinstance(cohort, bool) or not isinstance(cohort, int) or not FIRST_COHORT <= cohort <= LAST_COHORT:
        return _("A year of entry from %(first)s to %(last)s", first=FIRST_COHORT, last=LAST_COHORT)
    return None


def create_class(
    session: Session, actor: User | None, unit_id: int | None, name: str | None, cohort: int | None
) -> SchoolClass:
    _require_admin(actor)
    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name or len(name) > MAX_NAME:
        errors["name"] = [_("1–%(n)s characters", n=MAX_NAME)]
    if (problem := cohort_problem(cohort)) is not None:
        errors["cohort"] = [problem]
    unit = session.get(Unit, unit_id) if isinstance(unit_id, int) else None
    if unit is None:
        errors["unit_id"] = [
            _("Choose a unit") if unit_id is None else _("No unit #%(id)s", id=unit_id)
        ]
    if errors:
        raise Invalid(errors)
    taken = session.execute(
        select(SchoolClass.id).where(SchoolClass.unit_id == unit.id, SchoolClass.name == name)
    ).first()
    if taken:
        raise Conflict(_("%(unit)s already has a class named %(name)s", unit=unit.name, name=name),
                       {"name": [_("Taken")]})
    school_class = SchoolClass(unit_id=unit.id, name=name, cohort=cohort)
    session.add(school_class)
    session.flush()
    append_event(session, actor, "class.create", "class", school_class.id,
                 {"unit_id": unit.id, "unit": unit.code, "name": name, "cohort": cohort})
    flush_unique(session, _("This unit already has a class of that name"), "name")
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
