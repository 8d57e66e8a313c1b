"""The pages' filters and sorts are served by indexes (#17), checked with PostgreSQL's EXPLAIN
of the statements the services really send. Sequential scans are switched off for the check,
so the plan shows whether an index *can* serve the query, whatever the planner would pick on
a test database of a few rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.models import ActivityStatus
from app.services.pages.organizer import signoff_queue
from app.services.pages.student import open_check_ins
from app.timeutil import utcnow


class Sent:
    """The statements (with their parameters) sent while the block runs."""

    def __init__(self):
        self.statements: list[tuple[str, object]] = []

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            self.statements.append((statement, parameters))

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._seen)


def _plans(session, sent: Sent, table: str) -> list[str]:
    conn = session.connection()
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plans = []
    for statement, parameters in sent.statements:
        if f"FROM {table}" in statement or f"JOIN {table}" in statement:
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
            plans.append("\n".join(rows))
    conn.exec_driver_sql("SET LOCAL enable_seqscan = on")
    assert plans, f"no statement read {table}"
    return plans


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_the_signoff_queue_reads_waiting_records_by_index(session, make):
    w = make.world()
    ended = make.activity(w.club, status=ActivityStatus.COMPLETED, starts_at=utcnow() - timedelta(days=2))
    for s in w.students:
        make.participation(ended, s)
    with Sent() as sent:
        assert signoff_queue(session, None).items
    plans = _plans(session, sent, "participation")
    assert any("ix_participation_recorded_activity" in p for p in plans), plans


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_open_check_ins_find_activities_by_status_and_end(session, make):
    w = make.world()
    for days in range(1, 301):  # a school's past: activities that started (and ended) long ago
        make.activity(w.club, starts_at=utcnow() - timedelta(days=days))
    make.activity(w.club, starts_at=utcnow() - timedelta(minutes=30))
    session.execute(text("ANALYZE activity"))
    with Sent() as sent:
        assert len(open_check_ins(session, w.students[0])) == 1
    plans = _plans(session, sent, "activity")
    assert any("ix_activity_status_ends" in p for p in plans), plans
