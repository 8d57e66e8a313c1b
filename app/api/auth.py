"""Sign in for a bearer token, sign out, change the password (API.md "People and sign-in")."""

from flask import g, request
from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db, limiter
from app.schemas.people import PasswordChangeSchema, TokenRequestSchema, TokenSchema
from app.services import auth
from app.web.support import login_limit

blp = Blueprint("auth", __name__, url_prefix=f"{PREFIX}/auth", description="Sign in for a token")


@blp.route("/token", methods=["POST"])
@limiter.limit(login_limit, methods=["POST"])
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.arguments(TokenRequestSchema)
@blp.response(200, TokenSchema)
def token(body):
    """Exchange a username and password for a bearer token."""
    value, expires_at = auth.issue_token(db.session, body["username"], body["password"],
                                         client=request.remote_addr or "")
    return {"token": value, "expires_at": expires_at}


@blp.route("/logout", methods=["POST"])
@token_required
@blp.response(204)
def logout():
    """End this token; it no longer works."""
    auth.sign_out(db.session, current_actor(), g.token)


@blp.route("/password", methods=["POST"])
@limiter.limit(login_limit, methods=["POST"])
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@token_required
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
def change_password(body):
    """Change the password; every other session and token of the user ends."""
    auth.change_password(db.session, current_actor(), body["current_password"], body["new_password"],
                         keep=g.token, client=request.remote_addr or "")
