"""Public pages: the QR link's verification page, PDF upload, and the JWKS. No sign-in."""

from __future__ import annotations

import time
from functools import lru_cache, wraps

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from app.extensions import csrf, db, limiter
from app.lru import LRU
from app.models import LEVEL_LABELS, MODULE_LABELS, ROLE_LABELS
from app.services import transcripts
from app.services.errors import NotFound

bp = Blueprint("verify", __name__)
# Rendered pages keyed by everything they show that can change (PublicView.version).
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
            raise TooManyRequests("请求过于频繁，请稍后再试 Too many requests; try again later",
                                  retry_after=max(1, int(reset_at - time.time())))
        return view(*args, **kwargs)

    return wrapper


def _labels() -> dict:
    return {"modules": {k.value: v for k, v in MODULE_LABELS.items()},
            "levels": {k.value: v for k, v in LEVEL_LABELS.items()},
            "roles": {k.value: v for k, v in ROLE_LABELS.items()}}


@bp.route("/healthz")
@limiter.exempt
def healthz():
    """For load balancers: the process answers. A constant, touching nothing."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.route("/.well-known/jwks.json")
def jwks():
    response = jsonify(transcripts.jwks())
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
    link = request.url if request.query_string else None
    if link is not None:
        # The link was signed with the public base URL; rebuild it the way it was printed.
        link = current_app.config["PUBLIC_BASE_URL"] + request.full_path
    try:
        view = transcripts.public_view(db.session, serial, link)
    except NotFound:
        return render_template("verify/unknown.html", serial=serial), 404
    html = cached_page(view)
    if html is None:
        html = render_template("verify/page.html", view=view, **_labels())
        _pages.put(view.version, html)
    return html


def cached_page(view: transcripts.PublicView) -> str | None:
    return _pages.get(view.version)


@bp.route("/verify/upload", methods=["POST"])
@verify_limit
@csrf.exempt  # a read-only check anyone may make; there is no session to protect
def upload():
    request.max_content_length = current_app.config["VERIFY_MAX_UPLOAD"]
    file = request.files.get("file")
    expected = (request.form.get("serial") or "").strip() or None
    if file is None or not file.filename:
        return render_template("verify/landing.html", error="请选择 PDF 文件 Choose a PDF file"), 422
    verdict = transcripts.verify_upload(db.session, file.read())
    mismatch = expected is not None and verdict.serial not in (None, expected)
    return render_template("verify/upload.html", verdict=verdict, expected=expected,
                           mismatch=mismatch, filename=file.filename)


def init_app(app: Flask) -> None:
    from app.verify.fastpath import VerifyFastPath

    app.register_blueprint(bp)
    app.wsgi_app = VerifyFastPath(app)
