"""The office's classes page, and the student roster import: upload → preview → confirm.

Like the participants' CSV (app/web/records.py), the previewed file travels back with the
confirm button, signed, compressed and bound to the admin who uploaded it, so what is
imported is byte for byte what was previewed and the server keeps no state. The confirm
form is urlencoded, which Werkzeug's in-memory form limit does not cap (a 30,000-student
roster compresses to a few hundred KB); the request size limit still applies.
"""

from __future__ import annotations

import base64
import zlib

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from itsdangerous import BadSignature, TimestampSigner

from app.extensions import db
from app.services import classes, imports
from app.services.csv_headers import ROSTER_TEMPLATE
from app.services.errors import Invalid
from app.services.pages import choices
from app.web import bp
from app.web.forms import ClassForm, CsvConfirmForm, CsvUploadForm
from app.web.support import FORM_ERRORS, actor, create_once, read_upload, show_error, status_of

PAYLOAD_SALT = "web.roster-import"
PAYLOAD_MAX_AGE = 3600
ROSTER_MAX_BYTES = 8 * 1024 * 1024
PREVIEW_FIRST = 200  # rows shown from the top; every bad row is shown as well
SUMMARY_LIMIT = 100  # bad rows listed in the summary above the table


# --------------------------------------------------------------------------- classes


def _int_arg(name: str) -> int | None:
    return request.args.get(name, type=int)


@bp.route("/admin/classes", methods=["GET", "POST"])
@login_required
def admin_classes():
    session, who = db.session, actor()
    unit_id, cohort = _int_arg("unit_id"), _int_arg("cohort")
    form = ClassForm()
    form.unit_id.choices = [("", _("Choose —")), *choices.unit_choices(session, who)]
    if request.method == "GET" and unit_id:
        form.unit_id.data = unit_id
    done = create_once(
        form, lambda: classes.create_class(session, who, form.unit_id.data, form.name.data, form.cohort.data),
        lambda c: _("Class %(name)s (class of %(cohort)s) created", name=c.name, cohort=c.cohort),
        lambda c: url_for("web.admin_classes", unit_id=c.unit_id, cohort=c.cohort),
    )
    if done:
        return done
    status = status_of(form)
    page = classes.classes_page(session, who, unit_id, cohort, request.args.get("page", 1, type=int) or 1)
    return render_template(
        "web/admin_classes.html", form=form, page=page, unit_id=unit_id, cohort=cohort,
        units=form.unit_id.choices[1:], cohorts=classes.cohort_choices(session, who),
    ), status


# --------------------------------------------------------------------------- roster import


def _signer() -> TimestampSigner:
    return TimestampSigner(current_app.config["SECRET_KEY"], salt=PAYLOAD_SALT)


def _pack(user_id: int, data: bytes) -> str:
    blob = base64.urlsafe_b64encode(zlib.compress(data, 6)).decode("ascii")
    return _signer().sign(f"{user_id}.{blob}").decode("ascii")


def _unpack(user_id: int, payload: str | None) -> bytes | None:
    try:
        value = _signer().unsign(payload or "", max_age=PAYLOAD_MAX_AGE).decode("ascii")
    except (BadSignature, UnicodeDecodeError):  # also SignatureExpired
        return None
    owner, _, blob = value.partition(".")
    if owner != str(user_id):
        return None
    try:
        return zlib.decompress(base64.urlsafe_b64decode(blob))
    except (ValueError, zlib.error):
        return None


def _max_bytes() -> int:
    return current_app.config.get("ROSTER_IMPORT_MAX_BYTES", ROSTER_MAX_BYTES)


def _import_page(status: int = 200, upload_form=None):
    info = imports.roster_import_info(db.session, actor())
    return render_template(
        "web/roster_import.html", info=info, upload=upload_form or CsvUploadForm(formdata=None),
        max_kb=_max_bytes() // 1024,
    ), status


def _shown(preview: imports.RosterPreview) -> list:
    """The first rows and every bad one, in file order; an int stands for rows left out."""
    shown, skipped = [], 0
    for index, row in enumerate(preview.rows):
        if index < PREVIEW_FIRST or not row.ok:
            if skipped:
                shown.append(skipped)
                skipped = 0
            shown.append(row)
        else:
            skipped += 1
    if skipped:
        shown.append(skipped)
    return shown


def _preview(data: bytes, status: int = 200):
    preview = imports.preview_students(db.session, actor(), data)
    by_line: dict[int, list] = {}
    for error in preview.errors:
        by_line.setdefault(error.line, []).append(error)
    confirm = CsvConfirmForm(formdata=None)
    if preview.ok:  # only a clean file can be confirmed
        confirm.payload.data = _pack(actor().id, data)
    units, class_counts = preview.breakdown()
    return render_template(
        "web/roster_preview.html", preview=preview, by_line=by_line, bad_lines=sorted(by_line),
        shown=_shown(preview), confirm=confirm, units=units, class_counts=class_counts,
        summary_limit=SUMMARY_LIMIT, first=PREVIEW_FIRST,
    ), (422 if preview.errors else status)


@bp.route("/admin/people/import", methods=["GET", "POST"])
@login_required
def roster_import():
    if request.method == "GET":
        return _import_page()
    form = CsvUploadForm()
    if form.validate_on_submit():
        data = read_upload(form, _max_bytes())
        if data is not None:
            try:
                return _preview(data)
            except FORM_ERRORS as error:
                show_error(form, error)
    return _import_page(status_of(form), upload_form=form)


@bp.get("/admin/people/import/template.csv")
@login_required
def roster_template():
    imports.roster_import_info(db.session, actor())
    return current_app.response_class(
        ROSTER_TEMPLATE.encode("utf-8"), mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=roster-template.csv"},
    )


@bp.post("/admin/people/import/confirm")
@login_required
def roster_confirm():
    form = CsvConfirmForm()
    data = _unpack(actor().id, form.payload.data) if form.validate_on_submit() else None
    if data is None:
        imports.roster_import_info(db.session, actor())  # a stranger gets 403, not a hint
        flash(_("The upload expired or was altered; nobody was imported. Upload the file again"), "error")
        return redirect(url_for("web.roster_import"))
    try:
        result = imports.import_students(db.session, actor(), data)
    except Invalid as error:
        # E.g. a number taken since the preview: every bad row is listed again, nothing imported.
        db.session.rollback()
        flash(error.message, "error")
        try:
            return _preview(data, 422)
        except FORM_ERRORS as again:
            show_error(None, again)
            return redirect(url_for("web.roster_import"))
    except FORM_ERRORS as error:
        show_error(None, error)
        return redirect(url_for("web.roster_import"))
    flash(_("Imported %(n)s students without passwords: send them activation links, "
            "or they sign in by single sign-on.", n=result.count), "success")
    return redirect(url_for("web.admin_people"))
