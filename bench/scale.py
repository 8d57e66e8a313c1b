"""Benchmark (#17): every page and endpoint a user touches, on the big school, against its budget.

The big school (bench/_big_school.py: 30,000 students, 300 clubs, 15,000 activities, 1,000,000
records) with a signed transcript for every student and an organizer and a leader with ~5,000
records waiting (bench/_scale_seed.py) is served by gunicorn with 2 sync workers, and each row is
asked alone (one client) and by 8 users at once, every request another user's or another
transcript's:

* students (200 picked at random, each signed in: a browser session or an API token opened by
  services.auth, the cookie signed as the login form's response sets it): /me, their progress,
  notifications, one of their transcripts, the catalogue, and the JSON: /api/v1/me, records,
  progress, transcripts, notifications — p95 alone < 50 ms;
* the organizer's and the leader's home — p95 alone < 150 ms;
* the office: /admin, the dashboard, the requirements report, the scorecard overview — p95 with
  8 users < 1 s;
* issuing: POST /api/v1/students/{no}/transcripts by the student, each request another student
  whose name was changed beforehand, so each answer is a new transcript with a new link (201;
  a 200 would be the unchanged current one) — p95 alone < 150 ms;
* the verify page (the QR link) and the JSON verify, each request another transcript of all the
  big school's (none asked twice in a run: no cache of a few hundred pages helps) — req/s with 8
  users ≥ 0.7× the floor: bench/_scale_floor.py, a minimal Flask view served the same way on the
  same database that reads the same row by key and answers a body of the same size.

Other floors, measured in the same run: the app's /healthz, the bare SQL of a page's rows timed
directly (bench/_scale_sql.py), and for issuing the signed PDF render alone. Warm-up requests are
not counted; p50 is the median, p95 the nearest rank; n is the number of requests alone / with 8.

    .venv/bin/python bench/scale.py [--sqlite-only | --postgres-only] [--quick] [--postgres URL]
                                    [--only student,staff,issue,verify]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench import _big_school as big  # noqa: E402
from bench import _scale_seed as seed  # noqa: E402
from bench import _scale_sql as sql  # noqa: E402
from bench._scale_load import Req, Result, cycle, one, quantile, run, serve, timed  # noqa: E402
from bench._scale_report import Row, print_table, wait_for_other_seeds  # noqa: E402
from bench._serve import free_port  # noqa: E402

GROUPS = ("student", "staff", "issue", "verify")
VIEWERS = 200
ISSUERS = 300
LATEST_TERM = big.TERMS[-1]      # the office looks at the last term with records (today's has none)
GRADUATING = big.COHORTS[0]


@dataclass(frozen=True)
class Plan:
    """How long a row is asked: warm-up requests, then (seconds, most requests) alone and with 8."""

    warm: int
    alone: tuple[float, int]
    eight: tuple[float, int]


PLANS = {
    "student": Plan(6, (4.0, 300), (4.0, 1500)),
    "staff": Plan(4, (4.0, 60), (5.0, 160)),
    # The office's pages take seconds each today: alone a few times, then 8 users opening the page
    # at the same moment, once each (n = 8; the 1 s lets every user start, none start again).
    "office": Plan(2, (15.0, 3), (1.0, 8)),
    "issue": Plan(4, (20.0, 40), (25.0, 120)),
    "verify": Plan(20, (3.0, 400), (6.0, 3000)),  # x8: three rounds of 2 s
}


def quick(plan: Plan) -> Plan:
    return Plan(max(2, plan.warm // 2), (plan.alone[0] / 2, max(1, plan.alone[1] // 2)),
                (plan.eight[0] / 2, max(8, plan.eight[1] // 2)))


class Bench:
    """One database: its seed, its sign-ins, the served app and floor, its rows."""

    def __init__(self, db_name: str, url: str, args: argparse.Namespace):
        self.db, self.url, self.args = db_name, url, args
        self.plans = {k: quick(p) if args.quick else p for k, p in PLANS.items()}
        self.rows: list[Row] = []
        self.folder = Path(tempfile.mkdtemp(prefix="st-scale-"))

    def log(self, text: str) -> None:
        print(f"# {self.db}: {text}", flush=True)

    # ---------------------------------------------------------------- setting up

    def prepare(self) -> None:
        wait_for_other_seeds(self.url, self.log)
        info = big.ensure(self.url, log=self.log)
        self.log(f"big school {'seeded' if info['seeded'] else 'kept'} ({info['elapsed']:.0f} s)")
        self.app = seed.make_app(self.url)
        seed.ensure_transcripts(self.app, self.args.transcripts, log=self.log)
        roles = seed.ensure_roles(self.app, log=self.log)
        self.log(f"organizer {roles['organizer']} and leader {roles['leader']}: {roles['clubs']} clubs, "
                 f"{roles['waiting']:,} records waiting")
        self.engine = sa.create_engine(big.driver_url(self.url))
        rng = random.Random()  # another sample of students every run: no run leans on the last one's
        with self.engine.connect() as conn:
            students = conn.execute(sa.text(
                "SELECT u.id, t.serial FROM user_account u JOIN transcript t ON t.student_id = u.id"
                " AND t.status = 'valid' WHERE u.role = 'student' ORDER BY u.id")).all()
            self.transcripts = [(s, link) for s, link in conn.execute(sa.text("SELECT serial, link FROM transcript"))]
        picked = rng.sample(students, VIEWERS + ISSUERS)
        self.viewers, issuers = picked[:VIEWERS], picked[VIEWERS:]
        rng.shuffle(self.transcripts)
        self.log(f"{len(self.transcripts):,} transcripts to verify, {len(students):,} students with one")
        t = time.perf_counter()
        names = [f"s{i}" for i, _s in picked] + ["admin", roles["organizer"], roles["leader"]]
        self.signed = seed.sign_ins(self.app, names)
        self.log(f"{len(names)} sign-ins (browser session and API token each) in {time.perf_counter() - t:.1f} s")
        self.roles = roles
        # Something a transcript carries changes for each issuer (as a new certified record would),
        # so that issuing makes a new transcript rather than answering with the unchanged current one.
        stamp = time.strftime("%m%d%H%M%S")
        with self.engine.begin() as conn:
            conn.execute(sa.text("UPDATE user_account SET display_name = :name WHERE id = :id"),
                         [{"id": i, "name": f"学生{i}·{stamp}"} for i, _s in issuers])
        self.issuers = [self.signed[f"s{i}"] for i, _s in issuers]

    def env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.url, "SIGNING_KEY_DIR": str(seed.KEY_DIR), "SECRET_KEY": seed.SECRET_KEY,
            "PUBLIC_BASE_URL": seed.BASE_URL, "VERIFY_RATE_LIMIT": "100000000 per minute",
            "LOGIN_RATE_LIMIT": "100000000 per minute", "RATELIMIT_STORAGE_URI": "local://",
            "JOB_QUEUE_URL": f"sqlite:///{self.folder / 'jobs.db'}",
            "TRANSCRIPT_DIR": str(self.folder / "transcripts"), "EVIDENCE_DIR": str(self.folder / "evidence"),
        })
        return env

    # ---------------------------------------------------------------- measuring

    def measure(self, port: int, kind: str, pool, *, before=None) -> tuple[Result, Result]:
        """Warm-up (2 clients, not counted), then alone and with 8. `pool` is a list (cycled,
        the warm-up from its start, the runs after it) or an iterator (every request fresh)."""
        plan = self.plans[kind]
        if isinstance(pool, list):
            warm, measured = cycle(pool), cycle(pool, plan.warm)
        else:
            warm = measured = pool
        run(port, warm, clients=2, seconds=60, max_n=plan.warm, before=before)
        alone = run(port, measured, clients=1, seconds=plan.alone[0], max_n=plan.alone[1], before=before)
        eight = run(port, measured, clients=8, seconds=plan.eight[0], max_n=plan.eight[1], before=before)
        return alone, eight

    def web(self, user: dict, path: str) -> Req:
        return Req(path, (("Cookie", user["cookie"]),))

    def api(self, user: dict, path: str, method: str = "GET", expect: int = 200) -> Req:
        return Req(path, (("Authorization", f"Bearer {user['token']}"),), method, None, expect)

    def fresh_verifications(self, port_path):
        """Every request another transcript, from the shuffled list of all of them (shared by the
        app's rows and the floor's, so none is asked twice in the run)."""
        for serial, link in self.stream:
            yield port_path(serial, link)

    def execute(self) -> None:
        self.prepare()
        app_port, floor_port = free_port(), free_port()
        env = self.env()
        healthz = [Req("/healthz")]
        viewers = [self.signed[f"s{i}"] for i, _s in self.viewers]
        serial_of = {self.signed[f"s{i}"]["id"]: s for i, s in self.viewers}
        floors = sql.Floors(self.engine, [u["id"] for u in viewers])
        self.stream = iter(self.transcripts)

        def page_req(serial: str, link: str) -> Req:
            parts = urlsplit(link)
            return Req(parts.path + (f"?{parts.query}" if parts.query else ""))

        def json_req(serial: str, link: str) -> Req:
            return Req(f"/api/v1/verify/{serial}")

        render_ms = self.render_floor()
        with serve("app:create_app()", app_port, env, self.folder / "app.log"):
            page_bytes = self.sizes(app_port, page_req)
            json_bytes = self.sizes(app_port, json_req)
            floor_env = env | {"FLOOR_PAGE_BYTES": str(page_bytes), "FLOOR_JSON_BYTES": str(json_bytes)}
            with serve("bench._scale_floor:app", floor_port, floor_env, self.folder / "floor.log"):
                self.log(f"serving; measuring (load average {os.getloadavg()[0]:.1f}: other work on the machine "
                         "shares its two cores)")
                hz = self.measure(app_port, "student", healthz)
                self.rows.append(Row("app /healthz (floor)", self.db, *hz, "—", "—", None))
                floor_hz = f"healthz {hz[0].p95:.1f}"
                only = self.args.only
                if "student" in only:
                    self.student_rows(app_port, viewers, serial_of, floors, floor_hz)
                if "staff" in only:
                    self.staff_rows(app_port, floor_hz)
                if "issue" in only:
                    self.issue_row(app_port, floor_hz, render_ms)
                if "verify" in only:
                    self.verify_rows(app_port, floor_port, page_req, json_req)
                self.log(f"done (load average {os.getloadavg()[0]:.1f})")
        self.engine.dispose()

    def sizes(self, port: int, make) -> int:
        """The mean size of the app's answer over 60 transcripts (these also warm both workers): a
        mean, as the rows report, since a transcript's size follows its number of records."""
        sizes = [len(one(port, make(s, link))[1]) for s, link in (next(self.stream) for _ in range(60))]
        return round(sum(sizes) / len(sizes))

    def render_floor(self) -> float:
        """Median ms of the signed PDF render alone (credentials.render_pdf), in this process, for
        five stored snapshots: the least an issue can cost."""
        import credentials
        from app.services import transcripts

        with self.app.app_context():
            ring, cert, zh = transcripts.keyring(), transcripts.school_certificate(), transcripts.pdf_translator()
            with self.engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT snapshot, link FROM transcript ORDER BY id LIMIT 5")).all()
            snaps = [(credentials.snapshot_from_bytes(s.encode()), link) for s, link in rows]
            ms = timed(lambda i: credentials.render_pdf(snaps[i % 5][0], snaps[i % 5][1], ring.active, zh=zh,
                                                        certificate=cert), 5)
        return quantile(ms, 0.5)

    def add(self, what: str, kind: str, results: tuple[Result, Result], floor: str, limit: float) -> None:
        """A row judged on p95 alone (students, staff, issuing) or with 8 users (the office)."""
        alone, eight = results
        judged = eight if kind == "office" else alone
        budget = f"p95{' x8' if kind == 'office' else ''} < {limit:,.0f} ms"
        met = judged.p95 < limit and alone.errors == 0 and eight.errors == 0
        self.rows.append(Row(what, self.db, alone, eight, floor, budget, met))

    def student_rows(self, port: int, viewers: list[dict], serial_of: dict, floors: sql.Floors, hz: str) -> None:
        def both(statements) -> str:
            p50, p95 = floors.per_student(*statements)
            return f"{hz} · SQL {p95:.1f}"

        web = [
            ("/me (records, transcripts)", "/me", (sql.RECORDS, sql.TRANSCRIPTS)),
            ("/me/progress", "/me/progress", (sql.PROGRESS,)),
            ("/notifications", "/notifications", (sql.NOTIFICATIONS,)),
            ("/transcripts/<serial> (holder)", None, (sql.ONE_TRANSCRIPT,)),
            ("/activities (catalogue)", "/activities", ()),
        ]
        for what, path, statements in web:
            pool = [self.web(u, path or f"/transcripts/{serial_of[u['id']]}") for u in viewers]
            self.add(what, "student", self.measure(port, "student", pool),
                     both(statements) if statements else hz, 50)
        api = [
            ("API /me", "/api/v1/me", (sql.ME,)),
            ("API records", "/api/v1/students/{no}/records", (sql.RECORDS,)),
            ("API progress", "/api/v1/students/{no}/progress", (sql.PROGRESS,)),
            ("API transcripts", "/api/v1/students/{no}/transcripts", (sql.TRANSCRIPTS,)),
            ("API notifications", "/api/v1/notifications", (sql.NOTIFICATIONS,)),
        ]
        for what, path, statements in api:
            pool = [self.api(u, path.format(no=u["student_no"])) for u in viewers]
            self.add(what, "student", self.measure(port, "student", pool), both(statements), 50)

    def staff_rows(self, port: int, hz: str) -> None:
        organizer, leader = self.signed[self.roles["organizer"]], self.signed[self.roles["leader"]]
        admin = self.signed["admin"]
        o50, o95 = floors_fixed(self.engine, (sql.ORGANIZER_QUEUE,), {"uid": organizer["id"]})
        self.add(f"/organizer ({self.roles['waiting']:,} waiting)", "staff",
                 self.measure(port, "staff", [self.web(organizer, "/organizer")]), f"{hz} · SQL {o95:.1f}", 150)
        l50, l95 = floors_fixed(self.engine, (sql.LEADER_ACTIVITIES, sql.LEADER_COUNTS), {"uid": leader["id"]})
        self.add(f"/leader ({self.roles['clubs']} clubs)", "staff",
                 self.measure(port, "staff", [self.web(leader, "/leader")]), f"{hz} · SQL {l95:.1f}", 150)
        office = [
            ("/admin", "/admin", sql.ADMIN, {}),
            (f"/reports/dashboard ({LATEST_TERM})", f"/reports/dashboard?term={LATEST_TERM}",
             (sql.DASHBOARD,), {"term": LATEST_TERM}),
            (f"/reports/requirements ({GRADUATING})", f"/reports/requirements?cohort={GRADUATING}",
             (sql.REQUIREMENTS,), {"cohort": GRADUATING}),
            (f"/scorecards ({LATEST_TERM})", f"/scorecards?term={LATEST_TERM}", (sql.SCORECARDS,),
             {"term": LATEST_TERM}),
        ]
        for what, path, statements, params in office:
            _p50, p95 = floors_fixed(self.engine, statements, params)
            self.add(what, "office", self.measure(port, "office", [self.web(admin, path)]),
                     f"{hz} · SQL {p95:,.0f}", 1000)

    def issue_row(self, port: int, hz: str, render_ms: float) -> None:
        fresh = iter([self.api(u, f"/api/v1/students/{u['student_no']}/transcripts", "POST", 201)
                      for u in self.issuers])
        self.add("issue a transcript (API, new link)", "issue", self.measure(port, "issue", fresh),
                 f"{hz} · render+sign {render_ms:.0f}", 150)

    def verify_rows(self, app_port: int, floor_port: int, page_req, json_req) -> None:
        """The floor and the app alone, then with 8 users in three alternating rounds each: the
        ratio of the median rounds' req/s, so a burst of other work on the machine weighs on both."""
        for what, make in (("verify page (QR link)", page_req), ("JSON verify", json_req)):
            plan = self.plans["verify"]
            rounds: dict[int, list[Result]] = {floor_port: [], app_port: []}
            alone: dict[int, Result] = {}
            for port in (floor_port, app_port):
                fresh = self.fresh_verifications(make)
                run(port, fresh, clients=2, seconds=60, max_n=plan.warm)
                alone[port] = run(port, fresh, clients=1, seconds=plan.alone[0], max_n=plan.alone[1])
            for _round in range(3):
                for port in (floor_port, app_port):
                    rounds[port].append(run(port, self.fresh_verifications(make), clients=8,
                                            seconds=plan.eight[0] / 3, max_n=plan.eight[1] // 3))
            floor, mine = (merged(rounds[floor_port]), merged(rounds[app_port]))
            rps = {port: sorted(r.rps for r in rounds[port])[1] for port in rounds}
            ratio = rps[app_port] / rps[floor_port]
            sizes = f"{floor.mean_bytes:,.0f} B (app {mine.mean_bytes:,.0f})"
            self.rows.append(Row(f"  floor: bare Flask view, {sizes}", self.db, alone[floor_port], floor, "—", "—",
                                 None))
            met = ratio >= 0.7 and not (alone[app_port].errors or mine.errors)
            self.rows.append(Row(what, self.db, alone[app_port], mine,
                                 f"{rps[floor_port]:,.0f}/s; this {rps[app_port]:,.0f}/s = {ratio:.2f}×",
                                 "≥ 0.7× req/s x8", met))


def merged(results: list[Result]) -> Result:
    """Several runs' requests as one result (their latencies, errors, bytes and time)."""
    out = Result()
    for r in results:
        out.latencies += r.latencies
        out.errors += r.errors
        out.first_error = out.first_error or r.first_error
        out.seconds += r.seconds
        out.bytes += r.bytes
    return out


def floors_fixed(engine: sa.Engine, statements, params: dict) -> tuple[float, float]:
    return sql.Floors(engine, []).fixed(tuple(statements), params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite-only", action="store_true")
    which.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--quick", action="store_true", help="half the requests and seconds")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL", big.DEFAULT_PG),
                        help=f"the server; the database is {big.PG_DATABASE}")
    parser.add_argument("--only", type=lambda text: set(text.split(",")), default=set(GROUPS),
                        help=f"some of the rows, comma-separated: {','.join(GROUPS)} (staff: the organizer's, "
                             "the leader's and the office's pages)")
    parser.add_argument("--transcripts", type=int, default=30_000, help="signed transcripts to seed")
    args = parser.parse_args()
    # A SIGTERM unwinds (SystemExit), so the gunicorn masters started here are stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    targets = []
    if not args.postgres_only:
        targets.append(("SQLite", big.sqlite_url()))
    if not args.sqlite_only:
        wait_for_other_seeds(big.postgres_url(args.postgres), lambda text: print(f"# PostgreSQL: {text}"))
        targets.append(("PostgreSQL", seed.postgres_database(args.postgres)))
    rows: list[Row] = []
    for name, url in targets:
        bench = Bench(name, url, args)
        try:
            bench.execute()
        except Exception:  # noqa: BLE001 — the other database's rows and this one's so far still print
            traceback.print_exc()
            bench.log("stopped by the error above; its rows so far are in the table")
        rows += bench.rows
    print(f"# {time.perf_counter() - started:.0f} s; gunicorn 2 sync workers; 8 users = 8 clients at once")
    print_table(rows)


if __name__ == "__main__":
    main()
