"""Activity plan (create, edit), detail and lifecycle; student check-in. (The club page: club_roster.)"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app.extensions import db
from app.services import activities
from app.services.errors import Conflict, Invalid
from app.services.pages import activity as activity_pages
from app.services.pages import choices
from app.timeutil import school_zone, to_local
from app.web import bp
from app.web.forms import ActionForm, ActivityForm, OutcomeForm, ReasonForm
from app.web.support import (
    FORM_ERRORS,
    actor,
    create_once,
    put_errors,
    show_error,
    status_of,
)


def _choices(form: ActivityForm) -> ActivityForm:
    choose = ("", _("— Choose —"))
    form.module.choices = [choose, *choices.module_choices()]
    form.level.choices = [choose, *choices.level_choices()]
    return form


def _all_problems(form: ActivityForm) -> None:
    """Some fields did not parse: add the plan's other problems so all show at once."""
    put_errors(form, activities.plan_problems(db.session, form.values(school_zone())), only_clean=True)


@bp.route("/clubs/<int:club_id>/activities/new", methods=["GET", "POST"])
@login_required
def new_activity(club_id: int):
    club = activities.club_for_planning(db.session, actor(), club_id)
    form = _choices(ActivityForm())
    done = create_once(
        form, lambda: activities.create_activity(db.session, actor(), club_id, **form.values(school_zone())),
        lambda _activity: _("Saved as a draft; submit it for approval when ready"),
        lambda activity: url_for("web.activity_page", activity_id=activity.id),
        on_invalid=lambda: _all_problems(form),
    )
    if done:
        return done
    status = status_of(form)
    return render_template(
        "web/activity_form.html", form=form, club=club, activity=None
    ), status


@bp.route("/activities/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def edit_activity(activity_id: int):
    activity = activities.activity_for_editing(db.session, actor(), activity_id)
    form = ActivityForm()
    if not form.is_submitted():
        form = ActivityForm(data={
            "title": activity.title, "module": activity.module, "level": activity.level,
            "starts_at": to_local(activity.starts_at).replace(tzinfo=None),
            "ends_at": to_local(activity.ends_at).replace(tzinfo=None),
            "location": activity.location, "hours": f"{activity.hours:.1f}",
            "capacity": activity.capacity, "description": activity.description or "",
            "registration_deadline": to_local(activity.registration_deadline).replace(tzinfo=None)
            if activity.registration_deadline else None,
            "objectives": activity.objectives or "",
            "budget": "" if activity.budget is None else f"{activity.budget:.2f}",
            "partners": "\n".join(activity.partners or []),
        })
    _choices(form)
    if form.validate_on_submit():
        try:
            activities.update_activity(
                db.session, actor(), activity_id, **form.values(school_zone())
            )
        except FORM_ERRORS as error:
            show_error(form, error)
        else:
            flash(_("Saved"), "success")
            return redirect(url_for("web.activity_page", activity_id=activity_id))
    elif form.is_submitted():
        _all_problems(form)
    status = status_of(form)
    return render_template(
        "web/activity_form.html", form=form, club=activity.club, activity=activity,
        returned=activity_pages.pending_return(activity),
    ), status


def _detail(activity_id: int, status: int = 200, **forms):
    page = activity_pages.activity_page(db.session, actor(), activity_id)
    forms.setdefault("return_form", ReasonForm(prefix="return", formdata=None))
    forms.setdefault("cancel_form", ReasonForm(prefix="cancel", formdata=None))
    forms.setdefault("complete_form", OutcomeForm(prefix="complete", formdata=None))
    return render_template(
        "web/activity.html", page=page, a=page.activity, form=ActionForm(), **forms
    ), status


@bp.get("/activities/<int:activity_id>")
@login_required
def activity_page(activity_id: int):
    return _detail(activity_id)


def _back(activity_id: int):
    return redirect(url_for("web.activity_page", activity_id=activity_id))


def _step(activity_id: int, call, done: str):
    """A lifecycle button: call the service; a stale click (Conflict) says why, never a 409 page."""
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; try again"), "error")
        return _back(activity_id)
    try:
        call()
    except FORM_ERRORS as error:
        show_error(None, error)
    else:
        flash(done, "success")
    return _back(activity_id)


@bp.post("/activities/<int:activity_id>/submit")
@login_required
def submit_activity(activity_id: int):
    return _step(
        activity_id, lambda: activities.submit_activity(db.session, actor(), activity_id),
        _("Submitted for approval"),
    )


@bp.post("/activities/<int:activity_id>/approve")
@login_required
def approve_activity(activity_id: int):
    return _step(
        activity_id, lambda: activities.approve_activity(db.session, actor(), activity_id),
        _("Approved"),
    )


def _with_reason(activity_id: int, prefix: str, call, done: str):
    """Return / cancel: a reason is required; a missing one is shown next to its field."""
    form = ReasonForm(prefix=prefix)
    try:
        call(form.reason.data or "")
    except Invalid as error:
        status = show_error(form, error)
        return _detail(activity_id, status, **{f"{prefix}_form": form})
    except Conflict as error:
        show_error(None, error)
        return _back(activity_id)
    flash(done, "success")
    return _back(activity_id)


@bp.post("/activities/<int:activity_id>/return")
@login_required
def return_activity(activity_id: int):
    return _with_reason(
        activity_id, "return",
        lambda reason: activities.return_activity(db.session, actor(), activity_id, reason),
        _("Returned to the leader"),
    )


@bp.post("/activities/<int:activity_id>/cancel")
@login_required
def cancel_activity(activity_id: int):
    return _with_reason(
        activity_id, "cancel",
        lambda reason: activities.cancel_activity(db.session, actor(), activity_id, reason),
        _("Activity cancelled"),
    )


@bp.post("/activities/<int:activity_id>/complete")
@login_required
def complete_activity(activity_id: int):
    form = OutcomeForm(prefix="complete")
    try:
        activities.complete_activity(db.session, actor(), activity_id, form.outcome.data)
    except Invalid as error:
        return _detail(activity_id, show_error(form, error), complete_form=form)
    except Conflict as error:
        show_error(None, error)
        return _back(activity_id)
    flash(_("Activity completed"), "success")
    return _back(activity_id)
