"""`flask --app app …` commands; they call the same services as the pages and the API.

people.py holds `flask user …`; records.py the record's commands (keys, transcripts, audit,
imports, demo data, backup); jobs.py the job queue's worker and `flask notifications digest`;
grades.py `flask grades run` (the yearly certification); scorecards.py `flask scorecards rebuild`
(the per-term tallies from the records).

Each command is one use case: it commits once, after its service calls (a batch issue
commits after each transcript). Output is in the site's default language (Chinese).
"""

from __future__ import annotations

import sys
from functools import wraps

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from app.i18n import BABEL_LOCALES, DEFAULT
from app.services.errors import DomainError


def in_default_language(f):
    """Run a command's callback in the site's default language (there is no request to ask)."""

    @wraps(f)
    def wrapper(*args, **kwargs):
        with force_locale(BABEL_LOCALES[DEFAULT]):
            return f(*args, **kwargs)

    return wrapper


class Commands(AppGroup):
    """An AppGroup whose commands speak the default language (inside the app context)."""

    def command(self, *args, **kwargs):
        def decorator(f):
            return super(Commands, self).command(*args, **kwargs)(in_default_language(f))

        return decorator


def command(name: str):
    """A top-level command (`flask demo-data`), like Commands.command."""

    def decorator(f):
        return click.command(name)(with_appcontext(in_default_language(f)))

    return decorator


user_cli = Commands("user", help="Manage people.")
audit_cli = Commands("audit", help="Check the audit log.")
import_cli = Commands("import", help="Import CSV files (all or nothing).")
keys_cli = Commands("keys", help="The Ed25519 signing keys.")
transcripts_cli = Commands("transcripts", help="Issue transcripts.")
notifications_cli = Commands("notifications", help="Notifications: the organizers' daily digest.")


def fail(error: DomainError) -> None:
    """Print a domain error and each field's reasons, and exit 1."""
    click.secho(_("Error: %(message)s", message=error.message), fg="red", err=True)
    for field, reasons in error.fields.items():
        for reason in reasons:
            click.secho(f"  {field}: {reason}", fg="red", err=True)
    sys.exit(1)


def init_app(app: Flask) -> None:
    from app.cli import jobs, people, records  # noqa: F401  each module adds its commands to the groups
    from app.cli.grades import grades_cli
    from app.cli.scorecards import scorecards_cli

    app.cli.add_command(user_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(transcripts_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(grades_cli)
    app.cli.add_command(scorecards_cli)
    app.cli.add_command(jobs.worker)
    app.cli.add_command(records.demo_data)
    app.cli.add_command(records.demo_logins)
    app.cli.add_command(records.backup)
