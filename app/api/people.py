from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db, limiter
from app.schemas.common import PageArgsSchema, page_of, page_of_rows, page_schema
from app.schemas.people import (
    PasswordResetSchema,
    ResetLinkSchema,
    UnitInSchema,
    UnitSchema,
    UserInSchema,
    UserListArgsSchema,
    UserPatchSchema,
    UserSchema,
)
from app.services import accounts, password_reset
from app.web.support import login_limit

blp = Blueprint("people", __name__, url_prefix=PREFIX, description="Units and people")


@blp.route("/units", methods=["POST"])
@token_required
@blp.arguments(UnitInSchema)
@blp.response(201, UnitSchema)
def create_unit(body):
    """Create a unit (院系): admin."""
    return accounts.create_unit(db.session, current_actor(), body["code"], body["name"])


@blp.route("/units", methods=["GET"])
@token_required
@blp.arguments(PageArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(UnitSchema), success=True)
def list_units(args):
    """The units, by code."""
    return page_of_rows(UnitSchema(many=True), accounts.list_units(db.session), args)


@blp.route("/users", methods=["POST"])
@token_required
@blp.arguments(UserInSchema)
@blp.response(201, UserSchema)
def create_user(body):
    """Create a person of any role: admin. Without a password none works until a one-time link or SSO."""
    return accounts.create_user(db.session, current_actor(), **body)


@blp.route("/users", methods=["GET"])
@token_required
@blp.arguments(UserListArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(UserSchema), success=True)
def list_users(args):
    """People by role, unit, class, active, and `q` (part of the name, username or number)."""
    users, total = accounts.list_users(db.session, current_actor(), **args)
    return page_of(UserSchema(many=True).dump(users), total)


@blp.route("/users/<int:user_id>", methods=["PATCH"])
@token_required
@blp.arguments(UserPatchSchema)
@blp.response(200, UserSchema)
def update_user(body, user_id):
    """Edit, change the role, deactivate (its sessions and tokens end at once) or reactivate."""
    return accounts.update_user(db.session, current_actor(), user_id, **body)


@blp.route("/users/<int:user_id>/password-reset", methods=["POST"])
@token_required
@blp.response(200, ResetLinkSchema)
def make_reset_link(user_id):
    """A one-time link that sets the password (also e-mailed when possible); earlier ones stop."""
    link = password_reset.create_reset_link(db.session, current_actor(), user_id)
    return {"reset_url": link.url, "expires_at": link.expires_at, "emailed": link.emailed}


@blp.route("/auth/password-reset", methods=["POST"])
@limiter.limit(login_limit, methods=["POST"])
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.arguments(PasswordResetSchema)
@blp.response(204)
def use_reset_link(body):
    """Public: set the password with a one-time link; every sign-in of the account ends."""
    password_reset.reset_password(db.session, body["token"], body["new_password"])


@blp.route("/me", methods=["GET"])
@token_required
@blp.response(200, UserSchema)
def me():
    """The signed-in person."""
    return current_actor()
