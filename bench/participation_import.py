"""Benchmark: a leader imports an activity's participants from a CSV file of 10,000 rows
(#17: under 10 s), against the bare insert of the same rows.

In the same run and database (SQLite in a temporary file, and PostgreSQL in a database of its
own when a server answers at TEST_DATABASE_URL), each time after deleting the records the last
run made:

* the floor: the same participation rows inserted with SQLAlchemy Core executemany;
* ``imports.preview_participations``: parse and check (what the web preview costs);
* ``imports.import_participations`` end to end: parse, check, insert, one audit event, commit.

    .venv/bin/python bench/participation_import.py [--rows 10000] [--runs 3] [--sqlite-only]

Last line: ``participation_import: sqlite X s (floor Y s); postgresql …; 10,000 rows``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import delete, insert  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def _csv(numbers: list[str]) -> bytes:
    lines = ["学号,角色,时长,奖项"]
    lines += [f"{n},participant,,{'一等奖' if i % 50 == 0 else ''}" for i, n in enumerate(numbers)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def measure(url: str, rows: int, runs: int) -> dict[str, float]:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ["SIGNING_KEY_DIR"] = tempfile.mkdtemp(prefix="st-bench-imp-keys-")
    from app import create_app
    from app.extensions import db
    from app.models import Activity, Club, Participation, Unit, User, club_leader
    from app.services import imports
    from app.timeutil import term_of

    app = create_app()
    times: dict[str, list[float]] = {"floor": [], "preview": [], "import": []}
    with app.app_context():
        db.drop_all()
        db.create_all()
        s = db.session
        unit = Unit(code="CS", name="计算机学院")
        s.add(unit)
        s.flush()
        leader = User(username="lead", password_hash="x", display_name="李晓雨", role="leader",
                      student_no="2023999999", unit_id=unit.id)
        adv = User(username="adv", password_hash="x", display_name="王老师", role="organizer")
        s.add_all([leader, adv])
        s.flush()
        club = Club(name="青年志愿者协会", category="志愿公益", unit_id=unit.id, advisors=[adv])
        s.add(club)
        s.flush()
        s.execute(insert(club_leader).values(club_id=club.id, user_id=leader.id))
        at = datetime.now(UTC) - timedelta(days=1)
        activity = Activity(club_id=club.id, title="迎新志愿服务（全校）", module="volunteering", level="school",
                            starts_at=at, ends_at=at + timedelta(hours=3), term=term_of(at), location="体育馆",
                            hours=Decimal("3"), status="approved", created_by_id=leader.id, partners=[])
        s.add(activity)
        s.flush()
        numbers = [f"2024{i:06d}" for i in range(rows)]
        s.execute(insert(User.__table__), [
            {"username": f"s{n}", "password_hash": "x", "display_name": f"学生{n[-4:]}", "role": "student",
             "student_no": n, "unit_id": unit.id, "active": True} for n in numbers])
        s.commit()
        ids = [i for (i,) in s.execute(sa.select(User.id).where(User.student_no.in_(numbers)))]
        data = _csv(numbers)
        activity_id, leader_id = activity.id, leader.id

        def clear():
            s.execute(delete(Participation.__table__))
            s.commit()

        for _ in range(runs):
            clear()
            t = time.perf_counter()
            s.execute(insert(Participation.__table__), [
                {"activity_id": activity_id, "student_id": i, "role": "participant", "hours": Decimal("3"),
                 "status": "recorded", "source": "import", "recorded_by_id": leader_id} for i in ids])
            s.commit()
            times["floor"].append(time.perf_counter() - t)
            clear()
            actor = s.get(User, leader_id)
            t = time.perf_counter()
            preview = imports.preview_participations(s, actor, activity_id, data)
            times["preview"].append(time.perf_counter() - t)
            assert preview.ok, preview.errors[:3]
            s.rollback()
            actor = s.get(User, leader_id)
            t = time.perf_counter()
            made = imports.import_participations(s, actor, activity_id, data)
            s.commit()
            times["import"].append(time.perf_counter() - t)
            assert len(made) == rows
            s.expunge_all()
        db.session.remove()
        db.engine.dispose()
    return {k: statistics.median(v) for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    results = {}
    folder = Path(tempfile.mkdtemp(prefix="st-bench-imp-"))
    results["sqlite"] = measure(f"sqlite:///{folder / 'bench.db'}", args.rows, args.runs)
    if not args.sqlite_only:
        server = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG)
        name = f"st_bench_imp_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1),
                                 isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"CREATE DATABASE {name}")
        except sa.exc.OperationalError as exc:
            print(f"PostgreSQL skipped: no server at {server} ({exc.orig})")
        else:
            try:
                base = server.rsplit("/", 1)[0]
                results["postgresql"] = measure(f"{base}/{name}", args.rows, args.runs)
            finally:
                with admin.connect() as conn:
                    conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    print(f"{'database':<12}{'floor s':>10}{'preview s':>11}{'import s':>10}{'× floor':>9}")
    for name, r in results.items():
        print(f"{name:<12}{r['floor']:>10.2f}{r['preview']:>11.2f}{r['import']:>10.2f}{r['import'] / r['floor']:>9.1f}")
    print("participation_import: " + "; ".join(
        f"{n} {r['import']:.2f} s (floor {r['floor']:.2f} s)" for n, r in results.items())
        + f"; {args.rows:,} rows (budget < 10 s)")


if __name__ == "__main__":
    main()
