from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.activities import (
    ActivityPatchSchema,
    ActivitySchema,
    CatalogueArgsSchema,
    CatalogueItemSchema,
    CertifiedSchema,
    CertifySchema,
    CompleteSchema,
    CreatedParticipationsSchema,
    EntriesSchema,
    ParticipationSchema,
    RegistrationSchema,
    SignUpSchema,
    StudentRecordsSchema,
)
from app.schemas.common import PageArgsSchema, ReasonSchema, StatusSchema, page_of, page_of_rows, page_schema
from app.services import activities, catalogue, participations, registrations
from app.services.participations import Entry

blp = Blueprint("activities", __name__, url_prefix=PREFIX, description="Activities and sign-off")


def _detail(activity):
    return activities.with_counts(db.session, activity)


@blp.route("/activities", methods=["GET"])
@token_required
@blp.arguments(CatalogueArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(CatalogueItemSchema), success=True)
def list_activities(args):
    """The catalogue, upcoming first, with places left: students see approved activities, leaders
    also their clubs', organizers those they oversee, the admin all."""
    page, per_page = args.pop("page"), args.pop("per_page")
    entries, total = catalogue.catalogue(db.session, current_actor(), catalogue.Filters(**args),
                                         page=page, per_page=per_page)
    return page_of(CatalogueItemSchema(many=True).dump(entries), total)


@blp.route("/activities/<int:activity_id>/registrations", methods=["POST"])
@token_required
@blp.response(201, SignUpSchema)
def sign_up(activity_id):
    """Sign up: a place while there is one, else the waiting line; before the start or the deadline."""
    return registrations.register(db.session, current_actor(), activity_id)


@blp.route("/activities/<int:activity_id>/registrations/me", methods=["DELETE"])
@token_required
@blp.response(204)
def withdraw_sign_up(activity_id):
    """Withdraw one's sign-up before the start; the first one waiting moves up."""
    registrations.cancel(db.session, current_actor(), activity_id)


@blp.route("/activities/<int:activity_id>/registrations", methods=["GET"])
@token_required
@blp.arguments(PageArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(RegistrationSchema), success=True)
def list_sign_ups(args, activity_id):
    """Who signed up, whether they came, and their no-shows: its club's leaders and organizers, admin."""
    rows = registrations.list_registrations(db.session, current_actor(), activity_id)
    return page_of_rows(RegistrationSchema(many=True), rows, args)


@blp.route("/activities/<int:activity_id>", methods=["GET"])
@token_required
@blp.response(200, ActivitySchema)
def get_activity(activity_id):
    """An activity with its counts of recorded and certified participations."""
    return _detail(activities.get_activity(db.session, activity_id))


@blp.route("/activities/<int:activity_id>", methods=["PATCH"])
@token_required
@blp.arguments(ActivityPatchSchema(partial=True))
@blp.response(200, ActivitySchema)
def update_activity(body, activity_id):
    """Change a plan (draft or returned): a leader of the club."""
    return _detail(activities.update_activity(db.session, current_actor(), activity_id, **body))


@blp.route("/activities/<int:activity_id>/submit", methods=["POST"])
@token_required
@blp.response(200, StatusSchema)
def submit(activity_id):
    """Submit the plan for approval: a leader of the club."""
    return activities.submit_activity(db.session, current_actor(), activity_id)


@blp.route("/activities/<int:activity_id>/approve", methods=["POST"])
@token_required
@blp.response(200, StatusSchema)
def approve(activity_id):
    """Approve the plan: an organizer overseeing the club, or admin."""
    return activities.approve_activity(db.session, current_actor(), activity_id)


@blp.route("/activities/<int:activity_id>/return", methods=["POST"])
@token_required
@blp.arguments(ReasonSchema)
@blp.response(200, StatusSchema)
def send_back(body, activity_id):
    """Return the plan to its leaders with a reason: an organizer overseeing the club, or admin."""
    return activities.return_activity(db.session, current_actor(), activity_id, body["reason"])


@blp.route("/activities/<int:activity_id>/complete", methods=["POST"])
@token_required
@blp.arguments(CompleteSchema)
@blp.response(200, StatusSchema)
def complete(body, activity_id):
    """Mark the activity completed, with its outcome: a leader of the club."""
    return activities.complete_activity(db.session, current_actor(), activity_id, body["outcome"])


@blp.route("/activities/<int:activity_id>/cancel", methods=["POST"])
@token_required
@blp.arguments(ReasonSchema)
@blp.response(200, StatusSchema)
def cancel(body, activity_id):
    """Cancel the activity with a reason: its leaders, an organizer overseeing it, or admin."""
    return activities.cancel_activity(db.session, current_actor(), activity_id, body["reason"])


@blp.route("/activities/<int:activity_id>/participations", methods=["POST"])
@token_required
@blp.arguments(EntriesSchema)
@blp.response(201, CreatedParticipationsSchema)
def record(body, activity_id):
    """Record participants, all or nothing: a leader of the club."""
    entries = [Entry(**e) for e in body["entries"]]
    created = participations.record_participations(db.session, current_actor(), activity_id, entries)
    return {"created": len(created), "items": created}


@blp.route("/activities/<int:activity_id>/participations", methods=["GET"])
@token_required
@blp.arguments(PageArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(ParticipationSchema), success=True)
def list_participations(args, activity_id):
    """The activity's participation records: its club's people and those who oversee it."""
    rows = participations.list_participations(db.session, current_actor(), activity_id)
    return page_of_rows(ParticipationSchema(many=True), rows, args)


@blp.route("/activities/<int:activity_id>/certify", methods=["POST"])
@token_required
@blp.arguments(CertifySchema)
@blp.response(200, CertifiedSchema)
def certify(body, activity_id):
    """Certify recorded participations (default: all): an organizer overseeing the club, or admin; never one's own."""
    count = participations.certify(
        db.session, current_actor(), activity_id, body["participation_ids"], body["note"]
    )
    return {"certified": count}


@blp.route("/participations/<int:participation_id>/reject", methods=["POST"])
@token_required
@blp.arguments(ReasonSchema)
@blp.response(200, ParticipationSchema)
def reject(body, participation_id):
    """Reject a recorded participation with a reason: as certify."""
    return participations.reject(db.session, current_actor(), participation_id, body["reason"])


@blp.route("/participations/<int:participation_id>/revoke", methods=["POST"])
@token_required
@blp.arguments(ReasonSchema)
@blp.response(200, ParticipationSchema)
def revoke(body, participation_id):
    """Revoke a certified participation with a reason: an organizer overseeing the club, or admin."""
    return participations.revoke(db.session, current_actor(), participation_id, body["reason"])


@blp.route("/students/<student_no>/records", methods=["GET"])
@token_required
@blp.arguments(PageArgsSchema, location="query")
@blp.response(200, StudentRecordsSchema)
def student_records(args, student_no):
    """A page of a student's records (`total` in all), all their certified hours: the student, organizers, admin."""
    return participations.student_records(db.session, current_actor(), student_no, args["page"], args["per_page"])
