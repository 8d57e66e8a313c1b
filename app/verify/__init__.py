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
from flask_login import current_user
from limits import parse_many
from markupsafe import Markup
from werkzeug.exceptions import TooManyRequests

import credentials.vc
from app import i18n, permissions
from app.extensions import csrf, db, limiter
from app.lru import LRU
from app.services import holder, transcripts, upload_check, verifiable, verification
from app.services.errors import NotFound
from credentials.snapshot import LEVELS, ROLES

bp = Blueprint("verify", __name__)
# Rendered pages keyed by everything they show that can change (PublicView.version), the
# language they are in and the signed query they were asked with (the page links to itself).
_pages = LRU(512)


VERIFY_ENDPOINTS = {"verify.landing", "verify.page", "verify.upload", "verify.share", "transcripts.verify",
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


def _labels(view: verification.PublicView) -> dict:
    """The transcript's vocabulary in the reader's half of each (zh, en) pair, picked once per
    page rather than three times per record row."""
    half = 1 if i18n.current() == "en" else 0
    return {"module_label": {key: pair[half] for key, pair in view.module_names.items()},
            "level_label": {key: (zh, en)[half] for key, zh, en in LEVELS},
            "role_label": {key: (zh, en)[half] for key, zh, en in ROLES}}


def presented_link(base_url: str, path: str, query: str) -> tuple[str, str | None, str] | None:
    """(serial, the QR link as it was printed or None, the page cache's key for it) of a request
    for a verification page, or None when the path is not one. Form 1 links are /v/<serial>?d=…,
    form 2 links /V/<serial>/<digits> (a phone may send /v/ and a lower-case serial)."""
    parts = path.split("/")
    if len(parts) == 3 and parts[1] == "v" and parts[2]:
        signed = signed_query(query)
        return parts[2], (f"{base_url}{path}?{signed}" if signed else None), signed
    if len(parts) == 4 and parts[1] in ("v", "V") and parts[2] and parts[3].isdigit():
        serial = parts[2].upper()
        return serial, f"{credentials.links.printed_base(base_url)}/V/{serial}/{parts[3]}", parts[3]
    return None


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


def _vc_response(document: dict):
    response = make_response(verifiable.credential_bytes(document))
    response.mimetype = credentials.vc.MEDIA_TYPE
    return response


@bp.route("/.well-known/did.json")
def did_document():
    """The issuer's did:web document: every signing key as a Multikey."""
    response = jsonify(verifiable.did_document())
    response.mimetype = "application/did+json"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/status/<int:list_id>")
def status_list(list_id: int):
    """A signed Bitstring Status List; built per request, so a revocation shows at once."""
    response = _vc_response(verifiable.status_list(db.session, list_id))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/verify", methods=["GET"])
@verify_limit
def landing():
    serial = (request.args.get("serial") or "").strip()
    if serial:
        return redirect(url_for("verify.page", serial=transcripts.normalize_serial(serial)))
    return render_template("verify/landing.html")


@bp.route("/v/<serial>", methods=["GET"])
@bp.route("/v/<serial>/<payload>", methods=["GET"])
@bp.route("/V/<serial>/<payload>", methods=["GET"])
@verify_limit
def page(serial, payload=None):
    """The QR link's target. A presented signature must check out; the status comes from us."""
    # The link was signed with the public base URL; rebuild it the way it was printed.
    presented = presented_link(current_app.config["PUBLIC_BASE_URL"], request.path,
                               request.query_string.decode("latin-1"))
    if presented is None:
        return render_template("verify/unknown.html", serial=serial), 404
    serial, link, query = presented
    try:
        view = verification.public_view(db.session, serial, link, shared=_holder_or_office(serial))
    except NotFound:
        return render_template("verify/unknown.html", serial=serial), 404
    response = make_response(verify_page(view, query))
    response.vary.add("Accept-Language")
    return response


def verify_page(view: verification.PublicView, query: str) -> str:
    """The verification page of this state in the reader's language, for the link's `query`
    (the page links to itself): the one rendered last time for exactly that, or rendered now."""
    key = (view.version, i18n.current(), query)
    html = _pages.get(key)
    if html is None:
        html = render_template("verify/page.html", view=view, **_labels(view), **i18n.template_gettext())
        _pages.put(key, html)
    return html


def _holder_or_office(serial: str) -> bool:
    """The student and the admin always see everything, the public check closed or not. Only a
    signed-in visitor (a session cookie, which the fast path leaves to this view) is asked."""
    if not current_user.is_authenticated:
        return False
    try:
        transcript = transcripts.get_transcript(db.session, serial)
    except NotFound:
        return False
    return permissions.can_issue_transcript(current_user._get_current_object(), transcript.student)


@bp.route("/share/<token>", methods=["GET"])
@verify_limit
def share(token: str):
    """A share link the holder gave one recipient: the full check while it is live, even when the
    public check is closed. An unknown, withdrawn or expired link answers the same 404 page."""
    serial = holder.shared_serial(db.session, token)
    if serial is None:
        return render_template("verify/share_gone.html"), 404
    view = verification.public_view(db.session, serial, shared=True)
    # Not in the page cache: a share link is one recipient's, and its page is rendered rarely.
    response = make_response(render_template("verify/page.html", view=view, **_labels(view),
                                             **i18n.template_gettext()))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


@bp.route("/verify/offline.html")
def offline_verifier():
    """The verifier that needs no server: one HTML file with the public keys inside it."""
    language = "en" if i18n.current() == "en" else "zh-CN"
    response = make_response(render_template("verify/offline.html", lang=language,
                                             **verification.offline_verifier()))
    response.mimetype = "text/html"
    response.headers["Content-Disposition"] = "attachment; filename=transcript-verifier.html"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/verify/upload", methods=["POST"])
@verify_limit
@csrf.exempt  # a read-only check anyone may make; there is no session to protect
def upload():
    request.max_content_length = current_app.config["VERIFY_MAX_UPLOAD"]
    file = request.files.get("file")
    expected = (request.form.get("serial") or "").strip() or None
    if file is None or not file.filename:
        return render_template("verify/landing.html", error=_("Choose a PDF file")), 422
    verdict = upload_check.verify_upload(db.session, file.read())
    mismatch = expected is not None and verdict.serial not in (None, expected)
    return render_template("verify/upload.html", verdict=verdict, expected=expected,
                           mismatch=mismatch, filename=file.filename)


def css_string(value: str) -> Markup:
    """`value` as a CSS string literal that stays one inside a <style> element: anything but
    letters, digits, spaces and a little punctuation is a CSS escape."""
    return Markup('"' + "".join(c if c.isalnum() or c in " .,()·" else f"\\{ord(c):x} " for c in str(value)) + '"')


def init_app(app: Flask) -> None:
    from app.verify.fastpath import VerifyFastPath

    app.jinja_env.filters["css_string"] = css_string
    app.register_blueprint(bp)
    app.wsgi_app = VerifyFastPath(app)
