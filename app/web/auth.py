"""Sign in, sign out, and `/` sending each person to their home."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.extensions import db, limiter
from app.services import accounts
from app.services.errors import Unauthorized
from app.web import bp
from app.web.forms import ActionForm, LoginForm
from app.web.support import actor, home_url, safe_next


def login_attempt_allowed(username: str) -> bool:
    """Hook for a per-username lockout on top of the per-address limit below; allows all now."""
    return True


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("web.login"))
    return redirect(home_url(actor()))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(home_url(actor()))
        form.next.data = safe_next(request.args.get("next"))
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        if not login_attempt_allowed(username):
            flash("尝试次数过多，请稍后再试 Too many attempts; try again later", "error")
            return render_template("web/login.html", form=form), 429
        try:
            user = accounts.authenticate(db.session, username, form.password.data)
        except Unauthorized as error:
            flash(error.message, "error")
            status = 401
        else:
            session.clear()  # nothing from before sign-in carries over
            login_user(user)
            flash(f"欢迎，{user.display_name} Welcome", "success")
            return redirect(safe_next(form.next.data) or home_url(user))
    elif form.is_submitted():
        status = 422
    return render_template("web/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    form = ActionForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("已退出登录 Signed out", "success")
    return redirect(url_for("web.login"))
