"""Transcripts on the pages: a student issues and downloads theirs; the admin revokes one."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.api.transcripts import content_disposition, credential_response
from app.extensions import db
from app.services import holder, transcripts, verifiable, verification
from app.services.errors import Invalid
from app.services.pages import transcripts as transcript_pages
from app.web import bp
from app.web.forms import ActionForm, OnceForm, PublicCheckForm, ReasonForm, ShareForm
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
            transcript, new = transcripts.issue_or_current(db.session, actor(), actor().student_no or "")
        except FORM_ERRORS as error:
            show_error(None, error)
        else:
            if new:
                flash(_("Transcript issued, serial %(serial)s", serial=transcript.serial), "success")
            else:
                flash(_("Nothing changed since transcript %(serial)s: it is still the current one",
                        serial=transcript.serial), "success")
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


@bp.get("/transcripts/<serial>/credential.json")
@login_required
def transcript_credential(serial: str):
    """The same file as the API's credential, saved as a download."""
    return credential_response(verifiable.transcript_credential(db.session, actor(), serial), serial)


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


# ---- the holder decides who may look (services/holder) -------------------------------------

def _holder_page(serial: str, status: int = 200, *, check_form: PublicCheckForm | None = None,
                 share_form: ShareForm | None = None, new_share_url: str | None = None):
    data = transcript_pages.holder_page(db.session, actor(), serial)
    return render_template(
        "web/transcript.html", data=data, labels=STATUS_LABELS, form=ActionForm(),
        check_form=check_form or PublicCheckForm(formdata=None, public_until=data.transcript.public_until),
        share_form=share_form or ShareForm(formdata=None), new_share_url=new_share_url,
    ), status


@bp.get("/transcripts/<serial>")
@login_required
def transcript_page(serial: str):
    """The student's page of one transcript (the admin's too, without the controls)."""
    return _holder_page(serial)


# The public check form's buttons, as arguments of holder.set_public_check.
_CHECK_ACTIONS = {"close": {"public": False}, "reopen": {"public": True}, "extend": {"extend": True}}


@bp.post("/transcripts/<serial>/public")
@login_required
def set_public_check(serial: str):
    form = PublicCheckForm()
    action = request.form.get("action", "set")
    if not form.validate_on_submit():
        return _holder_page(serial, 422, check_form=form)
    if action == "set" and form.public_until.data is None:
        form.public_until.errors = [_("Choose a date")]
        return _holder_page(serial, 422, check_form=form)
    values = _CHECK_ACTIONS.get(action, {"public_until": form.public_until.data})
    try:
        transcript = holder.set_public_check(db.session, actor(), serial, **values)
    except FORM_ERRORS as error:
        show_error(form, error)
        return _holder_page(serial, 422 if isinstance(error, Invalid) else 409, check_form=form)
    if transcript.public:
        flash(_("The public check is open until %(date)s", date=transcript.public_until.isoformat()), "success")
    else:
        flash(_("The public check is closed"), "success")
    return redirect(url_for("web.transcript_page", serial=transcript.serial))


@bp.post("/transcripts/<serial>/shares")
@login_required
def create_share(serial: str):
    form = ShareForm()
    if not form.validate_on_submit():
        return _holder_page(serial, 422, share_form=form)
    if done := already_done(form):  # the same form posted again (reload, back): no second link
        flash_once_again()
        return redirect(done)
    try:
        made = holder.create_share(db.session, actor(), serial, expires_on=form.expires_on.data,
                                   label=form.label.data)
    except FORM_ERRORS as error:
        show_error(form, error)
        return _holder_page(serial, 422, share_form=form)
    mark_done(form, url_for("web.transcript_page", serial=serial) + "#shares")
    # Shown once, on this answer (not flashed: the session cookie would carry the token).
    return _holder_page(serial, new_share_url=made.url)


@bp.post("/transcripts/<serial>/shares/<int:share_id>/withdraw")
@login_required
def withdraw_share(serial: str, share_id: int):
    if ActionForm().validate_on_submit():
        try:
            holder.withdraw_share(db.session, actor(), serial, share_id)
        except FORM_ERRORS as error:
            show_error(None, error)
        else:
            flash(_("Share link withdrawn"), "success")
    return redirect(url_for("web.transcript_page", serial=serial))
