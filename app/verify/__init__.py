"""Public pages: the QR link's verification page, PDF upload, and the JWKS. No sign-in."""

from __future__ import annotations

import time
from functools import lru_cache, wraps

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from app import i18n
from app.extensions import csrf, db, limiter
from app.lru import LRU
from app.services import transcripts, verification
from app.services.errors import NotFound
from credentials.snapshot import LEVELS, MODULES, ROLES

bp = Blueprint("verify", __name__)
# Rendered pages keyed by everything they show that can change (PublicView.version), the
# language they are in and the signed query they were asked with (the page links to itself).
_pages = LRU(512)


VERIFY_ENDPOINTS = {"verify.landing", "verify.page", "verify.upload", "transcripts.verify",
                    "transcripts.verify_pdf"}
# Set by the fast path (app/verify/fastpath.py) when it already counted this request.
COUNTED = "second_transcript.verify_counted"


@lru_cache(maxsize=8)
def _limits(text: str) -> tuple:
    return tuple(parse_many(text))


@limiter.request_filter
def _verification_counts_itself() -> bool:
    return request.endpoint in VERIFY_ENDPOINTS


def verify_budget_allows(config, who: str) -> bool:
    """Count one verification for this client; False once the budget is spent.

    One budget per client across the page, the upload and the JSON API, so switching
    between them does not multiply the serials one can try. It counts with Flask-Limiter's
    strategy and storage (memory, or Redis shared by the workers).
    """
    if not config.get("RATELIMIT_ENABLED", True):
        return True
    return all(limiter.limiter.hit(item, "verify", who) for item in _limits(config["VERIFY_RATE_LIMIT"]))


def verify_limit(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        counted = request.environ.get(COUNTED)
        if not counted and not verify_budget_allows(current_app.config, get_remote_address()):
            item = _limits(current_app.config["VERIFY_RATE_LIMIT"])[0]
            reset_at = limiter.limiter.get_window_stats(item, "verify", get_remote_address()).reset_time
            raise TooManyRequests(_("Too many requests; try again later"),
                                  retry_after=max(1, int(reset_at - time.time())))
        return view(*args, **kwargs)

    return wrapper


def _labels() -> dict:
    """The transcript's vocabulary as (zh, en) pairs; the page shows the reader's half (pick)."""
    return {"modules": {key: (zh, en) for key, zh, en in MODULES},
            "levels": {key: (zh, en) for key, zh, en in LEVELS},
            "roles": {key: (zh, en) for key, zh, en in ROLES}}


def signed_query(query: str) -> str:
    """The query of a QR link without `lang=` (the reader's choice of language is not part of
    what was signed); the fast path and the view both use it, so they agree on the link."""
    return "&".join(part for part in query.split("&") if part and part.split("=", 1)[0] != "lang")


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """For load balancers: the process answers. A constant, touching nothing."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.route("/.well-known/jwks.json")
def jwks():
    response = jsonify(verification.jwks())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/verify", methods=["GET"])
@verify_limit
def landing():
    serial = (request.args.get("serial") or "").strip()
    if serial:
        return redirect(url_for("verify.page", serial=transcripts.normalize_serial(serial)))
    return render_template("verify/landing.html")


@bp.route("/v/<serial>", methods=["GET"])
@verify_limit
def page(serial):
    """The QR link's target. A presented signature must check out; the status comes from us."""
    query = signed_query(request.query_string.decode("latin-1"))
    # The link was signed with the public base URL; rebuild it the way it was printed.
    link = f"{current_app.config['PUBLIC_BASE_URL']}{request.path}?{query}" if query else None
    try:
        view = verification.public_view(db.session, serial, link)
    except NotFound:
        return render_template("verify/unknown.html", serial=serial), 404
    language = i18n.current()
    html = cached_page(view, language, query)
    if html is None:
        html = render_template("verify/page.html", view=view, **_labels())
        _pages.put((view.version, language, query), html)
    response = make_response(html)
    response.vary.add("Accept-Language")
    return response


def cached_page(view: verification.PublicView, language: str, query: str) -> str | None:
    """The page already rendered for this state, in `language` ('zh_CN' or 'en'), for this query."""
    return _pages.get((view.version, language, query))


@bp.route("/verify/upload", methods=["POST"])
@verify_limit
@csrf.exempt  # a read-only check anyone may make; there is no session to protect
def upload():
    request.max_content_length = current_app.config["VERIFY_MAX_UPLOAD"]
    file = request.files.get("file")
    expected = (request.form.get("serial") or "").strip() or None
    if file is None or not file.filename:
        return render_template("verify/landing.html", error=_("Choose a PDF file")), 422
    verdict = verification.verify_upload(db.session, file.read())
    mismatch = expected is not None and verdict.serial not in (None, expected)
    return render_template("verify/upload.html", verdict=verdict, expected=expected,
                           mismatch=mismatch, filename=file.filename)


def init_app(app: Flask) -> None:
    from app.verify.fastpath import VerifyFastPath

    app.register_blueprint(bp)
    app.wsgi_app = VerifyFastPath(app)
