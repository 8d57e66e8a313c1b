"""Benchmark (#17, "work done once, not per view"): the scorecard overview and the office's
dashboard on the big school (bench/_big_school.py: 30,000 students, 300 clubs, 15,000
activities over six terms, 1,000,000 records), each call in a fresh session.

Measured (p50 and p90 of --runs, ms):

* `scorecard.overview(admin, term)`: the API's `GET /scorecards`;
* `scorecard.overview_page(admin, term)`: the overview page's service (the ranking with the
  term before, the module-hours heat table, the filter choices);
* the page `GET /scorecards?term=…` through the test client, signed in as the admin;
* `dashboard.school_dashboard(admin, term)` and its parts (college × module participation,
  the hours distribution, the six-term trend, attainment by cohort);
* the page `GET /reports/dashboard?term=…`;

and with `--load`, the overview and dashboard pages served by gunicorn (2 sync workers) to 8
users at once for `--seconds` each (p50 / p90 of the answers).

    .venv/bin/python bench/term_figures.py [--runs 10] [--load]
    .venv/bin/python bench/term_figures.py --postgres [URL] [--load]

Budget (#17): the office's reports and the scorecard overview < 1 s, also under load.
Measured on the shared 2-core machine (load average 3-5 from other sessions), p50:

    before (raw records)  PostgreSQL  overview page 1.1-4.6 s, dashboard page 11-15 s;
                                      8 users 18 s / 65 s
                          SQLite      overview page 4.5 s, dashboard page 18 s
    after (tallies)       PostgreSQL  overview page 240 ms, dashboard page 242 ms;
                                      8 users 1.9 s / 1.7 s
                          SQLite      overview page 251 ms, dashboard page 133 ms;
                                      8 users 2.1 s / 2.0 s

Last line: ``term figures: <backend> overview page X ms, dashboard Y ms[, under load …]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._big_school import DEFAULT_PG, TERMS, ensure, postgres_url, sqlite_url  # noqa: E402
from bench.catalogue import Browser, app_env, percentile  # noqa: E402

TERM = TERMS[-1]
BUDGET_MS = 1000.0


def _app(url: str, folder: Path):
    from app import create_app

    env = app_env(url, folder, 0)
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": env["SECRET_KEY"], "TESTING": False,
                       "SIGNING_KEY_DIR": env["SIGNING_KEY_DIR"], "EVIDENCE_DIR": env["EVIDENCE_DIR"],
                       "TRANSCRIPT_DIR": env["TRANSCRIPT_DIR"], "JOB_QUEUE_URL": env["JOB_QUEUE_URL"],
                       "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})


def _web_session(app) -> dict:
    """The admin's browser sign-in (a server-side session row) as the cookie's contents."""
    from app.extensions import db
    from app.models import User
    from app.services import auth

    admin = db.session.get(User, 1)
    token = auth.open_web_session(db.session, admin, client="bench")
    db.session.commit()
    db.session.remove()
    return {"sid": token, "_user_id": "1", "_fresh": True}


def _timed(runs: int, call) -> list[float]:
    from app.extensions import db

    call()  # the warm-up: caches, the first connection
    db.session.remove()
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
        db.session.remove()
    return out


def measure(app, runs: int) -> list[tuple[str, list[float]]]:
    from app.extensions import db
    from app.models import User
    from app.services import dashboard, scorecard
    from app.services.modules import module_list
    from app.services.requirements import attainment_by_cohort

    def admin():
        return db.session.get(User, 1)

    with app.app_context():
        cookie = _web_session(app)
    client = app.test_client()
    with client.session_transaction() as s:
        s.update(cookie)

    def page(path):
        def get():
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code, r.get_data(as_text=True)[:300])
        return get

    cases = [
        ("scorecard overview (API's service)", lambda: scorecard.overview(db.session, admin(), TERM)),
        ("scorecard overview page's service", lambda: scorecard.overview_page(db.session, admin(), TERM)),
        ("GET /scorecards (page)", page(f"/scorecards?term={TERM}")),
        ("dashboard service", lambda: dashboard.school_dashboard(db.session, admin(), TERM)),
        ("  college participation", lambda: dashboard.college_participation(
            db.session, TERM, module_list(db.session))),
        ("  hours distribution", lambda: dashboard.hours_distribution(db.session)),
        ("  trend", lambda: dashboard.term_trend(db.session, dashboard.recent_terms(TERM))),
        ("  attainment by cohort", lambda: attainment_by_cohort(db.session)),
        ("GET /reports/dashboard (page)", page(f"/reports/dashboard?term={TERM}")),
    ]
    out = []
    with app.app_context():
        for name, call in cases:
            times = _timed(runs, call)
            out.append((name, times))
            print(f"  {name:40s} p50 {statistics.median(times):8.1f} ms   p90 {percentile(times, 90):8.1f} ms",
                  flush=True)
    return out, cookie


def under_load(url: str, folder: Path, cookie: dict, seconds: float) -> dict[str, list[float]]:
    """The two pages by gunicorn (2 sync workers), 8 users at once, each path for `seconds`."""
    from flask.sessions import SecureCookieSessionInterface

    from bench._serve import free_port, gunicorn

    port = free_port()
    env = app_env(url, folder, port)
    app = _app(url, folder)
    signed = SecureCookieSessionInterface().get_signing_serializer(app).dumps(cookie)
    out = {}
    with gunicorn("app:create_app()", port, env, workers=2):
        for path in (f"/scorecards?term={TERM}", f"/reports/dashboard?term={TERM}"):
            times, stop = [], time.perf_counter() + seconds
            lock = threading.Lock()

            def user(path=path, times=times, stop=stop, lock=lock):
                browser = Browser(port)
                browser.cookies["session"] = signed
                while time.perf_counter() < stop:
                    status, _h, _body, ms = browser.request("GET", path)
                    assert status == 200, (path, status)
                    with lock:
                        times.append(ms)

            threads = [threading.Thread(target=user) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            out[path] = times
            print(f"  8 users, {path:36s} p50 {statistics.median(times):8.1f} ms   "
                  f"p90 {percentile(times, 90):8.1f} ms   ({len(times)} answers)", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", nargs="?", const=os.environ.get("TEST_DATABASE_URL", DEFAULT_PG),
                        default=None)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--load", action="store_true", help="also 8 users at once on gunicorn")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    url = postgres_url(args.postgres) if args.postgres else sqlite_url()
    info = ensure(url)
    backend = sa.engine.make_url(url).get_backend_name()
    url = info.get("url", url) if isinstance(info, dict) else url
    from bench._big_school import driver_url

    url = driver_url(url)
    print(f"{backend}: the big school ({info['students']:,} students, {info['participations']:,} records), "
          f"term {TERM}, {args.runs} runs")
    folder = Path(tempfile.mkdtemp(prefix="st-term-figures-"))
    app = _app(url, folder)
    results, cookie = measure(app, args.runs)
    by_name = {name: statistics.median(times) for name, times in results}
    line = (f"term figures: {backend} overview page {by_name['GET /scorecards (page)']:.0f} ms, "
            f"dashboard {by_name['GET /reports/dashboard (page)']:.0f} ms")
    if args.load:
        loaded = under_load(url, folder, cookie, args.seconds)
        line += ", under load (8 users) " + ", ".join(
            f"{path.split('?')[0]} p50 {statistics.median(t):.0f} ms" for path, t in loaded.items())
    worst = max(by_name["GET /scorecards (page)"], by_name["GET /reports/dashboard (page)"])
    print(line + ("; met" if worst < BUDGET_MS else "; MISSED"))


if __name__ == "__main__":
    main()
