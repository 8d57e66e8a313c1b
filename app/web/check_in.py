"""On-site check-in pages: the venue's screen (a projector or a phone held up), the student's
confirm page that the QR code opens, and the leader's late entry."""

from __future__ import annotations

import re

import qrcode
import qrcode.image.svg
from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from app.extensions import db
from app.services import activities, check_in
from app.services.errors import DomainError
from app.services.verification import mask_student_no
from app.timeutil import to_local
from app.web import bp
from app.web.forms import CheckInForm, LateEntryForm
from app.web.support import FORM_ERRORS, actor, show_error, show_reasons


def _qr_svg(url: str) -> Markup:
    """The link as an inline SVG QR code that scales to its box (no size of its own)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    svg = image.to_string(encoding="unicode")
    label = _("QR code: scan it with your phone's camera")
    return Markup(re.sub(r'width="[^"]*" height="[^"]*"', f'class="qr" role="img" aria-label="{label}"', svg, count=1))


def _screen_state(activity_id: int, direction: str | None) -> dict:
    code = check_in.venue_code(db.session, actor(), activity_id, direction)
    count, latest = check_in.recent_check_ins(db.session, activity_id)

    def seen_at(p):
        return to_local(p.checked_out_at if code.direction == "out" and p.checked_out_at else p.checked_in_at)

    return {
        "code": code, "svg": _qr_svg(code.url), "count": count,
        "latest": [{"name": p.student.display_name, "number": mask_student_no(p.student.student_no or ""),
                    "at": seen_at(p).strftime("%H:%M:%S")} for p in latest],
    }


@bp.get("/activities/<int:activity_id>/check-in/screen")
@login_required
def check_in_screen(activity_id: int):
    state = _screen_state(activity_id, request.args.get("d"))
    activity = activities.get_activity(db.session, activity_id)
    return render_template("web/check_in_screen.html", activity=activity, **state)


@bp.get("/activities/<int:activity_id>/check-in/code.json")
@login_required
def check_in_code(activity_id: int):
    """What the screen's script fetches every period: the new code as SVG and the count."""
    state = _screen_state(activity_id, request.args.get("d"))
    code = state["code"]
    response = jsonify(svg=str(state["svg"]), url=code.url, expires_at=code.expires_at.isoformat(),
                       period_s=code.period_s, count=state["count"], latest=state["latest"])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/c/<int:activity_id>", methods=["GET", "POST"])
@login_required
def check_in_scan(activity_id: int):
    """The page the QR code opens on the student's phone: confirm, then checked in (or out)."""
    activity = check_in.scanned(db.session, actor(), activity_id)
    form = CheckInForm(data={"c": request.args.get("c", ""), "d": request.args.get("d", "in")})
    direction = "out" if (form.d.data or "") == "out" else "in"
    if request.method == "POST" and form.validate_on_submit():
        act = check_in.check_out if direction == "out" else check_in.check_in
        try:
            record = act(db.session, actor(), activity_id, form.c.data)
        except FORM_ERRORS as error:
            status = show_reasons(error)
            return render_template("web/check_in_confirm.html", activity=activity, form=form,
                                   direction=direction, failed=True), status
        return render_template("web/check_in_done.html", activity=activity, record=record, direction=direction)
    return render_template("web/check_in_confirm.html", activity=activity, form=form, direction=direction,
                           failed=False)


@bp.route("/activities/<int:activity_id>/late-entry", methods=["GET", "POST"])
@login_required
def late_entry(activity_id: int):
    activity = activities.get_activity(db.session, activity_id)
    form = LateEntryForm()
    status = 200
    if form.validate_on_submit():
        try:
            record = check_in.late_entry(db.session, actor(), activity_id, form.student_no.data,
                                         form.reason.data, hours=form.hours.data)
        except DomainError as error:
            status = show_error(form, error)
        else:
            flash(_("Late entry recorded for %(name)s; the organizer sees it as such",
                    name=record.student.display_name), "success")
            return redirect(url_for("web.participants", activity_id=activity_id))
    elif request.method == "GET":
        check_in.late_entry_allowed(db.session, actor(), activity)
    opens, closes = check_in.late_entry_window(activity)
    return render_template("web/late_entry.html", activity=activity, form=form, closes=closes), status
