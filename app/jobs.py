"""The job queue (Huey): the e-mail copy of each notification, the organizers' daily digest, and the
graduation batch's chunks (services/batches: one job per chunk; a job claims chunks until none is left).

One Huey per app, from JOB_QUEUE_URL: `sqlite:///path` (SqliteHuey: one machine, `make run`)
or `redis://…` (RedisHuey: production, shared by every instance). It is made on first use, so an
app that never enqueues opens no queue. `flask --app app worker` runs its consumer inside the
app; each task runs in an app context of its own and commits what it changed.

A job is enqueued after the commit that made its row, never before (`after_commit` on the
session): a rolled-back request enqueues nothing, and the worker never looks for a row that is
not committed yet. Enqueueing never fails the request or the command: a queue that cannot be
reached is logged and the e-mail dropped (the notification stays in the in-app list). A mail the
server does not take raises in the task, and Huey tries it again (RETRIES, JOB_RETRY_DELAY_S).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from app.extensions import db

log = logging.getLogger(__name__)

RETRIES = 3
DIGEST_AT = (8, 0)  # the organizers' digest: every day at 08:00 in the school's time zone (TIMEZONE)
WORKERS = 2
# session.info: the notifications this transaction made, to be mailed once it commits.
_TO_MAIL = "notifications_to_mail"
# session.info: the graduation batches this transaction started or resumed (id → jobs), queued once it commits.
_TO_RUN = "batches_to_run"
SCHEMES = ("sqlite", "redis", "rediss")


def make_huey(config) -> Huey:
    """The queue JOB_QUEUE_URL names (never in immediate mode: a worker runs the jobs)."""
    url, name = config["JOB_QUEUE_URL"], config["JOB_QUEUE_NAME"]
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))  # sqlite:////abs/jobs.db or sqlite:///relative.db
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(path), results=False, utc=True)
    if scheme in ("redis", "rediss"):
        return RedisHuey(name, url=url, results=False, utc=True)
    raise ValueError(f"JOB_QUEUE_URL must be sqlite:///… or redis://…, not {url!r}")


def daily_at(hour: int, minute: int, zone: ZoneInfo) -> Callable[[datetime], bool]:
    """Huey's periodic test for "every day at hour:minute in `zone`" (Huey hands it naive UTC)."""

    def due(moment: datetime) -> bool:
        local = moment.replace(tzinfo=UTC).astimezone(zone)
        return (local.hour, local.minute) == (hour, minute)

    return due


class Jobs:
    """The app's queue and its two tasks, made on first use."""

    def __init__(self, app: Flask):
        self.app = app
        self._huey: Huey | None = None
        self._lock = threading.Lock()

    @property
    def huey(self) -> Huey:
        if self._huey is None:
            with self._lock:
                if self._huey is None:
                    self._huey = self._make()
        return self._huey

    def _make(self) -> Huey:
        app = self.app
        huey = make_huey(app.config)

        @huey.task(retries=RETRIES, retry_delay=app.config["JOB_RETRY_DELAY_S"], name="send_notification_email")
        def mail_task(notification_id: int) -> None:
            with app.app_context():
                send_notification_email(notification_id)

        @huey.periodic_task(daily_at(*DIGEST_AT, ZoneInfo(app.config["TIMEZONE"])), name="send_digests")
        def digest_task() -> None:
            with app.app_context():
                send_digests()

        @huey.task(name="run_graduation_batch")
        def batch_task(batch_id: int) -> None:
            with app.app_context():
                run_graduation_batch(batch_id)

        self.mail_task, self.digest_task, self.batch_task = mail_task, digest_task, batch_task
        return huey

    def enqueue_mail(self, notification_ids: list[int]) -> None:
        """One job per notification; a queue that cannot be reached is logged, never raised."""
        try:
            huey = self.huey
            for notification_id in notification_ids:
                huey.enqueue(self.mail_task.s(notification_id))
        except Exception:
            log.exception("job queue %s: %d notification e-mail(s) not queued",
                          safe_url(self.app.config["JOB_QUEUE_URL"]), len(notification_ids))

    def enqueue_batch(self, batch_id: int, jobs: int, delay: float | None = None) -> None:
        """`jobs` jobs of the batch (one per chunk), or one delayed re-check; a queue that cannot be reached is
        logged, never raised: the batch stays queued, and resuming it (page, API, CLI) queues it again."""
        try:
            huey = self.huey
            if delay is not None:
                self.batch_task.schedule((batch_id,), delay=delay)
                return
            for _ in range(max(jobs, 1)):
                huey.enqueue(self.batch_task.s(batch_id))
        except Exception:
            log.exception("job queue %s: graduation batch %s not queued", safe_url(self.app.config["JOB_QUEUE_URL"]),
                          batch_id)

    def consumer(self, workers: int = WORKERS, **options):
        """A Huey consumer of this app's queue, with the periodic tasks (the digest)."""
        from huey.consumer import Consumer

        options.setdefault("periodic", True)
        options.setdefault("max_delay", 2.0)  # an idle SQLite queue is polled at least every 2 s
        return Consumer(self.huey, workers=workers, **options)


def safe_url(url: str) -> str:
    """The queue's address for the log, without a password."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


# ---- the tasks (inside an app context) ---------------------------------------------------------

class MailNotSent(Exception):
    """The mail server did not take the message: Huey tries the job again."""


def send_notification_email(notification_id: int) -> None:
    """Mail one notification to its recipient, once; raises MailNotSent to be retried."""
    from app.services import notifications

    try:
        if notifications.email_notification(db.session, notification_id) is False:
            raise MailNotSent(f"notification {notification_id}: the mail server did not take it")
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def send_digests() -> int:
    """The organizers' digest of what waits for them; its e-mails are queued when it commits."""
    from app.services import notifications
    from app.timeutil import utcnow

    made = notifications.send_digests(db.session, utcnow())
    db.session.commit()
    return made


def worker_name() -> str:
    """Who claims a chunk: host, process and thread (the chunk's `claimed_by`)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_graduation_batch(batch_id: int) -> int:
    """One job of a graduation batch: claim and issue chunks until none is left (services/batches.work
    commits per student); then, if other workers still hold chunks, one delayed job to look again in case
    they died."""
    from app.services import batch_work

    try:
        finished = batch_work.work(db.session, batch_id, worker_name())
        delay = batch_work.needs_recheck(db.session, batch_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if delay is not None:
        jobs_of(current_app).enqueue_batch(batch_id, 1, delay=delay)
    return finished


# ---- enqueued after the commit ---------------------------------------------------------------

def mail_after_commit(session: Session, notification_id: int) -> None:
    """Mail this notification once the transaction that made it commits (called by `notify`)."""
    session.info.setdefault(_TO_MAIL, {})[notification_id] = None  # a dict: ordered, no twice


def run_batch_after_commit(session: Session, batch_id: int, jobs: int) -> None:
    """Queue the batch's jobs once the transaction that started (or resumed) it commits."""
    session.info.setdefault(_TO_RUN, {})[batch_id] = jobs


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint: the outer transaction may still roll back
        return
    ids = list(session.info.pop(_TO_MAIL, None) or ())
    batches = dict(session.info.pop(_TO_RUN, None) or {})
    if not ids and not batches:
        return
    try:
        jobs: Jobs = current_app.extensions["jobs"]
    except Exception:  # no app context: nobody to mail for
        log.exception("job queue: no app to queue %d notification e-mail(s)", len(ids))
        return
    if ids:
        jobs.enqueue_mail(ids)
    for batch_id, count in batches.items():
        jobs.enqueue_batch(batch_id, count)


def _after_soft_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction: its notifications are gone
        session.info.pop(_TO_MAIL, None)
        session.info.pop(_TO_RUN, None)


def init_app(app: Flask) -> None:
    scheme = urlsplit(app.config["JOB_QUEUE_URL"]).scheme
    if scheme not in SCHEMES:
        raise ValueError(f"JOB_QUEUE_URL must be sqlite:///… or redis://…, not {app.config['JOB_QUEUE_URL']!r}")
    app.extensions["jobs"] = Jobs(app)
    # The listeners are on the session class Flask-SQLAlchemy makes (one for every app).
    for name, listener in (("after_commit", _after_commit), ("after_soft_rollback", _after_soft_rollback)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def jobs_of(app: Flask) -> Jobs:
    return app.extensions["jobs"]
