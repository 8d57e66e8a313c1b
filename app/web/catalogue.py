"""The activity catalogue (/activities) and signing up from it or from the activity's page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app import permissions
from app.extensions import db
from app.services import catalogue, registrations
from app.services.pages import choices
from app.services.pages.common import Page
from app.web import bp
from app.web.forms import ActionForm, CatalogueFilterForm
from app.web.support import FORM_ERRORS, actor, safe_next, show_error

PER_PAGE = 20


def _filters(form: CatalogueFilterForm) -> catalogue.Filters:
    module = form.module.data if form.module.data in {v for v, _ in choices.module_choices()} else None
    level = form.level.data if form.level.data in {v for v, _ in choices.level_choices()} else None
    unit_id = int(form.unit_id.data) if (form.unit_id.data or "").isdigit() else None
    club_id = request.args.get("club_id", type=int)
    return catalogue.Filters(module=module, level=level, unit_id=unit_id, club_id=club_id,
                             date_from=form.date_from.data, date_to=form.date_to.data)


@bp.get("/activities")
@login_required
def catalogue_page():
    form = CatalogueFilterForm(request.args)
    everything = ("", _("All"))
    form.module.choices = [everything, *choices.module_choices()]
    form.level.choices = [everything, *choices.level_choices()]
    form.unit_id.choices = [everything, *choices.college_choices(db.session)]
    form.validate()  # a date that does not parse is left out, with its message by the field
    filters = _filters(form)
    if not any(vars(filters).values()):
        filters = catalogue.Filters(upcoming=True)
    page = max(1, request.args.get("page", 1, type=int))
    entries, total = catalogue.catalogue(db.session, actor(), filters, page=page, per_page=PER_PAGE)
    return render_template("web/catalogue.html", form=form, page=Page(entries, total, page, PER_PAGE),
                           action=ActionForm(), upcoming_only=filters.upcoming,
                           may_sign_up=permissions.can_register(actor()), sign_up_closed=registrations.sign_up_closed)


def _back(activity_id: int):
    return redirect(safe_next(request.form.get("next")) or url_for("web.activity_page", activity_id=activity_id))


@bp.post("/activities/<int:activity_id>/sign-up")
@login_required
def sign_up(activity_id: int):
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; try again"), "error")
        return _back(activity_id)
    try:
        place = registrations.register(db.session, actor(), activity_id)
    except FORM_ERRORS as error:
        show_error(None, error)
    else:
        if place.position is None:
            flash(_("Signed up: your place is kept"), "success")
        else:
            flash(_("The activity is full: you are number %(position)s on the waiting list", position=place.position),
                  "info")
    return _back(activity_id)


@bp.post("/activities/<int:activity_id>/sign-up/withdraw")
@login_required
def withdraw_sign_up(activity_id: int):
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; try again"), "error")
        return _back(activity_id)
    try:
        registrations.cancel(db.session, actor(), activity_id)
    except FORM_ERRORS as error:
        show_error(None, error)
    else:
        flash(_("Sign-up withdrawn"), "success")
    return _back(activity_id)
