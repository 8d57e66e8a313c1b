"""The transcript document: an A4 PDF drawn with plain reportlab canvas operations.

No layout engine: text is measured with the font's own advance widths, wrapped by a
small line breaker (CJK breaks anywhere except before closing / after opening
punctuation, Latin breaks at spaces), rows are paged in a first pass so the page count
is known, and a second pass writes each page's content stream directly.  That keeps a
60-record transcript close to the cost of drawing its strings at fixed positions.

Rendering is deterministic: the same snapshot, link and key give the same bytes
(invariant mode, creation date = issue time, stable document ID, fixed object order).

The PDF carries, as attached files, the snapshot's canonical bytes
(``transcript-snapshot.json``) and the signed link (``transcript-link.txt``); when a
:class:`~credentials.keys.SigningKey` is passed, the whole file is also signed (an
Ed25519 signature in the document information dictionary over the SHA-256 of the file
with the signature's own hex digits zeroed), so it can be checked byte for byte later
even by a different version of this library.

Over 500 lines for now: font subsetting, line breaking, layout and PDF writing; the house
issue (#12) splits it into those four modules.
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata
import zlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfdoc, pdfmetrics, ttfonts
from reportlab.pdfgen.canvas import Canvas

from ._version import __version__
from .keys import SigningKey
from .links import parse_link, verify_page_url
from .qr import qr_modules, qr_pdf_ops
from .snapshot import LEVELS, MODULES, ROLES, Record, Snapshot, canonical_bytes, snapshot_digest

FONT_NAME = "WenQuanYiMicroHei"
FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei.ttc"
SNAPSHOT_ATTACHMENT = "transcript-snapshot.json"
LINK_ATTACHMENT = "transcript-link.txt"
PDF_SIGNATURE_KEY = "TranscriptSignature"
PDF_KID_KEY = "TranscriptKeyId"
PDF_SIGNATURE_CONTEXT = b"second-transcript/pdf/v1\n"
SIG_PLACEHOLDER = b"0" * 128
PRODUCER = f"Second Transcript credentials {__version__} (ReportLab {reportlab.Version})"

# -- geometry (points) ---------------------------------------------------------------
PAGE_W, PAGE_H = A4
M_L = M_R = 42.0
M_T = 36.0
M_B = 30.0
CONTENT_W = PAGE_W - M_L - M_R
QR_SIZE = 92.0  # quiet zone included: a version-10 code gets 0.5 mm modules
BAND_H = QR_SIZE + 14.0
FOOTER_H = 34.0
BODY_TOP = PAGE_H - M_T - BAND_H - 10.0
BODY_BOTTOM = M_B + FOOTER_H + 4.0

# -- colours ---------------------------------------------------------------------------
INK = (0.11, 0.11, 0.13)
GREY = (0.40, 0.40, 0.44)
RED = (0.62, 0.09, 0.11)
GRID = (0.70, 0.70, 0.73)
HEAD_FILL = (0.93, 0.93, 0.95)
MODULE_FILL = (0.975, 0.94, 0.92)
BAR_FILL = (0.70, 0.16, 0.17)
BAR_TRACK = (0.93, 0.90, 0.89)

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
COLUMNS: tuple[tuple[str, str, str, float, str], ...] = (
    ("date", "日期", "Date", 50.0, "l"),
    ("activity", "活动名称", "Activity", 128.0, "l"),
    ("club", "社团 / 组织", "Club / organiser", 80.0, "l"),
    ("level", "级别", "Level", 42.0, "l"),
    ("role", "角色", "Role", 42.0, "l"),
    ("hours", "学时", "Hours", 32.0, "r"),
    ("award", "奖项", "Award", 66.0, "l"),
    ("certified_by", "认证人", "Certified by", CONTENT_W - 440.0, "l"),
)
MODULE_ROW_H = 17.0
HEAD_ROW_H = 22.0
_LEVEL = {k: (zh, en) for k, zh, en in LEVELS}
_ROLE = {k: (zh, en) for k, zh, en in ROLES}
_NUMERALS = "一二三四五六七八九十"

_OPEN_PUNCT = frozenset("([{（［｛〔【《〈「『“‘")
_CLOSE_PUNCT = frozenset(")]}.,;:!?%）］｝〕】》〉」』”’，。、；：？！…·～")
ELLIPSIS = "…"


# -- the font, loaded once per process ----------------------------------------------------


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, but with UTF-16 for characters beyond the BMP."""

    def utf16(v: int) -> str:
        return chr(v).encode("utf-16-be", "surrogatepass").hex().upper() if v > 0xFFFF \
            else f"{v:04X}"

    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({fontname})",
            f"/Ordering ({fontname})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{fontname} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            "<00> <%02X>" % (len(subset) - 1),
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
        ]
        + [f"<{i:02X}> <{utf16(v)}>" for i, v in enumerate(subset)]
        + ["endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end",
           "end"]
    )


class _Font:
    """The embedded TrueType font with cached advance widths and a text sanitiser.

    Characters the font lacks (e.g. 𠮷 U+20BB7) are mapped to the empty .notdef glyph
    so the text layer still carries them (copy/search works), and an outlined box is
    drawn in their place; control characters become spaces, format characters and
    combining marks the font lacks are dropped from the drawing.
    """

    def __init__(self) -> None:
        tt = ttfonts.TTFont(FONT_NAME, str(FONT_FILE), subfontIndex=0, asciiReadable=1)
        pdfmetrics.registerFont(tt)
        self.tt = tt
        self.face = tt.face
        self.widths: dict[str, float] = {
            chr(c): w for c, w in self.face.charWidths.items() if c > 31
        }
        self.real = frozenset(chr(c) for c in self.face.charToGlyph if c > 31)
        self.missing: set[str] = set()
        self.notdef_width = float(self.face.defaultWidth)
        self._clean: dict[str, str] = {}
        self._lock = threading.Lock()

    def _classify(self, ch: str) -> str:
        cat = unicodedata.category(ch)
        if cat == "Cc" or cat[0] == "Z":  # controls, line breaks, odd spaces: a space
            return " "
        if cat == "Cf":  # zero-width and direction controls: not drawn
            return ""
        if ch in self.real:
            return ch
        if cat in ("Mn", "Me", "Cs", "Co", "Cn"):  # marks we cannot place, unassigned
            return ""
        with self._lock:  # a visible character we have no glyph for
            code = ord(ch)
            if code not in self.face.charToGlyph:
                self.face.charToGlyph[code] = 0
                self.face.charWidths[code] = self.notdef_width
            self.widths[ch] = self.notdef_width
            self.missing.add(ch)
        return ch

    def clean(self, text: str) -> str:
        """Text as drawn: one line, single spaces, only characters we can place."""
        cache = self._clean
        out = []
        for ch in text:
            c = cache.get(ch)
            if c is None:
                c = cache[ch] = self._classify(ch)
            out.append(c)
        return " ".join("".join(out).split())

    def width(self, text: str, size: float) -> float:
        get = self.widths.get
        nd = self.notdef_width
        return sum([get(c, nd) for c in text]) * size / 1000.0

    def fit(self, text: str, maxw: float, size: float) -> str:
        """``text`` cut with an ellipsis so that it is at most ``maxw`` wide."""
        if self.width(text, size) <= maxw:
            return text
        limit = maxw * 1000.0 / size - self.widths.get(ELLIPSIS, self.notdef_width)
        get = self.widths.get
        nd = self.notdef_width
        w = 0.0
        for i, ch in enumerate(text):
            w += get(ch, nd)
            if w > limit:
                return text[:i].rstrip() + ELLIPSIS
        return text

    def wrap(self, text: str, maxw: float, size: float, max_lines: int = 0) -> list[str]:
        """Greedy line breaking of cleaned text into lines at most ``maxw`` wide."""
        if not text:
            return []
        get = self.widths.get
        nd = self.notdef_width
        ws = [get(c, nd) for c in text]
        limit = maxw * 1000.0 / size
        if sum(ws) <= limit:
            return [text]
        lines: list[str] = []
        n = len(text)
        s = 0
        while s < n:
            while s < n and text[s] == " ":
                s += 1
            if s >= n:
                break
            w = 0.0
            brk = -1
            i = s
            while i < n:
                c = text[i]
                if i > s:
                    p = text[i - 1]
                    if p == " " or c == " ":
                        brk = i
                    elif (p >= "\u2e80" or c >= "\u2e80") and c not in _CLOSE_PUNCT \
                            and p not in _OPEN_PUNCT:
                        brk = i
                w += ws[i]
                if w > limit and i > s:
                    break
                i += 1
            else:
                lines.append(text[s:].rstrip())
                break
            end = brk if brk > s else i
            lines.append(text[s:end].rstrip())
            s = end
        if max_lines and len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = self.fit(lines[-1] + ELLIPSIS, maxw, size)
        return lines


_font: _Font | None = None
_font_lock = threading.Lock()


def get_font() -> _Font:
    """The bundled font, registered with reportlab once per process (~0.2 s)."""
    global _font
    if _font is None:
        with _font_lock:
            if _font is None:
                ttfonts.makeToUnicodeCMap = _to_unicode_cmap
                _font = _Font()
    return _font


# -- a page's content stream -----------------------------------------------------------


def fp_str(*xs: float) -> str:
    """PDF numbers with two decimals (deterministic, never an exponent)."""
    return " ".join([f"{x:.2f}" for x in xs])


_RGB_CACHE: dict[tuple, str] = {}


def _rgb(c: tuple[float, float, float]) -> str:
    s = _RGB_CACHE.get(c)
    if s is None:
        s = _RGB_CACHE[c] = " ".join(f"{v:.3g}" for v in c)
    return s


def _flate(text: str) -> pdfdoc.PDFStream:
    """A page or form stream compressed here (reportlab would add ASCII85 on top)."""
    stream = pdfdoc.PDFStream(content=zlib.compress(text.encode("latin-1"), 6))
    stream.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
    return stream


class _Page:
    """Collects graphics and text operators for one page; text goes in one BT/ET."""

    __slots__ = ("font", "doc", "g", "t", "cur", "color", "boxes", "enc")

    def __init__(self, font: _Font, doc, enc: dict) -> None:
        self.font = font
        self.doc = doc
        self.enc = enc  # per document: text -> [(subset, escaped bytes)]
        self.g: list[str] = []
        self.t: list[str] = []
        self.cur: tuple[int, float] | None = None
        self.color: tuple | None = None
        self.boxes: list[tuple[float, float, float]] = []

    # graphics
    def fill(self, x: float, y: float, w: float, h: float, color) -> None:
        self.g.append(f"{_rgb(color)} rg {fp_str(x, y, w, h)} re f")

    def hline(self, x1: float, x2: float, y: float, width: float, color) -> None:
        self.g.append(f"{_rgb(color)} RG {fp_str(width)} w {fp_str(x1, y)} m {fp_str(x2, y)} l S")

    def vline(self, x: float, y1: float, y2: float, width: float, color) -> None:
        self.g.append(f"{_rgb(color)} RG {fp_str(width)} w {fp_str(x, y1)} m {fp_str(x, y2)} l S")

    def rect(self, x: float, y: float, w: float, h: float, width: float, color) -> None:
        self.g.append(f"{_rgb(color)} RG {fp_str(width)} w {fp_str(x, y, w, h)} re S")

    # text
    def text(self, x: float, y: float, s: str, size: float, color=INK, bold: float = 0.0) -> None:
        if not s:
            return
        t = self.t
        if color != self.color:
            rgb = _rgb(color)
            t.append(f"{rgb} rg {rgb} RG")
            self.color = color
        if bold:
            t.append(f"2 Tr {fp_str(bold)} w")
        t.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm")
        runs = self.enc.get(s)
        if runs is None:
            tt = self.font.tt
            doc = self.doc
            runs = self.enc[s] = [
                (tt.getSubsetInternalName(subset, doc), f"({escapePDF(chunk)}) Tj")
                for subset, chunk in tt.splitString(s, doc)
            ]
        for name, op in runs:
            key = (name, size)
            if key != self.cur:
                t.append(f"{key[0]} {key[1]:.2f} Tf")
                self.cur = key
            t.append(op)
        if bold:
            t.append("0 Tr")
        missing = self.font.missing
        if missing and not missing.isdisjoint(s):
            get = self.font.widths.get
            nd = self.font.notdef_width
            off = 0.0
            for ch in s:
                w = get(ch, nd) * size / 1000.0
                if ch in missing:
                    self.boxes.append((x + off, y, size))
                off += w

    def text_right(self, x_right: float, y: float, s: str, size: float, color=INK,
                   bold: float = 0.0) -> None:
        self.text(x_right - self.font.width(s, size), y, s, size, color, bold)

    def text_center(self, x_mid: float, y: float, s: str, size: float, color=INK,
                    bold: float = 0.0) -> None:
        self.text(x_mid - self.font.width(s, size) / 2, y, s, size, color, bold)

    def stream(self) -> str:
        out = ["q"]
        out.extend(self.g)
        if self.t:
            out.append("BT")
            out.extend(self.t)
            out.append("ET")
        for x, y, size in self.boxes:  # placeholder boxes for characters without a glyph
            out.append(f"{_rgb(GREY)} RG {fp_str(size * 0.04)} w "
                       f"{fp_str(x + size * 0.12, y - size * 0.1, size * 0.76, size * 0.9)} re S")
        out.append("Q")
        return "\n".join(out)


# -- layout: first pass ------------------------------------------------------------------


def _hours(h: Decimal) -> str:
    return str(h)


@dataclass(slots=True)
class _Row:
    height: float
    cells: list  # per column: list of (lines, size, colour)
    record: Record


def _cell_blocks(font: _Font, r: Record) -> list:
    cells = []
    for key, _zh, _en, width, _align in COLUMNS:
        inner = width - 2 * PAD_X
        if key == "date":
            cells.append([([r.date.isoformat()], CELL_SIZE, INK)])
        elif key == "hours":
            cells.append([([_hours(r.hours)], CELL_SIZE, INK)])
        elif key in ("level", "role"):
            zh, en = (_LEVEL if key == "level" else _ROLE)[getattr(r, key)]
            cells.append([([zh], CELL_SIZE, INK), ([en], CELL_EN_SIZE, GREY)])
        elif key == "award":
            text = font.clean(r.award or "")
            lines = font.wrap(text, inner, CELL_SIZE, MAX_CELL_LINES) if text else ["—"]
            cells.append([(lines, CELL_SIZE, RED if text else GREY)])
        else:
            text = font.clean(getattr(r, key)) or "—"
            cells.append([(font.wrap(text, inner, CELL_SIZE, MAX_CELL_LINES), CELL_SIZE, INK)])
    return cells


def _row(font: _Font, r: Record) -> _Row:
    cells = _cell_blocks(font, r)
    h = 0.0
    for blocks in cells:
        ch = sum(len(lines) * (CELL_LEAD if size == CELL_SIZE else size + 1.6)
                 for lines, size, _ in blocks)
        h = max(h, ch)
    return _Row(PAD_TOP + h + PAD_BOTTOM, cells, r)


@dataclass(slots=True)
class _Info:
    height: float
    rows: list  # [(height, [(label_zh, label_en, lines, size), (..)])]


def _info(font: _Font, s: Snapshot) -> _Info:
    half = CONTENT_W / 2
    label_w = 64.0
    value_w = half - label_w - 2 * 6
    pairs = [
        (("姓名", "Name", s.student_name, 11.0), ("学号", "Student No.", s.student_no, 10.0)),
        (("院系", "College / Unit", s.unit or "—", 9.5),
         ("签发日期", "Date of issue", s.issued_on.isoformat(), 10.0)),
    ]
    rows = []
    total = 0.0
    for pair in pairs:
        cells = []
        h = 26.0
        for zh, en, value, size in pair:
            lines = font.wrap(font.clean(value) or "—", value_w, size, 14)
            cells.append((zh, en, lines, size))
            h = max(h, 10.0 + len(lines) * size * 1.3)
        rows.append((h, cells))
        total += h
    return _Info(total, rows)


SUMMARY_H = 132.0


@dataclass(slots=True)
class _Layout:
    pages: list  # per page: list of (kind, y_top, payload)


def _layout(font: _Font, s: Snapshot) -> _Layout:
    pages: list[list] = [[]]
    y = BODY_TOP
    info = _info(font, s)
    pages[0].append(("info", y, info))
    y -= info.height + 14
    pages[0].append(("summary", y, None))
    y -= SUMMARY_H + 14
    pages[0].append(("section", y, None))
    y -= 20
    by_module = s.records_by_module
    n_mod = 0
    for key, zh, en in MODULES:
        recs = by_module[key]
        if not recs:
            continue
        n_mod += 1
        mod_hours = sum((r.hours for r in recs), Decimal("0.0"))
        head = (key, zh, en, n_mod, len(recs), mod_hours)
        rows = [_row(font, r) for r in recs]
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
    closing = _closing_lines(font)
    need = 22 + len(closing) * 10 + ISSUER_H
    if y - need < BODY_BOTTOM:
        pages.append([])
        y = BODY_TOP
    pages[-1].append(("end", y, closing))
    return _Layout(pages)


_CLOSING = (
    "说明：本成绩单所列记录均经社团指导教师或校团委审核认证，学时与奖项以认证时为准。",
    "Note: every record listed was certified by the club's advisor or the Youth League office; "
    "hours and awards are as certified.",
)
ISSUER_H = 52.0


def _closing_lines(font: _Font) -> list[tuple[str, float, tuple]]:
    out = []
    for text, size in ((_CLOSING[0], 7.5), (_CLOSING[1], 7.0)):
        for line in font.wrap(text, CONTENT_W, size):
            out.append((line, size, GREY))
    return out


# -- drawing: second pass --------------------------------------------------------------


class _Ctx:
    __slots__ = ("font", "s", "link", "serial", "issued", "name", "verify_url", "n_pages",
                 "total_hours", "by_module", "institution", "kid")

    def __init__(self, font: _Font, s: Snapshot, link: str, n_pages: int) -> None:
        self.font = font
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


def _draw_band(p: _Page, c: _Ctx, page_no: int) -> None:
    font = c.font
    top = PAGE_H - M_T
    left_w = CONTENT_W - QR_SIZE - 12
    qr_x = PAGE_W - M_R - QR_SIZE
    inst = font.fit(font.clean(c.s.institution), left_w, 15.0)
    p.text(M_L, top - 15, inst, 15.0, INK, bold=0.35)
    p.text(M_L, top - 46, "第二课堂成绩单", 24.0, RED, bold=0.6)
    x = M_L + font.width("第二课堂成绩单", 24.0) + 10
    p.text(x, top - 46, "Second Transcript", 13.0, RED, bold=0.25)
    p.text(M_L, top - 61, "第二课堂活动认证记录 · Certified record of extracurricular activities",
           8.0, GREY)
    line = f"编号 Serial: {c.serial}    签发日期 Date of issue: {c.issued}"
    p.text(M_L, top - 78, font.fit(line, left_w, 8.5), 8.5, INK)
    if page_no > 1:
        who = f"姓名 Name: {c.name}    学号 Student No.: {font.clean(c.s.student_no)}"
        p.text(M_L, top - 92, font.fit(who, left_w, 8.5), 8.5, INK)
    p.text_center(qr_x + QR_SIZE / 2, top - QR_SIZE - 6.5, "扫码验证 Scan to verify", 6.5, GREY)
    y = top - BAND_H
    p.hline(M_L, PAGE_W - M_R, y, 1.6, RED)
    p.hline(M_L, PAGE_W - M_R, y - 2.6, 0.5, RED)


def _draw_footer(p: _Page, c: _Ctx, page_no: int) -> None:
    font = c.font
    y = M_B + FOOTER_H - 6
    p.hline(M_L, PAGE_W - M_R, y, 0.5, GRID)
    y -= 10
    p.text(M_L, y, font.fit(f"编号 Serial: {c.serial}", CONTENT_W / 3, 7.0), 7.0, INK)
    p.text_center(PAGE_W / 2, y, f"第 {page_no} 页 / 共 {c.n_pages} 页 · Page {page_no} of "
                  f"{c.n_pages}", 7.5, INK)
    p.text_right(PAGE_W - M_R, y, f"签发日期 Issued: {c.issued}", 7.0, INK)
    y -= 9.5
    zh = f"验证方法：扫描右上角二维码，或在 {c.verify_url} 上传本 PDF 文件核验。"
    p.text(M_L, y, font.fit(zh, CONTENT_W, 6.5), 6.5, GREY)
    y -= 8
    en = f"To verify: scan the QR code at the top right, or upload this PDF at {c.verify_url}."
    p.text(M_L, y, font.fit(en, CONTENT_W, 6.5), 6.5, GREY)


def _draw_info(p: _Page, c: _Ctx, y_top: float, info: _Info) -> None:
    half = CONTENT_W / 2
    label_w = 64.0
    y = y_top
    for h, cells in info.rows:
        for i, (zh, en, lines, size) in enumerate(cells):
            x = M_L + i * half
            p.fill(x, y - h, label_w, h, HEAD_FILL)
            p.text(x + 6, y - 12, zh, 8.5, INK)
            p.text(x + 6, y - 21, en, 6.5, GREY)
            ly = y - 6 - size
            for line in lines:
                p.text(x + label_w + 6, ly, line, size, INK)
                ly -= size * 1.3
        p.hline(M_L, M_L + CONTENT_W, y - h, 0.5, GRID)
        y -= h
    p.rect(M_L, y, CONTENT_W, y_top - y, 0.7, GRID)
    for x in (M_L + label_w, M_L + half, M_L + half + label_w):
        p.vline(x, y, y_top, 0.5, GRID)


def _draw_summary(p: _Page, c: _Ctx, y_top: float) -> None:
    font = c.font
    s = c.s
    p.fill(M_L, y_top - 12, 3, 12, RED)
    p.text(M_L + 8, y_top - 10, "学时汇总", 10.0, RED, bold=0.25)
    p.text(M_L + 8 + font.width("学时汇总", 10.0) + 6, y_top - 10, "Summary", 8.5, GREY)
    top = y_top - 18
    h = SUMMARY_H - 18
    p.rect(M_L, top - h, CONTENT_W, h, 0.7, GRID)
    # left: totals
    lw = 140.0
    p.fill(M_L, top - h, lw, h, (0.985, 0.975, 0.97))
    p.vline(M_L + lw, top - h, top, 0.5, GRID)
    x = M_L + 12
    p.text(x, top - 16, "总学时 Total hours", 8.0, GREY)
    total = _hours(c.total_hours)
    p.text(x, top - 44, total, 24.0, RED, bold=0.4)
    p.text(x + font.width(total, 24.0) + 4, top - 44, "学时 h", 8.0, GREY)
    p.text(x, top - 66, "已认证活动 Activities", 8.0, GREY)
    p.text_right(M_L + lw - 12, top - 66, str(s.activity_count), 10.0, INK, bold=0.2)
    p.text(x, top - 84, "获奖 Awards", 8.0, GREY)
    p.text_right(M_L + lw - 12, top - 84, str(s.award_count), 10.0, INK, bold=0.2)
    p.text(x, top - 102, "模块 Modules", 8.0, GREY)
    used = sum(1 for v in c.by_module.values() if v > 0)
    p.text_right(M_L + lw - 12, top - 102, f"{used} / 7", 10.0, INK, bold=0.2)
    # right: one bar per module
    x0 = M_L + lw + 12
    label_w = 148.0
    value_w = 42.0
    bar_x = x0 + label_w
    bar_max = M_L + CONTENT_W - 12 - value_w - bar_x
    peak = max(c.by_module.values()) if s.records else Decimal(0)
    row_h = (h - 14) / 7
    y = top - 9
    for key, zh, en in MODULES:
        v = c.by_module[key]
        y -= row_h
        p.text(x0, y + 3, zh, 8.0, INK)
        p.text(x0 + font.width(zh, 8.0) + 4, y + 3, en, 6.5, GREY)
        p.fill(bar_x, y + 1.5, bar_max, row_h - 5, BAR_TRACK)
        if peak > 0 and v > 0:
            p.fill(bar_x, y + 1.5, max(0.8, float(v / peak) * bar_max), row_h - 5, BAR_FILL)
        p.text_right(M_L + CONTENT_W - 12, y + 3, _hours(v), 8.0, INK if v else GREY)


def _draw_section(p: _Page, c: _Ctx, y_top: float) -> None:
    p.fill(M_L, y_top - 12, 3, 12, RED)
    p.text(M_L + 8, y_top - 10, "活动记录", 10.0, RED, bold=0.25)
    font = c.font
    p.text(M_L + 8 + font.width("活动记录", 10.0) + 6, y_top - 10,
           "Certified records, grouped by module", 8.5, GREY)


def _draw_module(p: _Page, c: _Ctx, y_top: float, payload) -> None:
    (key, zh, en, n, count, hours), continued = payload
    font = c.font
    p.fill(M_L, y_top - MODULE_ROW_H, CONTENT_W, MODULE_ROW_H, MODULE_FILL)
    p.fill(M_L, y_top - MODULE_ROW_H, 2.5, MODULE_ROW_H, RED)
    y = y_top - MODULE_ROW_H + 5
    label = f"{_NUMERALS[n - 1]}、{zh}"
    p.text(M_L + 8, y, label, 9.0, RED, bold=0.25)
    x = M_L + 8 + font.width(label, 9.0) + 6
    p.text(x, y, en + ("（续 continued）" if continued else ""), 7.5, GREY)
    p.text_right(M_L + CONTENT_W - 6, y, f"{count} 项 records · {_hours(hours)} 学时 hours",
                 7.5, INK)


def _draw_table(p: _Page, c: _Ctx, items: list) -> None:
    """A run of column-header + rows items: fills, text, then the grid."""
    top = items[0][1]
    bottom = top
    for kind, y_top, payload in items:
        if kind == "colhead":
            p.fill(M_L, y_top - HEAD_ROW_H, CONTENT_W, HEAD_ROW_H, HEAD_FILL)
            x = M_L
            for _key, zh, en, width, align in COLUMNS:
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
            row: _Row = payload
            x = M_L
            for (_key, _zh, _en, width, align), blocks in zip(COLUMNS, row.cells, strict=True):
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
    for _key, _zh, _en, width, _align in COLUMNS[:-1]:
        x += width
        p.vline(x, bottom, top, 0.35, GRID)
    p.rect(M_L, bottom, CONTENT_W, top - bottom, 0.6, GRID)


def _draw_end(p: _Page, c: _Ctx, y_top: float, lines) -> None:
    y = y_top - 12
    p.text_center(PAGE_W / 2, y, "— 以下空白 · End of records —", 7.5, GREY)
    y -= 14
    for line, size, colour in lines:
        p.text(M_L, y, line, size, colour)
        y -= 10
    # the issuer's block, bottom right, like the signature field of a paper certificate
    font = c.font
    right = M_L + CONTENT_W
    width = 250.0
    y -= 10
    p.hline(right - width, right, y + 7, 0.5, GRID)
    p.text_right(right, y - 4, font.fit(f"签发单位 Issued by: {c.institution}", width, 8.5), 8.5,
                 INK, bold=0.2)
    p.text_right(right, y - 17, f"电子签名 Digitally signed · Ed25519 key {c.kid}", 7.0, GREY)
    p.text_right(right, y - 29, f"签发日期 Date of issue: {c.issued}", 7.5, INK)


def _draw_empty(p: _Page, c: _Ctx, y_top: float) -> None:
    p.rect(M_L, y_top - 24, CONTENT_W, 24, 0.6, GRID)
    p.text_center(PAGE_W / 2, y_top - 15,
                  "签发时暂无已认证记录 · No certified records at the time of issue", 8.5, GREY)


# -- PDF objects: attachments, information dictionary -----------------------------------


class _RawPDF(pdfdoc.PDFObject):
    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document) -> bytes:
        return self.data


class _DocInfo(pdfdoc.PDFInfo):
    """reportlab's information dictionary plus the transcript's serial and signature."""

    def __init__(self, serial: str, kid: str | None) -> None:
        super().__init__()
        self.serial = serial
        self.kid = kid

    def format(self, document) -> bytes:
        base = super().format(document)
        assert base.endswith(b"\n>>")
        extra = b"\n /TranscriptSerial " + pdfdoc.PDFString(self.serial).format(document)
        if self.kid:
            extra += (
                b"\n /" + PDF_KID_KEY.encode() + b" " + pdfdoc.PDFString(self.kid).format(document)
                + b"\n /" + PDF_SIGNATURE_KEY.encode() + b" <" + SIG_PLACEHOLDER + b">"
            )
        return base[:-3] + extra + b"\n>>"


class _Stamp:
    """A reportlab TimeStamp fixed at the issue time (creation = modification date)."""

    def __init__(self, s: Snapshot) -> None:
        t = s.issued_at
        self.t = t.timestamp()
        self.YMDhms = (t.year, t.month, t.day, t.hour, t.minute, t.second)
        off = int(t.utcoffset().total_seconds() // 60)
        sign = "+" if off >= 0 else "-"
        self.tz = f"{sign}{abs(off) // 60:02d}'{abs(off) % 60:02d}'"
        self.dhh, self.dmm = 0, 0
        self.tzname = "fixed"

    def format(self, yyyy, mm, dd, hh, mi, ss) -> str:
        return f"D:{yyyy:04d}{mm:02d}{dd:02d}{hh:02d}{mi:02d}{ss:02d}{self.tz}"


class _EmbeddedFile(pdfdoc.PDFObject):
    """An uncompressed embedded-file stream with a fixed spelling the verifier can find."""

    __RefOnly__ = 1

    def __init__(self, data: bytes, mime: str, part: str, mtime: str) -> None:
        self.data = data
        subtype = mime.replace("/", "#2F")
        self.head = (
            f"<< /Type /EmbeddedFile /Subtype /{subtype} /TranscriptPart /{part} /Params << "
            f"/Size {len(data)} /ModDate ({mtime}) >> /Length {len(data)} >>\nstream\n"
        ).encode("ascii")

    def format(self, document) -> bytes:
        return self.head + self.data + b"\nendstream"


def _attachment(doc, name: str, data: bytes, mime: str, desc: str, part: str, mtime: str):
    ref = doc.Reference(_EmbeddedFile(data, mime, part, mtime), f"TranscriptPart:{part}")
    spec = pdfdoc.PDFDictionary(
        {
            "Type": pdfdoc.PDFName("Filespec"),
            "F": pdfdoc.PDFString(name),
            "UF": pdfdoc.PDFString(name),
            "Desc": pdfdoc.PDFString(desc),
            "EF": pdfdoc.PDFDictionary({"F": ref}),
            "AFRelationship": pdfdoc.PDFName("Data"),
        }
    )
    return doc.Reference(spec, f"TranscriptSpec:{part}")


# -- public ------------------------------------------------------------------------------


def render_pdf(snapshot: Snapshot, link: str, key: SigningKey | None = None) -> bytes:
    """Render the transcript PDF (A4).  Deterministic: same inputs, same bytes.

    ``link`` is the signed link from :func:`credentials.links.make_link`; it is drawn
    as the QR code, made clickable and attached.  With ``key`` (the key that signed the
    link) the whole file is signed as well, which lets :func:`credentials.verify.verify_pdf`
    check it byte for byte without re-rendering.
    """
    if not isinstance(snapshot, Snapshot):
        raise ValueError("snapshot: expected a Snapshot")
    claims = parse_link(link)
    if claims.serial != snapshot.serial:
        raise ValueError("link: serial does not match the snapshot")
    digest = snapshot_digest(snapshot)
    if not claims.matches_digest(digest):
        raise ValueError("link: digest does not match the snapshot")
    if claims.issued_on != snapshot.issued_on:
        raise ValueError("link: issue date does not match the snapshot")
    if key is not None and key.kid != claims.kid:
        raise ValueError("key: not the key that signed the link")

    font = get_font()
    layout = _layout(font, snapshot)
    n_pages = len(layout.pages)
    ctx = _Ctx(font, snapshot, link, n_pages)

    canvas = Canvas(None, pagesize=A4, invariant=1, pageCompression=1, lang="zh-CN",
                    initialFontName=FONT_NAME, initialFontSize=10)
    doc = canvas._doc
    stamp = _Stamp(snapshot)
    doc._timeStamp = stamp
    info = _DocInfo(snapshot.serial, key.kid if key else None)
    info._dateFormatter = stamp.format
    info.producer = PRODUCER
    info.creator = "Second Transcript"
    info.title = f"第二课堂成绩单 Second Transcript {snapshot.serial}"
    info.author = snapshot.institution[:200]
    info.subject = f"{snapshot.student_name[:100]} {snapshot.student_no[:50]}"
    info.keywords = f"second transcript, {snapshot.serial}"
    doc.info = info
    doc.updateSignature(digest + "\n" + link)

    canon = canonical_bytes(snapshot)
    mtime = stamp.format(*stamp.YMDhms)
    doc.Catalog.Names = pdfdoc.PDFDictionary(
        {
            "EmbeddedFiles": pdfdoc.PDFDictionary(
                {
                    "Names": pdfdoc.PDFArray(
                        [
                            pdfdoc.PDFString(LINK_ATTACHMENT),
                            _attachment(doc, LINK_ATTACHMENT, link.encode("ascii"),
                                        "text/plain", "Signed verification link", "link",
                                        mtime),
                            pdfdoc.PDFString(SNAPSHOT_ATTACHMENT),
                            _attachment(doc, SNAPSHOT_ATTACHMENT, canon, "application/json",
                                        "Canonical transcript snapshot (SHA-256 " + digest + ")",
                                        "snapshot", mtime),
                        ]
                    )
                }
            )
        }
    )

    canvas.beginForm("TranscriptQR", 0, 0, QR_SIZE, QR_SIZE)
    canvas.endForm(Contents=_flate(qr_pdf_ops(link, QR_SIZE)))
    qr_x = PAGE_W - M_R - QR_SIZE
    qr_y = PAGE_H - M_T - QR_SIZE
    quiet = QR_SIZE * 4 / qr_modules(link)

    enc: dict = {}
    for page_no, items in enumerate(layout.pages, start=1):
        p = _Page(font, doc, enc)
        _draw_band(p, ctx, page_no)
        _draw_footer(p, ctx, page_no)
        i = 0
        while i < len(items):
            kind, y_top, payload = items[i]
            if kind in ("colhead", "row"):
                j = i
                while j < len(items) and items[j][0] in ("colhead", "row"):
                    j += 1
                _draw_table(p, ctx, items[i:j])
                i = j
                continue
            if kind == "info":
                _draw_info(p, ctx, y_top, payload)
            elif kind == "summary":
                _draw_summary(p, ctx, y_top)
            elif kind == "section":
                _draw_section(p, ctx, y_top)
            elif kind == "module":
                _draw_module(p, ctx, y_top, payload)
            elif kind == "empty":
                _draw_empty(p, ctx, y_top)
            elif kind == "end":
                _draw_end(p, ctx, y_top, payload)
            i += 1
        canvas._code.append(p.stream())
        canvas.saveState()
        canvas.translate(qr_x, qr_y)
        canvas.doForm("TranscriptQR")
        canvas.restoreState()
        canvas.linkURL(link, (qr_x + quiet, qr_y + quiet, qr_x + QR_SIZE - quiet,
                              qr_y + QR_SIZE - quiet), relative=0, thickness=0)
        canvas.showPage()
        page = doc.Pages.pages[-1]
        page.Contents = _flate(page.stream)

    data = canvas.getpdfdata()
    if key is not None:
        data = sign_pdf_bytes(data, key)
    return data


def pdf_signed_message(data: bytes, start: int) -> bytes:
    """What the whole-file signature covers: the file with its signature hex zeroed."""
    zeroed = data[:start] + SIG_PLACEHOLDER + data[start + len(SIG_PLACEHOLDER):]
    return PDF_SIGNATURE_CONTEXT + hashlib.sha256(zeroed).digest()


def find_pdf_signature(data: bytes) -> tuple[int, bytes] | None:
    """``(offset of the 128 hex digits, signature)`` or None if the file has no
    signature entry; ``ValueError`` if it has more than one or a malformed one."""
    marker = b"/" + PDF_SIGNATURE_KEY.encode() + b" <"
    first = data.find(marker)
    if first < 0:
        return None
    if data.find(marker, first + 1) >= 0:
        raise ValueError("more than one document signature")
    start = first + len(marker)
    hexsig = data[start:start + 128]
    if len(hexsig) != 128 or data[start + 128:start + 129] != b">":
        raise ValueError("malformed document signature")
    try:
        sig = bytes.fromhex(hexsig.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("malformed document signature") from None
    if sig.hex().encode() != hexsig:
        raise ValueError("malformed document signature")
    return start, sig


def sign_pdf_bytes(data: bytes, key: SigningKey) -> bytes:
    found = find_pdf_signature(data)
    if found is None:
        raise ValueError("the PDF has no signature placeholder")
    start, _ = found
    sig = key.sign(pdf_signed_message(data, start))
    return data[:start] + sig.hex().encode("ascii") + data[start + 128:]
