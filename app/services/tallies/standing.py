"""Each student's standing: certified hours in all and where they stand under their cohort's
current credit rules (counted, required, short by, met), from the module tallies and the rules'
own arithmetic: what the dashboard's distribution and attainment by cohort count and what the
office's requirements report lists."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import STUDENT_ROLES, SchoolClass, StudentStanding, User
from app.services.tallies.recompute import ZERO, _chunks, _ensure_and_lock, _write

CHUNK = 2000


class Standing(NamedTuple):
    hours: Decimal  # certified, in all
    met: bool
    counted: Decimal  # under the cohort's current rules: each module at most its cap
    required: Decimal
    short_by: Decimal


_TENTH = Decimal("0.1")


def standing_of(session: Session, students: list[tuple[int, int | None]]) -> dict[int, Standing]:
    """(student, cohort or None) → the student's certified hours in all, and where they stand
    under the cohort's current rules now (the arithmetic of `credit_arithmetic.progress`)."""
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
        result = arithmetic.progress(rules.get(cohort, none), h.by_module, h.by_year, keys)
        # One decimal, as the columns keep them: a cap of "3" counts 3.0 whichever way it is read.
        out[student_id] = Standing(sum(h.by_module.values(), ZERO), result.met, result.counted.quantize(_TENTH),
                                   result.required.quantize(_TENTH), result.short_by.quantize(_TENTH))
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
        _write(session, StudentStanding, [{"student_id": s, **found[s]._asdict()} for s in ids])


def students_of(session: Session, *, cohorts: set[int], classes: set[int]) -> set[int]:
    found: set[int] = set()
    if cohorts:
        found |= set(session.execute(select(User.id).join(SchoolClass, SchoolClass.id == User.class_id)
                                     .where(SchoolClass.cohort.in_(cohorts))).scalars())
    if classes:
        found |= set(session.execute(select(User.id).where(User.class_id.in_(classes))).scalars())
    return found
