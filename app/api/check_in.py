"""On-site check-in through the API: the venue's code, check-in, check-out, late entry."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import fields, validate

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.activities import ParticipationSchema
from app.schemas.common import Schema, SchoolDateTime
from app.services import check_in

blp = Blueprint("check_in", __name__, url_prefix=PREFIX, description="On-site check-in")


class DirectionArgsSchema(Schema):
    direction = fields.String(load_default="in", validate=validate.OneOf([d.value for d in check_in.Direction]))


class VenueCodeSchema(Schema):
    url = fields.String()
    code = fields.String()
    expires_at = SchoolDateTime()
    period_s = fields.Integer()
    direction = fields.String()


class CodeSchema(Schema):
    # Checked by the service (422 with its own message), so a missing code says what to do.
    code = fields.String(load_default=None, allow_none=True)


class CheckedOutSchema(Schema):
    checked_in_at = SchoolDateTime()
    checked_out_at = SchoolDateTime()
    hours = fields.Decimal(as_string=False, places=1)


class LateEntrySchema(Schema):
    student_no = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True)
    hours = fields.String(load_default=None, allow_none=True)
    checked_in_at = SchoolDateTime(load_default=None, allow_none=True)
    checked_out_at = SchoolDateTime(load_default=None, allow_none=True)


@blp.route("/activities/<int:activity_id>/check-in-code", methods=["GET"])
@token_required
@blp.arguments(DirectionArgsSchema, location="query")
@blp.response(200, VenueCodeSchema)
def check_in_code(args, activity_id):
    """The code the venue screen shows now (it changes every `period_s` seconds): a leader of the club."""
    return check_in.venue_code(db.session, current_actor(), activity_id, args["direction"])


@blp.route("/activities/<int:activity_id>/check-in", methods=["POST"])
@token_required
@blp.arguments(CodeSchema)
@blp.response(201, ParticipationSchema)
def check_in_now(body, activity_id):
    """Check in with the venue's code: a student, while the activity is on."""
    return check_in.check_in(db.session, current_actor(), activity_id, body["code"])


@blp.route("/activities/<int:activity_id>/check-out", methods=["POST"])
@token_required
@blp.arguments(CodeSchema)
@blp.response(200, CheckedOutSchema)
def check_out(body, activity_id):
    """Check out with the venue's check-out code; the hours become the time spent (at most the activity's)."""
    return check_in.check_out(db.session, current_actor(), activity_id, body["code"])


@blp.route("/activities/<int:activity_id>/late-entries", methods=["POST"])
@token_required
@blp.arguments(LateEntrySchema)
@blp.response(201, ParticipationSchema)
def late_entry(body, activity_id):
    """A late entry for a student whose scan failed: a leader of the club, with a reason."""
    return check_in.late_entry(db.session, current_actor(), activity_id, **body)
