"""Each role's home page, and the navigation the layout shows."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user, login_required

from app.extensions import db
from app.models import Role
from app.services import queries
from app.web import bp
from app.web.forms import ActionForm, OnceForm
from app.web.support import actor

TRANSCRIPT_LABELS = {"valid": "有效", "superseded": "已被新版取代", "revoked": "已撤销"}

NAV = {
    Role.ADMIN: [
        ("web.admin_home", "总览", "Overview"),
        ("web.admin_units", "院系", "Units"),
        ("web.admin_classes", "班级", "Classes"),
        ("web.admin_clubs", "社团", "Clubs"),
        ("web.admin_people", "人员", "People"),
        ("web.admin_transcripts", "成绩单", "Transcripts"),
        ("scorecard_pages.overview", "五化评估", "Scorecards"),
    ],
    Role.ORGANIZER: [
        ("web.organizer_home", "待办", "To do"),
        ("scorecard_pages.overview", "五化评估", "Scorecards"),
    ],
    Role.LEADER: [
        ("web.leader_home", "我的社团", "My clubs"),
        ("scorecard_pages.overview", "五化评估", "Scorecards"),
        ("web.student_home", "我的记录", "My records"),
    ],
    Role.STUDENT: [("web.student_home", "我的记录", "My records")],
}


def navigation() -> dict:
    """Layout context: the signed-in person's menu and role label."""
    if not current_user.is_authenticated:
        return {"nav": [], "nav_role_label": None, "logout_form": None}
    zh, en = queries.USER_ROLE_LABELS.get(current_user.role, ("", ""))
    return {
        "nav": NAV.get(current_user.role, []),
        "nav_role_label": f"{zh} {en}",
        "logout_form": ActionForm(),
    }


@bp.get("/admin")
@login_required
def admin_home():
    overview = queries.admin_overview(db.session, actor())
    return render_template("web/admin_home.html", o=overview, form=ActionForm())


@bp.get("/organizer")
@login_required
def organizer_home():
    data = queries.organizer_home(db.session, actor())
    return render_template("web/organizer_home.html", data=data, form=ActionForm())


@bp.get("/leader")
@login_required
def leader_home():
    clubs = queries.leader_home(db.session, actor())
    return render_template("web/leader_home.html", clubs=clubs)


@bp.get("/me")
@login_required
def student_home():
    data = queries.student_home(db.session, actor())
    return render_template(
        "web/student_home.html", data=data, form=ActionForm(), issue_form=OnceForm(),
        transcript_labels=TRANSCRIPT_LABELS,
    )
