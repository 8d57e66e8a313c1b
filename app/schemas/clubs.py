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


TERM_RE = r"^\d{4}-\d{4}-[12]$"


class MemberPatchSchema(Schema):
    role = fields.String(validate=validate.Length(min=1, max=32))
    term = fields.String(validate=validate.Regexp(TERM_RE))


class LeadersInSchema(Schema):
    student_nos = fields.List(fields.String(validate=validate.Length(min=1, max=32)), required=True)
    term = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(TERM_RE))


class AppointedClubSchema(ClubSchema):
    """The club after an appointment, with what the appointment did."""

    term = fields.Function(lambda c: c.appointment.term)
    appointed = fields.Function(lambda c: [u.student_no for u in c.appointment.appointed])
    stepped_down = fields.Function(lambda c: [u.student_no for u in c.appointment.stepping_down])
    warnings = fields.Function(lambda c: c.appointment.warnings)


class LeadersArgsSchema(Schema):
    history = fields.Boolean(load_default=False)


class PostSchema(Schema):
    id = fields.Integer()
    club_id = fields.Integer()
    user_id = fields.Function(lambda p: p.user.id)
    student_no = fields.Function(lambda p: p.user.student_no)
    name = fields.Function(lambda p: p.user.display_name)
    term = fields.String()
    appointed_at = SchoolDateTime()
    appointed_by = fields.Function(lambda p: p.appointed_by.display_name if p.appointed_by else None)
    ended_at = SchoolDateTime(allow_none=True)
    in_post = fields.Boolean()
