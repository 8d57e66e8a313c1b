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
import_cli = AppGroup("import", help="Import CSV files (all or nothing).")
keys_cli = AppGroup("keys", help="The Ed25519 signing keys.")
transcripts_cli = AppGroup("transcripts", help="Issue transcripts.")


@keys_cli.command("generate")
def keys_generate():
    """Create the signing key if none exists (idempotent)."""
    from flask import current_app

    import credentials

    directory = current_app.config["SIGNING_KEY_DIR"]
    ring = credentials.KeyRing.generate_in_dir(directory)
    click.echo(f"signing key {ring.active.kid} in {directory} ({len(ring.keys)} key(s))")


@keys_cli.command("rotate")
def keys_rotate():
    """Make a new active key; old transcripts still verify with the retired ones."""
    from flask import current_app

    import credentials

    directory = current_app.config["SIGNING_KEY_DIR"]
    ring = credentials.KeyRing.rotate_in_dir(directory)
    click.echo(f"new active key {ring.active.kid}; retired: {', '.join(k.kid for k in ring.retired)}")


@keys_cli.command("jwks")
def keys_jwks():
    """Print the public keys as JWKS (for offline verifiers)."""
    import json

    from app.services import transcripts

    try:
        click.echo(json.dumps(transcripts.jwks(), indent=2))
    except DomainError as error:
        fail(error)


@transcripts_cli.command("issue")
@click.option("--unit", "unit_code", default=None, help="Unit code, e.g. CS")
@click.option("--term", default=None, help="Only students with certified records in this term")
@click.option("--student-no", "student_nos", multiple=True, help="Issue for these students only")
def transcripts_issue(unit_code, term, student_nos):
    """Issue transcripts in a batch; one student's failure does not stop the rest."""
    from rich.progress import Progress

    from app.services import transcripts

    numbers = list(student_nos) or transcripts.students_to_issue(db.session, unit_code, term)
    if not numbers:
        click.echo("no student with certified records matches")
        return
    issued, failed = [], []
    with Progress(transient=False) as progress:
        task = progress.add_task("签发 Issuing", total=len(numbers))
        for number in numbers:
            try:
                issued.append(transcripts.issue_transcript(db.session, None, number))
            except DomainError as error:
                db.session.rollback()
                failed.append((number, error.message))
            except Exception as error:  # noqa: BLE001 — report it and go on with the batch
                db.session.rollback()
                failed.append((number, f"{type(error).__name__}: {error}"))
            progress.advance(task)
    click.secho(f"issued {len(issued)} transcripts, {len(failed)} failed", fg="green" if not failed else "yellow")
    for number, reason in failed:
        click.secho(f"  {number}: {reason}", fg="red")
    if issued:
        click.echo(f"e.g. {issued[0].link}")
    if failed:
        sys.exit(1)


def fail(error: DomainError) -> None:
    click.secho(f"错误 Error: {error.message}", fg="red", err=True)
    for field, reasons in error.fields.items():
        click.secho(f"  {field}: {'; '.join(reasons)}", fg="red", err=True)
    sys.exit(1)


@user_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(["admin", "organizer", "leader", "student"]))
@click.option("--password", default=None, help="None: the owner activates the account by a one-time link")
@click.option("--name", "display_name", default=None, help="Display name (default: username)")
@click.option("--student-no", default=None)
@click.option("--unit", "unit_code", default=None, help="Unit code")
@click.option("--class", "class_name", default=None, help="Class name (within --unit)")
@click.option("--email", default=None)
def create_user(username, role, password, display_name, student_no, unit_code, class_name, email):
    """Create a user of any role (a student also needs --student-no)."""
    try:
        unit_id, class_id = _place(unit_code, class_name)
        user = accounts.create_user(
            db.session, None, username=username, password=password,
            display_name=display_name or username, role=role, student_no=student_no,
            unit_id=unit_id, class_id=class_id, email=email,
        )
    except DomainError as error:
        fail(error)
    click.echo(f"created user {user.username} ({user.role}) id={user.id}")
    if password is None:
        click.echo("no password yet: the account needs an activation link — "
                   f"flask --app app user reset-link {username}")


# ---- people: list, edit, deactivate, one-time password links (services.accounts, password_reset)

def _place(unit_code: str | None, class_name: str | None) -> tuple[int | None, int | None]:
    unit_id = accounts.find_unit(db.session, unit_code).id if unit_code else None
    class_id = accounts.find_class(db.session, class_name, unit_id).id if class_name else None
    return unit_id, class_id


@user_cli.command("list")
@click.option("--role", default=None, type=click.Choice(["admin", "organizer", "leader", "student"]))
@click.option("--unit", "unit_code", default=None, help="Unit code")
@click.option("--class", "class_name", default=None, help="Class name")
@click.option("-q", "q", default=None, help="Part of the name, username or student number")
@click.option("--page", default=1, type=int)
def list_users(role, unit_code, class_name, q, page):
    """List people as a table (200 a page)."""
    from rich.console import Console
    from rich.table import Table

    try:
        unit_id, class_id = _place(unit_code, class_name)
        users, total = accounts.list_users(db.session, None, page, 200, role=role, unit_id=unit_id,
                                           class_id=class_id, q=q)
    except DomainError as error:
        fail(error)
    table = Table("id", "用户名 username", "姓名 name", "角色 role", "学号 no.", "院系 unit", "班级 class",
                  "状态 status", title=f"{total} in all" + (f", page {page}" if total > 200 else ""))
    for u in users:
        status = "deactivated" if not u.active else ("no password" if u.password_hash is None else "active")
        table.add_row(str(u.id), u.username, u.display_name, u.role, u.student_no or "—",
                      u.unit.code if u.unit else "—", u.school_class.name if u.school_class else "—", status)
    Console(width=200).print(table)


@user_cli.command("edit")
@click.argument("username")
@click.option("--name", "display_name", default=None)
@click.option("--email", default=None, help='"" clears it')
@click.option("--role", default=None, type=click.Choice(["admin", "organizer", "student"]))
@click.option("--unit", "unit_code", default=None, help='Unit code ("" clears it)')
@click.option("--class", "class_name", default=None, help='Class name ("" clears it)')
def edit_user(username, display_name, email, role, unit_code, class_name):
    """Change what is given (leaders are appointed on the club, never here)."""
    values = {key: value for key, value in
              {"display_name": display_name, "email": email, "role": role}.items() if value is not None}
    try:
        user = accounts.find_user(db.session, username)
        if unit_code is not None:
            values["unit_id"] = accounts.find_unit(db.session, unit_code).id if unit_code else None
        if class_name is not None:
            unit_id = values.get("unit_id", user.unit_id)
            values["class_id"] = accounts.find_class(db.session, class_name, unit_id).id if class_name else None
        accounts.update_user(db.session, None, user.id, **values)
    except DomainError as error:
        fail(error)
    click.echo(f"saved {user.username}")


def _set_active(username: str, active: bool) -> None:
    try:
        user = accounts.find_user(db.session, username)
        accounts.update_user(db.session, None, user.id, active=active)
    except DomainError as error:
        fail(error)
    click.echo(f"{'reactivated' if active else 'deactivated'} {user.username}"
               + ("" if active else "; every sign-in of theirs ended"))


@user_cli.command("deactivate")
@click.argument("username")
def deactivate_user(username):
    """Deactivate: every session and token of the user ends at once."""
    _set_active(username, False)


@user_cli.command("activate")
@click.argument("username")
def activate_user(username):
    """Reactivate (they sign in again)."""
    _set_active(username, True)


@user_cli.command("reset-link")
@click.argument("username")
def reset_link(username):
    """Print a one-time link that sets the password (earlier links of the user stop working)."""
    from app.services import password_reset
    from app.timeutil import to_local

    try:
        link = password_reset.create_reset_link(db.session, None, accounts.find_user(db.session, username).id)
    except DomainError as error:
        fail(error)
    click.echo(link.url)
    click.echo(f"valid until {to_local(link.expires_at):%Y-%m-%d %H:%M}" + (" (e-mailed)" if link.emailed else ""),
               err=True)


@user_cli.command("reset-links")
@click.option("--unit", "unit_code", default=None, help="Unit code")
@click.option("--class", "class_name", default=None, help="Class name")
@click.option("--cohort", default=None, type=int, help="Year of entry, e.g. 2025")
@click.option("--all", "everyone", is_flag=True, help="Also students who already have a password")
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False, writable=True),
              help="Write a CSV file (UTF-8 with BOM, for Excel) instead of printing")
@click.option("--no-mail", is_flag=True, help="Do not e-mail the links even when MAIL_SERVER is set")
def reset_links(unit_code, class_name, cohort, everyone, output, no_mail):
    """Activation links for a roster's students, as CSV: 学号,姓名,用户名,链接,有效期至."""
    import csv
    import io

    from app.services import password_reset
    from app.timeutil import to_local

    try:
        unit_id, class_id = _place(unit_code, class_name)
        links = password_reset.reset_links(db.session, None, unit_id=unit_id, class_id=class_id, cohort=cohort,
                                           only_without_password=not everyone)
    except DomainError as error:
        fail(error)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["学号", "姓名", "用户名", "链接", "有效期至"])
    for user, url, expires_at in links:
        writer.writerow([user.student_no, user.display_name, user.username, url,
                         f"{to_local(expires_at):%Y-%m-%d %H:%M}"])
    if output:
        with open(output, "w", encoding="utf-8-sig", newline="") as fh:
            fh.write(buffer.getvalue())
    else:
        click.echo(buffer.getvalue(), nl=False)
    mailed = 0 if no_mail else password_reset.mail_links(links)
    click.echo(f"{len(links)} links" + (f", {mailed} e-mailed" if mailed else "") + (f" → {output}" if output else ""),
               err=True)


@audit_cli.command("verify")
def audit_verify():
    """Recompute the audit hash chain; report OK or the first broken event."""
    report = verify_chain(db.session)
    if report.ok:
        click.secho(f"OK: {report.events} events, chain intact", fg="green")
        return
    click.secho(f"BROKEN at event #{report.broken_seq}: {report.reason}", fg="red", err=True)
    sys.exit(1)


def _report_rows(error: DomainError) -> None:
    click.secho(f"错误 Error: {error.message}", fg="red", err=True)
    for where, reasons in error.fields.items():
        for reason in reasons:
            click.secho(f"  {where}: {reason}", fg="red", err=True)
    sys.exit(1)


@import_cli.command("students")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_students(file):
    """Import a roster CSV: 学号, 姓名, [院系代码, 班级, 入学年级, 用户名, 邮箱]; never passwords."""
    from app.services import imports

    with open(file, "rb") as fh:
        data = fh.read()
    try:
        result = imports.import_students(db.session, None, data)
    except DomainError as error:
        _report_rows(error)
    click.secho(f"imported {result.count} students (no password yet)", fg="green")
    click.echo("Students activate their accounts by a one-time link (or sign in by SSO); print the links with:")
    for code in sorted(c for c in result.units if c != "—") or ["CODE"]:
        click.echo(f"  flask --app app user reset-links --unit {code}")


@import_cli.command("participations")
@click.argument("activity_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_participations(activity_id, file):
    """Record an activity's participants from CSV: 学号/student_no, [角色/role, 学时/hours, 奖项/award]."""
    from app.services import imports

    with open(file, "rb") as fh:
        data = fh.read()
    try:
        created = imports.import_participations(db.session, None, activity_id, data)
    except DomainError as error:
        _report_rows(error)
    click.secho(f"recorded {len(created)} participations for activity {activity_id}", fg="green")


@click.command("demo-data")
def demo_data():
    """Fill an empty database with a believable school (does nothing if people exist)."""
    from app.services import demo

    if demo.load_demo(db.session):
        click.secho("demo school loaded", fg="green")
    else:
        click.echo("database already has people; demo data left as it is")


@click.command("demo-logins")
def demo_logins():
    """Print the demo accounts."""
    from flask import current_app

    from app.services import demo

    base = current_app.config["PUBLIC_BASE_URL"]
    click.echo("")
    click.secho(f"Second Transcript 第二课堂成绩单 — {base}", bold=True)
    click.echo(f"Demo logins (password for all: {demo.DEMO_PASSWORD})")
    for login in demo.DEMO_LOGINS:
        click.echo(f"  {login.role:<10} {login.username:<12} {login.name:<10} {login.note}")
    link = demo.demo_verify_link(db.session)
    if link:
        click.echo("A demo transcript's verify link (what its QR code opens):")
        click.echo(f"  {link}")
    click.echo("")


@transcripts_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def transcripts_verify(file):
    """Is this PDF byte for byte one we issued, and does its own signature check out?"""
    import credentials
    from app.services import transcripts

    with open(file, "rb") as fh:
        data = fh.read()
    ours = transcripts.verify_upload(db.session, data)
    offline = credentials.verify_pdf(data, transcripts.jwks())
    click.echo(f"issued by this service: {'yes' if ours.genuine else 'no'} — {ours.reason}")
    click.echo(f"signature (offline):    {'valid' if offline.genuine else 'invalid'} — {offline.reason}")
    if ours.status:
        click.echo(f"status: {ours.status}  serial: {ours.serial}")
    sys.exit(0 if ours.genuine and offline.genuine else 1)


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False))
def backup(target):
    """Back up the database: a consistent SQLite copy, or pg_dump's custom format for PostgreSQL."""
    from app.services.backup import backup_database

    try:
        size = backup_database(db.engine, target)
    except (RuntimeError, OSError) as error:
        click.secho(f"错误 Error: {error}", fg="red", err=True)
        sys.exit(1)
    click.secho(f"backed up to {target} ({size:,} bytes)", fg="green")


def init_app(app: Flask) -> None:
    app.cli.add_command(user_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(import_cli)
    app.cli.add_command(keys_cli)
    app.cli.add_command(transcripts_cli)
    app.cli.add_command(demo_data)
    app.cli.add_command(demo_logins)
    app.cli.add_command(backup)
