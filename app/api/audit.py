"""The audit log, read by the admin: GET /api/v1/audit with filters, newest first."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields, validate

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.common import Id, PageArgsSchema, Schema, SchoolDateTime, page_of, page_schema
from app.services import audit_log

blp = Blueprint("audit", __name__, url_prefix=PREFIX, description="The audit log")


class AuditArgsSchema(PageArgsSchema):
    actor_id = Id(query=True, load_default=None)
    # The shapes (`type:id`, `object.verb`) are the service's to check, after who asks.
    action = fields.String(load_default=None, validate=validate.Length(max=100))
    object = fields.String(load_default=None, validate=validate.Length(max=120),
                           metadata={"description": "type:id, e.g. club:3"})
    since = SchoolDateTime(load_default=None)
    until = SchoolDateTime(load_default=None)


class AuditActorSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class AuditEventSchema(Schema):
    seq = fields.Integer(metadata={"description": "Place in the hash chain, 1, 2, 3…"})
    at = SchoolDateTime()
    actor_id = fields.Integer(allow_none=True)
    actor = fields.Nested(AuditActorSchema, allow_none=True)
    action = fields.String(metadata={"description": "<object>.<verb>"})
    object = fields.String(metadata={"description": "<type>:<id>"})
    data = fields.Dict()
    prev_hash = fields.String()
    hash = fields.String()


def _item(event, actors) -> dict:
    return {
        "seq": event.seq, "at": event.at, "actor_id": event.actor_id, "actor": actors.get(event.actor_id),
        "action": event.action, "object": f"{event.object_type}:{event.object_id}", "data": event.data,
        "prev_hash": event.prev_hash, "hash": event.hash,
    }


@blp.route("/audit", methods=["GET"])
@token_required
@blp.arguments(AuditArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(AuditEventSchema), success=True)
def list_audit_events(args):
    """The audit log's events (admin): by actor, action (or a kind of object), object `type:id`, time."""
    page = audit_log.list_events(db.session, current_actor(), **args)
    return page_of(AuditEventSchema(many=True).dump([_item(e, page.actors) for e in page.items]), page.total)
