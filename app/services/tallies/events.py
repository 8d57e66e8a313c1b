"""ORM listeners: every flushed change the tallies depend on is marked, and the marks settled
before the commit — so a new service that changes records through the ORM keeps the tallies
right without knowing they exist. Statements that bypass the ORM call `touch_*` themselves."""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.models import (
    Activity,
    Claim,
    CreditModule,
    Membership,
    Participation,
    ParticipationStatus,
    RuleSet,
    SchoolClass,
    User,
)

# What each model's tallies read; a change of anything else (a check-in time, a title) marks nothing.
PARTICIPATION_FIELDS = ("activity_id", "student_id", "status", "hours", "role", "award", "certified_at",
                        "rejected_at")
ACTIVITY_FIELDS = ("club_id", "term", "status", "module")
MEMBERSHIP_FIELDS = ("club_id", "term", "user_id", "elected_on")
CLAIM_FIELDS = ("student_id", "status", "module", "hours", "occurred_on")

_installed = False


def _values(state, name: str) -> set:
    """The attribute's value now and before this flush (both keys need recomputing)."""
    history = state.attrs[name].history
    return {v for v in chain(history.added, history.unchanged, history.deleted) if v is not None}


def _changed(state, names) -> bool:
    return any(state.attrs[n].history.has_changes() for n in names)


def _mark(session: Session, _flush_context) -> None:
    from app.services.tallies import marks
    from app.services.tallies.recompute import claim_term

    m = None
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, RuleSet | CreditModule | User | SchoolClass):
            _mark_standing(session, obj)
            continue
        if not isinstance(obj, Participation | Activity | Membership | Claim):
            continue
        state = inspect(obj)
        whole = obj in session.new or obj in session.deleted
        if isinstance(obj, Participation) and (whole or _changed(state, PARTICIPATION_FIELDS)):
            m = m or marks(session)
            # A student's tallies sum certified records only: one never certified (before or
            # after this flush) leaves them as they are.
            certified = ParticipationStatus.CERTIFIED in _values(state, "status")
            for activity_id in _values(state, "activity_id"):
                m.activities.add(activity_id)
                if certified:
                    m.records.update((activity_id, s) for s in _values(state, "student_id"))
        elif isinstance(obj, Activity) and obj not in session.new and (
                whole or _changed(state, ACTIVITY_FIELDS)):
            m = m or marks(session)  # a new activity has no records yet: nothing to tally
            m.activities.add(obj.id)
            m.club_terms.update((c, t) for c in _values(state, "club_id") for t in _values(state, "term"))
            m.activity_terms.update((obj.id, t) for t in _values(state, "term"))
        elif isinstance(obj, Membership) and (whole or _changed(state, MEMBERSHIP_FIELDS)):
            m = m or marks(session)
            m.club_terms.update((c, t) for c in _values(state, "club_id") for t in _values(state, "term"))
        elif isinstance(obj, Claim) and (whole or _changed(state, CLAIM_FIELDS)):
            m = m or marks(session)
            m.student_terms.update((s, claim_term(d)) for s in _values(state, "student_id")
                                   for d in _values(state, "occurred_on"))


def _mark_standing(session: Session, obj) -> None:
    """What a student's standing depends on besides their hours: their cohort's rules (a new
    version), the module list, their class, and the class's cohort."""
    from app.services.tallies import marks

    state = inspect(obj)
    if isinstance(obj, RuleSet):
        marks(session).standing_cohorts.update(_values(state, "cohort"))
    elif isinstance(obj, CreditModule):
        marks(session).all_standings = True
    elif isinstance(obj, User) and obj not in session.deleted and _changed(state, ("class_id",)):
        marks(session).standing_students.add(obj.id)
    elif isinstance(obj, SchoolClass) and obj not in session.new and _changed(state, ("cohort",)):
        marks(session).standing_classes.add(obj.id)


def _settle(session: Session) -> None:
    from app.services.tallies import settle

    settle(session)


def _forget(session: Session, transaction) -> None:
    # Only the outermost transaction: a savepoint rolled back leaves the outer changes (and
    # their marks) in place; extra marks would only recompute a row to what it already is.
    if transaction.parent is None:
        from app.services.tallies import forget

        forget(session)


def install() -> None:
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _mark)
    event.listen(Session, "before_commit", _settle)
    event.listen(Session, "after_transaction_end", _forget)
    _installed = True
