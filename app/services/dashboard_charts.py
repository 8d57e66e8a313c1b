"""The school dashboard's charts as inline SVG, drawn on the server in the reader's language: bars
for the hours distribution and for the attainment per cohort, bars and a line for the trend over
terms. No script and nothing from elsewhere; each chart has a `<title>`, `role="img"` and a
summary in `aria-label`, and a viewBox so it scales to a phone's width (the page sets width 100 %).
The page puts a data table under each chart, so the figures are readable without the picture.

The look (font, colours, number format) is the scorecard charts' (scorecard_charts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

from flask_babel import gettext as _

from app.services.dashboard import CohortAttainment, HoursBin, TermFigures
from app.services.scorecard_charts import GRID, STROKE, SVG_FONT, _f

W, H = 600.0, 250.0
PAD_L, PAD_R, PAD_T, PAD_B = 44.0, 12.0, 30.0, 40.0
LINE = "#0b5cad"  # the trend's second series (students), apart from the bars' red
BAR = STROKE
MUTED, INK = "#57606a", "#1c1c21"


@dataclass(frozen=True)
class Bar:
    label: str  # under the bar
    value: float
    text: str  # above the bar


def _nice_top(value: float) -> tuple[float, float]:
    """An axis top at or above `value` on a 1-2-5 step, and the step (about four grid lines)."""
    if value <= 0:
        return 4.0, 1.0
    raw = value / 4
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1.0
    step = next(s * magnitude for s in (1, 2, 5, 10) if s * magnitude >= raw)
    top = step * -(-value // step)
    return top, step


def _number(value: float | Decimal) -> str:
    value = float(value)
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def _open(css: str, title: str, summary: str) -> list[str]:
    aria = _("%(title)s: %(summary)s", title=title, summary=summary)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css}" role="img" '
        f'viewBox="0 0 {_f(W)} {_f(H)}" width="{_f(W)}" height="{_f(H)}" '
        f'aria-label={quoteattr(aria)} font-family="{SVG_FONT}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(summary)}</desc>",
    ]


def _grid(out: list[str], top: float, step: float, *, suffix: str = "") -> None:
    h = H - PAD_T - PAD_B
    level = 0.0
    while level <= top + 1e-9:
        y = PAD_T + h * (1 - level / top)
        out.append(f'<line x1="{_f(PAD_L)}" x2="{_f(W - PAD_R)}" y1="{_f(y)}" y2="{_f(y)}" '
                   f'stroke="{GRID}" stroke-width="0.8"/>')
        out.append(f'<text x="{_f(PAD_L - 6)}" y="{_f(y + 4)}" text-anchor="end" font-size="11" '
                   f'fill="#8a8f98">{_number(level)}{suffix}</text>')
        level += step


def _axis_title(out: list[str], text: str) -> None:
    out.append(f'<text x="{_f(PAD_L)}" y="{_f(PAD_T - 12)}" font-size="12" fill="{MUTED}">{escape(text)}</text>')


def _no_data(out: list[str]) -> None:
    out.append(f'<text class="no-data" x="{_f(W / 2)}" y="{_f(H / 2)}" text-anchor="middle" '
               f'font-size="15" fill="{MUTED}">{escape(_("No data"))}</text>')


def bar_svg(bars: Sequence[Bar], *, css: str, title: str, axis: str, top: float | None = None,
            suffix: str = "") -> str:
    """Vertical bars, one per item, each labelled under it and valued above it."""
    summary = _("; ").join(f"{b.label} {b.text}" for b in bars) or _("No data")
    out = _open(css, title, summary)
    top, step = (top, top / 4) if top else _nice_top(max((b.value for b in bars), default=0))
    _grid(out, top, step, suffix=suffix)
    _axis_title(out, axis)
    h = H - PAD_T - PAD_B
    slot = (W - PAD_L - PAD_R) / max(len(bars), 1)
    width = min(slot * 0.62, 70.0)
    for i, b in enumerate(bars):
        cx = PAD_L + slot * (i + 0.5)
        height = h * min(b.value / top, 1.0)
        y = PAD_T + h - height
        out.append(f'<rect class="bar" data-label={quoteattr(b.label)} data-value="{_number(b.value)}" '
                   f'x="{_f(cx - width / 2)}" y="{_f(y)}" width="{_f(width)}" height="{_f(height)}" '
                   f'fill="{BAR}" rx="2"/>')
        out.append(f'<text x="{_f(cx)}" y="{_f(y - 5)}" text-anchor="middle" font-size="12" '
                   f'font-weight="600" fill="{INK}">{escape(b.text)}</text>')
        out.append(f'<text x="{_f(cx)}" y="{_f(H - PAD_B + 17)}" text-anchor="middle" font-size="12" '
                   f'fill="{MUTED}">{escape(b.label)}</text>')
    if not bars:
        _no_data(out)
    out.append("</svg>")
    return "\n".join(out)


def distribution_svg(bins: Sequence[HoursBin]) -> str:
    bars = [Bar(b.label, b.students, str(b.students)) for b in bins]
    return bar_svg(bars, css="chart-distribution", title=_("Students by certified hours"),
                   axis=_("Students"))


def attainment_svg(cohorts: Sequence[CohortAttainment]) -> str:
    bars = [Bar(_("Cohort %(cohort)d", cohort=c.cohort), c.rate or 0.0,
                f"{_number(c.rate or 0)}%") for c in cohorts]
    return bar_svg(bars, css="chart-attainment", title=_("Share of each cohort meeting its credit rules"),
                   axis=_("Meeting the rules (%)"), top=100.0, suffix="%")


def trend_svg(points: Sequence[TermFigures]) -> str:
    """Certified hours per term as bars (the left axis) and participating students as a line, each
    point valued, so the line needs no second axis: it is drawn to its own scale."""
    title = _("Certified hours and participating students by term")
    summary = _("; ").join(_("%(term)s: %(hours)s h, %(students)d students", term=p.term,
                             hours=_number(p.hours), students=p.students) for p in points)
    out = _open("chart-trend", title, summary)
    top, step = _nice_top(max((float(p.hours) for p in points), default=0))
    people_top, _step = _nice_top(max((p.students for p in points), default=0))
    _grid(out, top, step)
    _axis_title(out, _("Certified hours"))
    h = H - PAD_T - PAD_B
    slot = (W - PAD_L - PAD_R) / max(len(points), 1)
    width = min(slot * 0.5, 60.0)
    line = []
    for i, p in enumerate(points):
        cx = PAD_L + slot * (i + 0.5)
        height = h * min(float(p.hours) / top, 1.0)
        y = PAD_T + h - height
        out.append(f'<rect class="bar" data-term="{escape(p.term)}" data-value="{_number(p.hours)}" '
                   f'x="{_f(cx - width / 2)}" y="{_f(y)}" width="{_f(width)}" height="{_f(height)}" '
                   f'fill="{BAR}" fill-opacity="0.75" rx="2"/>')
        out.append(f'<text x="{_f(cx)}" y="{_f(H - PAD_B + 15)}" text-anchor="middle" font-size="11" '
                   f'fill="{MUTED}">{escape(p.term)}</text>')
        # The bar's value goes under its term: above the bar it would meet the line's labels.
        out.append(f'<text class="hours" x="{_f(cx)}" y="{_f(H - PAD_B + 30)}" text-anchor="middle" '
                   f'font-size="11" font-weight="600" fill="{BAR}">'
                   f'{escape(_("%(hours)s hours", hours=_number(p.hours)))}</text>')
        # The line keeps below 85 % of the plot, so its top label clears the legend.
        line.append((cx, PAD_T + h * (1 - 0.85 * p.students / people_top), p))
    if line:
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y, _p in line)
        out.append(f'<polyline class="line" points="{pts}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for x, y, p in line:
        out.append(f'<circle class="point" data-term="{escape(p.term)}" data-students="{p.students}" '
                   f'cx="{_f(x)}" cy="{_f(y)}" r="3.5" fill="{LINE}"/>')
        out.append(f'<text x="{_f(x)}" y="{_f(y - 8)}" text-anchor="middle" font-size="12" font-weight="600" '
                   f'fill="{LINE}">{p.students}</text>')
    # The legend: which mark is which (the data table below repeats both series).
    lx = W - PAD_R - 250
    out.append(f'<rect x="{_f(lx)}" y="{_f(PAD_T - 22)}" width="10" height="10" fill="{BAR}" fill-opacity="0.75"/>')
    out.append(f'<text x="{_f(lx + 14)}" y="{_f(PAD_T - 13)}" font-size="11" fill="{MUTED}">'
               f'{escape(_("Certified hours"))}</text>')
    out.append(f'<line x1="{_f(lx + 120)}" x2="{_f(lx + 134)}" y1="{_f(PAD_T - 17)}" y2="{_f(PAD_T - 17)}" '
               f'stroke="{LINE}" stroke-width="2"/>')
    out.append(f'<text x="{_f(lx + 138)}" y="{_f(PAD_T - 13)}" font-size="11" fill="{MUTED}">'
               f'{escape(_("Participating students"))}</text>')
    if not points:
        _no_data(out)
    out.append("</svg>")
    return "\n".join(out)
