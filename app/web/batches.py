"""The graduation batch's pages (admin): start one for a unit, a class or a cohort; follow it live
(static/batch.js polls progress.json every second, so a reload shows the same); cancel or resume it;
download its PDFs as a ZIP for printing, by class."""

from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from app.api.batches import zip_stream
from app.extensions import db
from app.services import batch_zip, batches
from app.services.errors import Invalid
from app.web import bp
from app.web.forms import REQUIRED, ActionForm, OnceForm, int_or_none
from app.web.support import FORM_ERRORS, actor, create_once, show_error, status_of

SCOPES = ("unit", "class", "cohort")


class BatchForm(OnceForm):
    """One of the three start forms: the scope is fixed by the form, the target chosen from a list."""

    scope = HiddenField()
    target = SelectField(coerce=int_or_none, validate_choice=False)


def _forms(data: batches.OfficePage, posted: str | None = None) -> dict[str, FlaskForm]:
    labels = {"unit": _("Unit"), "class": _("Class"), "cohort": _("Cohort")}
    choices = {"unit": data.units, "class": data.classes, "cohort": data.cohorts}
    forms = {}
    for scope in SCOPES:
        form = BatchForm(prefix=scope, formdata=None if scope != posted else request.form)
        form.scope.data = scope
        form.target.label.text = labels[scope]
        form.target.choices = [("", _("Choose —")), *choices[scope]]
        forms[scope] = form
    return forms


def _start(form: BatchForm):
    """The one service call; the service's reasons about its field go next to the form's list."""
    scope, target = form.scope.data, form.target.data
    if target is None:
        raise Invalid({"target": [str(REQUIRED)]})
    key = {"unit": "unit_id", "class": "class_id", "cohort": "cohort"}[scope]
    try:
        return batches.start_batch(db.session, actor(), **{key: target})
    except Invalid as error:
        raise Invalid({"target": [r for reasons in error.fields.values() for r in reasons]}, error.message) from None


@bp.route("/admin/batches", methods=["GET", "POST"])
@login_required
def admin_batches():
    data = batches.office_page(db.session, actor(), request.args.get("page", 1, type=int) or 1)
    posted = next((s for s in SCOPES if f"{s}-scope" in request.form), None) if request.method == "POST" else None
    forms = _forms(data, posted)
    status = 200
    if posted:
        form = forms[posted]
        done = create_once(form, lambda: _start(form),
                           lambda batch: _("Batch %(id)s started: %(total)s students", id=batch.id, total=batch.total),
                           lambda batch: url_for("web.admin_batch", batch_id=batch.id))
        if done:
            return done
        status = status_of(form)
    return render_template("web/admin_batches.html", data=data, forms=forms), status


@bp.get("/admin/batches/<int:batch_id>")
@login_required
def admin_batch(batch_id: int):
    state = batches.progress(db.session, actor(), batch_id, details=True)
    return render_template("web/admin_batch.html", p=state, j=progress_json(state), form=ActionForm())


def progress_json(state: batches.Progress) -> dict:
    """What the page's script shows: the figures, and the words for rate and time left in the reader's language."""
    left = state.seconds_left
    if left is None or not state.live:
        left_text = "—"
    elif left >= 3600:
        left_text = _("%(h)s h %(m)s min", h=left // 3600, m=left % 3600 // 60)
    elif left >= 60:
        left_text = _("%(m)s min %(s)s s", m=left // 60, s=left % 60)
    else:
        left_text = _("%(s)s s", s=left)
    return {
        "id": state.id, "status": state.status, "status_label": state.status_label, "live": state.live,
        "total": state.total, "done": state.done, "issued": state.issued, "skipped": state.skipped,
        "failed": state.failed, "pending": state.pending, "percent": state.percent, "rate": state.rate,
        "rate_text": _("%(rate)s per second", rate=format(state.rate, ".1f")), "seconds_left": left,
        "time_left_text": left_text,
        "issued_text": _("Issued: %(issued)s; already current: %(skipped)s (their transcript carried everything "
                         "already, so it was kept).", issued=state.issued, skipped=state.skipped),
    }


@bp.get("/admin/batches/<int:batch_id>/progress.json")
@login_required
def admin_batch_progress(batch_id: int):
    response = jsonify(progress_json(batches.progress(db.session, actor(), batch_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/admin/batches/<int:batch_id>/cancel")
@login_required
def admin_batch_cancel(batch_id: int):
    try:
        batches.cancel_batch(db.session, actor(), batch_id)
    except FORM_ERRORS as error:
        show_error(None, error)
    else:
        flash(_("Batch %(id)s cancelled: what is issued stays", id=batch_id), "success")
    return redirect(url_for("web.admin_batch", batch_id=batch_id))


@bp.post("/admin/batches/<int:batch_id>/resume")
@login_required
def admin_batch_resume(batch_id: int):
    try:
        batches.resume_batch(db.session, actor(), batch_id)
    except FORM_ERRORS as error:
        show_error(None, error)
    else:
        flash(_("Batch %(id)s queued again: only the students still missing", id=batch_id), "success")
    return redirect(url_for("web.admin_batch", batch_id=batch_id))


@bp.get("/admin/batches/<int:batch_id>/transcripts.zip")
@login_required
def admin_batch_zip(batch_id: int):
    return zip_stream(*batch_zip.batch_zip(db.session, actor(), batch_id, request.args.get("class_id", type=int)))


@bp.app_template_filter("batch_status")
def batch_status(value: str) -> str:
    from app.models import BatchStatus

    return BatchStatus(value).label
