"""A notification's e-mail: through the job queue (Huey) to a real SMTP server (aiosmtpd), never
in the request.

Each test builds its own app (make_test_app: it commits for real, so a worker on another thread
or process sees the rows) with its own queue: SQLite in the test's folder, or Redis under a name
of its own when 127.0.0.1:6379 answers. The worker is a real Huey consumer, started by the test
in this process (its threads; the signal handlers stay pytest's) or, once, as
`flask --app app worker` in a subprocess. Huey's immediate mode is never used.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from huey import signals
from huey.consumer import Consumer

from app import jobs
from app.extensions import db
from app.models import Notification, Participation
from app.services import notifications
from app.services.errors import Conflict
from tests.conftest import make_test_app
from tests.factories import Factory

ROOT = Path(__file__).resolve().parent.parent
STUDENT_MAIL = "zhangwei@stu.example.edu.cn"
SENDER = "tuanwei@example.edu.cn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


QUEUES = ["sqlite", pytest.param("redis", marks=pytest.mark.skipif(not redis_answers(),
                                                                    reason="no Redis at 127.0.0.1:6379"))]


# ---- a real SMTP server ----------------------------------------------------------------------

class Inbox:
    """aiosmtpd's handler: keeps every message the server accepted."""

    def __init__(self):
        self.envelopes = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 — aiosmtpd's hook name
        with self._arrived:
            self.envelopes.append(envelope)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 20) -> list:
        with self._arrived:
            assert self._arrived.wait_for(lambda: len(self.envelopes) >= count, timeout), (
                f"{len(self.envelopes)} of {count} mail(s) arrived within {timeout} s")
        return self.envelopes


@contextmanager
def smtp_server(port: int):
    """aiosmtpd on loopback at `port` (chosen beforehand, so the app can know it while it is down)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


# ---- the app, its queue and a worker -----------------------------------------------------------

@pytest.fixture(params=QUEUES)
def queue(request, tmp_path):
    """A queue of the test's own: SQLite in its folder, Redis (database 15) under its own name, or the URL given."""
    return {"sqlite": f"sqlite:///{tmp_path / 'jobs.db'}", "redis": "redis://127.0.0.1:6379/15"}.get(
        request.param, request.param)


@pytest.fixture
def mail_port():
    return free_port()


@pytest.fixture
def mail_app(backend, tmp_path, queue, mail_port):
    """An app of its own, committing for real, mail on (MAIL_PORT where nothing listens yet)."""
    app = make_test_app(backend, tmp_path, {
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": mail_port, "MAIL_DEFAULT_SENDER": SENDER,
        "JOB_QUEUE_URL": queue, "JOB_QUEUE_NAME": f"st-test-{uuid.uuid4().hex[:8]}", "JOB_RETRY_DELAY_S": 1,
    })
    huey = jobs.jobs_of(app).huey
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    if queue.startswith("redis://127.0.0.1:6379"):
        huey.flush()  # this test's keys (a SQLite queue's file goes with tmp_path)


class ThreadConsumer(Consumer):
    """Huey's consumer in threads of the test's process: the signal handlers stay pytest's."""

    def _set_signal_handlers(self):
        pass


@contextmanager
def worker(app):
    """A real consumer of the app's queue, polling often (the test waits for what it does)."""
    consumer = ThreadConsumer(jobs.jobs_of(app).huey, workers=2, periodic=False,
                              initial_delay=0.05, backoff=1.1, max_delay=0.2)
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)


def certify_world(app):
    """A club's ended activity with one recorded participation of a student who has an address."""
    make = Factory(db.session)
    w = make.world()
    w.students[0].email = STUDENT_MAIL
    record = make.participation(w.activity, w.students[0])
    return w, record, make.token(w.advisor)


def queued(app) -> int:
    huey = jobs.jobs_of(app).huey
    return huey.pending_count() + huey.scheduled_count()


def mail_of(envelope):
    return message_from_bytes(envelope.original_content, policy=policy.default)


def wait_until(condition, timeout: float = 20, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step)


# ---- the tests -----------------------------------------------------------------------------------

def test_certify_sends_one_email_through_smtp(mail_app, mail_port):
    w, record, advisor = certify_world(mail_app)
    client = mail_app.test_client()

    with smtp_server(mail_port) as inbox, worker(mail_app):
        r = client.post(f"/api/v1/activities/{w.activity.id}/certify", headers=advisor, json={})
        assert r.status_code == 200 and r.get_json() == {"certified": 1}
        [envelope] = inbox.wait_for(1)
        wait_until(lambda: queued(mail_app) == 0)
        time.sleep(0.5)  # and nothing more comes
    assert len(inbox.envelopes) == 1

    assert envelope.rcpt_tos == [STUDENT_MAIL] and envelope.mail_from == SENDER
    mail = mail_of(envelope)
    text = mail.get_content()
    # In the student's language (Chinese, the default), naming the activity and the hours.
    assert mail["Subject"] == "你的记录已认定"
    assert f"你参加的“{w.activity.title}”已认定：4.0 学时。" in text
    assert w.students[0].display_name in text and "https://dekt.example.edu.cn/me" in text
    assert "certified" not in text
    db.session.expire_all()
    row = db.session.query(Notification).one()
    assert row.emailed_at is not None and row.user_id == w.students[0].id


def test_mail_server_down_does_not_fail_the_certify(mail_app, mail_port):
    w, record, advisor = certify_world(mail_app)
    client = mail_app.test_client()
    failures = []
    huey = jobs.jobs_of(mail_app).huey
    huey.signal(signals.SIGNAL_RETRYING)(lambda signal, task, *args: failures.append(task.retries))

    with worker(mail_app):
        started = time.monotonic()
        r = client.post(f"/api/v1/activities/{w.activity.id}/certify", headers=advisor, json={})
        took = time.monotonic() - started
        # Nothing listens at MAIL_PORT: the request neither waits for the server nor fails.
        assert r.status_code == 200 and r.get_json() == {"certified": 1}
        assert took < 2, took
        db.session.expire_all()
        assert db.session.get(Participation, record.id).status == "certified"
        # The worker tried, the server was not there, and the job is to be tried again.
        wait_until(lambda: failures)
        assert failures[0] == jobs.RETRIES  # the first try failed; three more are to come
        assert db.session.query(Notification).one().emailed_at is None
        # The server comes up: the next try delivers it, once.
        with smtp_server(mail_port) as inbox:
            [envelope] = inbox.wait_for(1)
            wait_until(lambda: queued(mail_app) == 0)
            time.sleep(0.5)
        assert len(inbox.envelopes) == 1
    assert envelope.rcpt_tos == [STUDENT_MAIL]
    assert w.activity.title in mail_of(envelope).get_content()
    db.session.expire_all()
    assert db.session.query(Notification).one().emailed_at is not None


def test_only_a_committed_notification_is_queued(mail_app):
    """No worker here: what reaches the queue is counted. A request that fails rolls back and
    queues nothing; one that succeeds queues one job per notification, after its commit."""
    make = Factory(db.session)
    student = make.student()
    student_id = student.id

    @mail_app.post("/_test/notify/<int:fail>")
    def notify_then(fail: int):
        notifications.notify(db.session, student_id, "record.certified", link="/me", activity="篮球赛", hours=2)
        if fail:
            raise Conflict("refused after notifying")
        return {"ok": True}

    client = mail_app.test_client()
    assert client.post("/_test/notify/1").status_code == 409
    assert queued(mail_app) == 0
    assert db.session.query(Notification).count() == 0
    assert client.post("/_test/notify/0").status_code == 200
    assert queued(mail_app) == 1

    # A savepoint's commit is not the transaction's: the job waits for the real one.
    with db.session.begin_nested():
        notifications.notify(db.session, student_id, "record.rejected", activity="篮球赛", reason="未到场")
    assert queued(mail_app) == 1
    db.session.commit()
    assert queued(mail_app) == 2
    # A rolled-back transaction forgets its notifications.
    notifications.notify(db.session, student_id, "record.revoked", activity="篮球赛", reason="重复")
    db.session.rollback()
    db.session.commit()
    assert queued(mail_app) == 2


def test_a_command_queues_after_its_commit_too(mail_app):
    make = Factory(db.session)
    w = make.world()
    w.advisor.email = "advisor@example.edu.cn"
    make.participation(w.activity, w.students[0])
    result = mail_app.test_cli_runner().invoke(args=["notifications", "digest"])
    assert result.exit_code == 0, result.output
    assert queued(mail_app) == 1


def test_without_mail_nothing_is_queued(mail_app):
    mail_app.config["MAIL_SERVER"] = ""
    w, record, advisor = certify_world(mail_app)
    r = mail_app.test_client().post(f"/api/v1/activities/{w.activity.id}/certify", headers=advisor, json={})
    assert r.status_code == 200
    assert db.session.query(Notification).count() == 1 and queued(mail_app) == 0


@pytest.mark.parametrize("queue", ["redis://127.0.0.1:1/0"], indirect=True)
def test_an_unreachable_queue_does_not_fail_the_request(mail_app, caplog):
    w, record, advisor = certify_world(mail_app)
    r = mail_app.test_client().post(f"/api/v1/activities/{w.activity.id}/certify", headers=advisor, json={})
    assert r.status_code == 200 and r.get_json() == {"certified": 1}
    assert any("not queued" in rec.getMessage() for rec in caplog.records)
    db.session.expire_all()
    assert db.session.get(Participation, record.id).status == "certified"
    assert db.session.query(Notification).count() == 1  # still in the in-app list


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("queue", ["sqlite"], indirect=True)
def test_the_digest_runs_every_day_at_eight_school_time(mail_app):
    due = jobs.daily_at(*jobs.DIGEST_AT, ZoneInfo("Asia/Shanghai"))
    assert due(datetime(2026, 12, 3, 0, 0))  # Huey's clock is naive UTC: 08:00 in Shanghai
    assert not due(datetime(2026, 12, 3, 8, 0)) and not due(datetime(2026, 12, 3, 0, 1))
    huey = jobs.jobs_of(mail_app).huey  # the app's TIMEZONE is Asia/Shanghai too
    assert [t.name for t in huey.read_periodic(datetime(2026, 12, 3, 0, 0))] == ["send_digests"]
    assert huey.read_periodic(datetime(2026, 12, 3, 8, 0)) == []


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("queue", ["sqlite"], indirect=True)
def test_the_worker_command_delivers_and_stops_on_ctrl_c(mail_app, mail_port):
    """`flask --app app worker`, as `make run` starts it, in a process of its own."""
    w, record, advisor = certify_world(mail_app)
    config = mail_app.config
    env = {**os.environ, "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test-secret",
           "JOB_QUEUE_URL": config["JOB_QUEUE_URL"], "JOB_QUEUE_NAME": config["JOB_QUEUE_NAME"],
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(mail_port), "MAIL_DEFAULT_SENDER": SENDER,
           "PUBLIC_BASE_URL": config["PUBLIC_BASE_URL"]}
    env.pop("FLASK_APP", None)
    with smtp_server(mail_port) as inbox:
        process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            r = mail_app.test_client().post(f"/api/v1/activities/{w.activity.id}/certify", headers=advisor, json={})
            assert r.status_code == 200
            [envelope] = inbox.wait_for(1, timeout=30)
            assert envelope.rcpt_tos == [STUDENT_MAIL]
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "127.0.0.1" in output
