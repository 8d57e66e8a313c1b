"""`flask user …`: people, their accounts and their activation links."""

from __future__ import annotations

import click
from flask_babel import gettext as _

from app.cli import fail, user_cli
from app.extensions import db
from app.services import accounts
from app.services.errors import DomainError
from app.services.system import system_actor


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
            db.session, system_actor(db.session), username=username, password=password,
            display_name=display_name or username, role=role, student_no=student_no,
            unit_id=unit_id, class_id=class_id, email=email,
        )
        db.session.commit()
    except DomainError as error:
        fail(error)
    click.echo(_("Created user %(username)s (%(role)s) id=%(id)s", username=user.username, role=user.role,
                 id=user.id))
    if password is None:
        link_command = f"flask --app app user reset-link {username}"
        click.echo(_("No password yet: the account needs an activation link — %(command)s", command=link_command))


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
    title = (_("%(total)s in all, page %(page)s", total=total, page=page) if total > 200
             else _("%(total)s in all", total=total))
    table = Table("id", _("Username"), _("Full name"), _("Role"), _("Student no."), _("Unit"), _("Class"),
                  _("Status"), title=title)
    for u in users:
        status = (_("Deactivated") if not u.active
                  else (_("No password") if u.password_hash is None else _("Active")))
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
        accounts.update_user(db.session, system_actor(db.session), user.id, **values)
        db.session.commit()
    except DomainError as error:
        fail(error)
    click.echo(_("Saved %(username)s", username=user.username))


def _set_active(username: str, active: bool) -> None:
    try:
        user = accounts.find_user(db.session, username)
        accounts.update_user(db.session, system_actor(db.session), user.id, active=active)
        db.session.commit()
    except DomainError as error:
        fail(error)
    if active:
        click.echo(_("Reactivated %(username)s", username=user.username))
    else:
        click.echo(_("Deactivated %(username)s; every sign-in of theirs ended", username=user.username))


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
        user_id = accounts.find_user(db.session, username).id
        link = password_reset.create_reset_link(db.session, system_actor(db.session), user_id)
        db.session.commit()
    except DomainError as error:
        fail(error)
    click.echo(link.url)
    until = f"{to_local(link.expires_at):%Y-%m-%d %H:%M}"
    click.echo(_("Valid until %(time)s (e-mailed)", time=until) if link.emailed
               else _("Valid until %(time)s", time=until), err=True)


@user_cli.command("reset-links")
@click.option("--unit", "unit_code", default=None, help="Unit code")
@click.option("--class", "class_name", default=None, help="Class name")
@click.option("--cohort", default=None, type=int, help="Year of entry, e.g. 2025")
@click.option("--all", "everyone", is_flag=True, help="Also students who already have a password")
@click.option("-o", "--output", default=None, type=click.Path(dir_okay=False, writable=True),
              help="Write a CSV file (UTF-8 with BOM, for Excel) instead of printing")
@click.option("--no-mail", is_flag=True, help="Do not e-mail the links even when MAIL_SERVER is set")
def reset_links(unit_code, class_name, cohort, everyone, output, no_mail):
    """Activation links for a roster's students, as CSV (student number, name, username, link, valid until)."""
    import csv
    import io

    from app.services import password_reset
    from app.timeutil import to_local

    try:
        unit_id, class_id = _place(unit_code, class_name)
        links = password_reset.reset_links(db.session, system_actor(db.session), unit_id=unit_id, class_id=class_id,
                                           cohort=cohort, only_without_password=not everyone)
        db.session.commit()
    except DomainError as error:
        fail(error)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("Student no."), _("Full name"), _("Username"), _("Link"), _("Valid until")])
    for user, url, expires_at in links:
        writer.writerow([user.student_no, user.display_name, user.username, url,
                         f"{to_local(expires_at):%Y-%m-%d %H:%M}"])
    if output:
        with open(output, "w", encoding="utf-8-sig", newline="") as fh:
            fh.write(buffer.getvalue())
    else:
        click.echo(buffer.getvalue(), nl=False)
    mailed = 0 if no_mail else password_reset.mail_links(links)
    if output:
        summary = (_("%(count)s links, %(mailed)s e-mailed → %(output)s", count=len(links), mailed=mailed,
                     output=output) if mailed
                   else _("%(count)s links → %(output)s", count=len(links), output=output))
    else:
        summary = (_("%(count)s links, %(mailed)s e-mailed", count=len(links), mailed=mailed) if mailed
                   else _("%(count)s links", count=len(links)))
    click.echo(summary, err=True)
