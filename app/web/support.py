"""What every page view shares: the acting user, domain errors on forms, one-time forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Response, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField

from app.extensions import db
from app.models import Role, User
from app.services.errors import Conflict, DomainError, Invalid
from app.services.pages.common import page_number

# Domain errors a form can show next to its fields; Forbidden and NotFound are error pages.
FORM_ERRORS = (Invalid, Conflict)
_ENTRY = re.compile(r"^entries\.\d+\.")
_DONE_KEY = "done_forms"
CHOOSE = _l("Choose one from the list")
CHECK_FIELDS = _l("Invalid input: see the marked fields")
_DONE_KEEP = 12
T = TypeVar("T")


def login_limit() -> str:
    """The per-client budget for password forms (sign-in, password change), from the settings."""
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


def actor() -> User:
    return current_user._get_current_object()


def page_args(*names: str) -> dict[str, int]:
    """The page asked for of each named list of a page (?approvals=2&signoff=3): "x", 0 and -1
    are the first page, a number past the end is the last (services.pages.common.paginate)."""
    return {name: page_number(request.args.get(name)) for name in names}


def home_url(user: User) -> str:
    return url_for({
        Role.ADMIN: "web.admin_home",
        Role.ORGANIZER: "web.organizer_home",
        Role.LEADER: "web.leader_home",
    }.get(user.role, "web.student_home"))


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def show_error(
    form: FlaskForm | None, error: DomainError, rename: dict[str, str] | None = None
) -> int:
    """Flash the message and put each field's reasons next to that field; returns the status.

    Field names the form does not have (or a missing form) are listed with the message
    instead, so no reason is ever dropped.
    """
    db.session.rollback()
    leftovers = put_errors(form, error.fields, rename)
    flash(error.message, "error")
    if form is not None:
        form.error_status = error.status
    if form is not None:
        form.form_errors.extend(leftovers)
    else:
        for line in leftovers:
            flash(line, "error")
    return error.status


def show_reasons(error: DomainError) -> int:
    """Flash the reasons alone, for a page whose only input is hidden (the code a phone
    scanned): no field to mark, and a field's name means nothing to the person."""
    db.session.rollback()
    reasons = [reason for field_reasons in (error.fields or {}).values() for reason in field_reasons]
    for reason in reasons or [error.message]:
        flash(reason, "error")
    return error.status


def put_errors(
    form: FlaskForm | None, fields: dict[str, list[str]] | None,
    rename: dict[str, str] | None = None, *, only_clean: bool = False,
) -> list[str]:
    """Attach service reasons to same-named fields; returns "name: reason" for the rest.

    `entries.0.hours` (a batch of one) goes to `hours`. A list field's "one of a, b, c"
    reads better as "choose from the list" next to a drop-down.
    """
    leftovers = []
    for name, reasons in (fields or {}).items():
        key = (rename or {}).get(name, _ENTRY.sub("", name))
        field = form._fields.get(key) if form is not None else None
        if field is None:
            leftovers.extend(f"{name}: {reason}" for reason in reasons)
            continue
        if only_clean and field.errors:
            continue
        if isinstance(field, SelectField):
            reasons = [str(CHOOSE) if _lists_choices(r) else r for r in reasons]
        field.errors = [*field.errors, *reasons]
    return leftovers


def _lists_choices(reason: str) -> bool:
    """A service's "One of: a, b, c" (app.services.activities, participations, clubs), in
    English or as the catalog words it: the same message ids as the services'."""
    if reason.lower().startswith("one of"):
        return True
    prefix = _("One of: %(choices)s", choices="\0").split("\0")[0]
    return (bool(prefix.strip()) and reason.startswith(prefix)) or \
        reason == _("One of active, suspended, dissolved")


def status_of(form: FlaskForm) -> int:
    """For a posted form that came back with errors: the service's status (409 for a taken
    name, a full activity) or 422, and a message at the top once; else 200."""
    refused = getattr(form, "error_status", None)
    if refused is not None:  # the service said no, with or without a field to blame
        return refused
    if not (form.is_submitted() and form.errors):
        return 200
    if not any(category == "error" for category, _ in session.get("_flashes", [])):
        flash(str(CHECK_FIELDS), "error")
    return getattr(form, "error_status", 422)


def already_done(form: FlaskForm) -> str | None:
    """The page a one-time form already led to, if this very form was posted before."""
    nonce = getattr(form, "nonce", None)
    if nonce is None or not nonce.data:
        return None
    return dict(session.get(_DONE_KEY, [])).get(nonce.data)


def mark_done(form: FlaskForm, target: str) -> None:
    nonce = getattr(form, "nonce", None)
    if nonce is None or not nonce.data:
        return
    done = [pair for pair in session.get(_DONE_KEY, []) if pair[0] != nonce.data]
    done.append([nonce.data, target])
    session[_DONE_KEY] = done[-_DONE_KEEP:]


def flash_once_again() -> None:
    flash(_("This form was already submitted; nothing was saved twice."), "info")


def create_once(form: FlaskForm, create: Callable[[], T], message: Callable[[T], str],
                target: Callable[[T], str], on_invalid: Callable[[], None] | None = None,
                ) -> Response | None:
    """The create forms' one path: valid → create → flash → redirect (Post/Redirect/Get).

    A form posted again (back button, double click) goes where the first post went and
    creates nothing; a domain error stays on the form. None means: render the form.
    `on_invalid` runs when fields failed to parse, to add the other problems at once.
    """
    if not form.validate_on_submit():
        if form.is_submitted() and on_invalid is not None:
            on_invalid()
        return None
    if done := already_done(form):
        flash_once_again()
        return redirect(done)
    try:
        made = create()
    except FORM_ERRORS as error:
        show_error(form, error)
        return None
    flash(message(made), "success")
    url = target(made)
    mark_done(form, url)
    return redirect(url)


def read_upload(form, limit: int) -> bytes | None:
    """The uploaded file's bytes, or None with a message on the field when it exceeds `limit`."""
    data = form.file.data.read(limit + 1)
    if len(data) > limit:
        form.file.errors = [_("Larger than %(kb)s KB; split it", kb=limit // 1024)]
        return None
    return data
