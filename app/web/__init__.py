"""Signed-in pages: forms → one service call → template or redirect (Post/Redirect/Get).

One blueprint, `web`, split over modules by subject (auth, home, admin, activities,
records). Domain errors that a form can show go next to its fields; the rest become an
error page in the layout. `render_http_error` and `render_domain_error` are also used by
the API blueprint for every non-API path.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation

from flask import Blueprint, Flask, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from app.extensions import db, login_manager
from app.services.errors import DomainError
from app.timeutil import to_local

bp = Blueprint("web", __name__)
log = logging.getLogger(__name__)

ERROR_TITLES = {
    400: _l("Bad request"),
    401: _l("Sign-in required"),
    403: _l("Forbidden"),
    404: _l("Not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    415: _l("Unsupported media type"),
    422: _l("Invalid input"),
    429: _l("Too many requests"),
    500: _l("Server error"),
}
ERROR_HINTS = {
    403: _l("Your account cannot open this page; ask the Youth League office if you need access."),
    404: _l("The link may be old, or the record no longer exists."),
    409: _l("The record changed meanwhile; reload and try again."),
    413: _l("The file is too large; split it and upload again."),
    429: _l("Please wait a moment and try again."),
    500: _l("Try again later; if it persists, tell the admin."),
}


def _error_page(code: int, message: str, fields: dict | None = None):
    title = str(ERROR_TITLES.get(code, _l("Error")))
    hint = ERROR_HINTS.get(code)
    try:
        html = render_template(
            "web/error.html", code=code, title=title, message=message,
            hint=str(hint) if hint else None, fields=fields or {},
        )
    except Exception:  # the layout needs the database; never fail while reporting a failure
        log.exception("error page could not be rendered")
        html = (f'<!doctype html><meta charset="utf-8"><title>{code}</title>'
                f"<h1>{code} {escape(title)}</h1><p>{escape(message)}</p>")
    return html, code


def render_http_error(error: HTTPException):
    try:
        db.session.rollback()
    except Exception:  # pragma: no cover - a broken connection must not hide the error
        log.exception("rollback failed")
    if isinstance(error, CSRFError):
        message = _("The form expired; go back, reload and try again.")
    elif (error.code or 500) >= 500:
        message = _("Internal server error")
    elif error.description == type(error).description:
        message = ""  # werkzeug's English default says no more than the title and the hint
    else:
        message = error.description or error.name
    response = _error_page(error.code or 500, message)
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        return (*response, {"Allow": ", ".join(error.valid_methods)})
    return response


def render_domain_error(error: DomainError):
    db.session.rollback()
    page = _error_page(error.status, error.message, error.fields)
    if getattr(error, "retry_after", None):  # a locked account (429)
        return (*page, {"Retry-After": str(error.retry_after)})
    return page


def _hours(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return f"{Decimal(str(value)):.1f}"
    except InvalidOperation:  # a raw CSV cell being previewed
        return str(value)


def _local(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    local = to_local(moment)
    return local.strftime(fmt) if local else "—"


def _page_url(page: int, param: str = "page", **extra) -> str:
    """This page's address with another page of one of its lists (`param`: a page with several
    lists names each one's page by the list, ?approvals=2); the other lists keep their pages."""
    from flask import url_for

    args = {**request.view_args, **request.args.to_dict(), **extra, param: page}
    return url_for(request.endpoint, **args)


def init_app(app: Flask) -> None:
    from app.web import (  # noqa: F401  each module adds its views to the blueprint
        activities,
        admin,
        appeals,
        audit,
        auth,
        batches,
        catalogue,
        check_in,
        claims,
        club_roster,
        home,
        my_data,
        notifications,
        people,
        records,
        roster,
        rules,
        sso,
        transcripts,
    )

    login_manager.login_view = "web.login"
    login_manager.login_message = _l("Please sign in")
    login_manager.localize_callback = str  # the lazy message, in the reader's language when flashed
    login_manager.login_message_category = "warning"
    login_manager.session_protection = "basic"
    app.config.setdefault("CSV_IMPORT_MAX_BYTES", 256 * 1024)
    app.jinja_env.filters["hours"] = _hours
    app.jinja_env.filters["local"] = _local
    app.jinja_env.globals["page_url"] = _page_url
    app.context_processor(home.navigation)
    app.register_blueprint(bp)
    from app.web.scorecards import bp as scorecards_bp

    app.register_blueprint(scorecards_bp)
