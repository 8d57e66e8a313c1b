"""Achievement claims and appeals in the API."""

from flask import url_for
from marshmallow import fields, validate

from app.models import AppealStatus, ClaimStatus
from app.schemas.common import Hours, Id, PageArgsSchema, Schema, SchoolDateTime, UserBriefSchema


class ClaimInSchema(Schema):
    """The multipart form's text fields; the service checks them all at once, by field."""

    title = fields.String(load_default="")
    module = fields.String(load_default=None)
    level = fields.String(load_default=None)
    occurred_on = fields.Date(load_default=None)
    hours = Hours(load_default=None)
    award = fields.String(load_default=None)
    description = fields.String(load_default=None)


class ClaimArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in ClaimStatus]))


class ClaimFileSchema(Schema):
    name = fields.String()
    type = fields.String(attribute="media_type")
    size = fields.Integer()
    sha256 = fields.String()
    url = fields.Function(lambda f: url_for("claims.claim_file", claim_id=f.claim_id, position=f.position))


class ClaimSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    student_no = fields.Function(lambda c: c.student.student_no)
    name = fields.Function(lambda c: c.student.display_name)
    title = fields.String()
    module = fields.String()
    level = fields.String()
    occurred_on = fields.Date()
    hours = Hours()
    award = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    files = fields.List(fields.Nested(ClaimFileSchema))
    submitted_at = SchoolDateTime()
    reviewed_at = SchoolDateTime(allow_none=True)
    reviewed_by = fields.Nested(UserBriefSchema, allow_none=True)
    reason = fields.String(allow_none=True)
    revoked_at = SchoolDateTime(allow_none=True)
    revoke_reason = fields.String(allow_none=True)


class CertifyClaimSchema(Schema):
    note = fields.String(load_default=None, allow_none=True)


class AppealInSchema(Schema):
    participation_id = Id(load_default=None, allow_none=True)
    activity_id = Id(load_default=None, allow_none=True)
    claim_id = Id(load_default=None, allow_none=True)
    reason = fields.String(load_default=None)


class ResolveSchema(Schema):
    decision = fields.String(required=True)
    reason = fields.String(load_default=None)


class AppealArgsSchema(PageArgsSchema):
    status = fields.String(load_default=None, validate=validate.OneOf([s.value for s in AppealStatus]))


class AppealSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    student_no = fields.Function(lambda a: a.student.student_no)
    participation_id = fields.Integer(allow_none=True)
    activity_id = fields.Integer(allow_none=True)
    claim_id = fields.Integer(allow_none=True)
    reason = fields.String()
    created_at = SchoolDateTime()
    resolved_at = SchoolDateTime(allow_none=True)
    resolved_by = fields.Nested(UserBriefSchema, allow_none=True)
    resolution = fields.String(allow_none=True)
    result_participation_id = fields.Integer(allow_none=True)
