"""Benchmark (#15): the office's requirements report for one cohort and a student's progress, on
a school of 30,000 students and 1,000,000 participation records (bench/_big_school.py seeds
it once and keeps it: instance/bench_big_school.db, or the database `bench_school` on the
PostgreSQL server), each next to a bare query of the same rows measured in the same run.

Measured, each run in a fresh session (nothing cached from the run before):

* `requirements.report(session, admin, cohort=C)`: the office's page (the first 50 rows, sorted
  by shortfall; every row of the cohort is read and sorted to find them);
* `requirements.report(..., per_page=None)`: every row (the CSV / xlsx for 教务处);
* `progress.student_progress(session, student, student_no)`: a student's own progress page's
  call, a different random student each run;

and beside them, on a raw DBAPI cursor with every row fetched, run alternately with the service:

* bare (report): the cohort's roster (number, name, college, class) and its certified hours
  summed per student and module — the rows the report is made of;
* bare (progress): the student's certified records (module, term, hours);
* its SQL: the statements the service itself sent (captured on one call), replayed bare.

    .venv/bin/python bench/requirements.py [--runs 20] [--cohort 2023] [--explain]
    .venv/bin/python bench/requirements.py --postgres [URL]        # database bench_school on that
                                                                   # server (default TEST_DATABASE_URL
                                                                   # or the local one); kept
    .venv/bin/python bench/requirements.py --postgres --if-reachable   # make bench: skipped without one

Budgets: the report < 1000 ms, a student's progress < 50 ms (medians).
Last line: ``requirements: <backend> report X ms (page) / Y ms (all rows), progress Z ms; met|MISSED``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench._big_school import DEFAULT_PG, ensure, postgres_url, sqlite_url  # noqa: E402
from bench.catalogue import app_env, percentile, postgres_server, skip_postgres  # noqa: E402

REPORT_BUDGET_MS = 1000.0
PROGRESS_BUDGET_MS = 50.0

BARE_ROSTER = sa.text(
    "SELECT u.id, u.student_no, u.display_name, un.name, c.name FROM user_account u "
    "JOIN school_class c ON c.id = u.class_id JOIN unit un ON un.id = c.unit_id "
    "WHERE c.cohort = :cohort AND u.role IN ('student', 'leader')")
BARE_COHORT_HOURS = sa.text(
    "SELECT p.student_id, a.module, sum(p.hours) FROM participation p "
    "JOIN activity a ON a.id = p.activity_id JOIN user_account u ON u.id = p.student_id "
    "JOIN school_class c ON c.id = u.class_id "
    "WHERE c.cohort = :cohort AND p.status = 'certified' GROUP BY p.student_id, a.module")
BARE_STUDENT_RECORDS = sa.text(
    "SELECT a.module, a.term, p.hours FROM participation p JOIN activity a ON a.id = p.activity_id "
    "WHERE p.student_id = :student AND p.status = 'certified'")


class Capture:
    """Every statement the engine sends while active, with its DBAPI parameters."""

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def _listen(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append((statement, parameters))

    def __enter__(self):
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._listen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._listen)


def dbapi(engine, statement: sa.TextClause, **params) -> tuple[str, object]:
    """The statement as the DBAPI takes it: SQL in the driver's paramstyle, and its parameters."""
    compiled = statement.compile(dialect=engine.dialect)
    values = compiled.construct_params(params)
    if compiled.positional:
        return str(compiled), tuple(values[name] for name in compiled.positiontup)
    return str(compiled), values


def run_bare(raw, statements) -> float:
    """ms to run the statements on a raw DBAPI cursor, all rows fetched."""
    cursor = raw.cursor()
    started = time.perf_counter()
    for statement, parameters in statements:
        cursor.execute(statement, parameters)
        if cursor.description is not None:
            cursor.fetchall()
    elapsed = (time.perf_counter() - started) * 1000
    cursor.close()
    raw.rollback()
    return elapsed


def explain(engine, statements) -> None:
    raw = engine.raw_connection()
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
    try:
        for statement, parameters in statements:
            cursor = raw.cursor()
            cursor.execute(prefix + statement, parameters)
            print("   ", " ".join(statement.split())[:300])
            for row in cursor.fetchall():
                print("      ", " | ".join(str(v) for v in row))
            cursor.close()
        raw.rollback()
    finally:
        raw.close()


def measure(app, cohort: int, runs: int, rng: random.Random, show_plans: bool) -> list[dict]:
    from app.extensions import db
    from app.models import SchoolClass, User
    from app.services import progress, requirements

    engine = db.engine
    students = [tuple(r) for r in db.session.execute(
        sa.select(User.id, User.student_no).join(SchoolClass, SchoolClass.id == User.class_id)
        .where(User.role.in_(("student", "leader")))).all()]
    db.session.remove()
    raw = engine.raw_connection()
    out = []
    try:
        def admin():
            return db.session.get(User, 1)

        report_cases = [
            ("report, office page (50 rows)", {}),
            ("report, every row (CSV/xlsx)", {"per_page": None}),
        ]
        bare_report = [dbapi(engine, BARE_ROSTER, cohort=cohort), dbapi(engine, BARE_COHORT_HOURS, cohort=cohort)]
        for name, extra in report_cases:
            def call(actor, extra=extra):
                return requirements.report(db.session, actor, cohort=cohort, **extra)

            with Capture(engine) as captured:  # also the warm-up
                found = call(admin())
            db.session.remove()
            run_bare(raw, bare_report)
            statements = list(captured.statements)
            service, bare = [], []
            for run in range(runs):
                actor = admin()
                first = run % 2 == 0
                if not first:
                    bare.append(run_bare(raw, bare_report))
                started = time.perf_counter()
                call(actor)
                service.append((time.perf_counter() - started) * 1000)
                db.session.remove()
                if first:
                    bare.append(run_bare(raw, bare_report))
            own = [run_bare(raw, statements) for _ in range(runs)]
            out.append({"what": name, "service": service, "bare": bare, "own": own, "stmts": len(statements),
                        "budget": REPORT_BUDGET_MS,
                        "note": f"{found.students:,} students, {found.met_count:,} meet {found.rules_version}"})
            if show_plans:
                print(f"\n  plans of {name}:")
                explain(engine, statements)

        picks = rng.sample(students, runs + 1)
        service, bare, statements = [], [], []
        for run, (student_id, student_no) in enumerate(picks):
            student = db.session.get(User, student_id)
            records = [dbapi(engine, BARE_STUDENT_RECORDS, student=student_id)]
            first = run % 2 == 0
            if run and not first:
                bare.append(run_bare(raw, records))
            if run == 0:  # the warm-up, captured
                with Capture(engine) as captured:
                    progress.student_progress(db.session, student, student_no)
                statements = list(captured.statements)
            else:
                started = time.perf_counter()
                progress.student_progress(db.session, student, student_no)
                service.append((time.perf_counter() - started) * 1000)
            db.session.remove()
            if run and first:
                bare.append(run_bare(raw, records))
        own = [run_bare(raw, statements) for _ in range(runs)]
        out.append({"what": "progress, a random student", "service": service, "bare": bare, "own": own,
                    "stmts": len(statements), "budget": PROGRESS_BUDGET_MS,
                    "note": f"{runs} different students"})
        if show_plans:
            print("\n  plans of progress:")
            explain(engine, statements)
    finally:
        raw.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", nargs="?", const=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG), default=None,
                        help="measure on PostgreSQL: the kept database bench_school on this server")
    parser.add_argument("--if-reachable", action="store_true", help="skip, not fail, when the server is down")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--cohort", type=int, default=2023)
    parser.add_argument("--fresh", action="store_true", help="seed the big school again")
    parser.add_argument("--explain", action="store_true", help="print the query plans of the services' SQL")
    args = parser.parse_args()
    server = postgres_server(args.postgres)
    if skip_postgres(server, args.if_reachable):
        return
    url = postgres_url(server) if server else sqlite_url()
    backend = "postgresql" if server else "sqlite"
    info = ensure(url, fresh=args.fresh)
    seeded = (f"seeded now in {info['seconds']:.1f} s" if info["seeded"]
              else f"kept from an earlier run (seeded in {info['seconds']:.1f} s)")
    print(f"{backend}: {info['students']:,} students, {info['participations']:,} participation records, {seeded}")

    folder = Path(tempfile.mkdtemp(prefix="st-bench-requirements-"))
    try:
        os.environ.update(app_env(url, folder, 0))  # the app reads the same settings
        from app import create_app

        app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
        with app.app_context(), app.test_request_context():
            rows = measure(app, args.cohort, args.runs, random.Random(15), args.explain)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print(f"\n{backend}, cohort {args.cohort}: median and p95 of {args.runs} runs (ms); bare: the same rows by plain "
          "SQL on a DBAPI cursor, alternating with the service in the same run")
    print(f"  {'what':<32}{'median':>9}{'p95':>9}{'bare':>9}{'ratio':>7}{'its SQL':>9}{'stmts':>6}"
          f"{'budget':>9}{'met':>5}  note")
    verdicts = {}
    for r in rows:
        median, p95 = statistics.median(r["service"]), percentile(r["service"], 95)
        bare = statistics.median(r["bare"])
        met = median < r["budget"]
        verdicts[r["what"]] = (median, met)
        print(f"  {r['what']:<32}{median:>9.1f}{p95:>9.1f}{bare:>9.1f}{median / bare:>7.1f}"
              f"{statistics.median(r['own']):>9.1f}{r['stmts']:>6}{'<' + format(r['budget'], '.0f'):>9}"
              f"{'yes' if met else 'NO':>5}  {r['note']}")
    print("  its SQL: the statements the service sent (captured on one call) replayed bare, warm")
    page, every, prog = (verdicts[r["what"]] for r in rows)
    ok = all(m for _v, m in verdicts.values())
    print(f"requirements: {backend} report {page[0]:.0f} ms (page) / {every[0]:.0f} ms (all rows), "
          f"progress {prog[0]:.1f} ms; {'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
