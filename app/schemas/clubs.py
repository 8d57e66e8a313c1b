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


class ClubPatchSchema(ClubInSchema):
    """Any subset of a club's fields; load it with partial=True."""


class MemberInSchema(Schema):
    student_no = fields.String(required=True, validate=validate.Length(min=1, max=32))
    term = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{4}-[12]$"))
    role = fields.String(load_default="member", validate=validate.Length(min=1, max=32))
    elected_on = fields.Date(load_default=None, allow_none=True)


class MemberSchema(Schema):
    id = fields.Integer()
    club_id = fields.Integer()
    term = fields.String()
    role = fields.String()
    elected_on = fields.Date(allow_none=True)
    joined_on = fields.Date(allow_none=True)
    student_no = fields.Function(lambda m: m.user.student_no)
    name = fields.Function(lambda m: m.user.display_name)
