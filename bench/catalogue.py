"""Benchmark: the activity catalogue of a school with 15,000 activities, against its floors.

Seeds (SQLAlchemy Core executemany, seconds) 20 units, 300 clubs with an advisor and a leader
each, 3,000 students and 15,000 activities over three years (mostly approved; the coming weeks'
with capacities, deadlines and a few thousand sign-ups with waiting lines), then, as one
signed-in student, measures p50/p95 of sequential requests to a gunicorn-served app (1 sync
worker, loopback) for

* the catalogue JSON (`GET /api/v1/activities`, 50 a page): first page, a module filter, a date
  range, page 50;
* the catalogue page (`GET /activities`, 20 a page): its default view (upcoming only) and a
  module filter;

and next to them, in the same run, the floors: `/healthz` (the same server and middleware,
touching nothing) and the request's own SQL executed bare on a DBAPI cursor (every statement
the request sends, captured in-process, and the page-of-rows SELECT alone). Columns between
them: the same request through the in-process test client (no HTTP, no gunicorn) and
`services.catalogue.catalogue` alone (the domain call without the view).

    .venv/bin/python bench/catalogue.py                  # SQLite (a file in a temporary folder)
    .venv/bin/python bench/catalogue.py --postgres [URL] # PostgreSQL: a database `bench_catalogue`
                                                         # made on that server (default
                                                         # TEST_DATABASE_URL or the local one) and dropped
    DATABASE_URL=postgresql://… .venv/bin/python bench/catalogue.py   # the same, on that server
    .venv/bin/python bench/catalogue.py --postgres --if-reachable     # make bench: skipped without a server

Last line: ``catalogue: <backend> JSON first page p50 X ms (p95 Y ms); … 15,000 activities``.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import math
import os
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event, insert  # noqa: E402

from bench._serve import free_port, gunicorn  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
PG_DATABASE = "bench_catalogue"
PASSWORD = "bench catalogue 42"
MODULES = ["ideology", "practice", "volunteering", "innovation", "culture_sports", "leadership", "skills"]
LEVELS = ["national", "provincial", "school", "college", "club"]
CATEGORIES = ["学术科技", "志愿公益", "文化艺术", "体育竞技", "创新创业", "理论学习"]
WORDS = ["社区", "志愿", "讲座", "竞赛", "实践", "论坛", "读书会", "支教", "义诊", "环保", "科普", "调研",
         "马拉松", "合唱", "编程", "辩论", "摄影", "创业", "非遗", "红色"]
PLACES = ["图书馆报告厅", "大学生活动中心", "体育馆", "教学楼A101", "学术交流中心", "东区操场", "线上"]


# --------------------------------------------------------------------------- small helpers


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def driver_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@contextmanager
def database(postgres: str | None, folder: Path, name: str):
    """A fresh database: a SQLite file in `folder`, or a PostgreSQL database `name` on the
    server of `postgres`, made now (after dropping a leftover of a crashed run) and dropped after."""
    if not postgres:
        yield f"sqlite:///{folder / (name + '.db')}"
        return
    base = driver_url(postgres)
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    drop = sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with admin.connect() as conn:
        conn.execute(drop)
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(drop)
        admin.dispose()


def postgres_server(arg: str | None) -> str | None:
    """The server to make the database on: --postgres URL, or DATABASE_URL when it is PostgreSQL."""
    if arg:
        return arg
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql")) else None


def unreachable(server: str) -> str | None:
    """Why the PostgreSQL server cannot be used, or None when it answers."""
    try:
        engine = sa.create_engine(driver_url(server), connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 — any failure to connect is the answer
        return f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    return None


def skip_postgres(server: str | None, if_reachable: bool) -> bool:
    """--if-reachable (make bench): a machine without the server skips the PostgreSQL run, saying so."""
    why = unreachable(server) if server and if_reachable else None
    if why:
        print(f"PostgreSQL at {server.split('@')[-1]} not reachable ({why}); skipped")
    return why is not None


def app_env(url: str, folder: Path, port: int) -> dict:
    """The served app's settings: everything in the scratch folder, nothing in instance/."""
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "SIGNING_KEY_DIR": str(folder / "keys"),
        "EVIDENCE_DIR": str(folder / "evidence"),
        "TRANSCRIPT_DIR": str(folder / "transcripts"),
        "JOB_QUEUE_URL": f"sqlite:///{folder / 'jobs.db'}",
        "MAIL_SERVER": "",
    })
    return env


class Browser:
    """A loopback HTTP client with a cookie jar: one connection per request (gunicorn's sync
    workers close it anyway), the body sent as given, the time from send to last byte."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes, float]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _eq, rest = value.partition("=")
            cookie = rest.split(";", 1)[0]
            if cookie and "expires=Thu, 01 Jan 1970" not in value:
                self.cookies[name.strip()] = cookie
            else:
                self.cookies.pop(name.strip(), None)
        conn.close()
        return response.status, dict(response.headers), data, elapsed

    def csrf(self, path: str) -> str:
        status, _headers, html, _ms = self.request("GET", path)
        assert status == 200, (path, status)
        return re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html).group(1).decode()

    def sign_in(self, username: str, password: str) -> None:
        token = self.csrf("/login")
        body = urlencode({"csrf_token": token, "username": username, "password": password}).encode()
        status, _h, data, _ms = self.request("POST", "/login", body,
                                             {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302, (status, data[:500])


def api_token(session, user_id: int) -> str:
    from app.models import AuthToken
    from app.timeutil import utcnow

    token = secrets.token_urlsafe(24)
    session.add(AuthToken(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user_id,
                          expires_at=utcnow() + timedelta(hours=6)))
    session.commit()
    return token


# --------------------------------------------------------------------------- the school


def seed(conn, activities: int, clubs: int, students: int, rng: random.Random) -> dict:
    """The school, by Core executemany with explicit ids; answers the bench student's id and counts."""
    from app.models import Activity, Club, Registration, Unit, User, club_advisor, club_leader
    from app.services.passwords import hash_password
    from app.timeutil import term_of, utcnow

    now = utcnow()
    units = [{"id": i, "code": f"U{i:02d}", "name": f"第{i}学院", "created_at": now} for i in range(1, 21)]
    conn.execute(insert(Unit.__table__), units)
    users, uid = [], 0

    def person(role: str, name: str, unit: int | None, number: str | None, password: str = "x") -> int:
        nonlocal uid
        uid += 1
        users.append({"id": uid, "username": f"{role}{uid}", "password_hash": password, "display_name": name,
                      "role": role, "student_no": number, "unit_id": unit, "class_id": None, "scope_unit_id": None,
                      "email": None, "active": True, "locale": None, "created_at": now})
        return uid

    person("admin", "校团委", None, None)
    advisors = [person("organizer", f"指导老师{c}", c % 20 + 1, None) for c in range(clubs)]
    leaders = [person("leader", f"社长{c}", c % 20 + 1, f"2023{c:06d}") for c in range(clubs)]
    pupils = [person("student", f"学生{s}", s % 20 + 1, f"2024{s:06d}") for s in range(students)]
    me = person("student", "张同学", 1, "2024999999", hash_password(PASSWORD))
    conn.execute(insert(User.__table__), users)
    conn.execute(insert(Club.__table__), [
        {"id": c + 1, "name": f"{rng.choice(WORDS)}{rng.choice(CATEGORIES)}协会{c + 1}",
         "category": rng.choice(CATEGORIES), "unit_id": c % 20 + 1, "status": "active", "created_at": now}
        for c in range(clubs)])
    conn.execute(insert(club_advisor), [{"club_id": c + 1, "user_id": advisors[c]} for c in range(clubs)])
    conn.execute(insert(club_leader), [{"id": c + 1, "club_id": c + 1, "user_id": leaders[c], "term": term_of(now),
                                        "appointed_at": now} for c in range(clubs)])

    # Three years: from 33 months ago to 3 months ahead, so about one in twelve is still to come.
    first, span = now - timedelta(days=1000), timedelta(days=1090)
    rows, upcoming_open = [], []
    for i in range(1, activities + 1):
        club = rng.randrange(clubs)
        local_day = first + span * rng.random()
        starts = local_day.replace(hour=rng.randrange(0, 11), minute=rng.choice((0, 30)), second=0, microsecond=0)
        length = rng.choice((1, 1.5, 2, 2, 3, 4))
        ends = starts + timedelta(hours=length)
        ahead = starts > now
        if ahead:
            status = rng.choices(("approved", "submitted", "draft"), (85, 8, 7))[0]
        else:
            status = rng.choices(("approved", "completed", "cancelled", "draft"), (70, 25, 3, 2))[0]
        capacity = rng.choice((20, 30, 50, 80, 120, 200)) if rng.random() < (0.7 if ahead else 0.3) else None
        deadline = starts - timedelta(days=1) if capacity and ahead and rng.random() < 0.3 else None
        approved = status in ("approved", "completed")
        rows.append({
            "id": i, "club_id": club + 1,
            "title": f"{rng.choice(WORDS)}{rng.choice(WORDS)}主题活动（第{i}期）",
            "module": rng.choice(MODULES), "level": rng.choices(LEVELS, (2, 5, 30, 33, 30))[0],
            "starts_at": starts, "ends_at": ends, "term": term_of(starts), "location": rng.choice(PLACES),
            "hours": Decimal(str(length)), "capacity": capacity, "registration_deadline": deadline,
            "description": "活动简介：" + "".join(rng.choice(WORDS) for _ in range(30)),
            "objectives": None, "budget": None, "partners": [], "outcome": None, "status": status,
            "created_at": starts - timedelta(days=20), "created_by_id": leaders[club],
            "submitted_at": starts - timedelta(days=15) if status != "draft" else None,
            "submitted_by_id": leaders[club] if status != "draft" else None,
            "approved_at": starts - timedelta(days=10) if approved else None,
            "approved_by_id": advisors[club] if approved else None,
            "completed_at": ends + timedelta(days=1) if status == "completed" else None,
            "completed_by_id": leaders[club] if status == "completed" else None,
        })
        if ahead and status == "approved" and capacity:
            upcoming_open.append((i, capacity))
    conn.execute(insert(Activity.__table__), rows)

    # Sign-ups for the coming weeks: some full with a waiting line, a few withdrawn.
    registrations, rid = [], 0
    for activity_id, capacity in upcoming_open:
        if rng.random() > 0.4:  # most have no sign-up yet
            continue
        wanted = min(int(capacity * rng.choice((0.1, 0.3, 0.5, 0.8, 1.1))), 25)
        for n, student in enumerate(rng.sample(pupils, wanted)):
            rid += 1
            cancelled = rng.random() < 0.05
            registrations.append({
                "id": rid, "activity_id": activity_id, "student_id": student,
                "status": "cancelled" if cancelled else ("registered" if n < capacity else "waitlisted"),
                "created_at": now - timedelta(hours=rng.randrange(1, 300)),
                "promoted_at": None, "cancelled_at": now if cancelled else None,
            })
    for activity_id, _capacity in upcoming_open[:5]:  # the bench student's own
        rid += 1
        registrations.append({"id": rid, "activity_id": activity_id, "student_id": me, "status": "registered",
                              "created_at": now, "promoted_at": None, "cancelled_at": None})
    conn.execute(insert(Registration.__table__), registrations)
    if conn.dialect.name == "postgresql":  # explicit ids: move each sequence past them
        for table in ("unit", "user_account", "club", "club_leader", "activity", "registration"):
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT max(id) FROM {table}))"))
    return {"me": me, "activities": len(rows), "upcoming_open": len(upcoming_open),
            "registrations": len(registrations), "users": len(users)}


# --------------------------------------------------------------------------- measuring


def json_cases(today) -> dict[str, tuple[str, dict]]:
    """name → (path, the service's filters) for the JSON rows."""
    from app.services.catalogue import Filters

    since, until = today - timedelta(days=395), today - timedelta(days=275)
    return {
        "JSON first page": ("/api/v1/activities", {"filters": Filters(), "page": 1, "per_page": 50}),
        "JSON module": ("/api/v1/activities?module=volunteering",
                        {"filters": Filters(module="volunteering"), "page": 1, "per_page": 50}),
        "JSON date range": (f"/api/v1/activities?from={since}&to={until}",
                            {"filters": Filters(date_from=since, date_to=until), "page": 1, "per_page": 50}),
        "JSON page 50": ("/api/v1/activities?page=50", {"filters": Filters(), "page": 50, "per_page": 50}),
    }


def html_cases() -> dict[str, tuple[str, dict]]:
    from app.services.catalogue import Filters

    return {
        "page /activities": ("/activities", {"filters": Filters(upcoming=True), "page": 1, "per_page": 20}),
        "page module": ("/activities?module=volunteering",
                        {"filters": Filters(module="volunteering"), "page": 1, "per_page": 20}),
    }


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


def bare(engine, statements, runs: int) -> list[float]:
    """The statements executed on a raw DBAPI cursor, all rows fetched: ms per run."""
    raw = engine.raw_connection()
    try:
        out = []
        for run in range(runs + 1):  # the first one warms the caches, untimed
            cursor = raw.cursor()
            started = time.perf_counter()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            if run:
                out.append((time.perf_counter() - started) * 1000)
            cursor.close()
            raw.rollback()
        return out
    finally:
        raw.close()


def in_process(app, engine, me_id: int, token: str, cases: dict, html: bool, runs: int) -> dict[str, dict]:
    """Per case: the test client's request time, the service alone, the request's SQL bare."""
    from app.extensions import db
    from app.models import User
    from app.services import catalogue

    client = app.test_client()
    headers = {} if html else {"Authorization": f"Bearer {token}"}
    if html:
        r = client.post("/login", data={"username": f"student{me_id}", "password": PASSWORD})
        assert r.status_code == 302, r.status_code
    out = {}
    for name, (path, call) in cases.items():
        assert client.get(path, headers=headers).status_code == 200, path  # warm
        with Capture(engine) as captured:
            client.get(path, headers=headers)
        statements = list(captured.statements)
        page_rows = [s for s in statements if "FROM activity" in s[0] and "LIMIT" in s[0] and "count(" not in s[0]]
        request_ms, service_ms = [], []
        for _ in range(runs):
            started = time.perf_counter()
            client.get(path, headers=headers)
            request_ms.append((time.perf_counter() - started) * 1000)
        with app.app_context():
            for _ in range(runs):
                student = db.session.get(User, me_id)
                started = time.perf_counter()
                catalogue.catalogue(db.session, student, call["filters"], page=call["page"],
                                    per_page=call["per_page"])
                service_ms.append((time.perf_counter() - started) * 1000)
                db.session.remove()
        out[name] = {
            "inproc": statistics.median(request_ms), "service": statistics.median(service_ms),
            "sql": statistics.median(bare(engine, statements, runs)),
            "page_sql": statistics.median(bare(engine, page_rows[:1], runs)) if page_rows else float("nan"),
            "statements": len(statements),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", nargs="?", const=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG), default=None,
                        help="measure on PostgreSQL: a database bench_catalogue on this server")
    parser.add_argument("--if-reachable", action="store_true", help="skip, not fail, when the server is down")
    parser.add_argument("--activities", type=int, default=15000)
    parser.add_argument("--clubs", type=int, default=300)
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=30, help="sequential requests per endpoint and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = postgres_server(args.postgres)
    if skip_postgres(server, args.if_reachable):
        return
    folder = Path(tempfile.mkdtemp(prefix="st-bench-catalogue-"))
    port = free_port()
    try:
        with database(server, folder, PG_DATABASE) as url:
            env = app_env(url, folder, port)
            os.environ.update(env)  # the in-process app reads the same settings
            run(args, env, port)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(args, env: dict, port: int) -> None:
    from app import create_app
    from app.extensions import db
    from app.timeutil import to_local, utcnow

    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    backend = "postgresql" if env["DATABASE_URL"].startswith("postgres") else "sqlite"
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        with db.engine.begin() as conn:
            counts = seed(conn, args.activities, args.clubs, args.students, random.Random(14))
        if backend == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE"))  # what autovacuum does soon after a bulk load
        seeded = time.perf_counter() - started
        token = api_token(db.session, counts["me"])
        engine = db.engine
    print(f"{backend}: seeded {counts['activities']:,} activities, {args.clubs} clubs, {counts['users']:,} people, "
          f"{counts['registrations']:,} sign-ups ({counts['upcoming_open']} upcoming with places) in {seeded:.1f} s")

    today = to_local(utcnow()).date()
    json_rows, html_rows = json_cases(today), html_cases()
    runs = args.requests * args.rounds
    local = in_process(app, engine, counts["me"], token, json_rows, False, runs)
    local.update(in_process(app, engine, counts["me"], token, html_rows, True, runs))

    samples: dict[str, list[float]] = {"/healthz": []} | {name: [] for name in (*json_rows, *html_rows)}
    sizes: dict[str, int] = {}
    api = {"Authorization": f"Bearer {token}"}
    with gunicorn("app:create_app()", port, env, workers=1):
        page = Browser(port)
        page.sign_in(f"student{counts['me']}", PASSWORD)
        plain = Browser(port)
        targets = {"/healthz": (plain, "/healthz", {})}
        targets |= {name: (plain, path, api) for name, (path, _call) in json_rows.items()}
        targets |= {name: (page, path, {}) for name, (path, _call) in html_rows.items()}
        for name, (client, path, headers) in targets.items():  # warm the worker, check the answers
            for _ in range(3):
                status, _h, body, _ms = client.request("GET", path, headers=headers)
            assert status == 200, (name, status, body[:300])
            sizes[name] = len(body)
        for _ in range(args.rounds):
            for name, (client, path, headers) in targets.items():
                for _ in range(args.requests):
                    samples[name].append(client.request("GET", path, headers=headers)[3])

    floor = statistics.median(samples["/healthz"])
    print(f"\n{backend}, {args.activities:,} activities; HTTP: gunicorn 1 sync worker, {runs} sequential requests "
          "each (medians and p95 in ms)")
    head = (f"  {'endpoint':<18}{'HTTP p50':>9}{'p95':>8}{'×healthz':>9}{'in-proc':>9}{'service':>9}"
            f"{'all SQL':>9}{'page SQL':>9}{'stmts':>6}{'bytes':>8}")
    print(head)
    print(f"  {'/healthz':<18}{floor:>9.2f}{percentile(samples['/healthz'], 95):>8.2f}{1:>9.1f}"
          f"{'':>9}{'':>9}{'':>9}{'':>9}{'':>6}{sizes['/healthz']:>8}")
    for name in (*json_rows, *html_rows):
        p50, p95, lp = statistics.median(samples[name]), percentile(samples[name], 95), local[name]
        print(f"  {name:<18}{p50:>9.2f}{p95:>8.2f}{p50 / floor:>9.1f}{lp['inproc']:>9.2f}{lp['service']:>9.2f}"
              f"{lp['sql']:>9.2f}{lp['page_sql']:>9.2f}{lp['statements']:>6}{sizes[name]:>8}")
    print("  in-proc: the same request through the test client; service: catalogue.catalogue() alone;")
    print("  all SQL: every statement of the request run bare on a DBAPI cursor; page SQL: the page-of-rows SELECT")
    first = samples["JSON first page"]
    print(f"catalogue: {backend} JSON first page p50 {statistics.median(first):.1f} ms "
          f"(p95 {percentile(first, 95):.1f} ms), "
          f"page 50 p50 {statistics.median(samples['JSON page 50']):.1f} ms, "
          f"HTML /activities p50 {statistics.median(samples['page /activities']):.1f} ms; "
          f"/healthz {floor:.1f} ms; {args.activities:,} activities")


if __name__ == "__main__":
    main()
