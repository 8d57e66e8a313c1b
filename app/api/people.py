from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.common import PageArgsSchema, page_of
from app.schemas.people import UnitInSchema, UnitSchema, UserInSchema, UserSchema
from app.services import accounts

blp = Blueprint("people", __name__, url_prefix=PREFIX, description="Units and people")


@blp.route("/units", methods=["POST"])
@token_required
@blp.arguments(UnitInSchema)
@blp.response(201, UnitSchema)
def create_unit(body):
    return accounts.create_unit(db.session, current_actor(), body["code"], body["name"])


@blp.route("/units", methods=["GET"])
@token_required
@blp.response(200, UnitSchema(many=True))
def list_units():
    return accounts.list_units(db.session)


@blp.route("/users", methods=["POST"])
@token_required
@blp.arguments(UserInSchema)
@blp.response(201, UserSchema)
def create_user(body):
    return accounts.create_user(db.session, current_actor(), **body)


@blp.route("/users", methods=["GET"])
@token_required
@blp.arguments(PageArgsSchema, location="query")
def list_users(args):
    users, total = accounts.list_users(db.session, current_actor(), **args)
    return page_of(UserSchema(many=True).dump(users), total)


@blp.route("/me", methods=["GET"])
@token_required
@blp.response(200, UserSchema)
def me():
    return current_actor()
