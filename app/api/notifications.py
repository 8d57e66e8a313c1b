"""The caller's own notifications: the list (newest first, with the unread count) and marking one read."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.common import PageArgsSchema
from app.schemas.notifications import NotificationPageSchema
from app.services import notifications

blp = Blueprint("notifications", __name__, url_prefix=PREFIX, description="Notifications")


def _item(row) -> dict:
    title, body = notifications.text_of(row)
    return {"id": row.id, "kind": row.kind, "title": title, "body": body, "link": row.link,
            "created_at": row.created_at, "read": row.read_at is not None}


@blp.route("/notifications", methods=["GET"])
@token_required
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, NotificationPageSchema)
def list_notifications(args):
    """Your own notifications, newest first, in your language; `unread` counts all of them."""
    page = notifications.list_notifications(db.session, current_actor(), **args)
    return {"items": [_item(n) for n in page.items], "total": page.total, "unread": page.unread}


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@token_required
@blp.response(204)
def mark_read(notification_id):
    """Mark one of your notifications read (someone else's is 404)."""
    notifications.mark_read(db.session, current_actor(), notification_id)
