"""My data (PIPL): a student's whole record as one ZIP archive."""

from urllib.parse import quote

from flask import make_response
from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.extensions import db
from app.services import my_data

blp = Blueprint("my_data", __name__, url_prefix=PREFIX, description="My data: a student's export")


def zip_response(filename: str, data: bytes):
    response = make_response(data)
    response.mimetype = "application/zip"
    response.headers["Content-Disposition"] = (f"attachment; filename=\"{filename}\"; "
                                               f"filename*=UTF-8''{quote(filename)}")
    # Everything about one person: never kept by a cache on the way.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.route("/students/<student_no>/export", methods=["GET"])
@token_required
@blp.response(200, content_type="application/zip",
              description="A ZIP: README.txt, profile.json, records.json and .csv, registrations.json, "
                          "claims.json with claims/<id>/<n>-<name>, appeals.json, notifications.json, "
                          "transcripts.json with transcripts/<serial>.pdf")
def export(student_no):
    """Everything kept about the student, as one archive (PIPL): the student or admin; audited."""
    return zip_response(*my_data.export_archive(db.session, current_actor(), student_no))
