from marshmallow import fields, validate

from app.models import ClubStatus
from app.schemas.common import Id, Schema, SchoolDateTime, UserBriefSchema


class ClubInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    unit_id = Id(required=True)
    category = fields.String(required=True, validate=validate.Length(min=1, max=64))
    advisor_ids = fields.List(Id(), load_default=list)
    leader_ids = fields.List(Id(), load_default=list)
    charter = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=50000))
    founded_on = fields.Date(load_default=None, allow_none=True)
    status = fields.String(
        load_default=ClubStatus.ACTIVE.value, validate=validate.OneOf([s.value for s in ClubStatus])
    )


class ClubSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    category = fields.String()
    unit_id = fields.Integer()
    unit = fields.Function(lambda c: {"id": c.unit.id, "code": c.unit.code, "name": c.unit.name})
    status = fields.String()
    charter = fields.String(allow_none=True)
    founded_on = fields.Date(allow_none=True)
    advisors = fields.List(fields.Nested(UserBriefSchema))
    leaders = fields.List(fields.Nested(UserBriefSchema))
    member_count = fields.Integer()
    created_at = SchoolDateTime()
