"""The transcript's page geometry and its first pass: every row measured and wrapped,
then paged, so the page count is known before anything is drawn.

A page is a list of ``(kind, y_top, payload)`` items (kinds: info, summary, section,
module, colhead, row, empty, end) that :mod:`credentials.transcript_draw` draws.

The summary's height follows the snapshot: one bar row per module of its list (rows
shrink from the seven-module height down to ``MIN_BAR_ROW_H``, then the box grows), and,
when the snapshot carries a requirement, a block under the box with its verdict and the
yearly grades.  Seven modules and no requirement give the summary it always had.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from reportlab.lib.pagesizes import A4

from . import labels as L
from .fonts import Font
from .palette import GREY, INK, SEAL_RED
from .snapshot import CLAIM, EXCELLENT, FAIL, LEVELS, ROLES, Record, Requirement, Snapshot
from .text_layout import fit, text_width, wrap

# -- geometry (points) ---------------------------------------------------------------
PAGE_W, PAGE_H = A4
M_L = M_R = 42.0
M_T = 36.0
M_B = 30.0
CONTENT_W = PAGE_W - M_L - M_R
QR_SIZE = 128.0  # quiet zone included: a version-8 code (form-2 link) gets 0.79 mm modules
BAND_H = QR_SIZE + 14.0
FOOTER_H = 34.0
BODY_TOP = PAGE_H - M_T - BAND_H - 10.0
BODY_BOTTOM = M_B + FOOTER_H + 4.0

# -- table -----------------------------------------------------------------------------
CELL_SIZE = 7.5
CELL_LEAD = 9.4
CELL_EN_SIZE = 6.0
PAD_X = 3.0
PAD_TOP = 3.4
PAD_BOTTOM = 3.0
#: Longest cell (lines); longer text ends in "…" (the attached snapshot has it all).
#: 40 lines always fit one page body with its module and column headings.
MAX_CELL_LINES = 40
#: (record field, label msgid, width, alignment)
COLUMNS: tuple[tuple[str, str, float, str], ...] = (
    ("date", L.COL_DATE, 50.0, "l"),
    ("activity", L.COL_ACTIVITY, 128.0, "l"),
    ("club", L.COL_CLUB, 80.0, "l"),
    ("level", L.COL_LEVEL, 42.0, "l"),
    ("role", L.COL_ROLE, 42.0, "l"),
    ("hours", L.COL_HOURS, 32.0, "r"),
    ("award", L.COL_AWARD, 66.0, "l"),
    ("certified_by", L.COL_CERTIFIED_BY, CONTENT_W - 440.0, "l"),
)
MODULE_ROW_H = 17.0
HEAD_ROW_H = 22.0
SUMMARY_H = 132.0  # the heading (18) and the box, for up to seven modules
SUMMARY_HEAD_H = 18.0
#: The bars' area in the box of seven modules; rows shrink to MIN_BAR_ROW_H, then the box grows.
BAR_AREA_H = SUMMARY_H - SUMMARY_HEAD_H - 14.0
MIN_BAR_ROW_H = 11.0
TOTALS_W = 140.0  # the summary's left column (totals), also the requirement's label cell
REQ_PAD_TOP = 5.0
REQ_PAD_BOTTOM = 6.0
REQ_MIN_H = 28.0
ISSUER_H = 52.0
INFO_LABEL_W = 64.0
_LEVEL = {k: (zh, en) for k, zh, en in LEVELS}
_ROLE = {k: (zh, en) for k, zh, en in ROLES}


def hours_text(h: Decimal) -> str:
    return str(h)


@dataclass(slots=True)
class Row:
    height: float
    cells: list  # per column: list of (lines, size, colour)
    record: Record


def _cell_blocks(font: Font, r: Record, zh: L.Labels) -> list:
    cells = []
    for key, _label, width, _align in COLUMNS:
        inner = width - 2 * PAD_X
        if key == "date":
            cells.append([([r.date.isoformat()], CELL_SIZE, INK)])
        elif key == "hours":
            cells.append([([hours_text(r.hours)], CELL_SIZE, INK)])
        elif key in ("level", "role"):
            zh, en = (_LEVEL if key == "level" else _ROLE)[getattr(r, key)]
            cells.append([([zh], CELL_SIZE, INK), ([en], CELL_EN_SIZE, GREY)])
        elif key == "club" and r.source == CLAIM:
            # The student's own achievement, certified by an organizer: said so where the club would be.
            cells.append([([zh(L.CLAIM)], CELL_SIZE, INK), ([zh.en(L.CLAIM)], CELL_EN_SIZE, GREY)])
        elif key == "award":
            text = font.clean(r.award or "")
            lines = wrap(font, text, inner, CELL_SIZE, MAX_CELL_LINES) if text else ["—"]
            cells.append([(lines, CELL_SIZE, SEAL_RED if text else GREY)])
        else:
            text = font.clean(getattr(r, key)) or "—"
            cells.append([(wrap(font, text, inner, CELL_SIZE, MAX_CELL_LINES), CELL_SIZE, INK)])
    return cells


def _row(font: Font, r: Record, zh: L.Labels) -> Row:
    cells = _cell_blocks(font, r, zh)
    h = 0.0
    for blocks in cells:
        ch = sum(len(lines) * (CELL_LEAD if size == CELL_SIZE else size + 1.6)
                 for lines, size, _ in blocks)
        h = max(h, ch)
    return Row(PAD_TOP + h + PAD_BOTTOM, cells, r)


@dataclass(slots=True)
class Info:
    height: float
    rows: list  # [(height, [(label msgid, lines, size), (..)])]


def _info(font: Font, s: Snapshot) -> Info:
    half = CONTENT_W / 2
    value_w = half - INFO_LABEL_W - 2 * 6
    # The issue date is also in the band above, so a class, when there is one, takes its cell.
    second = (L.SCHOOL_CLASS, s.school_class, 9.5) if s.school_class \
        else (L.DATE_OF_ISSUE, s.issued_on.isoformat(), 10.0)
    pairs = [
        ((L.NAME, s.student_name, 11.0), (L.STUDENT_NO, s.student_no, 10.0)),
        ((L.UNIT, s.unit or "—", 9.5), second),
    ]
    rows = []
    total = 0.0
    for pair in pairs:
        cells = []
        h = 26.0
        for label, value, size in pair:
            lines = wrap(font, font.clean(value) or "—", value_w, size, 14)
            cells.append((label, lines, size))
            h = max(h, 10.0 + len(lines) * size * 1.3)
        rows.append((h, cells))
        total += h
    return Info(total, rows)


@dataclass(slots=True)
class Summary:
    """The summary's geometry: the box of totals and bars and, under it, the requirement.

    ``requirement`` is a list of lines, each ``(size, lead, [(text, colour, bold), ...])``
    (segments drawn one after the other), or ``None``.
    """

    box_h: float
    row_h: float
    requirement: list | None
    req_h: float

    @property
    def height(self) -> float:
        return SUMMARY_HEAD_H + self.box_h + self.req_h


def summary_rows(n_modules: int) -> tuple[float, float]:
    """(box height, bar row height) for ``n_modules`` bars: the seven-module box, its rows
    shrinking for more modules down to MIN_BAR_ROW_H, then a taller box."""
    row_h = BAR_AREA_H / max(n_modules, 7)
    if row_h < MIN_BAR_ROW_H:
        row_h = MIN_BAR_ROW_H
    box_h = max(SUMMARY_H - SUMMARY_HEAD_H, n_modules * row_h + 14.0)
    return box_h, row_h


def grade_label(grade: str) -> str:
    return {EXCELLENT: L.GRADE_EXCELLENT, FAIL: L.GRADE_FAIL}.get(grade, L.GRADE_PASS)


def requirement_lines(font: Font, q: Requirement, zh: L.Labels, width: float) -> list:
    """The requirement's lines: the verdict in Chinese, then in English, the yearly grades
    (a year's entry is never split), the years passed."""
    lines: list = []
    values = dict(rules=q.rules, counted=hours_text(q.counted), required=hours_text(q.required))
    msgid = L.REQUIREMENT_MET if q.met else L.REQUIREMENT_NOT_MET
    colour = INK if q.met else SEAL_RED
    for text in wrap(font, zh(msgid, **values), width, 8.5):
        lines.append((8.5, 11.0, [(text, colour, 0.25)]))
    for text in wrap(font, zh.en(msgid, **values), width, 7.0):
        lines.append((7.0, 9.5, [(text, GREY, 0.0)]))
    size, lead = 7.5, 10.5
    if q.years:
        sep = "  ·  "
        current = [(f"{zh.both(L.YEARLY_GRADES)}: ", GREY, 0.0)]
        used = text_width(font, current[0][0], size)
        for i, (year, hours, grade) in enumerate(q.years):
            entry = f"{year} {zh.both(grade_label(grade))} {hours_text(hours)} h"
            entry_colour = SEAL_RED if grade == FAIL else INK
            gap = sep if i else ""
            w = text_width(font, gap + entry, size)
            if i and used + w > width:
                lines.append((size, lead, current))
                current, used, gap = [], 0.0, ""
                w = text_width(font, entry, size)
            if gap:
                current.append((gap, GREY, 0.0))
            current.append((fit(font, entry, width, size), entry_colour, 0.0))
            used += w
        lines.append((size, lead, current))
    if q.years or q.years_required:
        text = zh.both(L.YEARS_PASSED, passed=q.years_passed, required=q.years_required)
        for line in wrap(font, text, width, size):
            lines.append((size, lead, [(line, INK, 0.0)]))
    return lines


def _summary(font: Font, s: Snapshot, zh: L.Labels) -> Summary:
    box_h, row_h = summary_rows(len(s.modules))
    if s.requirement is None:
        return Summary(box_h, row_h, None, 0.0)
    lines = requirement_lines(font, s.requirement, zh, CONTENT_W - TOTALS_W - 24)
    req_h = max(REQ_MIN_H, REQ_PAD_TOP + sum(lead for _size, lead, _segs in lines) + REQ_PAD_BOTTOM)
    return Summary(box_h, row_h, lines, req_h)


@dataclass(slots=True)
class Layout:
    pages: list  # per page: list of (kind, y_top, payload)


def closing_lines(font: Font, zh: L.Labels) -> list[tuple[str, float, tuple]]:
    out = []
    for text, size in ((zh(L.CLOSING_NOTE), 7.5), (zh.en(L.CLOSING_NOTE), 7.0)):
        for line in wrap(font, text, CONTENT_W, size):
            out.append((line, size, GREY))
    return out


def layout(font: Font, s: Snapshot, zh: L.Labels) -> Layout:
    pages: list[list] = [[]]
    y = BODY_TOP
    info = _info(font, s)
    pages[0].append(("info", y, info))
    y -= info.height + 14
    summary = _summary(font, s, zh)
    pages[0].append(("summary", y, summary))
    y -= summary.height + 14
    pages[0].append(("section", y, None))
    y -= 20
    by_module = s.records_by_module
    n_mod = 0
    for key, mzh, men in s.modules:
        recs = by_module[key]
        if not recs:
            continue
        n_mod += 1
        mod_hours = sum((r.hours for r in recs), Decimal("0.0"))
        head = (key, mzh, men, n_mod, len(recs), mod_hours)
        rows = [_row(font, r, zh) for r in recs]
        first = True
        for row in rows:
            need = row.height + (MODULE_ROW_H + HEAD_ROW_H + 4 if first else 0)
            if y - need < BODY_BOTTOM:
                pages.append([])
                y = BODY_TOP
                first = True
            if first:
                y -= 4
                pages[-1].append(("module", y, (head, row is not rows[0])))
                y -= MODULE_ROW_H
                pages[-1].append(("colhead", y, None))
                y -= HEAD_ROW_H
                first = False
            pages[-1].append(("row", y, row))
            y -= row.height
    if not s.records:
        pages[-1].append(("empty", y, None))
        y -= 30
    closing = closing_lines(font, zh)
    need = 22 + len(closing) * 10 + ISSUER_H
    if y - need < BODY_BOTTOM:
        pages.append([])
        y = BODY_TOP
    pages[-1].append(("end", y, closing))
    return Layout(pages)
