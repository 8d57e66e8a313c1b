"""Each student's standing: certified hours in all and whether they meet their cohort's current
credit rules, from the module tallies and the rules' own arithmetic: what the dashboard's
distribution and attainment by cohort count."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import STUDENT_ROLES, SchoolClass, StudentStanding, User
from app.services.tallies.recompute import ZERO, _chunks, _ensure_and_lock, _write

CHUNK = 2000


def standing_of(session: Session, students: list[tuple[int, int | None]]) -> dict[int, tuple[Decimal, bool]]:
    """(student, cohort or None) → the student's certified hours in all, and whether they meet
    the cohort's current rules now."""
    from app.services import credit_arithmetic as arithmetic
    from app.services.credit_rules import arithmetic_rules, rules_by_cohort
    from app.services.modules import module_keys
    from app.services.progress import Hours, tally_hours

    rules = {cohort: arithmetic_rules(r) for cohort, r in rules_by_cohort(session).items()}
    none, keys, empty = arithmetic_rules(None), module_keys(session), Hours({}, {})
    hours = tally_hours(session, [s for s, _ in students])
    out = {}
    for student_id, cohort in students:
        h = hours.get(student_id, empty)
        met = arithmetic.progress(rules.get(cohort, none), h.by_module, h.by_year, keys).met
        out[student_id] = (sum(h.by_module.values(), ZERO), met)
    return out


def standings(session: Session, student_ids: Iterable[int] | None) -> None:
    """Recompute the students' standing rows (None: every student), under their rows' locks."""
    query = select(User.id, SchoolClass.cohort).outerjoin(SchoolClass, SchoolClass.id == User.class_id)
    if student_ids is None:
        everyone = list(session.execute(query.where(User.role.in_(STUDENT_ROLES)).order_by(User.id)))
        batches = [everyone[i:i + CHUNK] for i in range(0, len(everyone), CHUNK)]
    else:
        batches = [list(session.execute(query.where(User.id.in_(chunk)))) for chunk in _chunks(set(student_ids))]
    for batch in batches:
        if not batch:
            continue
        ids = [s for s, _ in batch]
        _ensure_and_lock(session, StudentStanding, [{"student_id": s} for s in ids],
                         StudentStanding.student_id.in_(ids))
        found = standing_of(session, batch)
        _write(session, StudentStanding, [{"student_id": s, "hours": found[s][0], "met": found[s][1]} for s in ids])


def students_of(session: Session, *, cohorts: set[int], classes: set[int]) -> set[int]:
    found: set[int] = set()
    if cohorts:
        found |= set(session.execute(select(User.id).join(SchoolClass, SchoolClass.id == User.class_id)
                                     .where(SchoolClass.cohort.in_(cohorts))).scalars())
    if classes:
        found |= set(session.execute(select(User.id).where(User.class_id.in_(classes))).scalars())
    return found
