"""The club page, and keeping its people there: the roster of a term (add, change a role,
remove) and the leaders' appointment (换届: preview who steps down, then confirm)."""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from app.extensions import db
from app.services import clubs, leadership
from app.services.pages import club as club_pages
from app.web import bp
from app.web.forms import ActionForm
from app.web.support import FORM_ERRORS, actor, show_error

# Offered in the reader's language; the role is free text, kept as typed.
ROLE_SUGGESTIONS = (_l("President"), _l("Vice president"), _l("Secretary-general"), _l("Officer"), _l("Member"))
# Spaces, commas, semicolons, and their full-width forms (，、；).
_NUMBERS = re.compile(r"[\s,\uff0c\u3001;\uff1b]+")


class MemberForm(FlaskForm):
    student_no = StringField(
        _l("Student number"), render_kw={"maxlength": 32, "autocomplete": "off", "inputmode": "text"}
    )
    role = StringField(
        _l("Role"), render_kw={"maxlength": 32, "list": "member-roles", "placeholder": _l("Member")}
    )
    term = StringField(
        _l("Term"), render_kw={"maxlength": 11, "placeholder": "2026-2027-1", "pattern": r"\d{4}-\d{4}-[12]"}
    )


class RoleForm(FlaskForm):
    """One row's role; the page's token (ActionForm) protects it."""

    class Meta:
        csrf = False

    role = StringField(_l("Role"), render_kw={"maxlength": 32, "list": "member-roles"})


class AppointForm(FlaskForm):
    student_nos = TextAreaField(
        _l("Student numbers of the leaders"),
        render_kw={"rows": 2, "autocomplete": "off", "placeholder": "2023010001 2023010002"},
        description=_l("Separate numbers by spaces, commas or lines; leaders in post not listed step down"),
    )
    term = StringField(
        _l("Term of office"), render_kw={"maxlength": 11, "placeholder": "2026-2027-1", "pattern": r"\d{4}-\d{4}-[12]"}
    )
    confirm = HiddenField()

    def numbers(self) -> list[str]:
        return [n for n in _NUMBERS.split(self.student_nos.data or "") if n]


def _render(club_id: int, status: int = 200, *, term: str | None = None, member_form=None,
            appoint_form=None, preview=None):
    page = club_pages.club_page(db.session, actor(), club_id, term or request.args.get("term"))
    people = page.people
    member_form = member_form or MemberForm(formdata=None, term=people.term)
    appoint_form = appoint_form or AppointForm(
        formdata=None, term=people.term,
        student_nos=" ".join(p.user.student_no for p in people.leaders),
    )
    return render_template(
        "web/club.html", page=page, people=people, member_form=member_form, appoint_form=appoint_form,
        preview=preview, form=ActionForm(), role_suggestions=ROLE_SUGGESTIONS,
    ), status


def _back(club_id: int, term: str | None, anchor: str):
    """Post/Redirect/Get back to the club page, at the roster or the leaders."""
    return redirect(url_for("web.club_page", club_id=club_id, term=term or None, _anchor=anchor))


@bp.get("/clubs/<int:club_id>")
@login_required
def club_page(club_id: int):
    return _render(club_id)


@bp.post("/clubs/<int:club_id>/members")
@login_required
def club_member_add(club_id: int):
    form = MemberForm()
    if not form.validate_on_submit():
        return _render(club_id, 422, member_form=form)
    term = (form.term.data or "").strip()
    try:
        member = clubs.add_member(
            db.session, actor(), club_id, (form.student_no.data or "").strip(), term, form.role.data or "",
        )
    except FORM_ERRORS as error:
        status = show_error(form, error)
        return _render(club_id, status, term=term, member_form=form)
    flash(_("Added %(name)s (%(no)s) to the %(term)s roster",
            name=member.user.display_name, no=member.user.student_no, term=member.term), "success")
    return _back(club_id, member.term, "roster")


@bp.post("/clubs/<int:club_id>/members/<int:membership_id>/role")
@login_required
def club_member_role(club_id: int, membership_id: int):
    form = RoleForm()
    try:
        member = clubs.update_member(db.session, actor(), club_id, membership_id, role=form.role.data or "")
    except FORM_ERRORS as error:
        show_error(None, error)
        return _back(club_id, request.args.get("term"), "roster")
    flash(_("%(name)s's role is now %(role)s", name=member.user.display_name, role=member.role), "success")
    return _back(club_id, member.term, "roster")


@bp.post("/clubs/<int:club_id>/members/<int:membership_id>/remove")
@login_required
def club_member_remove(club_id: int, membership_id: int):
    term = request.args.get("term")
    clubs.remove_member(db.session, actor(), club_id, membership_id)
    flash(_("Removed from the roster; their records stay"), "success")
    return _back(club_id, term, "roster")


@bp.post("/clubs/<int:club_id>/leaders")
@login_required
def club_leaders(club_id: int):
    """First post: a preview (who is appointed, who stays, who steps down); then the confirm."""
    form = AppointForm()
    if not form.validate_on_submit():
        return _render(club_id, 422, appoint_form=form)
    numbers, term = form.numbers(), (form.term.data or "").strip() or None
    try:
        if form.confirm.data != "1":
            preview = leadership.preview_appointment(db.session, actor(), club_id, numbers, term=term)
            return _render(club_id, appoint_form=form, preview=preview)
        done = leadership.appoint_leaders(db.session, actor(), club_id, numbers, term=term)
    except FORM_ERRORS as error:
        status = show_error(form, error)
        return _render(club_id, status, appoint_form=form)
    names = _(", ").join(u.display_name for u in done.leaders) or _("none")
    flash(_("Leaders appointed for %(term)s: %(names)s", term=done.term, names=names), "success")
    if done.stepping_down:
        flash(_("Stepped down: %(names)s", names=_(", ").join(u.display_name for u in done.stepping_down)), "info")
    for warning in done.warnings:
        flash(warning, "warning")
    return _back(club_id, None, "leaders")

