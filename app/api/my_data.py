"""My data (PIPL): a student's whole record as one ZIP archive."""


from flask_smorest import Blueprint

from app.api import PREFIX, current_actor, token_required
from app.downloads import private_file
from app.extensions import db
from app.services import my_data

blp = Blueprint("my_data", __name__, url_prefix=PREFIX, description="My data: a student's export")


def zip_response(filename: str, data: bytes):
    return private_file(data, "application/zip", filename)  # everything about one person


@blp.route("/students/<student_no>/export", methods=["GET"])
@token_required
@blp.response(200, content_type="application/zip",
              description="A ZIP: README.txt, profile.json, records.json and .csv, registrations.json, "
                          "claims.json with claims/<id>/<n>-<name>, appeals.json, notifications.json, "
                          "transcripts.json with transcripts/<serial>.pdf")
def export(student_no):
    """Everything kept about the student, as one archive (PIPL): the student or admin; audited."""
    return zip_response(*my_data.export_archive(db.session, current_actor(), student_no))
