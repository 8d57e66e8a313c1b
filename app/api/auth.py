from flask import current_app
from flask_smorest import Blueprint

from app.api import PREFIX
from app.extensions import db, limiter
from app.schemas.people import TokenRequestSchema, TokenSchema
from app.services import accounts

blp = Blueprint("auth", __name__, url_prefix=f"{PREFIX}/auth", description="Sign in for a token")


@blp.route("/token", methods=["POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
def token(body):
    """Exchange a username and password for a bearer token."""
    value, expires_at = accounts.issue_token(db.session, body["username"], body["password"])
    return {"token": value, "expires_at": expires_at}
