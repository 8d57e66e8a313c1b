"""Classes (班级 / 团支部): the admin creates them; everyone signed in can list them."""

from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.classes import ClassArgsSchema, ClassInSchema, ClassSchema
from app.schemas.common import page_of, page_schema
from app.services import classes

blp = Blueprint("classes", __name__, url_prefix=PREFIX, description="Classes and cohorts")


@blp.route("/classes", methods=["POST"])
@token_required
@blp.arguments(ClassInSchema)
@blp.response(201, ClassSchema)
def create_class(body):
    """Create a class (班级) of a unit and a cohort (year of entry): admin."""
    return classes.create_class(db.session, current_actor(), body["unit_id"], body["name"], body["cohort"])


@blp.route("/classes", methods=["GET"])
@token_required
@blp.arguments(ClassArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(ClassSchema), success=True)
def list_classes(args):
    """The classes, by unit and cohort."""
    items, total = classes.list_classes(db.session, **args)
    return page_of(ClassSchema(many=True).dump(items), total)
