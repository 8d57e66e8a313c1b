"""People pages: the office's list, search and create form, one person's edit page (role,
unit, class, college scope, deactivate / reactivate, a one-time password link), and the
public page where the owner of a link sets their password."""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from app.extensions import db, limiter
from app.models import PERSON_ROLES, Role
from app.services import accounts, password_reset
from app.services.errors import Conflict, Invalid
from app.services.pages import PER_PAGE, Page, choices
from app.web import bp
from app.web.forms import ActionForm, PasswordResetForm, UserEditForm, UserForm
from app.web.support import FORM_ERRORS, actor, create_once, login_limit, show_error, status_of

NONE = ("", _l("— None —"))
ACTIVE_CHOICES = (("1", _l("Active")), ("0", _l("Deactivated")))
# Shown once; never kept by a cache, never sent on as a referrer.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, type=int)
    return value if value and value > 0 else None


def _class_choices(unit_names: dict[int, str], unit_id: int | None = None) -> list[tuple[int, str]]:
    rows = accounts.class_choices(db.session, actor(), unit_id)
    if unit_id is not None:
        return [(cid, label) for cid, label, _unit in rows]
    return [(cid, f"{unit_names.get(uid, '')} · {label}") for cid, label, uid in rows]


@bp.route("/admin/people", methods=["GET", "POST"])
@login_required
def admin_people():
    form = UserForm()
    # No role is preselected: a hurried click must not create an admin.
    form.role.choices = [("", _("Choose —")), *choices.user_role_choices()]
    units = choices.unit_choices(db.session, actor())
    unit_names = {uid: label for uid, label in units}
    form.unit_id.choices = [NONE, *units]
    form.class_id.choices = [NONE, *_class_choices(unit_names)]
    done = create_once(
        form, lambda: accounts.create_user(db.session, actor(), **form.values()),
        lambda user: _("User %(username)s (%(name)s) created", username=user.username, name=user.display_name),
        lambda _user: url_for("web.admin_people"),
    )
    if done:
        return done
    status = status_of(form)
    page = request.args.get("page", 1, type=int) or 1
    filters = {
        "role": request.args.get("role") or None,
        "unit_id": _int_arg("unit_id"),
        "class_id": None,
        "q": (request.args.get("q") or "").strip()[:100] or None,
        "active": {"1": True, "0": False}.get(request.args.get("active", "")),
    }
    if filters["role"] not in {r.value for r in PERSON_ROLES}:
        filters["role"] = None
    unit_classes = _class_choices(unit_names, filters["unit_id"]) if filters["unit_id"] else []
    if _int_arg("class_id") in {cid for cid, _label in unit_classes}:
        filters["class_id"] = _int_arg("class_id")
    users, total = accounts.list_users(db.session, actor(), page, PER_PAGE, **filters)
    people = Page(users, total, max(1, page), PER_PAGE)
    return render_template(
        "web/admin_people.html", form=form, people=people, f=filters, roles=choices.user_role_choices(),
        units=units, unit_classes=unit_classes, active_choices=ACTIVE_CHOICES,
        filtered=any(v is not None for v in filters.values()),
    ), status


# ---- one person ------------------------------------------------------------------------------

def _edit_form(user, *, from_post: bool) -> UserEditForm:
    form = UserEditForm() if from_post else UserEditForm(formdata=None, data={
        "display_name": user.display_name, "email": user.email or "", "role": user.role,
        "unit_id": user.unit_id, "class_id": user.class_id, "scope_unit_id": user.scope_unit_id,
    })
    # Leaders are appointed on the club, never chosen here.
    form.role.choices = [(v, label) for v, label in choices.user_role_choices() if v != Role.LEADER]
    units = choices.unit_choices(db.session, actor())
    form.unit_id.choices = [NONE, *units]
    form.class_id.choices = [NONE, *_class_choices(dict(units))]
    form.scope_unit_id.choices = [NONE, *units]
    return form


def _edit_page(user, form: UserEditForm, status: int = 200, link=None):
    response = make_response(render_template(
        "web/user_edit.html", user=user, form=form, action_form=ActionForm(), link=link,
        clubs=accounts.clubs_led(db.session, actor(), user.id),
        user_role_label=dict(choices.user_role_choices()).get(user.role, user.role),
    ), status)
    if link is not None:
        response.headers.update(PRIVATE_HEADERS)
    return response


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def admin_user(user_id: int):
    user = accounts.get_user(db.session, actor(), user_id)
    form = _edit_form(user, from_post=request.method == "POST")
    if form.validate_on_submit():
        # A leader's role is shown, not offered; the college scope is sent only while they stay an organizer.
        values = form.values(role=user.role != Role.LEADER,
                             scope=user.role == Role.ORGANIZER and form.role.data == Role.ORGANIZER)
        try:
            accounts.update_user(db.session, actor(), user.id, **values)
        except FORM_ERRORS as error:
            show_error(form, error)
        else:
            flash(_("Saved %(name)s", name=user.display_name), "success")
            return redirect(url_for("web.admin_user", user_id=user.id))
    return _edit_page(user, form, status_of(form))


def _set_active(user_id: int, active: bool):
    user = accounts.get_user(db.session, actor(), user_id)
    if ActionForm().validate_on_submit():
        try:
            accounts.update_user(db.session, actor(), user.id, active=active)
        except (Invalid, Conflict) as error:
            show_error(None, error)
            return _edit_page(user, _edit_form(user, from_post=False), error.status)
        flash(_("%(name)s reactivated; they sign in again", name=user.display_name) if active else
              _("%(name)s deactivated; every sign-in of theirs ended", name=user.display_name), "success")
    return redirect(url_for("web.admin_user", user_id=user.id))


@bp.post("/admin/users/<int:user_id>/deactivate")
@login_required
def admin_user_deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.post("/admin/users/<int:user_id>/reactivate")
@login_required
def admin_user_reactivate(user_id: int):
    return _set_active(user_id, True)


@bp.post("/admin/users/<int:user_id>/password-link")
@login_required
def admin_user_password_link(user_id: int):
    """Make a one-time link and show it on this response only (reloading makes none)."""
    user = accounts.get_user(db.session, actor(), user_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("web.admin_user", user_id=user.id))
    try:
        link = password_reset.create_reset_link(db.session, actor(), user.id)
    except Conflict as error:
        show_error(None, error)
        return _edit_page(user, _edit_form(user, from_post=False), error.status)
    return _edit_page(user, _edit_form(user, from_post=False), link=link)


# ---- the public page of a link ------------------------------------------------------------------

@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def password_reset_page(token: str):
    form = PasswordResetForm()
    try:
        user = password_reset.link_user(db.session, token)
    except (Invalid, Conflict) as error:
        db.session.rollback()
        page = render_template("web/password_reset.html", form=None, user=None, message=error.message)
        return page, 410 if isinstance(error, Invalid) else error.status, PRIVATE_HEADERS
    status = 200
    if form.validate_on_submit():
        try:
            password_reset.reset_password(db.session, token, form.new_password.data)
        except Invalid as error:
            if "new_password" not in error.fields:  # the link went meanwhile
                page = render_template("web/password_reset.html", form=None, user=None, message=error.message)
                return page, 410, PRIVATE_HEADERS
            status = show_error(form, error)
        else:
            flash(_("Your password is set: sign in with it"), "success")
            return redirect(url_for("web.login"))
    elif form.is_submitted():
        status = 422
    page = render_template("web/password_reset.html", form=form, user=user, message=None)
    return page, status, PRIVATE_HEADERS
