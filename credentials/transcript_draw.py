"""The transcript's second pass: each page of the layout drawn into a :class:`Page`.

Every label prints as Chinese then English (``labels.Labels.both``); the Chinese comes
from the caller's catalog, the English is the label's message id.  The modules (summary
bars, the records' sections) are the snapshot's own list, whatever its length; the
requirement, when the snapshot has one, sits in a block under the summary's box.
"""

from __future__ import annotations

from decimal import Decimal

from . import labels as L
from .fonts import Font
from .links import parse_link, verify_page_url
from .palette import (
    BAR_FILL,
    BAR_TRACK,
    GREY,
    GRID,
    HEAD_FILL,
    INK,
    MODULE_FILL,
    SEAL_RED,
    TOTALS_FILL,
)
from .pdf_page import Page
from .snapshot import Snapshot
from .text_layout import fit, text_width
from .transcript_layout import (
    BAND_H,
    CELL_LEAD,
    CELL_SIZE,
    COLUMNS,
    CONTENT_W,
    FOOTER_H,
    HEAD_ROW_H,
    INFO_LABEL_W,
    M_B,
    M_L,
    M_R,
    M_T,
    MODULE_ROW_H,
    PAD_TOP,
    PAD_X,
    PAGE_H,
    PAGE_W,
    QR_SIZE,
    REQ_PAD_TOP,
    SUMMARY_HEAD_H,
    TOTALS_W,
    Info,
    Row,
    Summary,
    hours_text,
)

#: The PDF signature's visible seal (points): beside the issuer's block, inside ISSUER_H.
SEAL_W, SEAL_H = 168.0, 44.0

#: A module's number in its heading ("一、思想成长"): Chinese numerals, part of the data.
_NUMERALS = "一二三四五六七八九十"


def numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (1 to 99)."""
    if n <= 10:
        return _NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (_NUMERALS[ones - 1] if ones else "")


class Ctx:
    """What every page repeats, worked out once per document."""

    __slots__ = ("font", "zh", "s", "link", "serial", "issued", "name", "verify_url", "n_pages",
                 "total_hours", "by_module", "institution", "kid", "seal_box")

    def __init__(self, font: Font, zh: L.Labels, s: Snapshot, link: str, n_pages: int) -> None:
        self.font = font
        self.zh = zh
        self.s = s
        self.link = link
        self.serial = font.clean(s.serial)
        self.issued = s.issued_on.isoformat()
        self.name = font.clean(s.student_name)
        self.verify_url = verify_page_url(link)
        self.n_pages = n_pages
        self.total_hours = s.total_hours
        self.by_module = s.hours_by_module
        self.institution = font.clean(s.institution)
        self.kid = parse_link(link).kid
        # where the PAdES signature's visible seal goes on the last page (set by _draw_end)
        self.seal_box: tuple[float, float, float, float] = (M_L, M_B, M_L + SEAL_W, M_B + SEAL_H)


def draw_page(p: Page, c: Ctx, page_no: int, items: list) -> None:
    """Band, footer and the page's items; runs of column heads and rows draw as a table."""
    _draw_band(p, c, page_no)
    _draw_footer(p, c, page_no)
    i = 0
    while i < len(items):
        kind, y_top, payload = items[i]
        if kind in ("colhead", "row"):
            j = i
            while j < len(items) and items[j][0] in ("colhead", "row"):
                j += 1
            _draw_table(p, c, items[i:j])
            i = j
            continue
        if kind == "info":
            _draw_info(p, c, y_top, payload)
        elif kind == "summary":
            _draw_summary(p, c, y_top, payload)
        elif kind == "section":
            _draw_section(p, c, y_top)
        elif kind == "module":
            _draw_module(p, c, y_top, payload)
        elif kind == "empty":
            _draw_empty(p, c, y_top)
        elif kind == "end":
            _draw_end(p, c, y_top, payload)
        i += 1


def _draw_band(p: Page, c: Ctx, page_no: int) -> None:
    font, zh = c.font, c.zh
    top = PAGE_H - M_T
    left_w = CONTENT_W - QR_SIZE - 12
    qr_x = PAGE_W - M_R - QR_SIZE
    inst = fit(font, font.clean(c.s.institution), left_w, 15.0)
    p.text(M_L, top - 15, inst, 15.0, INK, bold=0.35)
    title = zh(L.TITLE)
    p.text(M_L, top - 46, title, 24.0, SEAL_RED, bold=0.6)
    x = M_L + text_width(font, title, 24.0) + 10
    p.text(x, top - 46, zh.en(L.TITLE), 13.0, SEAL_RED, bold=0.25)
    p.text(M_L, top - 61, zh.both(L.SUBTITLE, " · "), 8.0, GREY)
    line = f"{zh.both(L.SERIAL)}: {c.serial}    {zh.both(L.DATE_OF_ISSUE)}: {c.issued}"
    p.text(M_L, top - 78, fit(font, line, left_w, 8.5), 8.5, INK)
    if page_no > 1:
        who = f"{zh.both(L.NAME)}: {c.name}    {zh.both(L.STUDENT_NO)}: {font.clean(c.s.student_no)}"
        p.text(M_L, top - 92, fit(font, who, left_w, 8.5), 8.5, INK)
    p.text_center(qr_x + QR_SIZE / 2, top - QR_SIZE - 6.5, zh.both(L.SCAN_TO_VERIFY), 6.5, GREY)
    y = top - BAND_H
    p.hline(M_L, PAGE_W - M_R, y, 1.6, SEAL_RED)
    p.hline(M_L, PAGE_W - M_R, y - 2.6, 0.5, SEAL_RED)


def _draw_footer(p: Page, c: Ctx, page_no: int) -> None:
    font, zh = c.font, c.zh
    y = M_B + FOOTER_H - 6
    p.hline(M_L, PAGE_W - M_R, y, 0.5, GRID)
    y -= 10
    p.text(M_L, y, fit(font, f"{zh.both(L.SERIAL)}: {c.serial}", CONTENT_W / 3, 7.0), 7.0, INK)
    p.text_center(PAGE_W / 2, y, zh.both(L.PAGE_OF, " · ", page=page_no, pages=c.n_pages),
                  7.5, INK)
    p.text_right(PAGE_W - M_R, y, f"{zh.both(L.ISSUED)}: {c.issued}", 7.0, INK)
    y -= 9.5
    p.text(M_L, y, fit(font, zh(L.HOW_TO_VERIFY, url=c.verify_url), CONTENT_W, 6.5), 6.5, GREY)
    y -= 8
    en = zh.en(L.HOW_TO_VERIFY, url=c.verify_url)
    p.text(M_L, y, fit(font, en, CONTENT_W, 6.5), 6.5, GREY)


def _draw_info(p: Page, c: Ctx, y_top: float, info: Info) -> None:
    half = CONTENT_W / 2
    label_w = INFO_LABEL_W
    y = y_top
    for h, cells in info.rows:
        for i, (label, lines, size) in enumerate(cells):
            x = M_L + i * half
            p.fill(x, y - h, label_w, h, HEAD_FILL)
            p.text(x + 6, y - 12, c.zh(label), 8.5, INK)
            p.text(x + 6, y - 21, c.zh.en(label), 6.5, GREY)
            ly = y - 6 - size
            for line in lines:
                p.text(x + label_w + 6, ly, line, size, INK)
                ly -= size * 1.3
        p.hline(M_L, M_L + CONTENT_W, y - h, 0.5, GRID)
        y -= h
    p.rect(M_L, y, CONTENT_W, y_top - y, 0.7, GRID)
    for x in (M_L + label_w, M_L + half, M_L + half + label_w):
        p.vline(x, y, y_top, 0.5, GRID)


def _heading(p: Page, c: Ctx, y_top: float, msgid: str) -> None:
    """A section heading: a red tab, the Chinese in red, the English in grey."""
    head = c.zh(msgid)
    p.fill(M_L, y_top - 12, 3, 12, SEAL_RED)
    p.text(M_L + 8, y_top - 10, head, 10.0, SEAL_RED, bold=0.25)
    p.text(M_L + 8 + text_width(c.font, head, 10.0) + 6, y_top - 10, c.zh.en(msgid), 8.5, GREY)


def _draw_summary(p: Page, c: Ctx, y_top: float, summary: Summary) -> None:
    font, zh = c.font, c.zh
    s = c.s
    _heading(p, c, y_top, L.SUMMARY)
    top = y_top - SUMMARY_HEAD_H
    h = summary.box_h
    p.rect(M_L, top - h, CONTENT_W, h, 0.7, GRID)
    # left: totals
    lw = TOTALS_W
    p.fill(M_L, top - h, lw, h, TOTALS_FILL)
    p.vline(M_L + lw, top - h, top, 0.5, GRID)
    x = M_L + 12
    p.text(x, top - 16, zh.both(L.TOTAL_HOURS), 8.0, GREY)
    total = hours_text(c.total_hours)
    p.text(x, top - 44, total, 24.0, SEAL_RED, bold=0.4)
    p.text(x + text_width(font, total, 24.0) + 4, top - 44, zh.both(L.HOURS_UNIT), 8.0, GREY)
    p.text(x, top - 66, zh.both(L.ACTIVITIES), 8.0, GREY)
    p.text_right(M_L + lw - 12, top - 66, str(s.activity_count), 10.0, INK, bold=0.2)
    p.text(x, top - 84, zh.both(L.AWARDS), 8.0, GREY)
    p.text_right(M_L + lw - 12, top - 84, str(s.award_count), 10.0, INK, bold=0.2)
    p.text(x, top - 102, zh.both(L.MODULES), 8.0, GREY)
    used = sum(1 for v in c.by_module.values() if v > 0)
    p.text_right(M_L + lw - 12, top - 102, f"{used} / {len(s.modules)}", 10.0, INK, bold=0.2)
    # right: one bar per module of the snapshot's list
    x0 = M_L + lw + 12
    label_w = 148.0
    value_w = 42.0
    bar_x = x0 + label_w
    bar_max = M_L + CONTENT_W - 12 - value_w - bar_x
    peak = max(c.by_module.values()) if s.records else Decimal(0)
    row_h = summary.row_h
    n = len(s.modules)
    # fewer rows than the box holds sit in its middle
    y = top - 9 - (h - 14 - n * row_h) / 2 if n * row_h < h - 14 - 0.01 else top - 9
    for key, mzh, men in s.modules:
        v = c.by_module[key]
        y -= row_h
        mzh = fit(font, font.clean(mzh), label_w - 8, 8.0)
        p.text(x0, y + 3, mzh, 8.0, INK)
        en_x = x0 + text_width(font, mzh, 8.0) + 4
        if x0 + label_w - 4 - en_x >= 16:  # no lone ellipsis after a name that fills the room
            p.text(en_x, y + 3, fit(font, font.clean(men), x0 + label_w - 4 - en_x, 6.5), 6.5, GREY)
        p.fill(bar_x, y + 1.5, bar_max, row_h - 5, BAR_TRACK)
        if peak > 0 and v > 0:
            p.fill(bar_x, y + 1.5, max(0.8, float(v / peak) * bar_max), row_h - 5, BAR_FILL)
        p.text_right(M_L + CONTENT_W - 12, y + 3, hours_text(v), 8.0, INK if v else GREY)
    if summary.requirement is not None:
        _draw_requirement(p, c, top - h, summary)


def _draw_requirement(p: Page, c: Ctx, top: float, summary: Summary) -> None:
    """The block under the summary's box: a label cell, then the verdict and the years."""
    h = summary.req_h
    lw = TOTALS_W
    p.fill(M_L, top - h, lw, h, HEAD_FILL)
    p.rect(M_L, top - h, CONTENT_W, h, 0.7, GRID)
    p.vline(M_L + lw, top - h, top, 0.5, GRID)
    p.text(M_L + 12, top - 12, c.zh(L.REQUIREMENT), 8.5, INK)
    p.text(M_L + 12, top - 21, c.zh.en(L.REQUIREMENT), 6.5, GREY)
    x0 = M_L + lw + 12
    y = top - REQ_PAD_TOP
    for size, lead, segments in summary.requirement:
        y -= lead
        x = x0
        for text, colour, bold in segments:
            p.text(x, y + (lead - size) * 0.45, text, size, colour, bold=bold)
            x += text_width(c.font, text, size)


def _draw_section(p: Page, c: Ctx, y_top: float) -> None:
    _heading(p, c, y_top, L.RECORDS_SECTION)


def _draw_module(p: Page, c: Ctx, y_top: float, payload) -> None:
    (key, mzh, men, n, count, hours), continued = payload
    zh = c.zh
    p.fill(M_L, y_top - MODULE_ROW_H, CONTENT_W, MODULE_ROW_H, MODULE_FILL)
    p.fill(M_L, y_top - MODULE_ROW_H, 2.5, MODULE_ROW_H, SEAL_RED)
    y = y_top - MODULE_ROW_H + 5
    font = c.font
    right = f"{count} {zh.both(L.RECORDS)} · {hours_text(hours)} {zh.both(L.HOURS)}"
    room = M_L + CONTENT_W - 6 - text_width(font, right, 7.5) - 12  # where the names must end
    label = fit(font, f"{numeral(n)}、{font.clean(mzh)}", (room - M_L - 8) * 0.6, 9.0)
    p.text(M_L + 8, y, label, 9.0, SEAL_RED, bold=0.25)
    x = M_L + 8 + text_width(font, label, 9.0) + 6
    tail = f"（{zh.both(L.CONTINUED)}）" if continued else ""
    en = fit(font, font.clean(men), room - x - text_width(font, tail, 7.5), 7.5)
    p.text(x, y, en + tail, 7.5, GREY)
    p.text_right(M_L + CONTENT_W - 6, y, right, 7.5, INK)


def _draw_table(p: Page, c: Ctx, items: list) -> None:
    """A run of column-header + rows items: fills, text, then the grid."""
    top = items[0][1]
    bottom = top
    for kind, y_top, payload in items:
        if kind == "colhead":
            p.fill(M_L, y_top - HEAD_ROW_H, CONTENT_W, HEAD_ROW_H, HEAD_FILL)
            x = M_L
            for _key, label, width, align in COLUMNS:
                zh, en = c.zh(label), c.zh.en(label)
                if align == "r":
                    p.text_right(x + width - PAD_X, y_top - 9.5, zh, 7.5, INK)
                    p.text_right(x + width - PAD_X, y_top - 18, en, 6.0, GREY)
                else:
                    p.text(x + PAD_X, y_top - 9.5, zh, 7.5, INK)
                    p.text(x + PAD_X, y_top - 18, en, 6.0, GREY)
                x += width
            bottom = y_top - HEAD_ROW_H
            p.hline(M_L, M_L + CONTENT_W, bottom, 0.5, GRID)
        else:
            row: Row = payload
            x = M_L
            for (_key, _label, width, align), blocks in zip(COLUMNS, row.cells, strict=True):
                y = y_top - PAD_TOP - CELL_SIZE * 0.88
                for lines, size, colour in blocks:
                    lead = CELL_LEAD if size == CELL_SIZE else size + 1.6
                    for line in lines:
                        if align == "r":
                            p.text_right(x + width - PAD_X, y, line, size, colour)
                        else:
                            p.text(x + PAD_X, y, line, size, colour)
                        y -= lead
                x += width
            bottom = y_top - row.height
            p.hline(M_L, M_L + CONTENT_W, bottom, 0.35, GRID)
    x = M_L
    for _key, _label, width, _align in COLUMNS[:-1]:
        x += width
        p.vline(x, bottom, top, 0.35, GRID)
    p.rect(M_L, bottom, CONTENT_W, top - bottom, 0.6, GRID)


def _draw_end(p: Page, c: Ctx, y_top: float, lines) -> None:
    zh = c.zh
    y = y_top - 12
    p.text_center(PAGE_W / 2, y, f"— {zh.both(L.END_OF_RECORDS, ' · ')} —", 7.5, GREY)
    y -= 14
    for line, size, colour in lines:
        p.text(M_L, y, line, size, colour)
        y -= 10
    # the issuer's block, bottom right, like the signature field of a paper certificate
    right = M_L + CONTENT_W
    width = 250.0
    y -= 10
    p.hline(right - width, right, y + 7, 0.5, GRID)
    p.text_right(right, y - 4, fit(c.font, f"{zh.both(L.ISSUED_BY)}: {c.institution}", width, 8.5),
                 8.5, INK, bold=0.2)
    p.text_right(right, y - 17, f"{zh.both(L.DIGITALLY_SIGNED)} · Ed25519 key {c.kid}", 7.0, GREY)
    p.text_right(right, y - 29, f"{zh.both(L.DATE_OF_ISSUE)}: {c.issued}", 7.5, INK)
    # the PDF signature's seal: left of the issuer's block, as a stamp sits beside a signature
    x2 = right - width - 12
    c.seal_box = (x2 - SEAL_W, y + 7 - SEAL_H, x2, y + 7)


def _draw_empty(p: Page, c: Ctx, y_top: float) -> None:
    p.rect(M_L, y_top - 24, CONTENT_W, 24, 0.6, GRID)
    p.text_center(PAGE_W / 2, y_top - 15, c.zh.both(L.NO_RECORDS, " · "), 8.5, GREY)
