"""The five-izations scorecard: one club's, and the school's ranking (API.md)."""

from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.scorecards import (
    OverviewArgsSchema,
    OverviewSchema,
    ScorecardArgsSchema,
    ScorecardSchema,
)
from app.services import scorecard

blp = Blueprint("scorecards", __name__, url_prefix=PREFIX, description="Five-izations scorecard")


@blp.route("/clubs/<int:club_id>/scorecard", methods=["GET"])
@token_required
@blp.arguments(ScorecardArgsSchema, location="query")
@blp.response(200, ScorecardSchema)
def club_scorecard(args, club_id):
    """A club's five-izations scorecard for a term: admin, organizers overseeing it, its leaders."""
    return scorecard.club_scorecard(db.session, current_actor(), club_id, args["term"])


@blp.route("/scorecards", methods=["GET"])
@token_required
@blp.arguments(OverviewArgsSchema, location="query")
@blp.response(200, OverviewSchema)
def overview(args):
    """Every club's scorecard for a term, ranked: admin."""
    result = scorecard.overview(db.session, current_actor(), args["term"],
                                unit_id=args["unit"], category=args["category"])
    start = (args["page"] - 1) * args["per_page"]
    return {"term": result.term, "items": result.rows[start:start + args["per_page"]],
            "total": result.total}
