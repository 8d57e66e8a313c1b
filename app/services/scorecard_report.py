"""Drawings of a scorecard: the radar chart (SVG for pages, canvas paths for the PDF), the
trend chart, and the club's term report as an A4 PDF for the annual review.

The radar has five axes, one per dimension, starting at the top and going clockwise in
the order of ``DIMENSIONS``; a value is drawn at ``score / 100`` of the radius.  A
dimension without data sits at the centre and is labelled "无数据"; a club without any
data gets no polygon at all.

The PDF uses the CJK TrueType font the transcript uses (``credentials``' bundled
WenQuanYi Micro Hei, registered once per process by ``credentials.get_font``), so Chinese
text is embedded as a subset and stays extractable.  Rendering is deterministic: the same
scorecard and date give the same bytes.

Over 500 lines for now: it still holds its own line breaker and palette; the house issue
(#12) moves those into the layout shared with the transcript, which brings it under.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape, quoteattr

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.services.scorecard import (
    DIMENSION_KEYS,
    DIMENSION_LABELS,
    WEAK_SCORE,
    Scorecard,
    term_in_progress,
)

# =========================================================================== geometry


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


def _score_text(score: float | None) -> str:
    if score is None:
        return "无数据"
    return f"{score:.0f}" if score == int(score) else f"{score:.1f}"


# =========================================================================== SVG

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
    summary = "；".join(f"{a.label_zh} {_score_text(a.score)}" for a in axes)
    title = title or f"{card.club.name} {card.term} 五化雷达图"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="radar" role="img" '
        f'viewBox="0 0 {_f(RADAR_W)} {_f(RADAR_H)}" width="{_f(RADAR_W)}" '
        f'height="{_f(RADAR_H)}" data-cx="{_f(cx)}" data-cy="{_f(cy)}" data-r="{_f(r)}" '
        f'aria-label={quoteattr(title + "：" + summary)} font-family="{SVG_FONT}">',
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
                   f'font-size="15" fill="#57606a">无数据</text>')
        out.append(f'<text class="no-data" x="{_f(cx)}" y="{_f(cy + 14)}" text-anchor="middle" '
                   f'font-size="11" fill="#57606a">No activity this term</text>')
    for a in axes:
        anchor, x, y = _anchor(a)
        colour = "#57606a" if a.score is None else "#1c1c21"
        out.append(
            f'<text class="label" data-key="{a.key}" x="{_f(x)}" y="{_f(y)}" '
            f'text-anchor="{anchor}" font-size="14" fill="{colour}">'
            f'<tspan font-weight="600">{escape(a.label_zh)}</tspan> '
            f'<tspan class="score" fill="{STROKE if a.score is not None else colour}" '
            f'font-weight="600">{escape(_score_text(a.score))}</tspan>'
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

    label = "；".join(f"{c.term} {_score_text(c.overall)}" for c in cards)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" role="img" '
        f'viewBox="0 0 {_f(TREND_W)} {_f(TREND_H)}" width="{_f(TREND_W)}" '
        f'height="{_f(TREND_H)}" aria-label={quoteattr("总分趋势 Overall by term：" + label)} '
        f'font-family="{SVG_FONT}">',
        "<title>总分趋势 Overall score by term</title>",
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
                       f'text-anchor="middle" font-size="12" fill="#8a8f98">无数据</text>')
            continue
        y = y_of(card.overall)
        out.append(f'<circle class="point" data-term="{escape(card.term)}" '
                   f'data-score="{_f(card.overall)}" cx="{_f(x)}" cy="{_f(y)}" r="3.5" '
                   f'fill="{STROKE}"/>')
        out.append(f'<text x="{_f(x)}" y="{_f(y - 9)}" text-anchor="middle" font-size="13" '
                   f'font-weight="600" fill="#1c1c21">{_score_text(card.overall)}</text>')
    out.append("</svg>")
    return "\n".join(out)


# =========================================================================== PDF

PAGE_W, PAGE_H = A4
MARGIN = 42.0
CONTENT_W = PAGE_W - 2 * MARGIN
INK = (0.11, 0.11, 0.13)
GREY = (0.40, 0.40, 0.44)
LIGHT = (0.79, 0.80, 0.82)
RED = (0.71, 0.14, 0.09)
RED_FILL = (0.96, 0.83, 0.81)
HEAD_FILL = (0.93, 0.93, 0.95)
WEAK_FILL = (0.99, 0.93, 0.92)
BAR_TRACK = (0.93, 0.93, 0.95)


def _font_name() -> str:
    from credentials import FONT_NAME, get_font

    get_font()  # registers the bundled TrueType font with reportlab, once per process
    return FONT_NAME


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy line breaking: CJK anywhere, Latin words at spaces."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            trial = line + token
            if line and stringWidth(trial, font, size) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line = trial
        lines.append(line.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    out, word = [], ""
    for ch in text:
        if ord(ch) >= 0x2E80:
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        elif ch == " ":
            out.append(word + " ")
            word = ""
        else:
            word += ch
    if word:
        out.append(word)
    return out


class _Report:
    def __init__(self, card: Scorecard, trend: Sequence[Scorecard], institution: str,
                 generated_on: date, pages: int | None = None) -> None:
        self.card, self.trend, self.pages = card, list(trend), pages
        self.institution, self.generated_on = institution, generated_on
        self.font = _font_name()
        self.buffer = io.BytesIO()
        self.c = Canvas(self.buffer, pagesize=A4, invariant=1, pageCompression=1,
                        lang="zh-CN", initialFontName=self.font, initialFontSize=10)
        self.c.setTitle(f"社团五化建设学期报告 {card.club.name} {card.term}")
        self.c.setAuthor(institution[:200])
        self.c.setSubject("Five-izations term report")
        self.c.setCreator("Second Transcript")
        self.page = 1
        self.y = PAGE_H - MARGIN

    # -- primitives -----------------------------------------------------------------
    def text(self, x, y, s, size, colour=INK, anchor="start"):
        c = self.c
        c.setFont(self.font, size)
        c.setFillColorRGB(*colour)
        if anchor == "middle":
            c.drawCentredString(x, y, s)
        elif anchor == "end":
            c.drawRightString(x, y, s)
        else:
            c.drawString(x, y, s)

    def width(self, s, size) -> float:
        return stringWidth(s, self.font, size)

    def rect(self, x, y, w, h, fill=None, stroke=None, line=0.6):
        c = self.c
        if fill:
            c.setFillColorRGB(*fill)
        if stroke:
            c.setStrokeColorRGB(*stroke)
            c.setLineWidth(line)
        c.rect(x, y, w, h, stroke=1 if stroke else 0, fill=1 if fill else 0)

    def footer(self):
        self.c.setStrokeColorRGB(*LIGHT)
        self.c.setLineWidth(0.5)
        self.c.line(MARGIN, MARGIN - 8, PAGE_W - MARGIN, MARGIN - 8)
        self.text(MARGIN, MARGIN - 20,
                  f"{self.card.club.name} · {self.card.term} · 根据系统记录自动计算 "
                  "Computed from the records, never typed in", 7.5, GREY)
        of = f" / 共 {self.pages} 页 · Page {self.page} of {self.pages}" if self.pages else f" 页 · Page {self.page}"
        self.text(PAGE_W - MARGIN, MARGIN - 20, f"第 {self.page}{' 页' if self.pages else ''}{of}", 7.5,
                  GREY, "end")

    def new_page(self):
        self.footer()
        self.c.showPage()
        self.page += 1
        self.y = PAGE_H - MARGIN

    def need(self, height: float, redraw=None):
        if self.y - height < MARGIN + 10:
            self.new_page()
            if redraw:
                redraw()

    # -- sections -------------------------------------------------------------------
    def header(self):
        card = self.card
        self.text(MARGIN, self.y - 10, self.institution, 10, GREY)
        self.text(PAGE_W - MARGIN, self.y - 10, f"生成日期 Generated {self.generated_on:%Y-%m-%d}",
                  8.5, GREY, "end")
        self.text(MARGIN, self.y - 36, "社团五化建设学期报告", 20, RED)
        self.text(MARGIN + self.width("社团五化建设学期报告", 20) + 8, self.y - 36,
                  "Five-izations term report", 11, GREY)
        self.text(MARGIN, self.y - 62, card.club.name, 16)
        meta = (f"院系 Unit：{card.club.unit_name}    类别 Category：{card.club.category}    "
                f"学期 Term：{card.term}")
        self.text(MARGIN, self.y - 80, meta, 9, INK)
        if term_in_progress(card.term, self.generated_on):
            self.text(PAGE_W - MARGIN, self.y - 80,
                      f"学期进行中，截至 {self.generated_on:%Y-%m-%d} In progress so far", 8.5,
                      GREY, "end")
        self.c.setStrokeColorRGB(*RED)
        self.c.setLineWidth(1.2)
        self.c.line(MARGIN, self.y - 90, PAGE_W - MARGIN, self.y - 90)
        self.y -= 100

    def radar(self, x0: float, top: float, size: float):
        """The radar drawn with canvas paths; (x0, top) is the box's top-left corner."""
        c = self.c
        cx, cy, r = x0 + size / 2, top - size / 2 - 4, size * 0.27
        axes = radar_axes(self.card)

        def pt(axis: Axis, fraction: float) -> tuple[float, float]:
            # screen angles (y down) → PDF (y up): mirror the y component
            return (cx + r * fraction * math.cos(axis.angle),
                    cy - r * fraction * math.sin(axis.angle))

        c.setLineWidth(0.6)
        c.setStrokeColorRGB(*LIGHT)
        for ring in RINGS:
            path = c.beginPath()
            for i, a in enumerate(axes):
                x, y = pt(a, ring / 100)
                path.moveTo(x, y) if i == 0 else path.lineTo(x, y)
            path.close()
            c.drawPath(path, stroke=1, fill=0)
        for a in axes:
            x, y = pt(a, 1.0)
            c.line(cx, cy, x, y)
        if not self.card.no_data:
            path = c.beginPath()
            for i, a in enumerate(axes):
                x, y = pt(a, a.fraction)
                path.moveTo(x, y) if i == 0 else path.lineTo(x, y)
            path.close()
            c.setFillColorRGB(*RED_FILL)
            c.setStrokeColorRGB(*RED)
            c.setLineWidth(1.6)
            c.drawPath(path, stroke=1, fill=1)
            c.setFillColorRGB(*RED)
            for a in axes:
                if a.score is not None:
                    x, y = pt(a, a.fraction)
                    c.circle(x, y, 2.2, stroke=0, fill=1)
        else:
            label = "无数据 No data"
            w = self.width(label, 12) + 10
            self.rect(cx - w / 2, cy - 9, w, 20, fill=(1, 1, 1))
            self.text(cx, cy - 3, label, 12, GREY, "middle")
        for a in axes:
            x, y = pt(a, 1.0)
            cos, sin = math.cos(a.angle), -math.sin(a.angle)
            lx, ly = x + 12 * cos, y + 12 * sin
            anchor = "middle" if abs(cos) < 0.3 else ("start" if cos > 0 else "end")
            if sin > 0.9:
                ly += 12
            elif sin < -0.3:
                ly -= 10
            head = f"{a.label_zh} {_score_text(a.score)}"
            self.text(lx, ly, head, 10, INK if a.score is not None else GREY, anchor)
            self.text(lx, ly - 10, a.key.capitalize(), 7, GREY, anchor)

    def summary(self):
        top = self.y
        size = 250.0
        self.radar(MARGIN - 6, top, size)
        x = MARGIN + size + 24
        w = PAGE_W - MARGIN - x
        card = self.card
        self.text(x, top - 16, "总分 Overall", 10, GREY)
        big = _score_text(card.overall) if card.overall is not None else "无数据"
        self.text(x, top - 56, big, 36 if card.overall is not None else 24, RED)
        if card.overall is not None:
            self.text(x + self.width(big, 36) + 6, top - 56, "/ 100", 11, GREY)
        else:
            self.text(x, top - 74, "本学期没有活动 No activity this term", 9, GREY)
        y = top - 100
        for key in DIMENSION_KEYS:
            dim = card.dimensions[key]
            self.text(x, y, f"{dim.label_zh} {dim.label_en}", 9.5)
            self.text(PAGE_W - MARGIN, y, _score_text(dim.score), 9.5,
                      RED if dim.score is not None else GREY, "end")
            self.rect(x, y - 9, w, 4.5, fill=BAR_TRACK)
            if dim.score:
                self.rect(x, y - 9, w * dim.score / 100, 4.5, fill=RED)
            y -= 27
        weak = len(card.weak)
        if card.overall is not None:
            note = (f"{weak} 项指标低于 {WEAK_SCORE:.0f} 分，见下表建议。 "
                    f"{weak} indicator(s) below {WEAK_SCORE:.0f}: see the hints." if weak else
                    f"所有指标均达到 {WEAK_SCORE:.0f} 分。 "
                    f"Every indicator is at {WEAK_SCORE:.0f} or above.")
            for i, line in enumerate(_wrap(note, self.font, 8.5, w)):
                self.text(x, y - 2 - 11 * i, line, 8.5, GREY)
        self.y = top - size - 6

    COLS = ((0.24, "指标 Indicator"), (0.09, "得分 Score"), (0.37, "原始数据 Raw figures"),
            (0.30, "改进建议 Hint"))

    def table_head(self):
        h = 18.0
        self.rect(MARGIN, self.y - h, CONTENT_W, h, fill=HEAD_FILL)
        x = MARGIN
        for share, title in self.COLS:
            self.text(x + 4, self.y - 12.5, title, 8.5, INK)
            x += CONTENT_W * share
        self.y -= h

    def indicators(self):
        self.need(60)
        self.text(MARGIN, self.y - 14, "指标明细", 12, INK)
        self.text(MARGIN + self.width("指标明细", 12) + 6, self.y - 14,
                  "Indicators and their raw figures", 9, GREY)
        self.y -= 22
        self.table_head()
        widths = [CONTENT_W * share for share, _ in self.COLS]
        for key in DIMENSION_KEYS:
            dim = self.card.dimensions[key]
            self.need(40, self.table_head)
            band = 16.0
            self.rect(MARGIN, self.y - band, CONTENT_W, band, fill=(0.98, 0.95, 0.94))
            self.text(MARGIN + 4, self.y - 11.5, f"{dim.label_zh} {dim.label_en}", 9, RED)
            self.text(MARGIN + widths[0] + 4, self.y - 11.5, _score_text(dim.score), 9, RED)
            self.y -= band
            for item in dim.indicators:
                cells = [
                    [(line, 8.0, INK) for line in _wrap(item.label_zh, self.font, 8.0,
                                                        widths[0] - 8)]
                    + [(line, 6.5, GREY) for line in _wrap(item.label_en, self.font, 6.5,
                                                          widths[0] - 8)],
                    [(_score_text(item.score), 8.5, RED if item.weak else INK)],
                    [(line, 7.5, INK) for line in _wrap(item.detail_zh, self.font, 7.5,
                                                        widths[2] - 8)]
                    + [(line, 6.5, GREY) for line in _wrap(item.detail_en, self.font, 6.5,
                                                          widths[2] - 8)],
                    ([(line, 7.5, RED) for line in _wrap(item.hint_zh or "", self.font, 7.5,
                                                         widths[3] - 8)]
                     + [(line, 6.5, GREY) for line in _wrap(item.hint_en or "", self.font, 6.5,
                                                           widths[3] - 8)])
                    if item.weak else [("—", 7.5, GREY)],
                ]
                height = max(sum(size + 2.2 for _, size, _ in cell) for cell in cells) + 6
                self.need(height, self.table_head)
                if item.weak:
                    self.rect(MARGIN, self.y - height, CONTENT_W, height, fill=WEAK_FILL)
                x = MARGIN
                for cell, w in zip(cells, widths, strict=True):
                    y = self.y - 3
                    for line, size, colour in cell:
                        y -= size + 2.2
                        if line:
                            self.text(x + 4, y + 1.5, line, size, colour)
                    x += w
                self.c.setStrokeColorRGB(*LIGHT)
                self.c.setLineWidth(0.4)
                self.c.line(MARGIN, self.y - height, PAGE_W - MARGIN, self.y - height)
                self.y -= height
        self.y -= 8

    def trend_table(self):
        if len(self.trend) < 2:
            return
        rows = self.trend
        self.need(50 + 16 * len(rows))
        self.text(MARGIN, self.y - 14, "历学期趋势", 12, INK)
        self.text(MARGIN + self.width("历学期趋势", 12) + 6, self.y - 14, "Trend across terms",
                  9, GREY)
        self.y -= 22
        heads = ["学期 Term", "总分 Overall", *(DIMENSION_LABELS[k][0] for k in DIMENSION_KEYS)]
        col = CONTENT_W / len(heads)
        self.rect(MARGIN, self.y - 16, CONTENT_W, 16, fill=HEAD_FILL)
        for i, head in enumerate(heads):
            self.text(MARGIN + col * i + 4, self.y - 11.5, head, 8.5)
        self.y -= 16
        for card in rows:
            values = [card.term, _score_text(card.overall),
                      *(_score_text(card.dimensions[k].score) for k in DIMENSION_KEYS)]
            bold = card.term == self.card.term
            for i, value in enumerate(values):
                self.text(MARGIN + col * i + 4, self.y - 11.5, value, 8.5,
                          RED if bold and i else (INK if value != "无数据" else GREY))
            self.c.setStrokeColorRGB(*LIGHT)
            self.c.setLineWidth(0.4)
            self.c.line(MARGIN, self.y - 16, PAGE_W - MARGIN, self.y - 16)
            self.y -= 16

    def render(self) -> bytes:
        self.header()
        self.summary()
        self.indicators()
        self.trend_table()
        self.footer()
        self.c.showPage()
        self.c.save()
        return self.buffer.getvalue()


def render_report(
    card: Scorecard, trend: Sequence[Scorecard] = (), *, institution: str = "",
    generated_on: date | None = None,
) -> bytes:
    """The club's term report (A4 PDF): header, radar and scores, indicator table with the
    raw figures and a hint for each weak one, and the trend across terms."""
    generated_on = generated_on or date.today()
    # A first pass counts the pages so that every footer can say "of M".
    first = _Report(card, trend, institution, generated_on)
    first.render()
    return _Report(card, trend, institution, generated_on, pages=first.page).render()
