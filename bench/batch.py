"""Benchmark: the graduation batch on the job queue, two workers, against the render-only rate
measured in the same run.

* batch   — `POST /api/v1/batches/transcripts` for a class of N students (R certified records each,
            the big school's mean is ~33), issued by two `flask --app app worker` processes on one
            PostgreSQL and one Redis queue; the rate is students finished per second from the first
            claim to the batch's end (the batch's `started_at` → `finished_at`);
* render  — `credentials.render_pdf` of the same transcripts (PAdES-signed, as issuing signs), in two
            processes at once: the ceiling the two cores give, with no database, queue or audit.

    .venv/bin/python bench/batch.py [--students 400] [--records 33] [--threads 1] [--postgres URL]

Prints a table and, last, one line:
``batch: N students x R records, two workers X/s, render-only (two processes) Y/s, ratio X/Y``.
Target (#17): X >= 50/s on this 2-core machine.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
DATABASE = "bench_batch"
MODULES = ("ideology", "practice", "volunteering", "innovation", "culture_sports", "leadership", "skills")


def fresh_database(server: str) -> str:
    url = sa.engine.make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DATABASE}"))
    admin.dispose()
    return url.set(database=DATABASE).render_as_string(hide_password=False)


def seed(session, students: int, records: int):
    """A class of `students`, each with `records` certified participations; returns (admin id, class id)."""
    from sqlalchemy import insert

    from app.models import Activity, Club, Participation, SchoolClass, Unit, User, club_advisor, club_leader
    from app.timeutil import term_of

    unit = Unit(code="CS", name="计算机科学与技术学院")
    session.add(unit)
    session.flush()
    klass = SchoolClass(unit_id=unit.id, name="2022级1班", cohort=2022)
    admin = User(username="admin", password_hash=None, display_name="管理员", role="admin")
    adv = User(username="adv", password_hash=None, display_name="王建国", role="organizer")
    lead = User(username="lead", password_hash=None, display_name="李晓雨", role="leader", student_no="2022999999")
    session.add_all([klass, admin, adv, lead])
    session.flush()
    club = Club(name="青年志愿者协会", category="志愿公益", unit_id=unit.id)
    session.add(club)
    session.flush()
    session.execute(insert(club_advisor).values(club_id=club.id, user_id=adv.id))
    session.execute(insert(club_leader).values(club_id=club.id, user_id=lead.id))
    start = datetime(2023, 9, 10, 6, tzinfo=UTC)
    activity_ids = []
    for i in range(records):
        at = start + timedelta(days=7 * i)
        activity = Activity(club_id=club.id, title=f"第{i + 1}期 社区志愿服务与实践活动", module=MODULES[i % 7],
                            level="school", starts_at=at, ends_at=at + timedelta(hours=3), term=term_of(at),
                            location="图书馆报告厅", hours=Decimal("3.5"), status="completed",
                            created_by_id=lead.id, partners=[])
        session.add(activity)
        session.flush()
        activity_ids.append((activity.id, at))
    conn = session.connection()  # Core inserts, in bulk (the ORM's per-statement hooks stay out of it)
    conn.execute(insert(User.__table__), [
        {"username": f"s{n}", "password_hash": None, "display_name": f"学生{n:04d}", "role": "student",
         "student_no": f"2022{n:06d}", "unit_id": unit.id, "class_id": klass.id, "active": True,
         "created_at": start} for n in range(students)])
    ids = session.execute(sa.select(User.id).where(User.username.like("s%")).order_by(User.id)).scalars().all()
    rows = [{"activity_id": aid, "student_id": sid, "role": "participant", "hours": Decimal("3.5"),
             "status": "certified", "recorded_by_id": lead.id, "certified_by_id": adv.id,
             "certified_at": at + timedelta(days=1), "source": "list", "recorded_at": at}
            for sid in ids for aid, at in activity_ids]
    for i in range(0, len(rows), 5000):
        conn.execute(insert(Participation.__table__), rows[i:i + 5000])
    session.commit()
    return admin.id, klass.id


def _render_worker(args) -> int:
    """Render `count` signed PDFs of the sample transcript in this process (fonts and keys warm first)."""
    count, records, key_dir = args
    import credentials
    from credentials.labels import catalog_translator
    from credentials.links import make_link
    from credentials.sample import SAMPLE_BASE_URL, sample_snapshot
    from credentials.snapshot import snapshot_digest

    zh = catalog_translator(ROOT / "app" / "translations")
    ring = credentials.KeyRing.generate_in_dir(key_dir)
    cert = credentials.generate_school_certificate(key_dir, "示范大学 Demo University")
    s = sample_snapshot(records)
    link = make_link(SAMPLE_BASE_URL, s.serial, snapshot_digest(s), s.issued_at, ring.active)
    credentials.render_pdf(s, link, ring.active, zh=zh, certificate=cert)
    t = time.perf_counter()
    for _ in range(count):
        credentials.render_pdf(s, link, ring.active, zh=zh, certificate=cert)
    return int((time.perf_counter() - t) * 1e6)


def render_rate(students: int, records: int, key_dir: str) -> tuple[float, float, float]:
    """(PDFs per second with two processes at once, ms per PDF in one)."""
    per_process = max(students // 2, 10)
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        t = time.perf_counter()
        micros = pool.map(_render_worker, [(per_process, records, key_dir)] * 2)
        elapsed = time.perf_counter() - t  # with each process's start and warm-up (the rate leaves them out)
    busy = max(micros) / 1e6
    return 2 * per_process / busy, (sum(micros) / 2 / per_process) / 1000, elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=400)
    parser.add_argument("--records", type=int, default=33)
    parser.add_argument("--threads", type=int, default=2,
                        help="threads per worker process (2: `flask worker`'s default, app.jobs.WORKERS)")
    parser.add_argument("--chunk", type=int, default=20)
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES", DEFAULT_PG))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="st-bench-batch-"))
    url = fresh_database(args.postgres)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "SIGNING_KEY_DIR": str(folder / "keys"),
           "JOB_QUEUE_URL": args.redis, "JOB_QUEUE_NAME": f"st-bench-{uuid.uuid4().hex[:8]}",
           "BATCH_CHUNK_SIZE": str(args.chunk), "PUBLIC_BASE_URL": "https://dekt.example.edu.cn"}
    env.pop("MAIL_SERVER", None)
    os.environ.update(env)

    import credentials
    from app import create_app, jobs
    from app.extensions import db
    from app.models import GraduationBatch, User
    from app.services import batches

    app = create_app()
    with app.app_context():
        db.create_all()
        credentials.KeyRing.generate_in_dir(env["SIGNING_KEY_DIR"])
        credentials.generate_school_certificate(env["SIGNING_KEY_DIR"], app.config["INSTITUTION_NAME"])
        t = time.perf_counter()
        admin_id, class_id = seed(db.session, args.students, args.records)
        seeded = time.perf_counter() - t

    # The render-only ceiling, measured now, on the same machine, before the workers start.
    render_per_s, render_ms, _elapsed = render_rate(args.students, args.records, str(folder / "render-keys"))

    workers = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--workers",
                                 str(args.threads), "--no-periodic"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        time.sleep(3)  # both consumers up and listening
        with app.app_context():
            admin = db.session.get(User, admin_id)
            t0 = time.perf_counter()
            batch = batches.start_batch(db.session, admin, class_id=class_id)
            db.session.commit()
            started = time.perf_counter() - t0
            batch_id = batch.id
            while True:
                db.session.rollback()
                row = db.session.get(GraduationBatch, batch_id)
                db.session.refresh(row)
                if row.status not in ("queued", "running"):
                    break
                time.sleep(0.2)
            wall = time.perf_counter() - t0
            state = batches.progress(db.session, admin, batch_id)
            elapsed = (row.finished_at - row.started_at).total_seconds()
    finally:
        for w in workers:
            w.send_signal(signal.SIGINT)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
        jobs.jobs_of(app).huey.flush()
    rate = (state.done + state.failed) / elapsed
    print(f"seeded {args.students} students x {args.records} records in {seeded:.1f} s; "
          f"batch started (items + chunks + jobs) in {started * 1000:.0f} ms")
    print(f"{'what':<44}{'per second':>12}{'ms each':>10}")
    print(f"{'batch, two workers (claim → finish)':<44}{rate:>12.1f}{2000 / rate:>10.1f}")
    print(f"{'batch, wall clock from the POST':<44}{(state.done + state.failed) / wall:>12.1f}")
    print(f"{'render_pdf signed, two processes':<44}{render_per_s:>12.1f}{render_ms:>10.1f}")
    print(f"status {state.status}: issued {state.issued}, already current {state.skipped}, failed {state.failed}")
    print(f"batch: {args.students} students x {args.records} records, two workers {rate:.1f}/s, "
          f"render-only (two processes) {render_per_s:.1f}/s, ratio {rate / render_per_s:.2f}")
    return 0 if state.status == "done" and not state.failed else 1


if __name__ == "__main__":
    sys.exit(main())
