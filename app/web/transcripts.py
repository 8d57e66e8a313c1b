"""Transcripts on the pages: a student issues and downloads theirs; the admin revokes one."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.api.transcripts import content_disposition
from app.extensions import db
from app.services import transcripts, verification
from app.services.errors import Invalid
from app.services.pages import transcripts as transcript_pages
from app.web import bp
from app.web.forms import ActionForm, OnceForm, ReasonForm
from app.web.home import TRANSCRIPT_LABELS
from app.web.support import (
    FORM_ERRORS,
    actor,
    already_done,
    flash_once_again,
    mark_done,
    show_error,
)

STATUS_LABELS = {**TRANSCRIPT_LABELS, "amended": _l("Amended: records withdrawn")}


@bp.app_template_global()
def transcript_withdrawals(transcript) -> tuple:
    """The records withdrawn from an issued transcript, for the pages that list transcripts."""
    return verification.withdrawals(db.session, transcript.id)


@bp.app_template_global()
def transcript_status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@bp.post("/me/transcripts")
@login_required
def issue_transcript():
    form = OnceForm()
    target = url_for("web.student_home") + "#transcripts"
    if form.validate_on_submit():
        if done := already_done(form):
            flash_once_again()
            return redirect(done)
        try:
            transcript = transcripts.issue_transcript(db.session, actor(), actor().student_no or "")
        except FORM_ERRORS as error:
            show_error(None, error)
        else:
            flash(_("Transcript issued, serial %(serial)s", serial=transcript.serial), "success")
            mark_done(form, target)
    return redirect(target)


@bp.get("/transcripts/<serial>.pdf")
@login_required
def transcript_pdf(serial: str):
    transcript = transcripts.transcript_pdf(db.session, actor(), serial)
    response = make_response(transcript.pdf)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = content_disposition(transcript)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _admin_page(q: str, status: int = 200, reason_errors=None):
    page = request.args.get("page", 1, type=int) or 1
    items = transcript_pages.transcripts_page(db.session, actor(), q, page)
    return render_template(
        "web/admin_transcripts.html", q=q, items=items, form=ActionForm(),
        labels=STATUS_LABELS, reason_errors=reason_errors or {},
    ), status


@bp.get("/admin/transcripts")
@login_required
def admin_transcripts():
    return _admin_page((request.args.get("q") or "").strip())


@bp.post("/transcripts/<serial>/revoke")
@login_required
def revoke_transcript(serial: str):
    form = ReasonForm(prefix="t")
    q = (request.form.get("q") or "").strip()
    try:
        transcripts.revoke_transcript(db.session, actor(), serial, form.reason.data or "")
    except Invalid as error:
        show_error(form, error)
        return _admin_page(q, 422, {serial: form.reason.errors})
    except FORM_ERRORS as error:
        show_error(None, error)
    else:
        flash(_("Transcript %(serial)s revoked", serial=serial), "success")
    return redirect(url_for("web.admin_transcripts", q=q or None))
