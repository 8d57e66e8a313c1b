"""Several instances (#17): two app instances and two workers on one PostgreSQL, one Redis and one queue.

Instance A and instance B are each gunicorn (a sync worker) in a process group of its own, on its own free
loopback port, with the same DATABASE_URL, SECRET_KEY, SIGNING_KEY_DIR, RATELIMIT_STORAGE_URI and job queue
(JOB_QUEUE_URL, JOB_QUEUE_NAME); beside them two `flask --app app worker` processes (start_worker of
tests/test_batch_workers.py). Everything below is said to them over real HTTP, as the office and the public
would, and checked in the database:

* the office signs in on A for a token, starts the graduation batch of a class there and follows it on B,
  where `done` moves; one worker is killed with SIGKILL in the middle of a chunk, the other finishes the
  batch, nothing is lost or issued twice, and the class's ZIP from A holds one PDF per student;
* the verification budget is one per client address across both instances (counted in the one Redis);
* a browser session signed in on A is let in on B, and signed out on B it no longer opens A: the cookie is
  signed with the shared SECRET_KEY and names a server-side sign-in in the shared database.

The database is the run's own (make_test_app on PostgreSQL, committing for real: the next test empties it).
Redis database 1 is this module's (the others take 13-15: test_ratelimit counts down from 15 by
pytest-xdist worker, test_batch_workers 14, test_notification_mail 15, bench 13): flushed before and after.
Skipped when no Redis answers; PostgreSQL missing skips (REQUIRE_POSTGRES=1: fails) through make_test_app.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select

from app import jobs
from app.extensions import db
from app.models import (
    GraduationBatchChunk,
    GraduationBatchItem,
    Participation,
    ParticipationStatus,
    Role,
    SchoolClass,
    Transcript,
    User,
)
from app.timeutil import utcnow
from tests.conftest import make_test_app
from tests.factories import PASSWORD, Factory
from tests.test_batch_workers import TIMEOUT_S, _mid_chunk_of, start_worker, wait_until
from tests.test_notification_mail import free_port, redis_answers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
REDIS_URL = "redis://127.0.0.1:6379/1"
STUDENTS = 60
CHUNK = 6
VERIFY_BUDGET = 5  # per minute and client address, for both instances together

pytestmark = pytest.mark.skipif(not redis_answers(), reason="no Redis at 127.0.0.1:6379")


@dataclass
class Deployment:
    app: Flask  # in-process, on the same database: the test's seeding and its look at the rows
    a: str  # instance A's base URL
    b: str  # instance B's
    logs: Path
    workers: list[subprocess.Popen] = field(default_factory=list)  # `flask --app app worker` a and b

    def log_tail(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in sorted(self.logs.iterdir()))


def _serve(name: str, port: int, env: dict, logs: Path) -> subprocess.Popen:
    """gunicorn in a process group of its own (its master and workers stop together)."""
    log = open(logs / f"{name}.log", "w")
    try:
        return subprocess.Popen(
            [str(BIN / "gunicorn"), "app:create_app()", "-b", f"127.0.0.1:{port}", "-w", "1",
             "--chdir", str(ROOT), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()  # the child has its own copy


def _answering(url: str, process: subprocess.Popen, deployment: Deployment) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # bound, its workers still starting
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not start:\n{deployment.log_tail()}")
        time.sleep(0.1)


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _stop_groups(instances: list[subprocess.Popen]) -> None:
    """SIGTERM to each instance's whole group (all at once: each takes a few seconds), SIGKILL to what
    is left after 10 s."""
    for process in instances:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in instances:
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(10)


def _stop_worker(worker: subprocess.Popen) -> str:
    """Ctrl-C, as an operator stops one; SIGKILL if it has not gone in 30 s. Its output."""
    if worker.stdout.closed:  # stopped and read already
        return ""
    if worker.poll() is None:
        worker.send_signal(signal.SIGINT)
    try:
        return worker.communicate(timeout=30)[0]
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.communicate()[0]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    import redis

    home = tmp_path_factory.mktemp("several-instances")
    logs = home / "logs"
    logs.mkdir()
    port_a, port_b = free_port(), free_port()
    while port_b == port_a:
        port_b = free_port()
    public = f"http://127.0.0.1:{port_a}"  # http: the session cookie is not Secure-only
    app = make_test_app("postgresql", home, {
        "JOB_QUEUE_URL": REDIS_URL, "JOB_QUEUE_NAME": f"st-several-{uuid.uuid4().hex[:8]}",
        "BATCH_CLAIM_TIMEOUT_S": TIMEOUT_S, "BATCH_CHUNK_SIZE": CHUNK, "PUBLIC_BASE_URL": public,
    })
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    config = app.config
    env = {**os.environ,
           "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": config["SECRET_KEY"],
           "SIGNING_KEY_DIR": config["SIGNING_KEY_DIR"], "PUBLIC_BASE_URL": public,
           "INSTITUTION_NAME": config["INSTITUTION_NAME"], "TRANSCRIPT_DIR": config["TRANSCRIPT_DIR"],
           "EVIDENCE_DIR": config["EVIDENCE_DIR"],
           "JOB_QUEUE_URL": config["JOB_QUEUE_URL"], "JOB_QUEUE_NAME": config["JOB_QUEUE_NAME"],
           "BATCH_CHUNK_SIZE": str(CHUNK), "BATCH_CLAIM_TIMEOUT_S": str(TIMEOUT_S),
           "RATELIMIT_STORAGE_URI": REDIS_URL, "VERIFY_RATE_LIMIT": f"{VERIFY_BUDGET} per minute"}
    env.pop("FLASK_APP", None)
    env.pop("MAIL_SERVER", None)
    deployment = Deployment(app, public, f"http://127.0.0.1:{port_b}", logs)
    instances = []
    try:
        for name, port in (("instance-a", port_a), ("instance-b", port_b)):
            instances.append(_serve(name, port, env, logs))
        for name in ("a", "b"):  # they start while the instances do
            deployment.workers.append(start_worker(app, name))
        for url, process in zip((deployment.a, deployment.b), instances, strict=True):
            _answering(url, process, deployment)
        with app.app_context():
            yield deployment
            db.session.remove()
            db.engine.dispose()
    finally:
        _stop_groups(instances)
        for worker in deployment.workers:
            _stop_worker(worker)
        jobs.jobs_of(app).huey.flush()
        store.flushdb()
        store.close()


def _graduating_class(make: Factory, w, students: int) -> tuple[SchoolClass, list[User]]:
    """A class of `students`, each with one certified record: added together and committed once (a
    commit per row, as the factories do, takes seconds on a loaded machine)."""
    klass = make.school_class(w.unit, cohort=2022)
    activity = make.activity(w.club, status="completed")
    session = make.session
    people = [User(username=f"grad{klass.id}-{n}", display_name=f"毕业生{n:03d}", role=Role.STUDENT,
                   student_no=f"2022{klass.id:03d}{n:03d}", unit_id=w.unit.id, class_id=klass.id)
              for n in range(students)]
    session.add_all(people)
    session.flush()
    session.add_all([Participation(activity_id=activity.id, student_id=p.id, role="participant", hours=activity.hours,
                                   status=ParticipationStatus.CERTIFIED, recorded_by_id=w.leader.id,
                                   certified_by_id=w.advisor.id, certified_at=utcnow()) for p in people])
    session.commit()
    return klass, people


def _signed_in(deployment: Deployment, user: User) -> dict[str, str]:
    """The API's sign-in on instance A: a bearer token, as an integration gets one."""
    r = requests.post(f"{deployment.a}/api/v1/auth/token", json={"username": user.username, "password": PASSWORD},
                      timeout=10)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_two_instances_and_two_workers_finish_a_batch_when_one_worker_is_killed(deployment):
    a, b = deployment.workers
    output_b = ""
    try:
        make = Factory(db.session)
        w = make.world()
        klass, students = _graduating_class(make, w, STUDENTS)
        office = _signed_in(deployment, w.admin)
        r = requests.post(f"{deployment.a}/api/v1/batches/transcripts", json={"class_id": klass.id},
                          headers=office, timeout=10)
        assert r.status_code == 202, f"{r.text}\n{deployment.log_tail()}"
        assert r.json()["total"] == STUDENTS
        batch_id = r.json()["id"]

        def on_b() -> dict:
            r = requests.get(f"{deployment.b}/api/v1/batches/{batch_id}", headers=office, timeout=10)
            assert r.status_code == 200, r.text
            return r.json()

        killed_chunk = wait_until(lambda: _mid_chunk_of(batch_id, a.pid), 90, "worker a in the middle of a chunk")
        a.send_signal(signal.SIGKILL)
        a.wait(timeout=10)
        # The killed chunk keeps some students pending for TIMEOUT_S at least: the batch cannot be done yet.
        first = on_b()
        assert first["status"] == "running" and 0 < first["done"] < STUDENTS, first
        wait_until(lambda: on_b()["done"] > first["done"], 60, "instance B to see done move", step=0.1)
        last = wait_until(lambda: (p := on_b())["status"] not in ("queued", "running") and p, 120,
                          "the other worker to finish the batch", step=0.2)
    finally:
        output_b = _stop_worker(b)
        _stop_worker(a)
    assert (last["status"], last["done"], last["failed"], last["total"]) == ("done", STUDENTS, 0, STUDENTS), \
        f"{output_b[-3000:]}\n{deployment.log_tail()}"

    db.session.rollback()
    items = {i.student_id: i for i in db.session.execute(
        select(GraduationBatchItem).where(GraduationBatchItem.batch_id == batch_id)).scalars()}
    pdf_of = {}
    for student in students:
        [transcript] = db.session.execute(select(Transcript).where(Transcript.student_id == student.id)).scalars()
        assert transcript.status == "valid"
        assert (items[student.id].status, items[student.id].transcript_id) == ("issued", transcript.id)
        pdf_of[student.student_no] = transcript.pdf
    assert dict(db.session.execute(select(Transcript.status, func.count()).group_by(Transcript.status)).all()) \
        == {"valid": STUDENTS}  # nothing superseded, nothing issued twice
    chunk = db.session.execute(select(GraduationBatchChunk).where(
        GraduationBatchChunk.batch_id == batch_id, GraduationBatchChunk.number == killed_chunk)).scalar_one()
    assert chunk.claims == 2 and f":{b.pid}:" in chunk.claimed_by  # taken over by the survivor

    r = requests.get(f"{deployment.a}/api/v1/batches/{batch_id}/zip", params={"class_id": klass.id},
                     headers=office, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/zip", r.text[:500]
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        # <class>/<nnnn> <student no> <name>.pdf
        by_number = {name.split("/", 1)[1].split(" ")[1]: archive.read(name) for name in names}
    assert len(names) == STUDENTS and all(name.endswith(".pdf") for name in names)
    assert by_number == pdf_of  # one PDF per student, each the transcript their item names


def test_the_two_instances_count_one_verification_budget_in_the_one_redis(deployment):
    """Both instances see the client as 127.0.0.1; whichever gets the request past the budget refuses it."""
    codes = [requests.get(f"{url}/api/v1/verify/ABCDEF-GHJKLM-NPQRST", timeout=10).status_code
             for url in [deployment.a, deployment.b] * 4]
    assert codes[:VERIFY_BUDGET] == [404] * VERIFY_BUDGET  # 3 on A, 2 on B
    assert codes[VERIFY_BUDGET:] == [429] * 3  # the sixth on B, then A and B again


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_a_sign_in_on_one_instance_is_honoured_by_the_other(deployment):
    """The session cookie is signed with the shared SECRET_KEY and carries a server-side sign-in (in the
    database): B lets it in, and once it signs out on B, A no longer does. One cookie jar, as a browser
    behind a load balancer keeps (cookies are not kept apart by port)."""
    office = Factory(db.session).admin()
    browser = requests.Session()
    form = browser.get(f"{deployment.a}/login", timeout=10)
    r = browser.post(f"{deployment.a}/login", data={"csrf_token": _csrf(form.text), "username": office.username,
                                                    "password": PASSWORD}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:2000]
    signed_in_on_a = browser.cookies["session"]

    page = browser.get(f"{deployment.b}/admin/batches", allow_redirects=False, timeout=10)
    assert page.status_code == 200, page.headers.get("Location")
    assert office.display_name in page.text
    r = browser.post(f"{deployment.b}/logout", data={"csrf_token": _csrf(page.text)}, allow_redirects=False,
                     timeout=10)
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")

    r = requests.get(f"{deployment.a}/admin/batches", cookies={"session": signed_in_on_a}, allow_redirects=False,
                     timeout=10)
    assert r.status_code == 302 and "/login" in r.headers["Location"]  # the sign-in ended on B is ended on A
