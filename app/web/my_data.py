"""My data (PIPL): the signed-in student downloads everything kept about them (/me/data.zip)."""

from __future__ import annotations

from flask_login import login_required

from app.api.my_data import zip_response
from app.extensions import db
from app.services import my_data
from app.web import bp
from app.web.support import actor


@bp.get("/me/data.zip")
@login_required
def my_data_zip():
    return zip_response(*my_data.export_own_archive(db.session, actor()))
