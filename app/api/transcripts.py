
from flask import current_app, jsonify, make_response, request
from flask_babel import gettext as _
from flask_smorest import Blueprint

import credentials.vc
from app import i18n
from app.api import PREFIX, current_actor, token_required
from app.downloads import attachment
from app.extensions import db
from app.lru import LRU
from app.schemas.common import ReasonSchema
from app.schemas.transcripts import (
    NewShareSchema,
    PublicCheckSchema,
    PublicCheckStateSchema,
    ShareInSchema,
    ShareSchema,
    TranscriptSchema,
    UploadSchema,
    UploadVerdictSchema,
    VerificationSchema,
)
from app.services import holder, transcripts, upload_check, verifiable, verification
from app.services.errors import Invalid
from app.verify import verify_limit

blp = Blueprint("transcripts", __name__, url_prefix=PREFIX, description="Transcripts and verification")


@blp.route("/students/<student_no>/transcripts", methods=["POST"])
@token_required
@blp.response(201, TranscriptSchema, description="A new transcript, superseding the earlier one")
@blp.alt_response(200, schema=TranscriptSchema,
                  description="Nothing changed since the current transcript: that one, unchanged")
def issue(student_no):
    """Issue the student's transcript, superseding the earlier (nothing changed: 200, the same): student or admin."""
    transcript, new = transcripts.issue_or_current(db.session, current_actor(), student_no)
    return transcript if new else (transcript, 200)


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
    return attachment(download_name(transcript), f"transcript-{transcript.serial}.pdf")


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


def credential_response(document: dict, serial: str):
    """`application/vc`, saved as transcript-SERIAL.json; private, it names the student."""
    body = verifiable.credential_bytes(document)
    response = make_response(body)
    response.mimetype = credentials.vc.MEDIA_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="transcript-{serial}.json"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/transcripts/<serial>/credential", methods=["GET"])
@token_required
@blp.response(200, content_type="application/vc")
def credential(serial):
    """The transcript as an Open Badges 3.0 verifiable credential (W3C VC 2.0, eddsa-jcs-2022): the student or admin."""
    transcript_serial = transcripts.normalize_serial(serial)
    return credential_response(verifiable.transcript_credential(db.session, current_actor(), transcript_serial),
                               transcript_serial)


@blp.route("/transcripts/<serial>/revoke", methods=["POST"])
@token_required
@blp.arguments(ReasonSchema)
@blp.response(200, TranscriptSchema)
def revoke(body, serial):
    """Revoke a transcript with a reason: admin."""
    return transcripts.revoke_transcript(db.session, current_actor(), serial, body["reason"])


@blp.route("/transcripts/<serial>", methods=["PATCH"])
@token_required
@blp.arguments(PublicCheckSchema)
@blp.response(200, PublicCheckStateSchema)
def set_public_check(body, serial):
    """The holder's public check: open or close it, or set the last day it is open (the student)."""
    return holder.set_public_check(db.session, current_actor(), serial, public=body.get("public"),
                                   public_until=body.get("public_until"))


@blp.route("/transcripts/<serial>/shares", methods=["GET"])
@token_required
@blp.response(200, ShareSchema(many=True))
def list_shares(serial):
    """The transcript's share links, newest first (the student)."""
    return holder.list_shares(db.session, current_actor(), serial)


@blp.route("/transcripts/<serial>/shares", methods=["POST"])
@token_required
@blp.arguments(ShareInSchema)
@blp.response(201, NewShareSchema)
def create_share(body, serial):
    """A link for one recipient that opens the full check until it expires (the student)."""
    return holder.create_share(db.session, current_actor(), serial, expires_on=body["expires_on"],
                               label=body["label"])


@blp.route("/transcripts/<serial>/shares/<int:share_id>", methods=["DELETE"])
@token_required
@blp.response(204)
def withdraw_share(serial, share_id):
    """Withdraw a share link: it opens nothing from now on (the student)."""
    holder.withdraw_share(db.session, current_actor(), serial, share_id)


@blp.route("/verify/<serial>", methods=["GET"])
@verify_limit
@blp.alt_response(429, response="TOO_MANY_REQUESTS")
@blp.response(200, VerificationSchema)
def verify(serial):
    """Public: the status and contents of a transcript, asked for by its serial."""
    return jsonify(verification_body(verification.public_view(db.session, serial)))


def verification_body(view: verification.PublicView) -> dict:
    """The JSON verify answer of this state in the reader's language (the steps are in it)."""
    key = (view.version, i18n.current())
    body = _bodies.get(key)
    if body is None:
        body = _VERIFICATION.dump(view)
        _bodies.put(key, body)
    return body


# Dumped bodies keyed by everything they show that can change (PublicView.version) and the language.
_bodies = LRU(512)
_VERIFICATION = VerificationSchema()  # made once: a schema's fields are deep-copied per instance


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
    return upload_check.verify_upload(db.session, upload.read())


@blp.before_request
def limit_upload_size():
    if request.path.endswith("/verify/pdf"):
        request.max_content_length = current_app.config["VERIFY_MAX_UPLOAD"]
