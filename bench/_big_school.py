"""A big school for the benchmarks (#15): 30,000 students in classes of four cohorts (2022-2025)
over 20 colleges, 300 clubs, 15,000 activities over three academic years (2023-2024 to
2025-2026, six terms, the seven modules), 1,000,000 participation records (mostly certified;
some awaiting sign-off, rejected or revoked), 20,000 achievement claims and a rule set for
each cohort (cohort 2023 at version 2); then the per-term tallies (#17) from those rows.

Bulk-inserted with SQLAlchemy Core (`conn.execute(insert(table), rows)` in chunks) into the
project's own tables, built with `db.metadata.create_all` as the other benches do. The
database is kept for the next run: a marker table `bench_big_school` holds the seed's version,
a fingerprint of the schema (every CREATE TABLE and CREATE INDEX of the models) and the sizes;
a database whose marker, schema or row counts differ is seeded again from nothing.

    from bench._big_school import ensure, sqlite_url, postgres_url
    info = ensure(sqlite_url())                       # instance/bench_big_school.db
    info = ensure(postgres_url("postgresql://postgres@127.0.0.1:5432/test"))  # database bench_school

    .venv/bin/python bench/_big_school.py [--postgres [URL]] [--fresh]   # seed (or check) only
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VERSION = "big-school 2"  # 2: the per-term tallies filled (#17)
# BENCH_BIG_SCHOOL_PG: another name, for a worktree whose schema differs from the others' (each
# fingerprint mismatch would otherwise re-seed the shared database under the others)
PG_DATABASE = os.environ.get("BENCH_BIG_SCHOOL_PG", "bench_school")
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"

STUDENTS = 30_000
PARTICIPATIONS = 1_000_000
ACTIVITIES = 15_000
CLUBS = 300
UNITS = 20
CLAIMS = 20_000
CLASS_SIZE = 30
COHORTS = (2022, 2023, 2024, 2025)
TERMS = ("2023-2024-1", "2023-2024-2", "2024-2025-1", "2024-2025-2", "2025-2026-1", "2025-2026-2")
MODULES = ("ideology", "practice", "volunteering", "innovation", "culture_sports", "leadership", "skills")
MODULE_WEIGHTS = (14, 18, 22, 12, 16, 8, 10)
LEVELS = ("club", "college", "school", "provincial", "national")
LEVEL_WEIGHTS = (30, 33, 30, 5, 2)
CATEGORIES = ("学术科技", "志愿公益", "文化艺术", "体育竞技", "创新创业", "理论学习")
HOURS = tuple(Decimal(h) for h in ("1.5", "2", "2.5", "3", "4", "6"))
CHUNK = 10_000

ADMIN_ID = 1
FIRST_ADVISOR = 2             # one advisor per club: ids 2..301
FIRST_STUDENT = 1001          # students: ids 1001..31000, the first CLUBS of them lead a club


def sqlite_url(path: str | os.PathLike | None = None) -> str:
    """The kept SQLite file: BENCH_BIG_SCHOOL_SQLITE, else instance/bench_big_school.db."""
    path = Path(path or os.environ.get("BENCH_BIG_SCHOOL_SQLITE") or ROOT / "instance" / "bench_big_school.db")
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def driver_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def postgres_url(server: str, name: str = PG_DATABASE) -> str:
    """The kept PostgreSQL database `name` on that server (never the tests' own database)."""
    return sa.engine.make_url(driver_url(server)).set(database=name).render_as_string(hide_password=False)


# --------------------------------------------------------------------------- the cache


marker_metadata = sa.MetaData()
marker = sa.Table(
    "bench_big_school", marker_metadata,
    sa.Column("version", sa.String(40), primary_key=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("students", sa.Integer, nullable=False),
    sa.Column("participations", sa.Integer, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
)


def fingerprint(dialect) -> str:
    """The models' schema as this dialect writes it: an index added to a model changes it."""
    from sqlalchemy.schema import CreateIndex, CreateTable

    from app.extensions import db

    parts = []
    for table in db.metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)))
        parts += sorted(str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _cached(engine) -> dict | None:
    """The marker's row when the database holds this seed under this schema, else None."""
    from app.models import Participation, User

    if not sa.inspect(engine).has_table("bench_big_school"):
        return None
    with engine.connect() as conn:
        row = conn.execute(select(marker).where(marker.c.version == VERSION)).mappings().first()
        if row is None or row["fingerprint"] != fingerprint(engine.dialect):
            return None
        students = conn.execute(select(func.count()).select_from(User).where(
            User.role.in_(("student", "leader")))).scalar_one()
        records = conn.execute(select(func.count()).select_from(Participation)).scalar_one()
    if (students, records) != (STUDENTS, PARTICIPATIONS) or (row["students"], row["participations"]) != (
            students, records):
        return None
    return dict(row)


def _empty_database(url: str) -> None:
    """Remove what is there: the SQLite file (and its -wal, -shm), or drop and make the PG database."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        admin.dispose()


def _pg_exists(url: str) -> bool:
    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": parsed.database}).first() is not None
    finally:
        admin.dispose()


def ensure(url: str, *, fresh: bool = False, log=print) -> dict:
    """The big school at `url`, seeded unless it is already there. Returns the marker's row plus
    `seeded` (seeded now) and `elapsed` (seconds this call took)."""
    import app.models  # noqa: F401 — every model on db.metadata
    from app.extensions import db

    started = time.perf_counter()
    url = driver_url(url)
    backend = sa.engine.make_url(url).get_backend_name()
    if backend == "postgresql" and not _pg_exists(url):
        _empty_database(url)
    engine = sa.create_engine(url)
    try:
        found = None if fresh else _cached(engine)
        if found is not None:
            return found | {"seeded": False, "elapsed": time.perf_counter() - started}
    finally:
        engine.dispose()
    log(f"{backend}: seeding the big school ({STUDENTS:,} students, {PARTICIPATIONS:,} records) …")
    _empty_database(url)
    engine = sa.create_engine(url)
    if backend == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _fast(dbapi_connection, _record):  # a bulk load: no fsync, the journal in memory
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")
            cursor.close()
    try:
        db.metadata.create_all(engine)
        marker_metadata.create_all(engine)
        with engine.begin() as conn:
            counts = generate(conn, random.Random(15), log)
            fill_tallies(conn, log)
        if backend == "postgresql":  # what autovacuum does soon after a bulk load
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("VACUUM ANALYZE"))
        seconds = time.perf_counter() - started
        row = {"version": VERSION, "fingerprint": fingerprint(engine.dialect), "students": counts["students"],
               "participations": counts["participations"], "seconds": round(seconds, 1)}
        with engine.begin() as conn:
            conn.execute(insert(marker), row)
    finally:
        engine.dispose()
    return row | {"seeded": True, "elapsed": time.perf_counter() - started}


# --------------------------------------------------------------------------- the data


def fill_tallies(conn, log=print) -> None:
    """The per-term tallies from the rows just loaded: the app's own rebuild (`flask scorecards
    rebuild`), so the seeded school reads as a migrated one does."""
    from sqlalchemy.orm import Session

    from app.services.tallies import rebuild

    started = time.perf_counter()
    with Session(bind=conn) as session:
        counts = rebuild(session)
    log(f"  tallies {counts} in {time.perf_counter() - started:.1f} s")


def _start_year(term: str) -> int:
    return int(term[:4])


def generate(conn, rng: random.Random, log=print) -> dict:
    """Bulk-insert the school on `conn` (empty tables of the models)."""
    from app.models import (
        Activity,
        Claim,
        Club,
        Participation,
        SchoolClass,
        Term,
        Unit,
        User,
        club_advisor,
        club_leader,
    )
    from app.models.rules import RuleSet
    from app.timeutil import term_bounds, term_of

    t0 = time.perf_counter()

    def bulk(table, rows):
        for i in range(0, len(rows), CHUNK):
            conn.execute(insert(table), rows[i:i + CHUNK])

    now = datetime(2026, 7, 1, 2, tzinfo=UTC)
    bulk(Term.__table__, [{"code": t, "name": t, "starts_on": term_bounds(t)[0], "ends_on": term_bounds(t)[1]}
                          for t in TERMS])
    bulk(Unit.__table__, [{"id": u, "code": f"C{u:02d}", "name": f"第{u}学院", "created_at": now}
                          for u in range(1, UNITS + 1)])

    # Classes: 7,500 students a cohort, 30 a class, spread over the colleges.
    per_cohort = STUDENTS // len(COHORTS)
    classes, class_of = [], []  # class_of[k]: (class id, unit id, cohort) of the k-th student
    class_id = 0
    for cohort in COHORTS:
        for n in range(math.ceil(per_cohort / CLASS_SIZE)):
            class_id += 1
            unit = 1 + n % UNITS
            classes.append({"id": class_id, "unit_id": unit, "name": f"{cohort}级{n // UNITS + 1:02d}班",
                            "cohort": cohort, "created_at": now})
            size = min(CLASS_SIZE, per_cohort - n * CLASS_SIZE)
            class_of += [(class_id, unit, cohort)] * size
    bulk(SchoolClass.__table__, classes)

    people = [{"id": ADMIN_ID, "username": "admin", "password_hash": None, "display_name": "校团委",
               "role": "admin", "student_no": None, "unit_id": None, "class_id": None, "created_at": now}]
    advisors = list(range(FIRST_ADVISOR, FIRST_ADVISOR + CLUBS))
    people += [{"id": i, "username": f"t{i}", "password_hash": None, "display_name": f"老师{i}",
                "role": "organizer", "student_no": None, "unit_id": 1 + i % UNITS, "class_id": None,
                "created_at": now} for i in advisors]
    students = list(range(FIRST_STUDENT, FIRST_STUDENT + STUDENTS))
    cohort_of = {}
    for k, sid in enumerate(students):
        cid, unit, cohort = class_of[k]
        cohort_of[sid] = cohort
        people.append({"id": sid, "username": f"s{sid}", "password_hash": None, "display_name": f"学生{sid}",
                       "role": "leader" if k % (STUDENTS // CLUBS) == 0 else "student",
                       "student_no": f"{cohort}{sid:06d}", "unit_id": unit, "class_id": cid, "created_at": now})
    leaders = [p["id"] for p in people if p["role"] == "leader"][:CLUBS]
    bulk(User.__table__, people)
    bulk(Club.__table__, [{"id": c, "name": f"社团{c:03d}", "category": CATEGORIES[c % len(CATEGORIES)],
                           "unit_id": 1 + c % UNITS, "charter": "章程", "status": "active", "created_at": now}
                          for c in range(1, CLUBS + 1)])
    bulk(club_advisor, [{"club_id": c, "user_id": advisors[c - 1]} for c in range(1, CLUBS + 1)])
    bulk(club_leader, [{"club_id": c, "user_id": leaders[c - 1], "term": TERMS[-1], "appointed_at": now}
                       for c in range(1, CLUBS + 1)])

    # Activities: 2,500 a term, mostly completed; what a record needs is kept per activity.
    activities, done = [], []  # done: (id, term, hours, club, signed-off moment)
    per_term = ACTIVITIES // len(TERMS)
    for t, term in enumerate(TERMS):
        first, last = term_bounds(term)
        for n in range(per_term):
            aid = t * per_term + n + 1
            club = rng.randrange(1, CLUBS + 1)
            day = first + timedelta(days=rng.randrange((last - first).days - 5))
            starts = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
            hours = rng.choice(HOURS)
            ends = starts + timedelta(hours=max(2, math.ceil(hours)))
            status = "cancelled" if rng.random() < 0.03 else "completed"
            activities.append({
                "id": aid, "club_id": club, "title": f"活动{aid}",
                "module": rng.choices(MODULES, MODULE_WEIGHTS)[0],
                "level": rng.choices(LEVELS, LEVEL_WEIGHTS)[0], "starts_at": starts, "ends_at": ends,
                "term": term_of(starts), "location": "大学生活动中心", "hours": hours, "capacity": None,
                "registration_deadline": None, "description": None, "objectives": None, "budget": None,
                "partners": [], "outcome": None, "status": status, "created_at": starts - timedelta(days=20),
                "created_by_id": leaders[club - 1], "submitted_at": starts - timedelta(days=15),
                "submitted_by_id": leaders[club - 1], "approved_at": starts - timedelta(days=10),
                "approved_by_id": advisors[club - 1],
                "completed_at": ends + timedelta(days=1) if status == "completed" else None,
                "completed_by_id": leaders[club - 1] if status == "completed" else None,
                "cancelled_at": starts - timedelta(days=2) if status == "cancelled" else None,
                "cancelled_by_id": leaders[club - 1] if status == "cancelled" else None,
                "cancel_reason": "天气原因" if status == "cancelled" else None,
            })
            if status == "completed":
                done.append((aid, term, hours, club, ends + timedelta(days=rng.uniform(1, 20))))
    bulk(Activity.__table__, activities)
    log(f"  people, classes, clubs and {len(activities):,} activities in {time.perf_counter() - t0:.1f} s")

    # Records: a student takes part in activities of the years since their entry; how keen
    # a student is varies (a log-normal weight), so both sides of every rule are populated.
    pools = {cohort: [a for a in done if _start_year(a[1]) >= cohort] for cohort in COHORTS}
    weights = [len({a[1][:9] for a in pools[cohort_of[s]]}) * rng.lognormvariate(0, 0.55) for s in students]
    scale = PARTICIPATIONS / sum(weights)
    counts = [min(int(w * scale), len(pools[cohort_of[s]])) for w, s in zip(weights, students, strict=True)]
    for k in rng.sample(range(STUDENTS), PARTICIPATIONS - sum(counts)):  # the rounding's remainder
        counts[k] += 1
    statuses, status_weights = ("certified", "recorded", "rejected", "revoked"), (88, 6, 4, 2)
    rows, written = [], 0
    for sid, n in zip(students, counts, strict=True):
        for aid, _term, hours, club, signed in rng.sample(pools[cohort_of[sid]], n):
            state = rng.choices(statuses, status_weights)[0]
            signer = advisors[club - 1]
            rows.append({
                "activity_id": aid, "student_id": sid, "role": "participant", "hours": hours, "award": None,
                "source": "list", "status": state, "recorded_at": signed - timedelta(hours=12),
                "recorded_by_id": leaders[club - 1],
                "certified_at": signed if state in ("certified", "revoked") else None,
                "certified_by_id": signer if state in ("certified", "revoked") else None,
                "rejected_at": signed if state == "rejected" else None,
                "rejected_by_id": signer if state == "rejected" else None,
                "reject_reason": "未到场" if state == "rejected" else None,
                "revoked_at": signed + timedelta(days=30) if state == "revoked" else None,
                "revoked_by_id": signer if state == "revoked" else None,
                "revoke_reason": "核查不实" if state == "revoked" else None,
            })
            if len(rows) >= CHUNK * 5:
                bulk(Participation.__table__, rows)
                written += len(rows)
                rows = []
    bulk(Participation.__table__, rows)
    written += len(rows)
    log(f"  {written:,} participation records in {time.perf_counter() - t0:.1f} s")

    claims = []
    for cid in range(1, CLAIMS + 1):
        sid = rng.choice(students)
        cohort = max(cohort_of[sid], 2023)
        state = rng.choices(("certified", "submitted", "rejected", "revoked"), (75, 12, 10, 3))[0]
        reviewer = advisors[sid % CLUBS]
        occurred = date(cohort, 9, 15) + timedelta(days=rng.randrange((date(2026, 6, 30) - date(cohort, 9, 15)).days))
        reviewed = datetime(occurred.year, occurred.month, occurred.day, 8, tzinfo=UTC) + timedelta(days=7)
        claims.append({
            "id": cid, "student_id": sid, "title": f"校外成果{cid}", "module": rng.choices(MODULES, MODULE_WEIGHTS)[0],
            "level": rng.choices(LEVELS, (5, 15, 40, 30, 10))[0], "occurred_on": occurred,
            "hours": rng.choice(HOURS), "award": "二等奖" if rng.random() < 0.3 else None, "description": None,
            "status": state, "submitted_at": reviewed - timedelta(days=5),
            "reviewed_at": reviewed if state != "submitted" else None,
            "reviewed_by_id": reviewer if state != "submitted" else None,
            "reason": "材料不全" if state == "rejected" else None,
            "revoked_at": reviewed + timedelta(days=20) if state == "revoked" else None,
            "revoked_by_id": reviewer if state == "revoked" else None,
            "revoke_reason": "核查不实" if state == "revoked" else None,
        })
    bulk(Claim.__table__, claims)

    # Rules: more years at school, more required; 2023 was changed once (version 2 in force).
    def rule(cohort, version, total, years, volunteering_min):
        return {"id": None, "cohort": cohort, "version": version, "total_min_hours": Decimal(total),
                "modules": {"ideology": {"min_hours": "6", "max_hours": "40"},
                            "volunteering": {"min_hours": str(volunteering_min), "max_hours": "60"},
                            "practice": {"min_hours": "4", "max_hours": "50"},
                            "leadership": {"max_hours": "20"}},
                "pass_hours": Decimal("12"), "excellent_hours": Decimal("18"), "years_required": years,
                "created_at": now, "created_by_id": ADMIN_ID}

    rule_rows = [rule(2022, 1, 110, 3, 16), rule(2023, 1, 100, 3, 16), rule(2023, 2, 110, 3, 16),
                 rule(2024, 1, 75, 2, 10), rule(2025, 1, 35, 1, 6)]
    for i, r in enumerate(rule_rows, start=1):
        r["id"] = i
    bulk(RuleSet.__table__, rule_rows)

    if conn.dialect.name == "postgresql":  # explicit ids: move each sequence past them
        for table in ("unit", "school_class", "user_account", "club", "activity", "claim", "rule_set"):
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT max(id) FROM {table}))"))
    return {"students": sum(1 for p in people if p["role"] in ("student", "leader")), "participations": written,
            "activities": len(activities), "claims": len(claims)}


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed (or find already seeded) the big school.")
    parser.add_argument("--postgres", nargs="?", const=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG),
                        default=None, help=f"on PostgreSQL: the database {PG_DATABASE} on this server")
    parser.add_argument("--fresh", action="store_true", help="seed again even when the kept one fits")
    args = parser.parse_args()
    url = postgres_url(args.postgres) if args.postgres else sqlite_url()
    info = ensure(url, fresh=args.fresh)
    what = "seeded" if info["seeded"] else f"kept (seeded in {info['seconds']:.1f} s)"
    print(f"{sa.engine.make_url(url).render_as_string()}: {info['students']:,} students, "
          f"{info['participations']:,} records, {what}; {info['elapsed']:.1f} s")


if __name__ == "__main__":
    main()
