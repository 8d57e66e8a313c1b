"""Recording participants (one by one, CSV preview → import) and signing records off."""

from __future__ import annotations

import base64
import zlib

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.extensions import db
from app.services import imports, participations
from app.services.errors import Conflict, Invalid
from app.services.pages import activity as activity_pages
from app.services.pages import choices
from app.services.participations import Entry
from app.web import bp
from app.web.forms import (
    ActionForm,
    CertifyForm,
    CsvConfirmForm,
    CsvUploadForm,
    ReasonForm,
    RecordForm,
)
from app.web.support import FORM_ERRORS, actor, read_upload, show_error, status_of

# The previewed file travels back with the confirm button, signed and bound to the activity,
# so what is imported is byte for byte what was previewed and the server keeps no state.
PAYLOAD_SALT = "web.csv-import"
PAYLOAD_MAX_AGE = 3600


def _sample_csv() -> str:
    """The sample file, in the reader's language (the import reads headers and roles in either)."""
    lines = [
        # The header and the roles must be names the import knows (app.services.imports).
        _("student_no,role,hours,award"),
        _("2025000001,participant,,"),
        _("2025000002,volunteer,3,First prize"),
    ]
    return "\ufeff" + "".join(line + "\r\n" for line in lines)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=PAYLOAD_SALT)


def _pack(activity_id: int, data: bytes) -> str:
    blob = base64.b64encode(zlib.compress(data, 9)).decode("ascii")
    return _serializer().dumps({"activity": activity_id, "csv": blob})


def _unpack(activity_id: int, payload: str) -> bytes | None:
    try:
        value = _serializer().loads(payload or "", max_age=PAYLOAD_MAX_AGE)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(value, dict) or value.get("activity") != activity_id:
        return None
    try:
        return zlib.decompress(base64.b64decode(value["csv"]))
    except (KeyError, ValueError, zlib.error):
        return None


def _record_forms(record_form=None, upload_form=None):
    record_form = record_form or RecordForm(formdata=None)
    record_form.role.choices = choices.role_choices()
    return record_form, upload_form or CsvUploadForm(formdata=None)


def _participants(activity_id: int, status: int = 200, record_form=None, upload_form=None):
    page = activity_pages.recording_page(db.session, actor(), activity_id)
    record_form, upload_form = _record_forms(record_form, upload_form)
    return render_template(
        "web/participants.html", page=page, a=page.activity, form=record_form,
        upload=upload_form, max_kb=current_app.config["CSV_IMPORT_MAX_BYTES"] // 1024,
    ), status


@bp.route("/activities/<int:activity_id>/participants", methods=["GET", "POST"])
@login_required
def participants(activity_id: int):
    if request.method == "GET":
        return _participants(activity_id)
    form, _upload = _record_forms(RecordForm())
    if form.validate_on_submit():
        entry = Entry(
            student_no=(form.student_no.data or "").strip(), role=form.role.data or "participant",
            hours=(form.hours.data or "").strip() or None, award=form.award.data,
            hours_reason=form.hours_reason.data,
        )
        try:
            participations.record_participations(db.session, actor(), activity_id, [entry])
        except FORM_ERRORS as error:
            show_error(form, error)
        else:
            flash(_("Recorded %(student_no)s", student_no=entry.student_no), "success")
            return redirect(url_for("web.participants", activity_id=activity_id))
    return _participants(activity_id, status_of(form), record_form=form)


@bp.get("/activities/<int:activity_id>/participants/template.csv")
@login_required
def csv_template(activity_id: int):
    activity_pages.recording_page(db.session, actor(), activity_id)
    return current_app.response_class(
        _sample_csv().encode("utf-8"), mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=participants-template.csv"},
    )


def _preview(activity_id: int, data: bytes, status: int = 200):
    preview = imports.preview_participations(db.session, actor(), activity_id, data)
    page = activity_pages.recording_page(db.session, actor(), activity_id)
    by_line: dict[int, list] = {}
    for error in preview.errors:
        by_line.setdefault(error.line, []).append(error)
    bad_lines = sorted(by_line)
    confirm = CsvConfirmForm(formdata=None)
    confirm.payload.data = _pack(activity_id, data)
    if preview.errors:
        status = 422
    return render_template(
        "web/csv_preview.html", a=page.activity, preview=preview, by_line=by_line,
        bad_lines=bad_lines, confirm=confirm, role_labels=dict(choices.role_choices()),
    ), status


@bp.post("/activities/<int:activity_id>/participants/csv")
@login_required
def csv_upload(activity_id: int):
    form = CsvUploadForm()
    if form.validate_on_submit():
        data = read_upload(form, current_app.config["CSV_IMPORT_MAX_BYTES"])
        if data is not None:
            try:
                return _preview(activity_id, data)
            except FORM_ERRORS as error:
                show_error(form, error)
    return _participants(activity_id, status_of(form), upload_form=form)


@bp.post("/activities/<int:activity_id>/participants/csv/confirm")
@login_required
def csv_confirm(activity_id: int):
    form = CsvConfirmForm()
    data = _unpack(activity_id, form.payload.data) if form.validate_on_submit() else None
    if data is None:
        flash(_("The upload expired or was altered; upload the file again"), "error")
        return redirect(url_for("web.participants", activity_id=activity_id))
    try:
        created = imports.import_participations(db.session, actor(), activity_id, data)
    except Invalid as error:
        # Every bad line is listed again on the preview (e.g. "already recorded" after a
        # resubmission); nothing was imported.
        db.session.rollback()
        flash(error.message, "error")
        try:
            return _preview(activity_id, data, 422)
        except FORM_ERRORS as again:
            show_error(None, again)
            return redirect(url_for("web.participants", activity_id=activity_id))
    except FORM_ERRORS as error:
        show_error(None, error)
        return redirect(url_for("web.participants", activity_id=activity_id))
    flash(_("Imported %(n)s records", n=len(created)), "success")
    return redirect(url_for("web.participants", activity_id=activity_id))


# --------------------------------------------------------------------------- sign-off


def _signoff(activity_id: int, status: int = 200, certify_form=None, reason_errors=None):
    page = activity_pages.signoff_page(db.session, actor(), activity_id)
    return render_template(
        "web/signoff.html", page=page, a=page.activity,
        form=certify_form or CertifyForm(formdata=None), action=ActionForm(),
        reason_errors=reason_errors or {},
    ), status


@bp.get("/activities/<int:activity_id>/signoff")
@login_required
def signoff(activity_id: int):
    return _signoff(activity_id)


@bp.post("/activities/<int:activity_id>/certify")
@login_required
def certify(activity_id: int):
    form = CertifyForm()
    if form.validate_on_submit():
        try:
            count = participations.certify(
                db.session, actor(), activity_id, form.ids.data, form.note.data
            )
        except FORM_ERRORS as error:
            show_error(form, error, {"participation_ids": "ids"})
        else:
            flash(_("Certified %(n)s records", n=count), "success")
            return redirect(url_for("web.signoff", activity_id=activity_id))
    return _signoff(activity_id, status_of(form), certify_form=form)


def _close_record(participation_id: int, call, done: str):
    """Reject or revoke one record with a reason; back to its activity's sign-off page."""
    activity_id = activity_pages.activity_of_participation(db.session, participation_id)
    form = ReasonForm(prefix=f"r{participation_id}")
    try:
        call(form.reason.data or "")
    except Invalid as error:
        status = show_error(form, error)
        return _signoff(activity_id, status, reason_errors={participation_id: form.reason.errors})
    except Conflict as error:  # already handled, e.g. a second click
        show_error(None, error)
    else:
        flash(done, "success")
    return redirect(url_for("web.signoff", activity_id=activity_id))


@bp.post("/participations/<int:participation_id>/reject")
@login_required
def reject(participation_id: int):
    return _close_record(
        participation_id,
        lambda reason: participations.reject(db.session, actor(), participation_id, reason),
        _("Record rejected"),
    )


@bp.post("/participations/<int:participation_id>/revoke")
@login_required
def revoke(participation_id: int):
    return _close_record(
        participation_id,
        lambda reason: participations.revoke(db.session, actor(), participation_id, reason),
        _("Certification revoked"),
    )
