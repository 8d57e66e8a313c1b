from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.activities import ActivityInSchema, ActivitySchema
from app.schemas.clubs import ClubInSchema, ClubPatchSchema, ClubSchema, MemberInSchema, MemberSchema
from app.services import activities, clubs

blp = Blueprint("clubs", __name__, url_prefix=f"{PREFIX}/clubs", description="Clubs")


def _with_member_counts(found: list) -> list:
    """Attach each club's member count, one query for all of them."""
    counts = clubs.member_counts(db.session, [c.id for c in found])
    for club in found:
        club.member_count = counts.get(club.id, 0)
    return found


def _dump(club):
    return _with_member_counts([club])[0]


@blp.route("", methods=["POST"])
@token_required
@blp.arguments(ClubInSchema)
@blp.response(201, ClubSchema)
def create_club(body):
    return _dump(clubs.create_club(db.session, current_actor(), **body))


@blp.route("", methods=["GET"])
@token_required
@blp.response(200, ClubSchema(many=True))
def list_clubs():
    return _with_member_counts(clubs.list_clubs(db.session))


@blp.route("/<int:club_id>", methods=["GET"])
@token_required
@blp.response(200, ClubSchema)
def get_club(club_id):
    return _dump(clubs.get_club(db.session, club_id))


@blp.route("/<int:club_id>/activities", methods=["POST"])
@token_required
@blp.arguments(ActivityInSchema)
@blp.response(201, ActivitySchema)
def create_activity(body, club_id):
    activity = activities.create_activity(db.session, current_actor(), club_id, **body)
    return activities.with_counts(db.session, activity)


@blp.route("/<int:club_id>", methods=["PATCH"])
@token_required
@blp.arguments(ClubPatchSchema(partial=True))
@blp.response(200, ClubSchema)
def update_club(body, club_id):
    return _dump(clubs.patch_club(db.session, current_actor(), club_id, **body))


@blp.route("/<int:club_id>/members", methods=["POST"])
@token_required
@blp.arguments(MemberInSchema)
@blp.response(201, MemberSchema)
def add_member(body, club_id):
    return clubs.add_member(db.session, current_actor(), club_id, **body)


@blp.route("/<int:club_id>/members", methods=["GET"])
@token_required
@blp.response(200, MemberSchema(many=True))
def list_members(club_id):
    return clubs.list_members(db.session, current_actor(), club_id)
