"""The graduation batch (API.md, Additions): start one for a unit, a class or a cohort, follow it, cancel
or resume it, and download its PDFs as one ZIP for printing: the admin."""


from flask import Response, stream_with_context
from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.downloads import private_file
from app.extensions import db
from app.schemas.batches import (
    BatchInSchema,
    BatchListArgsSchema,
    BatchRowSchema,
    BatchSchema,
    BatchStartedSchema,
    BatchZipArgsSchema,
)
from app.schemas.common import page_of, page_schema
from app.services import batch_zip, batches

blp = Blueprint("batches", __name__, url_prefix=PREFIX, description="The graduation batch")


def zip_stream(filename: str, chunks) -> Response:
    """The ZIP as it is written (the PDFs read a few at a time), saved under `filename`."""
    return private_file(stream_with_context(chunks), "application/zip", filename)


@blp.route("/batches/transcripts", methods=["POST"])
@token_required
@blp.arguments(BatchInSchema)
@blp.response(202, BatchStartedSchema, description="Queued: the workers issue it (GET /batches/{id} follows it)")
def start(body):
    """Start the graduation batch of a unit, a class or a cohort (one of them): admin."""
    return batches.start_batch(db.session, current_actor(), **body)


@blp.route("/batches", methods=["GET"])
@token_required
@blp.arguments(BatchListArgsSchema, location="query")
@blp.alt_response(200, schema=page_schema(BatchRowSchema), success=True)
def list_batches(args):
    """The batches, newest first: admin."""
    rows, total = batches.list_batches(db.session, current_actor(), args["page"], args["per_page"])
    return page_of(BatchRowSchema(many=True).dump(rows), total)


@blp.route("/batches/<int:batch_id>", methods=["GET"])
@token_required
@blp.response(200, BatchSchema)
def get(batch_id):
    """A batch's progress: done, failed, rate, time left: admin."""
    return batches.progress(db.session, current_actor(), batch_id)


@blp.route("/batches/<int:batch_id>/cancel", methods=["POST"])
@token_required
@blp.response(200, BatchSchema)
def cancel(batch_id):
    """Cancel a queued or running batch (what is issued stays): admin."""
    batch = batches.cancel_batch(db.session, current_actor(), batch_id)
    return batches.progress(db.session, current_actor(), batch.id)


@blp.route("/batches/<int:batch_id>/resume", methods=["POST"])
@token_required
@blp.response(202, BatchSchema, description="Queued again: only its pending and failed students")
def resume(batch_id):
    """Run a batch again: only what is missing, never a student it issued: admin."""
    batch = batches.resume_batch(db.session, current_actor(), batch_id)
    return batches.progress(db.session, current_actor(), batch.id)


@blp.route("/batches/<int:batch_id>/zip", methods=["GET"])
@token_required
@blp.arguments(BatchZipArgsSchema, location="query")
@blp.response(200, content_type="application/zip",
              description="<class>/<nnnn> <student no> <name>.pdf, by class and name; `class_id` for one class")
def download(args, batch_id):
    """The batch's PDFs (or one class's) as one ZIP for printing: admin."""
    return zip_stream(*batch_zip.batch_zip(db.session, current_actor(), batch_id, args["class_id"]))
