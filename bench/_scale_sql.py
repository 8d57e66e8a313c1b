"""The SQL floors of bench/scale.py: the bare query of the rows a page shows, timed directly on
the same database (no ORM, no rendering, no HTTP), over the same students as the page's row.

Each is the least a page can cost that shows those rows straight from the records; a page built
on an aggregate or a paginated window may well go below it, which is the point of those.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from bench._scale_load import quantile, timed

RECORDS = sa.text(
    "SELECT p.id, p.status, p.hours, p.role, p.award, p.certified_at, a.title, a.module, a.level, a.starts_at,"
    " c.name FROM participation p JOIN activity a ON a.id = p.activity_id JOIN club c ON c.id = a.club_id"
    " WHERE p.student_id = :sid ORDER BY a.starts_at DESC, p.id DESC")
PROGRESS = sa.text(
    "SELECT a.module, substr(a.term, 1, 9), sum(p.hours) FROM participation p"
    " JOIN activity a ON a.id = p.activity_id WHERE p.student_id = :sid AND p.status = 'certified'"
    " GROUP BY a.module, substr(a.term, 1, 9)")
TRANSCRIPTS = sa.text(
    "SELECT id, serial, issued_at, status, record_count, total_hours FROM transcript"
    " WHERE student_id = :sid ORDER BY issued_at DESC, id DESC")
NOTIFICATIONS = sa.text(
    "SELECT id, kind, params, link, created_at, read_at FROM notification WHERE user_id = :sid"
    " ORDER BY created_at DESC, id DESC LIMIT 20")
ME = sa.text("SELECT * FROM user_account WHERE id = :sid")
ONE_TRANSCRIPT = sa.text("SELECT id, serial, status, public, public_until, snapshot FROM transcript"
                         " WHERE student_id = :sid AND status = 'valid'")
_QUEUE = (
    "SELECT a.id, a.title, a.starts_at, count(p.id) FROM activity a JOIN participation p ON p.activity_id = a.id"
    " WHERE p.status = 'recorded' AND a.status IN ('approved', 'completed') AND a.ends_at <= CURRENT_TIMESTAMP"
    " {clubs} GROUP BY a.id, a.title, a.starts_at ORDER BY a.starts_at, a.id")
ORGANIZER_QUEUE = sa.text(_QUEUE.format(
    clubs="AND a.club_id IN (SELECT club_id FROM club_advisor WHERE user_id = :uid)"))
LEADER_ACTIVITIES = sa.text(
    "SELECT a.id, a.title, a.status, a.starts_at FROM activity a WHERE a.club_id IN"
    " (SELECT club_id FROM club_leader WHERE user_id = :uid AND ended_at IS NULL) ORDER BY a.starts_at DESC, a.id DESC")
LEADER_COUNTS = sa.text(
    "SELECT p.activity_id, p.status, count(*) FROM participation p JOIN activity a ON a.id = p.activity_id"
    " WHERE a.club_id IN (SELECT club_id FROM club_leader WHERE user_id = :uid AND ended_at IS NULL)"
    " GROUP BY p.activity_id, p.status")
ADMIN = (
    sa.text("SELECT role, count(*) FROM user_account GROUP BY role"),
    sa.text("SELECT status, count(*) FROM activity GROUP BY status"),
    sa.text("SELECT a.id, a.title FROM activity a WHERE a.status = 'submitted' ORDER BY a.submitted_at, a.id"),
    sa.text(_QUEUE.format(clubs="")),
)
DASHBOARD = sa.text(
    "SELECT u.unit_id, a.module, count(DISTINCT p.student_id), sum(p.hours) FROM participation p"
    " JOIN activity a ON a.id = p.activity_id JOIN user_account u ON u.id = p.student_id"
    " WHERE a.term = :term AND p.status = 'certified' GROUP BY u.unit_id, a.module")
REQUIREMENTS = sa.text(
    "SELECT p.student_id, a.module, sum(p.hours) FROM participation p JOIN activity a ON a.id = p.activity_id"
    " JOIN user_account u ON u.id = p.student_id JOIN school_class k ON k.id = u.class_id"
    " WHERE k.cohort = :cohort AND p.status = 'certified' GROUP BY p.student_id, a.module")
SCORECARDS = sa.text(
    "SELECT a.club_id, count(DISTINCT a.id), count(p.id), sum(p.hours) FROM activity a"
    " JOIN participation p ON p.activity_id = a.id WHERE a.term = :term AND p.status = 'certified'"
    " GROUP BY a.club_id")


class Floors:
    """p50 and p95 (ms) of bare queries on `engine`, one statement list per page."""

    def __init__(self, engine: sa.Engine, students: list[int], runs: int = 15):
        self.engine, self.students, self.runs = engine, students, runs

    def _time(self, statements: list[tuple[sa.TextClause, Callable[[int], dict]]], runs: int) -> tuple[float, float]:
        def once(i: int) -> None:
            with self.engine.connect() as conn:
                for statement, params in statements:
                    conn.execute(statement, params(i)).fetchall()

        ms = timed(once, runs)
        return quantile(ms, 0.5), quantile(ms, 0.95)

    def per_student(self, *statements: sa.TextClause) -> tuple[float, float]:
        def student(i: int) -> dict:
            return {"sid": self.students[i % len(self.students)]}

        return self._time([(s, student) for s in statements], self.runs)

    def fixed(self, statements: tuple[sa.TextClause, ...], params: dict, runs: int = 5) -> tuple[float, float]:
        return self._time([(s, lambda _i: params) for s in statements], runs)
