"""Two app workers (`flask --app app worker`, each a process of its own) share one graduation batch on one
PostgreSQL and one Redis queue; one is killed with SIGKILL in the middle of a chunk, and the other
finishes the batch: every student ends with exactly one transcript, the one their item names, and
nothing is superseded.

The app commits for real (make_test_app), so the workers see its rows; the queue is Redis database 14
under a name of this test's own, flushed at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import jobs
from app.extensions import db
from app.models import GraduationBatch, GraduationBatchChunk, GraduationBatchItem, Transcript
from app.services import batches
from tests.conftest import make_test_app
from tests.factories import Factory
from tests.test_notification_mail import redis_answers

ROOT = Path(__file__).resolve().parent.parent
STUDENTS = 60
TIMEOUT_S = 3  # a chunk whose heartbeat is older than this is claimed again

pytestmark = pytest.mark.skipif(not redis_answers(), reason="no Redis at 127.0.0.1:6379")


@pytest.fixture
def shared_app(tmp_path):
    app = make_test_app("postgresql", tmp_path, {
        "JOB_QUEUE_URL": "redis://127.0.0.1:6379/14", "JOB_QUEUE_NAME": f"st-batch-{uuid.uuid4().hex[:8]}",
        "BATCH_CLAIM_TIMEOUT_S": TIMEOUT_S, "BATCH_CHUNK_SIZE": 6,
    })
    huey = jobs.jobs_of(app).huey
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    huey.flush()


def start_worker(app, name: str) -> subprocess.Popen:
    config = app.config
    env = {**os.environ, "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": config["SECRET_KEY"],
           "SIGNING_KEY_DIR": config["SIGNING_KEY_DIR"], "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"],
           "INSTITUTION_NAME": config["INSTITUTION_NAME"], "JOB_QUEUE_URL": config["JOB_QUEUE_URL"],
           "JOB_QUEUE_NAME": config["JOB_QUEUE_NAME"], "BATCH_CLAIM_TIMEOUT_S": str(TIMEOUT_S)}
    env.pop("FLASK_APP", None)
    env.pop("MAIL_SERVER", None)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker", "--workers", "1",
                             "--no-periodic"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_until(condition, timeout: float, what: str, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(step)


def _mid_chunk_of(batch_id: int, pid: int):
    """A chunk the worker `pid` holds with some of its students issued and some still pending."""
    db.session.rollback()
    item = GraduationBatchItem
    rows = db.session.execute(
        select(GraduationBatchChunk.number, item.status, func.count())
        .join(item, (item.batch_id == GraduationBatchChunk.batch_id) & (item.chunk == GraduationBatchChunk.number))
        .where(GraduationBatchChunk.batch_id == batch_id, GraduationBatchChunk.status == "claimed",
               GraduationBatchChunk.claimed_by.like(f"%:{pid}:%"))
        .group_by(GraduationBatchChunk.number, item.status)).all()
    by_chunk: dict[int, set] = {}
    for number, status, _n in rows:
        by_chunk.setdefault(number, set()).add(status)
    return next((n for n, seen in by_chunk.items() if {"issued", "pending"} <= seen), None)


def test_a_worker_killed_mid_batch_loses_nothing_and_the_other_finishes(shared_app):
    app = shared_app
    make = Factory(db.session)
    w = make.world()
    klass = make.school_class(w.unit, cohort=2022)
    activity = make.activity(w.club, status="completed")
    students = [make.student(unit=w.unit, school_class=klass) for _ in range(STUDENTS)]
    for student in students:
        make.participation(activity, student, status="certified")
    ids = [s.id for s in students]
    a, b = start_worker(app, "a"), start_worker(app, "b")
    try:
        r = app.test_client().post("/api/v1/batches/transcripts", json={"class_id": klass.id},
                                   headers=make.token(w.admin))
        assert r.status_code == 202, r.get_json()
        batch_id = r.get_json()["id"]
        killed_chunk = wait_until(lambda: _mid_chunk_of(batch_id, a.pid), 90, "worker a in the middle of a chunk")
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=10)

        def finished():
            db.session.rollback()
            return db.session.execute(select(GraduationBatch.status).where(GraduationBatch.id == batch_id)
                                      ).scalar_one() in ("done", "failed")

        wait_until(finished, 120, "the other worker to finish the batch", step=0.2)
    finally:
        for process in (a, b):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        output_b = b.communicate(timeout=30)[0]
        a.communicate(timeout=10)
    db.session.rollback()
    batch = db.session.get(GraduationBatch, batch_id)
    done, failed = batches.counts(db.session, [batch_id])[batch_id]
    assert (batch.status, done, failed, batch.total) == ("done", STUDENTS, 0, STUDENTS), output_b[-3000:]
    items = {i.student_id: i for i in db.session.execute(
        select(GraduationBatchItem).where(GraduationBatchItem.batch_id == batch_id)).scalars()}
    for student_id in ids:
        [transcript] = db.session.execute(select(Transcript).where(Transcript.student_id == student_id)).scalars()
        assert transcript.status == "valid"
        assert (items[student_id].status, items[student_id].transcript_id) == ("issued", transcript.id)
    chunk = db.session.execute(select(GraduationBatchChunk).where(
        GraduationBatchChunk.batch_id == batch_id, GraduationBatchChunk.number == killed_chunk)).scalar_one()
    assert chunk.claims == 2 and f":{b.pid}:" in chunk.claimed_by  # taken over by the survivor
