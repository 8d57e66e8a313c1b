"""Read models of the credit-rule pages: the office's cohorts with their rules, the report's choices."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import permissions
from app.models import SchoolClass, Unit, User
from app.models.people import STUDENT_ROLES
from app.models.rules import RuleSet
from app.services.credit_rules import rules_by_cohort
from app.services.errors import Forbidden
from app.services.modules import ModuleInfo, module_list


@dataclass
class CohortRules:
    cohort: int
    students: int
    rules: RuleSet | None


@dataclass
class RulesPage:
    cohorts: list[CohortRules]
    modules: list[ModuleInfo]


def cohorts(session: Session) -> list[tuple[int, int]]:
    """(cohort, students) for every cohort with a class, newest first."""
    counts = dict(session.execute(
        select(SchoolClass.cohort, func.count(User.id)).join(User, User.class_id == SchoolClass.id)
        .where(User.role.in_(STUDENT_ROLES)).group_by(SchoolClass.cohort)).all())
    every = session.execute(select(SchoolClass.cohort).distinct()).scalars()
    return sorted(((c, counts.get(c, 0)) for c in every), reverse=True)


def cohorts_with_students(session: Session) -> list[int]:
    """Every cohort with a student, newest first: a look into each class (the report's choices on
    every view), not a count of the whole school's students."""
    has_student = select(User.id).where(User.class_id == SchoolClass.id, User.role.in_(STUDENT_ROLES)).exists()
    return list(session.execute(select(SchoolClass.cohort).where(has_student).distinct()
                                .order_by(SchoolClass.cohort.desc())).scalars())


def rules_page(session: Session, actor: User | None) -> RulesPage:
    if not permissions.can_set_rules(actor):
        raise Forbidden(_("Only the admin sets the credit rules"))
    current = rules_by_cohort(session)
    return RulesPage([CohortRules(c, n, current.get(c)) for c, n in cohorts(session)], module_list(session))


def requirement_choices(session: Session, actor: User | None, cohort: int | None) -> dict:
    """The report's filters: cohorts, colleges (an organizer of a college: theirs) and the cohort's classes."""
    if not permissions.can_view_requirements(actor):
        raise Forbidden(_("Only the office and organizers see the requirements report"))
    units = select(Unit.id, Unit.name).order_by(Unit.name)
    if not permissions.is_admin(actor) and actor.scope_unit_id is not None:
        units = units.where(Unit.id == actor.scope_unit_id)
    classes = select(SchoolClass.id, SchoolClass.name).where(SchoolClass.cohort == cohort).order_by(SchoolClass.name)
    return {"cohorts": cohorts_with_students(session), "units": session.execute(units).all(),
            "classes": session.execute(classes).all() if cohort else []}
