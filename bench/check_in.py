"""Benchmark: 500 students checking in within one minute at a lecture, on gunicorn with PostgreSQL.

A venue screen thread polls the leader's check-in code (as the projector's page does); each
student "scans" it at their arrival time (arrivals bunched towards the start, all within 60 s)
and posts the check-in with their own token. The baseline is the app's /healthz, loaded by the
same number of clients in the same run. Printed: every student recorded once, p50/p95/max of the
check-ins and of the baseline. Target: all 500 recorded once, p95 < 300 ms.

    .venv/bin/python bench/check_in.py [--students 500] [--seconds 60] [--workers 2]
    BENCH_PG=postgresql://postgres@127.0.0.1:5432/test (the server; a database is made and dropped)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from bench._serve import BIN, ROOT, free_port, gunicorn, scratch_env  # noqa: E402

SEED = """
import hashlib, json, secrets
from datetime import timedelta
from app import create_app
from app.extensions import db
from app.models import Activity, AuthToken, Club, Unit, User, club_leader
from app.timeutil import term_of, utcnow
from decimal import Decimal
app = create_app()
with app.app_context():
    unit = Unit(code="CS", name="计算机学院"); db.session.add(unit); db.session.flush()
    adv = User(username="adv", password_hash="x", display_name="王老师", role="organizer")
    lead = User(username="lead", password_hash="x", display_name="李晓雨", role="leader", student_no="2023000001")
    students = [User(username=f"s{i}", password_hash="x", display_name=f"学生{i}", role="student",
                     student_no=f"2024{i:06d}", unit_id=unit.id) for i in range(N)]
    db.session.add_all([adv, lead, *students]); db.session.flush()
    club = Club(name="人工智能协会", category="学术科技", unit_id=unit.id, advisors=[adv]); db.session.add(club)
    db.session.flush()
    db.session.execute(club_leader.insert().values(club_id=club.id, user_id=lead.id))
    start = utcnow() - timedelta(minutes=5)
    activity = Activity(club_id=club.id, title="人工智能前沿讲座", module="innovation", level="school",
                        starts_at=start, ends_at=start + timedelta(hours=2), term=term_of(start), location="报告厅",
                        hours=Decimal("2"), status="approved", created_by_id=lead.id, partners=[])
    db.session.add(activity)
    tokens = {}
    for user in [lead, *students]:
        token = secrets.token_urlsafe(24)
        db.session.add(AuthToken(token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user.id,
                                 expires_at=utcnow() + timedelta(hours=2)))
        tokens[user.username] = token
    db.session.commit()
    print(json.dumps({"activity": activity.id, "tokens": tokens}))
"""


def _request(url: str, token: str | None = None, body: dict | None = None) -> tuple[int, float, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            payload, status = response.read(), response.status
    except urllib.error.HTTPError as error:
        payload, status = error.read(), error.code
    return status, (time.perf_counter() - started) * 1000, payload


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32, help="at most this many phones at once")
    args = parser.parse_args()

    server = sa.engine.make_url(os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test"))
    server = server.set(drivername="postgresql+psycopg")
    name = f"st_bench_checkin_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        port = free_port()
        env, _folder = scratch_env(port)
        env["DATABASE_URL"] = server.set(database=name).render_as_string(hide_password=False)
        flask = [str(BIN / "flask"), "--app", "app"]
        subprocess.run([*flask, "db", "upgrade"], env=env, check=True, cwd=ROOT, capture_output=True)
        subprocess.run([*flask, "keys", "generate"], env=env, check=True, cwd=ROOT, capture_output=True)
        seeded = subprocess.run([str(BIN / "python"), "-c", f"N = {args.students}\n" + SEED], env=env, check=True,
                                cwd=ROOT, capture_output=True, text=True)
        facts = json.loads(seeded.stdout.strip().splitlines()[-1])
        run(args, port, env, facts)
        engine = sa.create_engine(server.set(database=name))
        with engine.connect() as conn:
            live = conn.execute(sa.text(
                "SELECT count(*), count(DISTINCT student_id) FROM participation "
                "WHERE activity_id = :a AND source = 'check_in'"), {"a": facts["activity"]}).one()
        engine.dispose()
        verdict = "all recorded once" if live[0] == live[1] == args.students else "NOT all recorded once"
        print(f"participation rows: {live[0]}, distinct students: {live[1]} of {args.students}: {verdict}")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(args, port: int, env: dict, facts: dict) -> None:
    base = f"http://127.0.0.1:{port}"
    activity, tokens = facts["activity"], facts["tokens"]
    with gunicorn("app:create_app()", port, env, workers=args.workers):
        current = {"code": None}
        stop = threading.Event()

        def screen() -> None:  # the projector's page fetches the code; here once a second
            while not stop.is_set():
                status, _ms, payload = _request(f"{base}/api/v1/activities/{activity}/check-in-code", tokens["lead"])
                if status == 200:
                    current["code"] = json.loads(payload)["code"]
                stop.wait(1.0)

        threading.Thread(target=screen, daemon=True).start()
        while current["code"] is None:
            time.sleep(0.05)
        baseline = [_request(f"{base}/healthz")[1] for _ in range(200)]
        rng = random.Random(13)
        students = [u for u in tokens if u != "lead"]
        # Most arrive early in the minute (a lecture's doors open), all within it.
        arrivals = sorted(rng.betavariate(1.3, 2.5) * args.seconds for _ in students)
        started = time.monotonic()
        results: list[tuple[int, float]] = []

        def student(i: int) -> None:
            delay = arrivals[i] - (time.monotonic() - started)
            if delay > 0:
                time.sleep(delay)
            status, ms, _ = _request(f"{base}/api/v1/activities/{activity}/check-in", tokens[students[i]],
                                     {"code": current["code"]})
            results.append((status, ms))

        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(student, range(len(students))))
        elapsed = time.monotonic() - started
        under_load = []
        with ThreadPoolExecutor(args.clients) as pool:  # the baseline at the same concurrency
            under_load = list(pool.map(lambda _: _request(f"{base}/healthz")[1], range(len(students))))
        stop.set()
    times = [ms for status, ms in results if status == 201]
    refused = [status for status, _ in results if status != 201]
    print(f"{len(students)} check-ins in {elapsed:.1f} s (gunicorn {args.workers} sync workers, PostgreSQL, "
          f"≤ {args.clients} phones at once)")
    print(f"{'what':<30}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    print(f"{'check-in (201)':<30}{statistics.median(times):>9.1f}{_percentile(times, .95):>9.1f}{max(times):>9.1f}")
    print(f"{'/healthz alone':<30}{statistics.median(baseline):>9.1f}{_percentile(baseline, .95):>9.1f}"
          f"{max(baseline):>9.1f}")
    print(f"{'/healthz, as many at once':<30}{statistics.median(under_load):>9.1f}"
          f"{_percentile(under_load, .95):>9.1f}{max(under_load):>9.1f}")
    print(f"refused: {len(refused)} {sorted(set(refused))}; check-in p95 {_percentile(times, .95):.1f} ms "
          f"(target < 300 ms), {_percentile(times, .95) / _percentile(under_load, .95):.1f}× the baseline's p95")


if __name__ == "__main__":
    main()
