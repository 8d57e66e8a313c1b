"""Five-izations (五化) pages: a club's scorecard with its radar chart, trend and term
report; the overview ranking clubs per term with the module-hours heat table; every
table as CSV or .xlsx.  Each view: one service call, then the template or the file."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, make_response, render_template, request
from flask_babel import gettext as _
from flask_login import login_required
from markupsafe import Markup

from app.downloads import private_file
from app.extensions import db
from app.services import exports, scorecard, scorecard_report
from app.timeutil import school_zone
from app.web.support import actor

bp = Blueprint("scorecard_pages", __name__)


# Filters, not macros, for what every cell of the ranking shows: a Jinja macro call costs some
# 50 µs, and the school's ranking has 300 rows of a dozen cells (_macros.html uses them too).
@bp.app_template_filter("score_num")
def score_num(value: float) -> str:
    """A score as the pages print it: 87.5, 100, 0.3 (a Decimal too, as "%g" did: 0.50 → 0.5)."""
    return f"{float(value):g}"


@bp.app_template_filter("score_band")
def score_band(value: float | None) -> str:
    """The colour band of a score (the CSS class): 80 and up good, 60 (the pass mark) ok, below weak."""
    if value is None:
        return "sc-none"
    if value >= 80:
        return "sc-good"
    return "sc-ok" if value >= scorecard.WEAK_SCORE else "sc-weak"


def _args() -> dict:
    return {
        "term": request.args.get("term") or None,
        "unit_id": request.args.get("unit", type=int),
        "category": request.args.get("category") or None,
    }


def _file(data: bytes, mimetype: str, ascii_name: str, name: str):
    return private_file(data, mimetype, name, ascii_name)


def table_file(table: exports.Table, fmt: str):
    """A table as a CSV or xlsx download (also the API's `?format=`)."""
    if fmt not in exports.FORMATS:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    return _file(exports.render(table, fmt), exports.FORMATS[fmt], f"{table.slug}.{fmt}",
                 f"{table.title}.{fmt}")


@bp.get("/scorecards")
@login_required
def overview():
    page = scorecard.overview_page(db.session, actor(), **_args())
    return render_template("scorecard/overview.html", page=page, o=page.overview, heat=page.heat,
                           dimensions=scorecard.DIMENSIONS)


@bp.get("/scorecards/ranking.<fmt>")
@login_required
def ranking_file(fmt: str):
    ranking = scorecard.my_overview(db.session, actor(), **_args())
    return table_file(exports.ranking_table(ranking), fmt)


@bp.get("/scorecards/heat.<fmt>")
@login_required
def heat_file(fmt: str):
    heat = scorecard.module_hours_by_unit(db.session, actor(), **_args())
    return table_file(exports.heat_table(heat), fmt)


@bp.get("/clubs/<int:club_id>/scorecard")
@login_required
def club(club_id: int):
    page = scorecard.club_scorecard_page(db.session, actor(), club_id, request.args.get("term"))
    return render_template(
        "scorecard/club.html", page=page, card=page.card,
        radar=Markup(scorecard_report.radar_svg(page.card)),
        trend=Markup(scorecard_report.trend_svg(page.trend)),
    )


@bp.get("/clubs/<int:club_id>/scorecard/radar.svg")
@login_required
def radar(club_id: int):
    card = scorecard.club_scorecard(db.session, actor(), club_id, request.args.get("term"))
    response = make_response(scorecard_report.radar_svg(card))
    response.headers["Content-Type"] = "image/svg+xml; charset=utf-8"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/clubs/<int:club_id>/scorecard/report.pdf")
@login_required
def report(club_id: int):
    page = scorecard.club_scorecard_page(db.session, actor(), club_id, request.args.get("term"))
    card = page.card
    pdf = scorecard_report.render_report(
        card, page.trend, institution=current_app.config["INSTITUTION_NAME"],
        generated_on=datetime.now(school_zone()).date(),
    )
    return _file(pdf, "application/pdf", f"scorecard-{card.club.id}-{card.term}.pdf",
                 _("%(club)s-five-izations-report-%(term)s", club=card.club.name, term=card.term) + ".pdf")


@bp.get("/clubs/<int:club_id>/scorecard/indicators.<fmt>")
@login_required
def indicators_file(club_id: int, fmt: str):
    card = scorecard.club_scorecard(db.session, actor(), club_id, request.args.get("term"))
    return table_file(exports.indicator_table(card), fmt)


@bp.get("/clubs/<int:club_id>/scorecard/trend.<fmt>")
@login_required
def trend_file(club_id: int, fmt: str):
    cards = scorecard.club_trend(db.session, actor(), club_id)
    return table_file(exports.trend_table(cards), fmt)
