"""The signed-in person's notifications: the list, opening one (read, then where it leads), all read."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from app.extensions import db
from app.services import notifications
from app.web import bp
from app.web.forms import ActionForm, int_or_none
from app.web.support import actor, safe_next

PER_PAGE = 20


@bp.get("/notifications")
@login_required
def notifications_page():
    page = notifications.list_notifications(db.session, actor(), page=int_or_none(request.args.get("page")) or 1,
                                            per_page=PER_PAGE)
    items = [(n, *notifications.text_of(n)) for n in page.items]
    return render_template("notifications/list.html", page=page, items=items, form=ActionForm())


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read_notification(notification_id: int):
    """Opening a notification marks it read and follows its link (a path on this site only)."""
    row = notifications.mark_read(db.session, actor(), notification_id)
    return redirect(safe_next(row.link) or url_for("web.notifications_page"))


@bp.post("/notifications/read-all")
@login_required
def read_all_notifications():
    count = notifications.mark_all_read(db.session, actor())
    flash(_("Marked %(n)s notification(s) read", n=count), "success")
    return redirect(url_for("web.notifications_page"))
