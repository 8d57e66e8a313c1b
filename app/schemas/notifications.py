"""The in-app notifications: GET /api/v1/notifications and marking one read."""

from __future__ import annotations

from marshmallow import fields

from app.schemas.common import Schema, SchoolDateTime


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "What happened: record.certified, claim.rejected, digest, …"})
    title = fields.String(metadata={"description": "In the reader's language"})
    body = fields.String(metadata={"description": "In the reader's language"})
    link = fields.String(allow_none=True, metadata={"description": "Where it leads on the site (a path)"})
    created_at = SchoolDateTime()
    read = fields.Boolean()


class NotificationPageSchema(Schema):
    """One page of the caller's notifications, newest first."""

    items = fields.List(fields.Nested(NotificationSchema), required=True)
    total = fields.Integer(required=True)
    unread = fields.Integer(required=True, metadata={"description": "How many of all (not only this page) are unread"})
