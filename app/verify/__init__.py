"""Public pages: the QR link's verification page, PDF upload, and the JWKS. No sign-in."""

from __future__ import annotations

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

from app.extensions import csrf, db, limiter
from app.lru import LRU
from app.models import LEVEL_LABELS, MODULE_LABELS, ROLE_LABELS
from app.services import transcripts
from app.services.errors import NotFound

bp = Blueprint("verify", __name__)
# Rendered pages keyed by everything they show that can change (PublicView.version).
_pages = LRU(512)


def _limit() -> str:
    return current_app.config["VERIFY_RATE_LIMIT"]


# One budget per client across the page, the upload and the JSON API, so switching
# between them does not multiply the number of serials one can try.
verify_limit = limiter.shared_limit(_limit, scope="verify")


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
    html = _pages.get(view.version)
    if html is None:
        html = render_template("verify/page.html", view=view, **_labels())
        _pages.put(view.version, html)
    return html


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
    app.register_blueprint(bp)
