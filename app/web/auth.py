"""Sign in, sign out, change the password, and `/` sending each person to their home.

A browser session is a server-side sign-in (`services.auth`): the signed cookie carries its
token, and every request is let in only while that sign-in is open.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.extensions import db, limiter, login_manager
from app.models import TokenKind, User
from app.services import auth
from app.services.errors import Invalid, Unauthorized
from app.web import bp
from app.web.forms import ActionForm, LoginForm, PasswordChangeForm
from app.web.support import actor, home_url, login_limit, safe_next, show_error

SESSION_KEY = "sid"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    token = session.get(SESSION_KEY)
    if not token:
        return None
    user = auth.user_for_token(db.session, token, TokenKind.WEB)
    return user if user is not None and str(user.id) == user_id else None


@bp.before_app_request
def forget_last_request_user() -> None:
    """Look the sign-in up on every request: `g` outlives a request when an app context was
    already pushed (tests, scripts), and a session ended meanwhile must not be served from it."""
    g.pop("_login_user", None)


def begin_session(user: User, method: str = "password") -> None:
    """Sign this (already authenticated) user in: a fresh session, recorded and audited."""
    token = auth.open_web_session(db.session, user, method=method, client=request.remote_addr or "")
    session.clear()  # nothing from before sign-in carries over
    session[SESSION_KEY] = token
    login_user(user)


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("web.login"))
    return redirect(home_url(actor()))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(home_url(actor()))
        form.next.data = safe_next(request.args.get("next"))
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            user = auth.authenticate(db.session, form.username.data, form.password.data,
                                     client=request.remote_addr or "")
        except auth.Locked as error:
            flash(error.message, "error")
            status, headers = 429, {"Retry-After": str(error.retry_after)}
        except Unauthorized as error:
            flash(error.message, "error")
            status = 401
        else:
            begin_session(user)
            flash(_("Welcome, %(name)s", name=user.display_name), "success")
            return redirect(safe_next(form.next.data) or home_url(user))
    elif form.is_submitted():
        status = 422
    return render_template("web/login.html", form=form), status, headers


@bp.post("/logout")
@login_required
def logout():
    form = ActionForm()
    if form.validate_on_submit():
        auth.sign_out(db.session, actor(), session.get(SESSION_KEY, ""))
        logout_user()
        session.clear()
        flash(_("Signed out"), "success")
    return redirect(url_for("web.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(login_limit, methods=["POST"])
def change_password():
    form = PasswordChangeForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        try:
            auth.change_password(db.session, actor(), form.current_password.data, form.new_password.data,
                                 keep=session.get(SESSION_KEY), client=request.remote_addr or "")
        except auth.Locked as error:
            flash(error.message, "error")
            status, headers = 429, {"Retry-After": str(error.retry_after)}
        except Invalid as error:
            status = show_error(form, error)
        else:
            flash(_("Password changed; your other sessions were signed out"),
                  "success")
            return redirect(home_url(actor()))
    elif form.is_submitted():
        status = 422
    return render_template("web/password_change.html", form=form), status, headers
