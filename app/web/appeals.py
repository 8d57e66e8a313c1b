"""Appeals on the site: the student's form and list, the organizer's queue and the resolution."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app.extensions import db
from app.models import Activity, AppealStatus, Claim, Participation, Role
from app.services import appeals
from app.services.errors import NotFound
from app.services.pages.common import Page
from app.web import bp
from app.web.forms import ActionForm, AppealForm, ResolveForm
from app.web.support import FORM_ERRORS, actor, create_once, show_error, status_of

PER_PAGE = 20
SUBJECTS = ("participation_id", "activity_id", "claim_id")


@bp.get("/appeals")
@login_required
def appeals_list():
    status = request.args.get("status")
    if status not in {s.value for s in AppealStatus}:
        status = AppealStatus.OPEN.value if actor().role in (Role.ORGANIZER, Role.ADMIN) else None
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = appeals.list_appeals(db.session, actor(), status, page=page, per_page=PER_PAGE)
    return render_template("web/appeals.html", page=Page(rows, total, page, PER_PAGE), status=status,
                           statuses=list(AppealStatus), subject_title=appeals.subject_title)


def _subject() -> tuple[dict, str]:
    """Which record the appeal is about (from the link that led here), and its title."""
    values = {name: request.values.get(name, type=int) for name in SUBJECTS}
    chosen = {k: v for k, v in values.items() if v}
    if len(chosen) != 1:
        raise NotFound(_("Open an appeal from the rejected record, claim or activity it is about"))
    (name, value), = chosen.items()
    model = {"participation_id": Participation, "activity_id": Activity, "claim_id": Claim}[name]
    row = db.session.get(model, value)
    if row is None:
        raise NotFound(_("Open an appeal from the rejected record, claim or activity it is about"))
    title = row.activity.title if name == "participation_id" else row.title
    return chosen, title


@bp.route("/appeals/new", methods=["GET", "POST"])
@login_required
def new_appeal():
    subject, title = _subject()
    appeals.check_subject(db.session, actor(), **{k: subject.get(k) for k in SUBJECTS})  # before any form
    form = AppealForm()
    done = create_once(
        form, lambda: appeals.open_appeal(db.session, actor(), reason=form.reason.data, **subject),
        lambda _appeal: _("Appeal sent: an organizer will answer it with a reason"),
        lambda appeal: url_for("web.appeal_page", appeal_id=appeal.id),
    )
    if done:
        return done
    return render_template("web/appeal_form.html", form=form, subject=subject, title=title,
                           window=appeals.window().days), status_of(form)


def _page(appeal_id: int, status: int = 200, resolve_form: ResolveForm | None = None):
    appeal = appeals.get_appeal(db.session, actor(), appeal_id)
    return render_template(
        "web/appeal.html", appeal=appeal, title=appeals.subject_title(appeal), form=ActionForm(),
        resolve_form=resolve_form or ResolveForm(prefix="resolve", formdata=None),
        may_resolve=appeal.status == AppealStatus.OPEN and appeals.may_resolve(db.session, actor(), appeal),
    ), status


@bp.get("/appeals/<int:appeal_id>")
@login_required
def appeal_page(appeal_id: int):
    return _page(appeal_id)


@bp.post("/appeals/<int:appeal_id>/resolve")
@login_required
def resolve_appeal(appeal_id: int):
    form = ResolveForm(prefix="resolve")
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; try again"), "error")
        return redirect(url_for("web.appeal_page", appeal_id=appeal_id))
    try:
        appeal = appeals.resolve_appeal(db.session, actor(), appeal_id, form.decision.data or "", form.reason.data)
    except FORM_ERRORS as error:
        return _page(appeal_id, show_error(form, error), form)
    flash(_("Appeal upheld: the record is certified") if appeal.status == AppealStatus.UPHELD
          else _("Appeal dismissed"), "success")
    return redirect(url_for("web.appeal_page", appeal_id=appeal_id))
