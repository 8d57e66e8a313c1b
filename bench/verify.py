"""Benchmark: the public verification page under load, against a bare Flask route.

Both are served by gunicorn (2 sync workers) on loopback and loaded in alternating rounds
in the same run; the figures are medians of the rounds. Target: the verify page at
≥ 70 % of the bare route's throughput, p99 < 20 ms. A second baseline, the app's own
/healthz (a constant behind the same extensions: CSRF, rate limiter, sessions), separates
what the verification costs from what every request of this app costs.

    .venv/bin/python bench/verify.py [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._serve import BIN, ROOT, free_port, gunicorn, load, scratch_env  # noqa: E402

RECORDS = 60


def prepare(env: dict) -> str:
    """A database with one student holding a 60-record transcript; returns its QR link."""
    flask = [str(BIN / "flask"), "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, cwd=ROOT, capture_output=True)
    subprocess.run([*flask, "keys", "generate"], env=env, check=True, cwd=ROOT, capture_output=True)
    script = f"""
from app import create_app
from app.extensions import db
from app.services import transcripts
from bench._seed import seed_graduate
app = create_app()
with app.app_context():
    admin, student = seed_graduate(db.session, {RECORDS})
    print(transcripts.issue_transcript(db.session, admin, student.student_no).link)
"""
    out = subprocess.run([str(BIN / "python"), "-c", script], env=env, check=True, cwd=ROOT,
                         capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    app_port, bare_port = free_port(), free_port()
    env, folder = scratch_env(app_port)
    link = prepare(env)
    path = link.split(f"127.0.0.1:{app_port}", 1)[1]
    runs: dict[str, list[dict]] = {"bare route": [], "app /healthz": [], "verify page": [], "verify API": []}
    serial = path.split("/v/", 1)[1].split("?", 1)[0]
    with gunicorn("bench.bare:app", bare_port, env), gunicorn("app:create_app()", app_port, env):
        urls = {
            "bare route": f"http://127.0.0.1:{bare_port}/",
            "app /healthz": f"http://127.0.0.1:{app_port}/healthz",
            "verify page": f"http://127.0.0.1:{app_port}{path}",
            "verify API": f"http://127.0.0.1:{app_port}/api/v1/verify/{serial}",
        }
        for url in urls.values():  # warm up every worker
            load(url, 1.0)
        for _ in range(args.rounds):
            for name, url in urls.items():
                runs[name].append(load(url, args.seconds))

    def med(name, key):
        return statistics.median(r[key] for r in runs[name])

    print(f"{'endpoint':<14}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name in runs:
        print(f"{name:<14}{med(name, 'rps'):>10.0f}{med(name, 'p50'):>10.2f}{med(name, 'p99'):>10.2f}"
              f"{sum(r['errors'] for r in runs[name]):>8}")
    bare, page = med("bare route", "rps"), med("verify page", "rps")
    floor = med("app /healthz", "rps")
    print(f"the app's own floor (/healthz, same middleware) is {floor / bare:.2f} of a bare Flask app")
    print(f"verify: page {page:.0f} req/s, p50 {med('verify page', 'p50'):.2f} ms, "
          f"p99 {med('verify page', 'p99'):.2f} ms; bare route {bare:.0f} req/s; ratio {page / bare:.2f}; "
          f"against the app's /healthz {floor:.0f} req/s: {page / floor:.2f} "
          f"({RECORDS}-record transcript, gunicorn 2 sync workers)")


if __name__ == "__main__":
    main()
