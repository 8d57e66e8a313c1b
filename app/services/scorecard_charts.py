"""The scorecard's charts for the pages: the radar (five dimensions) and the trend across
terms, as standalone SVG documents in the reader's language.

The radar has five axes, one per dimension, starting at the top and going clockwise in
the order of ``DIMENSIONS``; a value is drawn at ``score / 100`` of the radius.  A
dimension without data sits at the centre and is labelled "No data"; a club without any
data gets no polygon at all.  The geometry (:class:`Axis`, :func:`radar_axes`) is shared
with the term report's PDF (``scorecard_report``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from flask_babel import gettext as _

from app.i18n import pick
from app.services.scorecard import DIMENSION_KEYS, DIMENSION_LABELS, Scorecard


@dataclass(frozen=True)
class Axis:
    key: str
    label_zh: str
    label_en: str
    score: float | None
    angle: float  # radians, 0 = pointing right, clockwise on screen (y grows downwards)

    def point(self, cx: float, cy: float, radius: float, fraction: float) -> tuple[float, float]:
        """A point on this axis, ``fraction`` of the radius out (screen coordinates)."""
        return (cx + radius * fraction * math.cos(self.angle),
                cy + radius * fraction * math.sin(self.angle))

    @property
    def fraction(self) -> float:
        return 0.0 if self.score is None else max(0.0, min(1.0, self.score / 100.0))


def radar_axes(card: Scorecard) -> list[Axis]:
    n = len(DIMENSION_KEYS)
    return [
        Axis(key, *DIMENSION_LABELS[key], card.dimensions[key].score,
             -math.pi / 2 + 2 * math.pi * i / n)
        for i, key in enumerate(DIMENSION_KEYS)
    ]


def score_text(score: float | None, no_data: str) -> str:
    """A score as printed: no decimals when whole, one otherwise; ``no_data`` for None."""
    if score is None:
        return no_data
    return f"{score:.0f}" if score == int(score) else f"{score:.1f}"


RADAR_W, RADAR_H = 420.0, 340.0
RADAR_CX, RADAR_CY, RADAR_R = 210.0, 178.0, 115.0
RINGS = (20, 40, 60, 80, 100)
SVG_FONT = ("'WenQuanYi Micro Hei','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',"
            "system-ui,sans-serif")
STROKE, FILL, GRID = "#b42318", "rgba(180,35,24,0.22)", "#c9ccd1"


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _anchor(axis: Axis) -> tuple[str, float, float]:
    """Where an axis label goes: beyond the tip, aligned away from the centre."""
    cos, sin = math.cos(axis.angle), math.sin(axis.angle)
    x, y = axis.point(RADAR_CX, RADAR_CY, RADAR_R + 16, 1.0)
    anchor = "middle" if abs(cos) < 0.3 else ("start" if cos > 0 else "end")
    if sin < -0.9:
        y -= 14  # the top label: above the tip, both lines
    elif sin > 0.3:
        y += 6
    return anchor, x, y


def radar_svg(card: Scorecard, *, title: str | None = None) -> str:
    """The five dimensions as an SVG radar chart (a standalone, well-formed document)."""
    axes = radar_axes(card)
    cx, cy, r = RADAR_CX, RADAR_CY, RADAR_R
    no_data = _("No data")
    labels = {a.key: pick((a.label_zh, a.label_en)) for a in axes}
    summary = _("; ").join(f"{labels[a.key]} {score_text(a.score, no_data)}" for a in axes)
    title = title or _("%(club)s %(term)s five-izations radar", club=card.club.name, term=card.term)
    aria = _("%(title)s: %(summary)s", title=title, summary=summary)
    no_activity = _("No activity this term")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="radar" role="img" '
        f'viewBox="0 0 {_f(RADAR_W)} {_f(RADAR_H)}" width="{_f(RADAR_W)}" '
        f'height="{_f(RADAR_H)}" data-cx="{_f(cx)}" data-cy="{_f(cy)}" data-r="{_f(r)}" '
        f'aria-label={quoteattr(aria)} '
        f'font-family="{SVG_FONT}">',
        f"<title>{escape(title)}</title>",
        f"<desc>{escape(summary)}</desc>",
    ]
    for ring in RINGS:
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in
                       (a.point(cx, cy, r, ring / 100) for a in axes))
        out.append(f'<polygon class="ring" data-level="{ring}" points="{pts}" fill="none" '
                   f'stroke="{GRID}" stroke-width="{1.2 if ring == 100 else 0.8}"/>')
    for ring in RINGS[:-1]:
        x, y = axes[0].point(cx, cy, r, ring / 100)
        out.append(f'<text class="tick" x="{_f(x + 3)}" y="{_f(y + 3)}" font-size="8" '
                   f'fill="#8a8f98">{ring}</text>')
    for a in axes:
        x, y = a.point(cx, cy, r, 1.0)
        score = "" if a.score is None else _f(a.score)
        out.append(f'<line class="axis" data-key="{a.key}" data-score="{score}" '
                   f'x1="{_f(cx)}" y1="{_f(cy)}" x2="{_f(x)}" y2="{_f(y)}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
    if not card.no_data:
        pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in
                       (a.point(cx, cy, r, a.fraction) for a in axes))
        out.append(f'<polygon class="values" points="{pts}" fill="{FILL}" stroke="{STROKE}" '
                   f'stroke-width="2" stroke-linejoin="round"/>')
        for a in axes:
            if a.score is None:
                continue
            x, y = a.point(cx, cy, r, a.fraction)
            out.append(f'<circle class="point" data-key="{a.key}" cx="{_f(x)}" cy="{_f(y)}" '
                       f'r="3.5" fill="{STROKE}"/>')
    else:
        out.append(f'<text class="no-data" x="{_f(cx)}" y="{_f(cy - 4)}" text-anchor="middle" '
                   f'font-size="15" fill="#57606a">{escape(no_data)}</text>')
        out.append(f'<text class="no-data" x="{_f(cx)}" y="{_f(cy + 14)}" text-anchor="middle" '
                   f'font-size="11" fill="#57606a">{escape(no_activity)}</text>')
    for a in axes:
        anchor, x, y = _anchor(a)
        colour = "#57606a" if a.score is None else "#1c1c21"
        out.append(
            f'<text class="label" data-key="{a.key}" x="{_f(x)}" y="{_f(y)}" '
            f'text-anchor="{anchor}" font-size="14" fill="{colour}">'
            f'<tspan font-weight="600">{escape(labels[a.key])}</tspan> '
            f'<tspan class="score" fill="{STROKE if a.score is not None else colour}" '
            f'font-weight="600">{escape(score_text(a.score, no_data))}</tspan>'
            f'<tspan x="{_f(x)}" dy="14" font-size="10.5" fill="#6e7781">'
            f"{escape(a.key.capitalize())}</tspan>"
            f"</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


TREND_W, TREND_H = 600.0, 210.0
TREND_PAD_L, TREND_PAD_R, TREND_PAD_T, TREND_PAD_B = 34.0, 12.0, 22.0, 36.0
TREND_INSET = 48.0  # the first and last term stand this far inside the plot


def trend_svg(cards: Sequence[Scorecard]) -> str:
    """Overall score across terms as a line; a term without data is a gap."""
    n = len(cards)
    w = TREND_W - TREND_PAD_L - TREND_PAD_R - 2 * TREND_INSET
    h = TREND_H - TREND_PAD_T - TREND_PAD_B

    def x_of(i: int) -> float:
        return TREND_PAD_L + TREND_INSET + (w / 2 if n == 1 else w * i / (n - 1))

    def y_of(score: float) -> float:
        return TREND_PAD_T + h * (1 - score / 100)

    no_data = _("No data")
    label = _("; ").join(f"{c.term} {score_text(c.overall, no_data)}" for c in cards)
    aria = _("Overall by term: %(terms)s", terms=label)
    title = _("Overall score by term")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" role="img" '
        f'viewBox="0 0 {_f(TREND_W)} {_f(TREND_H)}" width="{_f(TREND_W)}" '
        f'height="{_f(TREND_H)}" aria-label={quoteattr(aria)} '
        f'font-family="{SVG_FONT}">',
        f"<title>{escape(title)}</title>",
    ]
    for level in (0, 20, 40, 60, 80, 100):
        y = y_of(level)
        out.append(f'<line x1="{_f(TREND_PAD_L)}" x2="{_f(TREND_W - TREND_PAD_R)}" '
                   f'y1="{_f(y)}" y2="{_f(y)}" stroke="{GRID}" stroke-width="0.8"/>')
        out.append(f'<text x="{_f(TREND_PAD_L - 6)}" y="{_f(y + 3)}" text-anchor="end" '
                   f'font-size="11" fill="#8a8f98">{level}</text>')
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, card in enumerate(cards):
        if card.overall is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{_f(x_of(i))},{_f(y_of(card.overall))}")
    if segment:
        segments.append(segment)
    for seg in segments:
        out.append(f'<polyline class="line" points="{" ".join(seg)}" fill="none" '
                   f'stroke="{STROKE}" stroke-width="2"/>')
    for i, card in enumerate(cards):
        x = x_of(i)
        out.append(f'<text x="{_f(x)}" y="{_f(TREND_H - TREND_PAD_B + 16)}" text-anchor="middle" '
                   f'font-size="12" fill="#57606a">{escape(card.term)}</text>')
        if card.overall is None:
            out.append(f'<text class="no-data" x="{_f(x)}" y="{_f(TREND_H - TREND_PAD_B - 4)}" '
                       f'text-anchor="middle" font-size="12" fill="#8a8f98">{escape(no_data)}</text>')
            continue
        y = y_of(card.overall)
        out.append(f'<circle class="point" data-term="{escape(card.term)}" '
                   f'data-score="{_f(card.overall)}" cx="{_f(x)}" cy="{_f(y)}" r="3.5" '
                   f'fill="{STROKE}"/>')
        out.append(f'<text x="{_f(x)}" y="{_f(y - 9)}" text-anchor="middle" font-size="13" '
                   f'font-weight="600" fill="#1c1c21">{score_text(card.overall, no_data)}</text>')
    out.append("</svg>")
    return "\n".join(out)
