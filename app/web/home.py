"""Each role's home page, and the navigation the layout shows."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.extensions import db
from app.models import Role
from app.services import notifications
from app.services.pages import admin as admin_pages
from app.services.pages import leader as leader_pages
from app.services.pages import organizer as organizer_pages
from app.services.pages import student as student_pages
from app.web import bp
from app.web.forms import ActionForm, OnceForm
from app.web.support import actor, page_args

TRANSCRIPT_LABELS = {
    "valid": _l("Valid"),
    "superseded": _l("Superseded by a newer one"),
    "revoked": _l("Revoked"),
}

NAV = {
    Role.ADMIN: [
        ("web.admin_home", _l("Overview")),
        ("web.admin_units", _l("Units")),
        ("web.admin_classes", _l("Classes")),
        ("web.admin_clubs", _l("Clubs")),
        ("web.admin_people", _l("People")),
        ("web.admin_transcripts", _l("Transcripts")),
        ("web.admin_batches", _l("Graduation batch")),
        ("web.catalogue_page", _l("Activities")),
        ("web.claims_list", _l("Claims")),
        ("web.appeals_list", _l("Appeals")),
        ("scorecard_pages.overview", _l("Scorecards")),
        ("web.admin_rules", _l("Credit rules")),
        ("web.requirements_report", _l("Requirements")),
        ("web.school_dashboard", _l("Dashboard")),
    ],
    Role.ORGANIZER: [
        ("web.organizer_home", _l("To do")),
        ("web.catalogue_page", _l("Activities")),
        ("web.claims_list", _l("Claims")),
        ("web.appeals_list", _l("Appeals")),
        ("scorecard_pages.overview", _l("Scorecards")),
        ("web.requirements_report", _l("Requirements")),
    ],
    Role.LEADER: [
        ("web.leader_home", _l("My clubs")),
        ("web.catalogue_page", _l("Activities")),
        ("scorecard_pages.overview", _l("Scorecards")),
        ("web.student_home", _l("My records")),
        ("web.my_progress", _l("My progress")),
        ("web.claims_list", _l("My claims")),
        ("web.appeals_list", _l("Appeals")),
    ],
    Role.STUDENT: [
        ("web.student_home", _l("My records")),
        ("web.my_progress", _l("My progress")),
        ("web.catalogue_page", _l("Activities")),
        ("web.claims_list", _l("My claims")),
        ("web.appeals_list", _l("Appeals")),
    ],
}


def navigation() -> dict:
    """Layout context: the signed-in person's menu, role label and unread notifications (one count)."""
    if not current_user.is_authenticated:
        return {"nav": [], "nav_role_label": None, "logout_form": None, "unread_notifications": 0}
    return {
        "nav": NAV.get(current_user.role, []),
        "nav_role_label": Role(current_user.role).label,
        "logout_form": ActionForm(),
        "unread_notifications": notifications.unread_count(db.session, current_user.id),
    }


@bp.get("/admin")
@login_required
def admin_home():
    overview = admin_pages.admin_overview(db.session, actor(), page_args(*admin_pages.LISTS))
    return render_template("web/admin_home.html", o=overview, form=ActionForm())


@bp.get("/organizer")
@login_required
def organizer_home():
    data = organizer_pages.organizer_home(db.session, actor(), page_args(*organizer_pages.LISTS))
    return render_template("web/organizer_home.html", data=data, form=ActionForm())


@bp.get("/leader")
@login_required
def leader_home():
    home = leader_pages.leader_home(db.session, actor(), page_args("page")["page"])
    return render_template("web/leader_home.html", home=home)


@bp.get("/me")
@login_required
def student_home():
    data = student_pages.student_home(db.session, actor(), page_args(*student_pages.LISTS))
    return render_template(
        "web/student_home.html", data=data, form=ActionForm(), issue_form=OnceForm(),
        transcript_labels=TRANSCRIPT_LABELS,
    )
