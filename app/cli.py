"""`flask --app app …` commands; they call the same services as the pages and the API."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from app.extensions import db
from app.services import accounts
from app.services.audit import verify_chain
from app.services.errors import DomainError

user_cli = AppGroup("user", help="Manage people.")
audit_cli = AppGroup("audit", help="Check the audit log.")


def fail(error: DomainError) -> None:
    click.secho(f"错误 Error: {error.message}", fg="red", err=True)
    for field, reasons in error.fields.items():
        click.secho(f"  {field}: {'; '.join(reasons)}", fg="red", err=True)
    sys.exit(1)


@user_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "organizer", "leader", "student"]))
@click.option("--password", required=True)
@click.option("--name", "display_name", default=None, help="Display name (default: username)")
@click.option("--student-no", default=None)
@click.option("--unit", "unit_code", default=None, help="Unit code")
def create_user(username, role, password, display_name, student_no, unit_code):
    """Create a user of any role (a student also needs --student-no)."""
    from sqlalchemy import select

    from app.models import Unit

    unit_id = None
    if unit_code:
        unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none()
        if unit is None:
            click.secho(f"错误 Error: no unit with code {unit_code}", fg="red", err=True)
            sys.exit(1)
        unit_id = unit.id
    try:
        user = accounts.create_user(
            db.session, None, username=username, password=password,
            display_name=display_name or username, role=role, student_no=student_no,
            unit_id=unit_id,
        )
    except DomainError as error:
        fail(error)
    click.echo(f"created user {user.username} ({user.role}) id={user.id}")


@audit_cli.command("verify")
def audit_verify():
    """Recompute the audit hash chain; report OK or the first broken event."""
    report = verify_chain(db.session)
    if report.ok:
        click.secho(f"OK: {report.events} events, chain intact", fg="green")
        return
    click.secho(f"BROKEN at event #{report.broken_seq}: {report.reason}", fg="red", err=True)
    sys.exit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(user_cli)
    app.cli.add_command(audit_cli)
