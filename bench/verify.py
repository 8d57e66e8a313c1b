"""Benchmark: the public verification page under load, against a bare Flask route.

Both are served by gunicorn (2 sync workers) on loopback and loaded in alternating rounds
in the same run; the figures are medians of the rounds. Target: the verify page at
≥ 70 % of the bare route's throughput, p99 < 20 ms.

    .venv/bin/python bench/verify.py [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from datetime import UTC, datetime, timedelta
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
import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from app import create_app
from app.extensions import db
from app.models import Activity, Club, Participation, Unit, User
from app.services import transcripts
from app.timeutil import term_of
app = create_app()
with app.app_context():
    s = db.session
    unit = Unit(code="CS", name="计算机科学与技术学院"); s.add(unit); s.flush()
    admin = User(username="admin", password_hash="x", display_name="管理员", role="admin")
    adv = User(username="adv", password_hash="x", display_name="王建国", role="organizer")
    lead = User(username="lead", password_hash="x", display_name="李晓雨", role="leader", student_no="2023000001")
    stu = User(username="stu", password_hash="x", display_name="张伟", role="student", student_no="2023010001", unit_id=unit.id)
    s.add_all([admin, adv, lead, stu]); s.flush()
    club = Club(name="青年志愿者协会", category="志愿公益", unit_id=unit.id, advisors=[adv], leaders=[lead]); s.add(club); s.flush()
    modules = ["ideology", "practice", "volunteering", "innovation", "culture_sports", "leadership", "skills"]
    start = datetime(2025, 9, 10, 6, tzinfo=UTC)
    for i in range({RECORDS}):
        at = start + timedelta(days=3 * i)
        a = Activity(club_id=club.id, title=f"第{{i + 1}}期 社区志愿服务与实践活动", module=modules[i % 7], level="school",
                     starts_at=at, ends_at=at + timedelta(hours=3), term=term_of(at), location="图书馆报告厅",
                     hours=Decimal("3.5"), status="completed", created_by_id=lead.id, partners=[])
        s.add(a); s.flush()
        s.add(Participation(activity_id=a.id, student_id=stu.id, role="participant", hours=Decimal("3.5"),
                            status="certified", recorded_by_id=lead.id, certified_by_id=adv.id,
                            certified_at=at + timedelta(days=1), award="一等奖" if i % 10 == 0 else None))
    s.commit()
    print(transcripts.issue_transcript(s, admin, "2023010001").link)
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
    runs: dict[str, list[dict]] = {"bare route": [], "verify page": [], "verify API": []}
    serial = path.split("/v/", 1)[1].split("?", 1)[0]
    with gunicorn("bench.bare:app", bare_port, env), gunicorn("app:create_app()", app_port, env):
        urls = {
            "bare route": f"http://127.0.0.1:{bare_port}/",
            "verify page": f"http://127.0.0.1:{app_port}{path}",
            "verify API": f"http://127.0.0.1:{app_port}/api/v1/verify/{serial}",
        }
        for name, url in urls.items():  # warm up every worker
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
    print(f"verify: page {page:.0f} req/s, p50 {med('verify page', 'p50'):.2f} ms, "
          f"p99 {med('verify page', 'p99'):.2f} ms; bare route {bare:.0f} req/s; ratio {page / bare:.2f} "
          f"({RECORDS}-record transcript, gunicorn 2 sync workers)")


if __name__ == "__main__":
    main()
