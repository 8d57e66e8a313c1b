"""Achievement claims on the site: the student's list and form, the reviewer's queue, one
claim beside its evidence with the review, and the evidence files themselves."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app.extensions import db
from app.models import ClaimStatus, Role
from app.services import appeals, claims
from app.services.evidence import Upload
from app.services.pages import choices
from app.services.pages.common import Page
from app.web import bp
from app.web.forms import ActionForm, ClaimForm, NoteForm, ReasonForm
from app.web.support import FORM_ERRORS, actor, create_once, show_error, status_of

PER_PAGE = 20


@bp.get("/claims")
@login_required
def claims_list():
    status = request.args.get("status")
    if status not in {s.value for s in ClaimStatus}:
        # A reviewer starts at the queue; a student sees all of their own.
        status = ClaimStatus.SUBMITTED.value if actor().role in (Role.ORGANIZER, Role.ADMIN) else None
    page = max(1, request.args.get("page", 1, type=int))
    rows, total = claims.list_claims(db.session, actor(), status, page=page, per_page=PER_PAGE)
    return render_template("web/claims.html", page=Page(rows, total, page, PER_PAGE), status=status,
                           statuses=list(ClaimStatus))


def _claim_form() -> ClaimForm:
    form = ClaimForm()
    choose = ("", _("— Choose —"))
    form.module.choices = [choose, *choices.module_choices()]
    form.level.choices = [choose, *choices.level_choices()]
    return form


def _uploads(form: ClaimForm) -> list[Upload]:
    return [Upload(f.filename or "", f.read()) for f in (form.files.data or []) if f and f.filename]


@bp.route("/claims/new", methods=["GET", "POST"])
@login_required
def new_claim():
    claims.require_claimant(actor())
    form = _claim_form()
    done = create_once(
        form, lambda: claims.submit_claim(db.session, actor(), _uploads(form), **form.values()),
        lambda _claim: _("Claim submitted: an organizer will review it with its evidence"),
        lambda claim: url_for("web.claim_page", claim_id=claim.id),
    )
    if done:
        return done
    return render_template("web/claim_form.html", form=form), status_of(form)


def _page(claim_id: int, status: int = 200, **forms):
    claim = claims.get_claim(db.session, actor(), claim_id)
    forms.setdefault("note_form", NoteForm(prefix="certify", formdata=None))
    forms.setdefault("reject_form", ReasonForm(prefix="reject", formdata=None))
    forms.setdefault("revoke_form", ReasonForm(prefix="revoke", formdata=None))
    return render_template(
        "web/claim.html", claim=claim, form=ActionForm(), may_review=claims.may_review(db.session, actor(), claim),
        may_appeal=appeals.may_open(db.session, actor(), claim=claim), **forms,
    ), status


@bp.get("/claims/<int:claim_id>")
@login_required
def claim_page(claim_id: int):
    return _page(claim_id)


@bp.get("/claims/<int:claim_id>/files/<int:position>")
@login_required
def claim_file_page(claim_id: int, position: int):
    from app.api.claims import evidence_response

    preview = request.args.get("preview") == "1"
    return evidence_response(*claims.claim_file(db.session, actor(), claim_id, position, preview=preview))


def _review(claim_id: int, prefix: str, form, call, done: str):
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; try again"), "error")
        return redirect(url_for("web.claim_page", claim_id=claim_id))
    try:
        call(form)
    except FORM_ERRORS as error:
        status = show_error(form, error)
        return _page(claim_id, status, **{f"{prefix}_form": form})
    flash(done, "success")
    return redirect(url_for("web.claim_page", claim_id=claim_id))


@bp.post("/claims/<int:claim_id>/certify")
@login_required
def certify_claim(claim_id: int):
    return _review(claim_id, "note", NoteForm(prefix="certify"),
                   lambda f: claims.certify_claim(db.session, actor(), claim_id, f.note.data), _("Claim certified"))


@bp.post("/claims/<int:claim_id>/reject")
@login_required
def reject_claim(claim_id: int):
    return _review(claim_id, "reject", ReasonForm(prefix="reject"),
                   lambda f: claims.reject_claim(db.session, actor(), claim_id, f.reason.data), _("Claim rejected"))


@bp.post("/claims/<int:claim_id>/revoke")
@login_required
def revoke_claim(claim_id: int):
    return _review(claim_id, "revoke", ReasonForm(prefix="revoke"),
                   lambda f: claims.revoke_claim(db.session, actor(), claim_id, f.reason.data),
                   _("Claim certification revoked"))


