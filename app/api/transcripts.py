from urllib.parse import quote

from flask import current_app, jsonify, make_response, request
from flask_babel import gettext as _
from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.lru import LRU
from app.schemas.common import ReasonSchema
from app.schemas.transcripts import (
    TranscriptSchema,
    UploadSchema,
    UploadVerdictSchema,
    VerificationSchema,
)
from app.services import transcripts, verification
from app.services.errors import Invalid
from app.verify import verify_limit

blp = Blueprint("transcripts", __name__, url_prefix=PREFIX, description="Transcripts and verification")


@blp.route("/students/<student_no>/transcripts", methods=["POST"])
@token_required
@blp.response(201, TranscriptSchema)
def issue(student_no):
    """Issue the student's transcript (supersedes the earlier one): the student or admin."""
    return transcripts.issue_transcript(db.session, current_actor(), student_no)


@blp.route("/students/<student_no>/transcripts", methods=["GET"])
@token_required
@blp.response(200, TranscriptSchema(many=True))
def list_for_student(student_no):
    """The student's transcripts, newest first: the student or admin."""
    return transcripts.list_transcripts(db.session, current_actor(), student_no)


def download_name(transcript) -> str:
    """The file name a download is saved under, in the reader's language (ASCII fallback aside)."""
    return _("Second transcript-%(student_no)s-%(serial)s.pdf",
             student_no=transcript.student.student_no, serial=transcript.serial)


def content_disposition(transcript) -> str:
    return (f"attachment; filename=\"transcript-{transcript.serial}.pdf\"; "
            f"filename*=UTF-8''{quote(download_name(transcript))}")


def pdf_response(transcript):
    response = make_response(transcript.pdf)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = content_disposition(transcript)
    # The bytes never change once issued; only the owner may fetch them, so cache privately.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["ETag"] = f'"{transcript.pdf_sha256}"'
    return response


@blp.route("/transcripts/<serial>/pdf", methods=["GET"])
@token_required
@blp.response(200, content_type="application/pdf")
def pdf(serial):
    """The transcript's PDF, the same bytes every time: the student or admin."""
    return pdf_response(transcripts.transcript_pdf(db.session, current_actor(), serial))


@blp.route("/transcripts/<serial>/revoke", methods=["POST"])
@token_required
@blp.arguments(ReasonSchema)
@blp.response(200, TranscriptSchema)
def revoke(body, serial):
    """Revoke a transcript with a reason: admin."""
    return transcripts.revoke_transcript(db.session, current_actor(), serial, body["reason"])


@blp.route("/verify/<serial>", methods=["GET"])
@verify_limit
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.response(200, VerificationSchema)
def verify(serial):
    """Public: the status and contents of a transcript, asked for by its serial."""
    view = verification.public_view(db.session, serial)
    body = _bodies.get(view.version)
    if body is None:
        body = VerificationSchema().dump(view)
        _bodies.put(view.version, body)
    return jsonify(body)


# Dumped bodies keyed by everything they show that can change (PublicView.version).
_bodies = LRU(512)


@blp.route("/verify/pdf", methods=["POST"])
@verify_limit
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.arguments(UploadSchema, location="files")
@blp.response(200, UploadVerdictSchema)
def verify_pdf(_files):
    """Public: is this PDF byte for byte one we issued?"""
    upload = request.files.get("file")
    if upload is None:
        raise Invalid({"file": [_("Upload the PDF as multipart field `file`")]})
    return verification.verify_upload(db.session, upload.read())


@blp.before_request
def limit_upload_size():
    if request.path.endswith("/verify/pdf"):
        request.max_content_length = current_app.config["VERIFY_MAX_UPLOAD"]
