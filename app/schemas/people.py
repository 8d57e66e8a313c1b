from marshmallow import fields, validate

from app.models import PERSON_ROLES
from app.schemas.common import Id, PageArgsSchema, Schema, SchoolDateTime


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
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in PERSON_ROLES]))
    student_no = fields.String(load_default=None, allow_none=True)
    unit_id = Id(load_default=None, allow_none=True)
    class_id = Id(load_default=None, allow_none=True)
    scope_unit_id = Id(load_default=None, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True)


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    student_no = fields.String(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    class_id = fields.Integer(allow_none=True)
    scope_unit_id = fields.Integer(allow_none=True)
    email = fields.String(allow_none=True)
    active = fields.Boolean()
    # Whether a password works; never the hash.
    has_password = fields.Function(lambda user: user.password_hash is not None)
    created_at = SchoolDateTime()


class UserListArgsSchema(PageArgsSchema):
    role = fields.String(load_default=None, validate=validate.OneOf([r.value for r in PERSON_ROLES]))
    unit_id = Id(query=True, load_default=None)
    class_id = Id(query=True, load_default=None)
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    active = fields.Boolean(load_default=None)


class UserPatchSchema(Schema):
    """PATCH: only the keys sent change. `leader` is refused by the service (appointed on the club)."""

    display_name = fields.String()
    email = fields.Email(allow_none=True)
    role = fields.String(validate=validate.OneOf([r.value for r in PERSON_ROLES]))
    unit_id = Id(allow_none=True)
    class_id = Id(allow_none=True)
    scope_unit_id = Id(allow_none=True)
    active = fields.Boolean()


class ResetLinkSchema(Schema):
    reset_url = fields.String()
    expires_at = SchoolDateTime()
    # True: the mail server took it; false: sending failed; null: no address or no mail server.
    emailed = fields.Boolean(allow_none=True)


class PasswordResetSchema(Schema):
    token = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, load_only=True)
