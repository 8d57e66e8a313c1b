"""The per-term tallies (#17): work done once per change, not once per view.

The scorecards and the office's dashboard read `app.models.tallies` instead of summing a
million participation rows on every view (and counting each student's standing under the
credit rules instead of running the rules' arithmetic for the whole school). This package
keeps them equal to the records:

* what changed is *marked* on the session — by the ORM itself (`events`: a flush of a
  participation, an activity whose club, term, status or module moved, a roster entry, a
  claim), and by `touch_activity` / `touch_student` for statements that bypass the ORM
  (the multi-row INSERT … RETURNING of a participant list, the conditional UPDATE of a
  sign-off);
* `settle(session)` recomputes the marked rows from their raw rows (`recompute`) in the same
  transaction: just before it commits, and before any read of the tallies, so a view inside
  the transaction sees its own changes. A rollback forgets the marks with the changes.

Deferring to the commit does each key once however many records a use case changed (a
sign-off of 200 records is one recomputation of its activity), and holds the tally's row lock
only from the end of the use case to its commit.

`rebuild(session, term)` makes every tally again from the records (`flask scorecards rebuild`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from app.services.tallies import recompute, standing

_KEY = "tallies.marks"


@dataclass
class Marks:
    activities: set[int] = field(default_factory=set)  # their activity tally and club-term
    records: set[tuple[int, int]] = field(default_factory=set)  # (activity, student): the student-term
    club_terms: set[tuple[int, str]] = field(default_factory=set)
    student_terms: set[tuple[int, str]] = field(default_factory=set)
    activity_terms: set[tuple[int, str]] = field(default_factory=set)  # every student of the activity, in term
    # Standings whose rules or cohort changed (a student's hours mark it through its student-terms)
    standing_students: set[int] = field(default_factory=set)
    standing_cohorts: set[int] = field(default_factory=set)
    standing_classes: set[int] = field(default_factory=set)
    all_standings: bool = False  # the module list changed: every student's arithmetic

    def __bool__(self) -> bool:
        return bool(self.activities or self.records or self.club_terms or self.student_terms
                    or self.activity_terms or self.standing_students or self.standing_cohorts
                    or self.standing_classes or self.all_standings)


def marks(session: Session) -> Marks:
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = Marks()
    return found


def forget(session: Session) -> None:
    session.info.pop(_KEY, None)


def touch_activity(session: Session, activity_id: int, student_ids: list[int] | None = None) -> None:
    """Records of the activity changed without the ORM seeing them (a Core INSERT or UPDATE):
    its tally and club-term, and the named students' term (None: every student of its records)."""
    m = marks(session)
    m.activities.add(activity_id)
    if student_ids is None:
        m.activity_terms.add((activity_id, ""))
    else:
        m.records.update((activity_id, s) for s in student_ids)


def touch_club_term(session: Session, club_id: int, term: str) -> None:
    marks(session).club_terms.add((club_id, term))


def touch_student(session: Session, student_id: int, term: str) -> None:
    marks(session).student_terms.add((student_id, term))


def settle(session: Session) -> None:
    """Recompute every marked tally from its raw rows, in this transaction (the flush first, so
    the ORM's pending changes are what is read). Idempotent; a no-op with nothing marked."""
    session.flush()  # before looking: the marks are made as the pending changes flush
    m = session.info.pop(_KEY, None)
    if not m:
        return
    places = recompute.activity_places(session, m.activities | {a for a, _ in m.records}
                                       | {a for a, _ in m.activity_terms})
    club_terms = set(m.club_terms) | {places[a] for a in m.activities if a in places}
    student_terms = set(m.student_terms) | {(s, places[a][1]) for a, s in m.records if a in places}
    if m.activity_terms:
        students = recompute.students_of(session, {a for a, _ in m.activity_terms})
        for activity_id, term in m.activity_terms:
            term = term or places.get(activity_id, (None, None))[1]
            if term:
                student_terms |= {(s, term) for s in students.get(activity_id, ())}
    # Always in this order, each in key order: two transactions never lock in a circle.
    recompute.activities(session, m.activities)
    recompute.club_terms(session, club_terms)
    recompute.student_terms(session, student_terms)
    if m.all_standings:
        standing.standings(session, None)
    else:
        students = {s for s, _ in student_terms} | m.standing_students | standing.students_of(
            session, cohorts=m.standing_cohorts, classes=m.standing_classes)
        standing.standings(session, students)
    session.flush()


def rebuild(session: Session, term: str | None = None) -> dict[str, int]:
    """Every tally (of one term, or all) made again from the records; the rows written."""
    from app.services.tallies.rebuilding import rebuild as _rebuild

    forget(session)
    return _rebuild(session, term)


def install() -> None:
    """The ORM listeners that mark changes and settle before each commit (once per process)."""
    from app.services.tallies import events

    events.install()
