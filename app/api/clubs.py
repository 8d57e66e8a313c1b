from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.activities import ActivityInSchema, ActivitySchema
from app.schemas.clubs import (
    AppointedClubSchema,
    ClubInSchema,
    ClubPatchSchema,
    ClubSchema,
    LeadersArgsSchema,
    LeadersInSchema,
    MemberInSchema,
    MemberPatchSchema,
    MemberSchema,
    PostSchema,
)
from app.schemas.common import PageArgsSchema, page_of, page_of_rows, page_schema
from app.services import activities, clubs, leadership

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
    """Create a club with its advisors and leaders: admin."""
    return _dump(clubs.create_club(db.session, current_actor(), **body))


@blp.route("", methods=["GET"])
@token_required
@blp.arguments(PageArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(ClubSchema), success=True)
def list_clubs(args):
    """The clubs, by name, with their member counts."""
    return page_of_rows(ClubSchema(many=True), _with_member_counts(clubs.list_clubs(db.session)), args)


@blp.route("/<int:club_id>", methods=["GET"])
@token_required
@blp.response(200, ClubSchema)
def get_club(club_id):
    """A club with its advisors, leaders in post and member count."""
    return _dump(clubs.get_club(db.session, club_id))


@blp.route("/<int:club_id>/activities", methods=["POST"])
@token_required
@blp.arguments(ActivityInSchema)
@blp.response(201, ActivitySchema)
def create_activity(body, club_id):
    """Plan an activity of the club (a draft): a leader of the club."""
    activity = activities.create_activity(db.session, current_actor(), club_id, **body)
    return activities.with_counts(db.session, activity)


@blp.route("/<int:club_id>", methods=["PATCH"])
@token_required
@blp.arguments(ClubPatchSchema(partial=True))
@blp.response(200, ClubSchema)
def update_club(body, club_id):
    """Change a club: admin. `leader_ids` appoints any students for the current term; the previous leaders step down."""
    return _dump(clubs.patch_club(db.session, current_actor(), club_id, **body))


@blp.route("/<int:club_id>/members", methods=["POST"])
@token_required
@blp.arguments(MemberInSchema)
@blp.response(201, MemberSchema)
def add_member(body, club_id):
    """Put a student on the club's roster for a term: the admin, the club's advisors and leaders."""
    return clubs.add_member(db.session, current_actor(), club_id, **body)


@blp.route("/<int:club_id>/members", methods=["GET"])
@token_required
@blp.arguments(PageArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(MemberSchema), success=True)
def list_members(args, club_id):
    """The club's roster, newest term first: the club's people and those who oversee it."""
    return page_of_rows(MemberSchema(many=True), clubs.list_members(db.session, current_actor(), club_id), args)


@blp.route("/<int:club_id>/members/<int:membership_id>", methods=["PATCH"])
@token_required
@blp.arguments(MemberPatchSchema)
@blp.response(200, MemberSchema)
def update_member(body, club_id, membership_id):
    """Change a roster entry's role or term: the admin, the club's advisors and leaders."""
    return clubs.update_member(db.session, current_actor(), club_id, membership_id, **body)


@blp.route("/<int:club_id>/members/<int:membership_id>", methods=["DELETE"])
@token_required
@blp.response(204)
def remove_member(club_id, membership_id):
    """Take a member off the roster; their records stay."""
    clubs.remove_member(db.session, current_actor(), club_id, membership_id)


@blp.route("/<int:club_id>/leaders", methods=["PUT"])
@token_required
@blp.arguments(LeadersInSchema)
@blp.response(200, AppointedClubSchema)
def appoint_leaders(body, club_id):
    """Appoint the club's leaders for a term by student number: the admin or the club's advisor."""
    done = leadership.appoint_leaders(db.session, current_actor(), club_id, body["student_nos"], term=body["term"])
    club = _dump(done.club)
    club.appointment = done
    return club


@blp.route("/<int:club_id>/leaders", methods=["GET"])
@token_required
@blp.arguments(LeadersArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(PostSchema), success=True)
def list_leaders(args, club_id):
    """The leaders in post, or with `?history=1` every appointment with its term."""
    posts = leadership.club_posts(db.session, club_id, history=args["history"])
    return page_of(PostSchema(many=True).dump(posts), len(posts))
