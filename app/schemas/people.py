from marshmallow import fields, validate

from app.models import Role
from app.schemas.common import Id, Schema, SchoolDateTime


class TokenRequestSchema(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class PasswordChangeSchema(Schema):
    current_password = fields.String(required=True, load_only=True)
    new_password = fields.String(required=True, load_only=True)


class TokenSchema(Schema):
    token = fields.String()
    expires_at = SchoolDateTime()


class UnitInSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class UnitSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class UserInSchema(Schema):
    username = fields.String(required=True)
    password = fields.String(load_default=None, allow_none=True, load_only=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    student_no = fields.String(load_default=None, allow_none=True)
    unit_id = Id(load_default=None, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True)


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    student_no = fields.String(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    email = fields.String(allow_none=True)
    created_at = SchoolDateTime()
