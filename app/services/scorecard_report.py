"""The club's term report for the annual review: an A4 PDF with the header, the radar and
the scores, the indicator table (raw figures, a hint for each weak one) and the trend.

Bilingual like the transcript: each label prints as Chinese then English, the Chinese
from the compiled zh_CN catalog (``app.i18n.catalog``), the English from the message id
(``N_`` marks the ids below for extraction).  The indicators' names, figures and hints
come with both halves from ``app.services.scorecard``.

It uses the transcript's font (``credentials``' bundled WenQuanYi Micro Hei, registered
once per process by ``credentials.get_font``), its line breaker
(``credentials.text_layout``) and its palette (``credentials.palette``), so Chinese
text is embedded as a subset and stays extractable.  Rendering is deterministic: the same
scorecard, date and catalog give the same bytes.  The charts for the pages are in
``scorecard_charts`` (re-exported here).
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Sequence
from datetime import date

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from app import i18n
from app.services.scorecard import DIMENSION_KEYS, DIMENSION_LABELS, WEAK_SCORE, Scorecard, term_in_progress
from app.services.scorecard_charts import RINGS, Axis, radar_axes, radar_svg, score_text, trend_svg
from credentials import get_font
from credentials.labels import N_, ZH_COLON, Labels, Translator
from credentials.palette import (
    DIMENSION_FILL,
    GREY,
    HEAD_FILL,
    INK,
    LIGHT,
    SCORE_TRACK,
    SIGNAL_FILL,
    SIGNAL_RED,
    WEAK_FILL,
    WHITE,
)
from credentials.text_layout import text_width, wrap_paragraphs

__all__ = ["radar_svg", "render_report", "trend_svg"]

PAGE_W, PAGE_H = A4
MARGIN = 42.0
CONTENT_W = PAGE_W - 2 * MARGIN

REPORT_TITLE = N_("Five-izations term report")
GENERATED = N_("report|Generated")
UNIT = N_("Unit")
CATEGORY = N_("Category")
TERM = N_("Term")
IN_PROGRESS = N_("In progress so far")
COMPUTED = N_("Computed from the records, never typed in")
PAGE_OF = N_("Page %(page)s of %(pages)s")
PAGE = N_("Page %(page)s")
NO_DATA = N_("No data")
OVERALL = N_("Overall")
NO_ACTIVITY = N_("No activity this term")
SOME_WEAK = N_("%(count)s indicator(s) below %(score)s: see the hints.")
NONE_WEAK = N_("Every indicator is at %(score)s or above.")
INDICATORS = N_("Indicators and their raw figures")
COL_INDICATOR = N_("Indicator")
COL_SCORE = N_("Score")
COL_FIGURES = N_("Raw figures")
COL_HINT = N_("report|Hint")
TREND = N_("Trend across terms")
LABELS = (REPORT_TITLE, GENERATED, UNIT, CATEGORY, TERM, IN_PROGRESS, COMPUTED, PAGE_OF, PAGE,
          NO_DATA, OVERALL, NO_ACTIVITY, SOME_WEAK, NONE_WEAK, INDICATORS, COL_INDICATOR,
          COL_SCORE, COL_FIGURES, COL_HINT, TREND)


@functools.cache
def _catalog_zh() -> Translator:
    """The compiled zh_CN catalog, read once per process."""
    return i18n.catalog("zh_CN").gettext


class _Report:
    def __init__(self, card: Scorecard, trend: Sequence[Scorecard], institution: str,
                 generated_on: date, zh: Labels, pages: int | None = None) -> None:
        self.card, self.trend, self.pages = card, list(trend), pages
        self.institution, self.generated_on = institution, generated_on
        self.zh = zh
        self.no_data = zh(NO_DATA)
        self.metrics = get_font()  # registers the bundled TrueType font with reportlab
        self.font = self.metrics.name
        self.buffer = io.BytesIO()
        self.c = Canvas(self.buffer, pagesize=A4, invariant=1, pageCompression=1,
                        lang="zh-CN", initialFontName=self.font, initialFontSize=10)
        self.c.setTitle(f"{zh(REPORT_TITLE)} {card.club.name} {card.term}")
        self.c.setAuthor(institution[:200])
        self.c.setSubject(REPORT_TITLE)
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
        return text_width(self.metrics, s, size)

    def wrap(self, s: str, size: float, width: float) -> list[str]:
        return wrap_paragraphs(self.metrics, s, width, size)

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
        zh = self.zh
        self.text(MARGIN, MARGIN - 20,
                  f"{self.card.club.name} · {self.card.term} · {zh.both(COMPUTED)}", 7.5, GREY)
        page = (zh.both(PAGE_OF, " · ", page=self.page, pages=self.pages) if self.pages
                else zh.both(PAGE, " · ", page=self.page))
        self.text(PAGE_W - MARGIN, MARGIN - 20, page, 7.5, GREY, "end")

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

    def heading(self, msgid: str) -> None:
        """A section heading: the Chinese, then the English in grey."""
        head = self.zh(msgid)
        self.text(MARGIN, self.y - 14, head, 12, INK)
        self.text(MARGIN + self.width(head, 12) + 6, self.y - 14, self.zh.en(msgid), 9, GREY)
        self.y -= 22

    def pair(self, zh: str, en: str, size: float, colour, width: float) -> list:
        """A cell's lines: the Chinese wrapped at ``size``, the English smaller, in grey."""
        return ([(line, size, colour) for line in self.wrap(zh, size, width)]
                + [(line, 6.5, GREY) for line in self.wrap(en, 6.5, width)])

    # -- sections -------------------------------------------------------------------
    def header(self):
        card, zh = self.card, self.zh
        self.text(MARGIN, self.y - 10, self.institution, 10, GREY)
        self.text(PAGE_W - MARGIN, self.y - 10, f"{zh.both(GENERATED)} {self.generated_on:%Y-%m-%d}",
                  8.5, GREY, "end")
        title = zh(REPORT_TITLE)
        self.text(MARGIN, self.y - 36, title, 20, SIGNAL_RED)
        self.text(MARGIN + self.width(title, 20) + 8, self.y - 36, REPORT_TITLE, 11, GREY)
        self.text(MARGIN, self.y - 62, card.club.name, 16)
        meta = "    ".join(f"{zh.both(label)}{ZH_COLON}{value}" for label, value in (
            (UNIT, card.club.unit_name), (CATEGORY, card.club.category), (TERM, card.term)))
        self.text(MARGIN, self.y - 80, meta, 9, INK)
        if term_in_progress(card.term, self.generated_on):
            self.text(PAGE_W - MARGIN, self.y - 80,
                      f"{zh(IN_PROGRESS)} {self.generated_on:%Y-%m-%d} {IN_PROGRESS}", 8.5,
                      GREY, "end")
        self.c.setStrokeColorRGB(*SIGNAL_RED)
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
            c.setFillColorRGB(*SIGNAL_FILL)
            c.setStrokeColorRGB(*SIGNAL_RED)
            c.setLineWidth(1.6)
            c.drawPath(path, stroke=1, fill=1)
            c.setFillColorRGB(*SIGNAL_RED)
            for a in axes:
                if a.score is not None:
                    x, y = pt(a, a.fraction)
                    c.circle(x, y, 2.2, stroke=0, fill=1)
        else:
            label = self.zh.both(NO_DATA)
            w = self.width(label, 12) + 10
            self.rect(cx - w / 2, cy - 9, w, 20, fill=WHITE)
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
            head = f"{a.label_zh} {score_text(a.score, self.no_data)}"
            self.text(lx, ly, head, 10, INK if a.score is not None else GREY, anchor)
            self.text(lx, ly - 10, a.key.capitalize(), 7, GREY, anchor)

    def summary(self):
        top = self.y
        size = 250.0
        self.radar(MARGIN - 6, top, size)
        x = MARGIN + size + 24
        w = PAGE_W - MARGIN - x
        card, zh = self.card, self.zh
        self.text(x, top - 16, zh.both(OVERALL), 10, GREY)
        big = score_text(card.overall, self.no_data)
        self.text(x, top - 56, big, 36 if card.overall is not None else 24, SIGNAL_RED)
        if card.overall is not None:
            self.text(x + self.width(big, 36) + 6, top - 56, "/ 100", 11, GREY)
        else:
            self.text(x, top - 74, zh.both(NO_ACTIVITY), 9, GREY)
        y = top - 100
        for key in DIMENSION_KEYS:
            dim = card.dimensions[key]
            self.text(x, y, f"{dim.label_zh} {dim.label_en}", 9.5)
            self.text(PAGE_W - MARGIN, y, score_text(dim.score, self.no_data), 9.5,
                      SIGNAL_RED if dim.score is not None else GREY, "end")
            self.rect(x, y - 9, w, 4.5, fill=SCORE_TRACK)
            if dim.score:
                self.rect(x, y - 9, w * dim.score / 100, 4.5, fill=SIGNAL_RED)
            y -= 27
        weak = len(card.weak)
        if card.overall is not None:
            score = f"{WEAK_SCORE:.0f}"
            note = (zh.both(SOME_WEAK, count=weak, score=score) if weak
                    else zh.both(NONE_WEAK, score=score))
            for i, line in enumerate(self.wrap(note, 8.5, w)):
                self.text(x, y - 2 - 11 * i, line, 8.5, GREY)
        self.y = top - size - 6

    COLS = ((0.24, COL_INDICATOR), (0.09, COL_SCORE), (0.37, COL_FIGURES), (0.30, COL_HINT))

    def table_head(self):
        h = 18.0
        self.rect(MARGIN, self.y - h, CONTENT_W, h, fill=HEAD_FILL)
        x = MARGIN
        for share, title in self.COLS:
            self.text(x + 4, self.y - 12.5, self.zh.both(title), 8.5, INK)
            x += CONTENT_W * share
        self.y -= h

    def indicators(self):
        self.need(60)
        self.heading(INDICATORS)
        self.table_head()
        widths = [CONTENT_W * share for share, _ in self.COLS]
        for key in DIMENSION_KEYS:
            dim = self.card.dimensions[key]
            self.need(40, self.table_head)
            band = 16.0
            self.rect(MARGIN, self.y - band, CONTENT_W, band, fill=DIMENSION_FILL)
            self.text(MARGIN + 4, self.y - 11.5, f"{dim.label_zh} {dim.label_en}", 9, SIGNAL_RED)
            self.text(MARGIN + widths[0] + 4, self.y - 11.5, score_text(dim.score, self.no_data), 9,
                      SIGNAL_RED)
            self.y -= band
            for item in dim.indicators:
                cells = [
                    self.pair(item.label_zh, item.label_en, 8.0, INK, widths[0] - 8),
                    [(score_text(item.score, self.no_data), 8.5, SIGNAL_RED if item.weak else INK)],
                    self.pair(item.detail_zh, item.detail_en, 7.5, INK, widths[2] - 8),
                    self.pair(item.hint_zh or "", item.hint_en or "", 7.5, SIGNAL_RED, widths[3] - 8)
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
        self.heading(TREND)
        heads = [self.zh.both(TERM), self.zh.both(OVERALL),
                 *(DIMENSION_LABELS[k][0] for k in DIMENSION_KEYS)]
        col = CONTENT_W / len(heads)
        self.rect(MARGIN, self.y - 16, CONTENT_W, 16, fill=HEAD_FILL)
        for i, head in enumerate(heads):
            self.text(MARGIN + col * i + 4, self.y - 11.5, head, 8.5)
        self.y -= 16
        for card in rows:
            values = [card.term, score_text(card.overall, self.no_data),
                      *(score_text(card.dimensions[k].score, self.no_data) for k in DIMENSION_KEYS)]
            bold = card.term == self.card.term
            for i, value in enumerate(values):
                self.text(MARGIN + col * i + 4, self.y - 11.5, value, 8.5,
                          SIGNAL_RED if bold and i else (INK if value != self.no_data else GREY))
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
    generated_on: date | None = None, zh: Translator | None = None,
) -> bytes:
    """The club's term report (A4 PDF): header, radar and scores, indicator table with the
    raw figures and a hint for each weak one, and the trend across terms.

    ``zh`` translates the labels into Chinese; by default the app's compiled zh_CN catalog.
    """
    generated_on = generated_on or date.today()
    labels = Labels(zh or _catalog_zh(), LABELS)
    # A first pass counts the pages so that every footer can say "of M".
    first = _Report(card, trend, institution, generated_on, labels)
    first.render()
    return _Report(card, trend, institution, generated_on, labels, pages=first.page).render()
