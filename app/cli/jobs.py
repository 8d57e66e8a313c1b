"""The job queue's worker (`flask --app app worker`) and the organizers' digest on demand."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask_babel import gettext as _

from app.cli import command, notifications_cli
from app.extensions import db
from app.jobs import WORKERS, jobs_of, safe_url


@command("worker")
@click.option("--workers", default=WORKERS, show_default=True, type=click.IntRange(1, 32),
              help="Threads that run jobs")
@click.option("--periodic/--no-periodic", default=True, show_default=True,
              help="Also run the daily digest (one worker of several only)")
def worker(workers, periodic):
    """Run the job queue: notification e-mails (retried) and the organizers' digest at 08:00. Ctrl-C stops it."""
    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    consumer = jobs_of(app).consumer(workers=workers, periodic=periodic)
    click.echo(_("Worker on %(queue)s with %(workers)s thread(s); mail is %(mail)s",
                 queue=safe_url(app.config["JOB_QUEUE_URL"]), workers=workers,
                 mail=app.config["MAIL_SERVER"] or _("off (MAIL_SERVER is not set)")))
    consumer.run()


@notifications_cli.command("digest")
def digest():
    """Send the organizers' digest now (at most one a day each); the worker mails it."""
    from app.services import notifications
    from app.timeutil import utcnow

    made = notifications.send_digests(db.session, utcnow())
    db.session.commit()
    click.echo(_("Digest for %(n)s organizer(s)", n=made))
