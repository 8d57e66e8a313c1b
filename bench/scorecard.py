"""Benchmark: the five-izations scorecard on a big school.

Generates 200 clubs, 10,000 students and 200,000 participation records over two terms
(bulk inserts with SQLAlchemy Core ``insert()`` executemany), then prints the median of
several runs of

* the overview of one term (every club ranked: the API's ``GET /scorecards``),
* the overview page's ranking, which adds the term before for the change (200 clubs ×
  2 terms),
* one club's scorecard,
* a floor measured in the same run: one GROUP BY club aggregate over the term's records
  (the least any per-club figure from the records can cost),

and the number of SQL statements each issues.  The same is then measured on a school of
50 clubs (a quarter of everything) to show that the statement count does not depend on
the number of clubs.

    .venv/bin/python bench/scorecard.py [--runs 9] [--clubs 200]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/scorecard.py

SQLite (a file in a temporary directory) by default; with BENCH_DATABASE_URL a fresh
PostgreSQL database is created on that server for the run and dropped afterwards.
Last line: ``scorecard: overview X ms (N statements), one club Y ms (M statements), 200 clubs``.
Targets: overview < 500 ms, one club < 50 ms, statements independent of the number of clubs.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event, func, insert, select  # noqa: E402

TERMS = ("2025-2026-1", "2025-2026-2")
STUDENTS_PER_CLUB = 50            # 10,000 for 200 clubs
RECORDS_PER_CLUB = 1000           # 200,000 for 200 clubs
ACTIVITIES_PER_CLUB_TERM = 25     # 20 records each
ROSTER = 40                       # members per club per term
MODULES = ["ideology", "practice", "volunteering", "innovation", "culture_sports",
           "leadership", "skills"]
LEVELS = ["club", "college", "college", "school", "school", "provincial", "national"]
CATEGORIES = ["学术科技", "志愿公益", "文化艺术", "体育竞技", "创新创业", "思想政治"]
PARTNERS = ["阳光敬老院", "市红十字会", "邻校机器人协会", "华为技术有限公司", "市图书馆"]
CHUNK = 20_000


# --------------------------------------------------------------------------- data


def generate(conn, n_clubs: int, seed: int = 7) -> dict:
    """Bulk-insert a school of ``n_clubs``; returns ids the measurements need."""
    from app.models import (
        Activity,
        Club,
        Membership,
        Participation,
        Term,
        Unit,
        User,
        club_advisor,
        club_leader,
    )
    from app.timeutil import term_bounds

    rng = random.Random(seed)
    n_units = max(1, n_clubs // 25)
    n_students = n_clubs * STUDENTS_PER_CLUB

    def bulk(table, rows):
        for i in range(0, len(rows), CHUNK):
            conn.execute(insert(table), rows[i:i + CHUNK])

    bulk(Term.__table__, [{"code": t, "name": t, "starts_on": term_bounds(t)[0],
                           "ends_on": term_bounds(t)[1]} for t in TERMS])
    bulk(Unit.__table__, [{"id": u + 1, "code": f"U{u + 1}", "name": f"第{u + 1}学院"}
                          for u in range(n_units)])
    people = [{"id": 1, "username": "admin", "password_hash": "!", "display_name": "校团委",
               "role": "admin", "student_no": None, "unit_id": None}]
    advisor_ids = list(range(2, 2 + n_clubs // 2 + 1))
    people += [{"id": i, "username": f"t{i}", "password_hash": "!", "display_name": f"老师{i}",
                "role": "organizer", "student_no": None, "unit_id": 1} for i in advisor_ids]
    first_leader = advisor_ids[-1] + 1
    leader_ids = list(range(first_leader, first_leader + n_clubs))
    first_student = leader_ids[-1] + 1
    student_ids = list(range(first_student, first_student + n_students))
    people += [{"id": i, "username": f"s{i}", "password_hash": "!", "display_name": f"学生{i}",
                "role": "leader" if i < first_student else "student",
                "student_no": f"S{i:08d}", "unit_id": 1 + i % n_units}
               for i in leader_ids + student_ids]
    bulk(User.__table__, people)
    clubs = [{"id": c + 1, "name": f"社团{c + 1:03d}", "category": CATEGORIES[c % len(CATEGORIES)],
              "unit_id": 1 + c % n_units, "charter": "章程" if rng.random() < 0.8 else None,
              "status": "active"} for c in range(n_clubs)]
    bulk(Club.__table__, clubs)
    bulk(club_advisor, [{"club_id": c + 1, "user_id": advisor_ids[c // 2]}
                        for c in range(n_clubs) if rng.random() < 0.95])
    bulk(club_leader, [{"club_id": c + 1, "user_id": leader_ids[c]} for c in range(n_clubs)])

    pools = {c: student_ids[c * STUDENTS_PER_CLUB:(c + 1) * STUDENTS_PER_CLUB]
             for c in range(n_clubs)}
    members, activities, records = [], [], []
    activity_id = 0
    for c in range(n_clubs):
        club_id = c + 1
        habit_lead = rng.uniform(-3, 10)
        habit_lag = rng.uniform(1, 40)
        for term in TERMS:
            start, end = term_bounds(term)
            roster = rng.sample(pools[c], ROSTER)
            elected = rng.random() < 0.7
            members += [{"club_id": club_id, "user_id": s, "term": term,
                         "role": "会长" if k == 0 else "成员",
                         "elected_on": start + timedelta(days=20) if k == 0 and elected else None,
                         "joined_on": start} for k, s in enumerate(roster)]
            for _ in range(ACTIVITIES_PER_CLUB_TERM):
                activity_id += 1
                day = start + timedelta(days=rng.randrange((end - start).days - 10))
                starts = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
                ends = starts + timedelta(hours=rng.choice([2, 3, 4]))
                status = rng.choices(["completed", "approved", "cancelled"], [90, 7, 3])[0]
                hours = Decimal(rng.choice(["2", "3", "4", "6", "8"]))
                activities.append({
                    "id": activity_id, "club_id": club_id, "title": f"活动{activity_id}",
                    "module": rng.choice(MODULES), "level": rng.choice(LEVELS),
                    "starts_at": starts, "ends_at": ends, "term": term, "location": "活动中心",
                    "hours": hours, "status": status, "created_by_id": leader_ids[c],
                    "objectives": "目标" if rng.random() < 0.85 else None,
                    "budget": Decimal(rng.choice([500, 1200])) if rng.random() < 0.8 else None,
                    "partners": [rng.choice(PARTNERS)] if rng.random() < 0.4 else [],
                    "outcome": "成果" if status == "completed" and rng.random() < 0.8 else None,
                    "approved_at": starts - timedelta(days=habit_lead + rng.uniform(-2, 2)),
                    "completed_at": ends + timedelta(days=1) if status == "completed" else None,
                })
                signed = ends + timedelta(days=habit_lag * rng.uniform(0.5, 1.5))
                outside = [s for s in pools[c] if s not in set(roster)]
                for student in rng.sample(roster, 16) + rng.sample(outside, 4):
                    state = rng.choices(["certified", "recorded", "rejected", "revoked"],
                                        [85, 8, 5, 2])[0]
                    award = rng.choice(["一等奖", "二等奖"]) if rng.random() < 0.03 else None
                    records.append({
                        "activity_id": activity_id, "student_id": student,
                        "role": "awardee" if award else rng.choice(
                            ["participant", "participant", "volunteer", "organizer"]),
                        "hours": hours, "award": award, "status": state,
                        "recorded_by_id": leader_ids[c],
                        "certified_by_id": advisor_ids[c // 2]
                        if state in ("certified", "revoked") else None,
                        "certified_at": signed if state in ("certified", "revoked") else None,
                        "rejected_at": signed if state == "rejected" else None,
                    })
    bulk(Membership.__table__, members)
    bulk(Activity.__table__, activities)
    bulk(Participation.__table__, records)
    counts = {name: conn.execute(select(func.count()).select_from(model)).scalar_one()
              for name, model in (("clubs", Club), ("activities", Activity),
                                  ("participations", Participation))}
    counts["students"] = conn.execute(
        select(func.count()).where(User.role == "student")).scalar_one()
    return counts


# --------------------------------------------------------------------------- measuring


class Statements:
    def __init__(self, engine):
        self.engine, self.count = engine, 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, *args, **kwargs):
        self.count += 1


def measure(engine, fn, runs: int) -> tuple[float, int]:
    """Median milliseconds of ``runs`` calls (after one warm-up) and statements per call."""
    fn()
    times = []
    with Statements(engine) as statements:
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), statements.count // runs


@contextmanager
def database(tag: str):
    """A database URL for one school: a SQLite file, or a fresh PostgreSQL database."""
    base = os.environ.get("BENCH_DATABASE_URL")
    if not base:
        folder = Path(tempfile.mkdtemp(prefix=f"st-bench-scorecard-{tag}-"))
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    for prefix in ("postgres://", "postgresql://"):
        if base.startswith(prefix):
            base = "postgresql+psycopg://" + base[len(prefix):]
    name = f"st_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_school(n_clubs: int, runs: int) -> dict:
    with database(str(n_clubs)) as url:
        os.environ["DATABASE_URL"] = url
        from app import create_app
        from app.extensions import db
        from app.models import Activity, Participation, User
        from app.services import scorecard

        app = create_app({"SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            t = time.perf_counter()
            with db.engine.begin() as conn:
                counts = generate(conn, n_clubs)
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.execute(sa.text("VACUUM ANALYZE"))
            else:
                with db.engine.begin() as conn:
                    conn.execute(sa.text("ANALYZE"))
            generated = time.perf_counter() - t
            session = db.session
            admin = session.get(User, 1)
            term = TERMS[1]
            club_id = n_clubs // 2

            def overview():
                result = scorecard.overview(session, admin, term)
                assert result.total == n_clubs
                return result

            def overview_page():
                return scorecard.overview(session, admin, term, compare=True)

            def one_club():
                return scorecard.club_scorecard(session, admin, club_id, term)

            def floor():
                return session.execute(
                    select(Activity.club_id, func.count(Participation.id),
                           func.sum(Participation.hours))
                    .join(Participation, Participation.activity_id == Activity.id)
                    .where(Activity.term == term).group_by(Activity.club_id)).all()

            result = {
                "clubs": n_clubs, "counts": counts, "generated_s": generated,
                "overview": measure(db.engine, overview, runs),
                "two_terms": measure(db.engine, overview_page, runs),
                "one_club": measure(db.engine, one_club, runs),
                "floor": measure(db.engine, floor, runs),
                "dialect": db.engine.dialect.name,
            }
            ranked = overview().rows
            result["spread"] = (ranked[0].card.overall, ranked[-1].card.overall)
            session.remove()
            db.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--clubs", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench")
    big = run_school(args.clubs, args.runs)
    small = run_school(max(1, args.clubs // 4), args.runs)
    print(f"database: {big['dialect']}; median of {args.runs} runs after one warm-up")
    for school in (big, small):
        c = school["counts"]
        print(f"\n{school['clubs']} clubs: {c['students']:,} students, {c['activities']:,} "
              f"activities, {c['participations']:,} participations "
              f"(generated in {school['generated_s']:.1f} s); overall scores from "
              f"{school['spread'][0]} down to {school['spread'][1]}")
        print(f"  {'':<44}{'median ms':>10}{'statements':>12}")
        for key, label in (("overview", "overview of one term"),
                           ("two_terms", "overview with the term before (the page)"),
                           ("one_club", "one club's scorecard"),
                           ("floor", "floor: one GROUP BY club over the records")):
            ms, n = school[key]
            print(f"  {label:<44}{ms:>10.1f}{n:>12}")
    ratio = big["overview"][0] / big["floor"][0]
    print(f"\nstatements for {big['clubs']} clubs: overview {big['overview'][1]} (two terms "
          f"{big['two_terms'][1]}), one club {big['one_club'][1]}; for {small['clubs']} clubs: "
          f"overview {small['overview'][1]} (two terms {small['two_terms'][1]}), one club "
          f"{small['one_club'][1]}; overview / floor = {ratio:.1f}")
    print(f"scorecard: overview {big['overview'][0]:.0f} ms ({big['overview'][1]} statements), "
          f"one club {big['one_club'][0]:.1f} ms ({big['one_club'][1]} statements), "
          f"{big['clubs']} clubs")


if __name__ == "__main__":
    main()
