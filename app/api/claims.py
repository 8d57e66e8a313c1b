from flask import make_response, request
from flask_smorest import Blueprint
from flask_smorest.fields import Upload as UploadField
from marshmallow import fields

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.schemas.claims import (
    AppealArgsSchema,
    AppealInSchema,
    AppealSchema,
    CertifyClaimSchema,
    ClaimArgsSchema,
    ClaimInSchema,
    ClaimSchema,
    ResolveSchema,
)
from app.schemas.common import ReasonSchema, StatusSchema, page_of, page_schema
from app.services import appeals, claims
from app.services.evidence import Upload

blp = Blueprint("claims", __name__, url_prefix=PREFIX, description="Achievement claims and appeals")


class ClaimFormSchema(ClaimInSchema):
    """The whole multipart body, as the document shows it; the files are read in `uploads`."""

    files = fields.List(UploadField(), load_default=list, metadata={"description": "PDF, JPEG or PNG"})


def uploads() -> list[Upload]:
    """Every file of the form, under `files` or `files[]` (what browsers and curl send)."""
    parts = [*request.files.getlist("files"), *request.files.getlist("files[]")]
    return [Upload(part.filename or "", part.read()) for part in parts if part.filename or part.content_length]


@blp.route("/claims", methods=["POST"])
@token_required
@blp.arguments(ClaimFormSchema, location="form", content_type="multipart/form-data")
@blp.response(201, StatusSchema)
def create_claim(body):
    """Claim an outside achievement with its evidence files (multipart): a student."""
    body.pop("files", None)
    return claims.submit_claim(db.session, current_actor(), uploads(), **body)


@blp.route("/claims", methods=["GET"])
@token_required
@blp.arguments(ClaimArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(ClaimSchema), success=True)
def list_claims(args):
    """Own claims (a student), those in scope (an organizer), all (admin)."""
    rows, total = claims.list_claims(db.session, current_actor(), args["status"],
                                     page=args["page"], per_page=args["per_page"])
    return page_of(ClaimSchema(many=True).dump(rows), total)


@blp.route("/claims/<int:claim_id>", methods=["GET"])
@token_required
@blp.response(200, ClaimSchema)
def get_claim(claim_id):
    """A claim: the claimant, organizers in scope, admin; anyone else 404."""
    return claims.get_claim(db.session, current_actor(), claim_id)


@blp.route("/claims/<int:claim_id>/files/<int:position>", methods=["GET"])
@token_required
@blp.response(200, description="The evidence file itself (PDF, JPEG or PNG)")
def claim_file(claim_id, position):
    """One evidence file: the same people as the claim (`?preview=1`: a PDF's first page as PNG)."""
    preview = request.args.get("preview") == "1"
    return evidence_response(*claims.claim_file(db.session, current_actor(), claim_id, position, preview=preview))


def evidence_response(stored, data: bytes, media_type: str):
    response = make_response(data)
    response.mimetype = media_type
    response.headers["Content-Disposition"] = f"inline; filename=\"evidence-{stored.position}{stored.name[-4:]}\""
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["ETag"] = f'"{stored.sha256}{"-preview" if media_type != stored.media_type else ""}"'
    # Shown inside the claim's page (an <iframe> for a PDF), never inside anyone else's.
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'self'"
    return response


@blp.route("/claims/<int:claim_id>/certify", methods=["POST"])
@token_required
@blp.arguments(CertifyClaimSchema)
@blp.response(200, ClaimSchema)
def certify_claim(body, claim_id):
    """Certify a claim awaiting review: an organizer in scope or admin; never the claimant."""
    return claims.certify_claim(db.session, current_actor(), claim_id, body["note"])


@blp.route("/claims/<int:claim_id>/reject", methods=["POST"])
@token_required
@blp.arguments(ReasonSchema)
@blp.response(200, ClaimSchema)
def reject_claim(body, claim_id):
    """Reject a claim with a reason: as certify."""
    return claims.reject_claim(db.session, current_actor(), claim_id, body["reason"])


@blp.route("/claims/<int:claim_id>/revoke", methods=["POST"])
@token_required
@blp.arguments(ReasonSchema)
@blp.response(200, ClaimSchema)
def revoke_claim(body, claim_id):
    """Withdraw a certified claim with a reason; transcripts carrying it become amended."""
    return claims.revoke_claim(db.session, current_actor(), claim_id, body["reason"])


@blp.route("/appeals", methods=["POST"])
@token_required
@blp.arguments(AppealInSchema)
@blp.response(201, StatusSchema)
def open_appeal(body):
    """Appeal a rejected record or claim, or a missing record, within the window: a student."""
    return appeals.open_appeal(db.session, current_actor(), **body)


@blp.route("/appeals", methods=["GET"])
@token_required
@blp.arguments(AppealArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(AppealSchema), success=True)
def list_appeals(args):
    """Own appeals (a student), those an organizer may resolve, all (admin)."""
    rows, total = appeals.list_appeals(db.session, current_actor(), args["status"],
                                       page=args["page"], per_page=args["per_page"])
    return page_of(AppealSchema(many=True).dump(rows), total)


@blp.route("/appeals/<int:appeal_id>/resolve", methods=["POST"])
@token_required
@blp.arguments(ResolveSchema)
@blp.response(200, AppealSchema)
def resolve_appeal(body, appeal_id):
    """Uphold or dismiss an appeal with a reason: an organizer in scope or admin."""
    return appeals.resolve_appeal(db.session, current_actor(), appeal_id, body["decision"], body["reason"])
