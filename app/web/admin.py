"""The Youth League office's pages: units and clubs (create + paginated lists); people are app.web.people."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app.extensions import db
from app.models import Role
from app.services import accounts, clubs
from app.services.pages import admin as admin_pages
from app.services.pages import choices
from app.web import bp
from app.web.forms import ClubEditForm, ClubForm, UnitForm
from app.web.support import (
    FORM_ERRORS,
    actor,
    create_once,
    show_error,
    status_of,
)


def _page_arg() -> int:
    return request.args.get("page", 1, type=int) or 1


@bp.route("/admin/units", methods=["GET", "POST"])
@login_required
def admin_units():
    form = UnitForm()
    done = create_once(
        form, lambda: accounts.create_unit(db.session, actor(), form.code.data or "", form.name.data or ""),
        lambda unit: _("Unit %(name)s created", name=unit.name), lambda _: url_for("web.admin_units"),
    )
    if done:
        return done
    status = status_of(form)
    units = admin_pages.units_page(db.session, actor(), _page_arg())
    return render_template("web/admin_units.html", form=form, units=units), status


def _club_choices(form: ClubForm) -> None:
    session, who = db.session, actor()
    form.unit_id.choices = [("", _("Choose —")), *choices.unit_choices(session, who)]
    form.advisor_ids.choices = choices.people_choices(session, who, Role.ORGANIZER)
    form.leader_ids.choices = choices.people_choices(session, who, Role.LEADER)


@bp.route("/admin/clubs", methods=["GET", "POST"])
@login_required
def admin_clubs():
    form = ClubForm()
    _club_choices(form)
    done = create_once(
        form, lambda: clubs.create_club(db.session, actor(), **form.values()),
        lambda club: _("Club %(name)s created", name=club.name), lambda _: url_for("web.admin_clubs"),
    )
    if done:
        return done
    status = status_of(form)
    rows = admin_pages.clubs_page(db.session, actor(), _page_arg())
    return render_template("web/admin_clubs.html", form=form, clubs=rows), status


@bp.route("/admin/clubs/<int:club_id>/edit", methods=["GET", "POST"])
@login_required
def admin_club_edit(club_id: int):
    club = clubs.club_for_editing(db.session, actor(), club_id)
    form = ClubEditForm()
    _club_choices(form)
    form.status.choices = ClubEditForm.STATUS_CHOICES
    if request.method == "GET":
        form.process(data={
            "name": club.name, "category": club.category, "unit_id": club.unit_id,
            "advisor_ids": [u.id for u in club.advisors], "leader_ids": [u.id for u in club.leaders],
            "founded_on": club.founded_on, "charter": club.charter, "status": club.status,
        })
        _club_choices(form)
        form.status.choices = ClubEditForm.STATUS_CHOICES
    elif form.validate_on_submit():
        try:
            clubs.update_club(db.session, actor(), club.id, **form.values())
        except FORM_ERRORS as error:
            show_error(form, error)
        else:
            flash(_("Club %(name)s saved", name=club.name), "success")
            return redirect(url_for("web.club_page", club_id=club.id))
    return render_template("web/club_edit.html", form=form, club=club), status_of(form)
