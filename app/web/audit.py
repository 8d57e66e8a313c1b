"""The audit log for the Youth League office (/admin/audit, its CSV) and the public signed
checkpoints (/.well-known/audit-checkpoints.json)."""

from __future__ import annotations

from flask import jsonify, make_response, render_template, request
from flask_login import login_required

from app.extensions import db
from app.services import audit_checkpoints, audit_log
from app.web import bp
from app.web.support import actor

PER_PAGE = 50
FILTERS = ("actor_id", "action", "object", "since", "until")


def _filters() -> dict:
    """The form's fields as typed (the service names what is wrong with them)."""
    return {name: (request.args.get(name) or "")[:120] or None for name in FILTERS}


@bp.get("/admin/audit")
@login_required
def admin_audit():
    page = request.args.get("page", 1, type=int) or 1
    view = audit_log.audit_page(db.session, actor(), page, PER_PAGE, **_filters())
    return render_template(
        "web/admin_audit.html", view=view, args=request.args, actor_label=audit_log.actor_label,
        details=audit_log.details, csv_args={k: v for k, v in _filters().items() if v},
        filtered=any(request.args.get(name) for name in FILTERS),
    ), (422 if view.errors else 200)


@bp.get("/admin/audit.csv")
@login_required
def admin_audit_csv():
    response = make_response(audit_log.export_csv(db.session, actor(), **_filters()))
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = "attachment; filename=audit-log.csv"
    return response


@bp.get("/.well-known/audit-checkpoints.json")
def audit_checkpoints_json():
    """Public: anyone may keep a copy and check a later database against it."""
    response = jsonify(audit_checkpoints.published())
    response.headers["Cache-Control"] = "public, max-age=60"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
