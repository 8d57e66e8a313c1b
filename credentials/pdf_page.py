"""Drawing primitives of one PDF page, written straight into its content stream.

:class:`Page` collects graphics operators and text operators separately (all text goes
into one BT/ET block, fonts and colours set only when they change) and encodes each
string once per document through reportlab's font subsets.  Numbers are written with two
decimals, never an exponent, so the same drawing gives the same bytes.
"""

from __future__ import annotations

import zlib

from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfdoc

from . import text_layout
from .fonts import Font
from .palette import GREY, INK, RGB


def fp_str(*xs: float) -> str:
    """PDF numbers with two decimals (deterministic, never an exponent)."""
    return " ".join([f"{x:.2f}" for x in xs])


_RGB_CACHE: dict[tuple, str] = {}


def rgb(c: RGB) -> str:
    s = _RGB_CACHE.get(c)
    if s is None:
        s = _RGB_CACHE[c] = " ".join(f"{v:.3g}" for v in c)
    return s


def flate(text: str) -> pdfdoc.PDFStream:
    """A page or form stream compressed here (reportlab would add ASCII85 on top)."""
    stream = pdfdoc.PDFStream(content=zlib.compress(text.encode("latin-1"), 6))
    stream.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
    return stream


class Page:
    """Collects graphics and text operators for one page; text goes in one BT/ET."""

    __slots__ = ("font", "doc", "g", "t", "cur", "color", "boxes", "enc")

    def __init__(self, font: Font, doc, enc: dict) -> None:
        self.font = font
        self.doc = doc
        self.enc = enc  # per document: text -> [(subset, escaped bytes)]
        self.g: list[str] = []
        self.t: list[str] = []
        self.cur: tuple[int, float] | None = None
        self.color: tuple | None = None
        self.boxes: list[tuple[float, float, float]] = []

    # graphics
    def fill(self, x: float, y: float, w: float, h: float, color: RGB) -> None:
        self.g.append(f"{rgb(color)} rg {fp_str(x, y, w, h)} re f")

    def hline(self, x1: float, x2: float, y: float, width: float, color: RGB) -> None:
        self.g.append(f"{rgb(color)} RG {fp_str(width)} w {fp_str(x1, y)} m {fp_str(x2, y)} l S")

    def vline(self, x: float, y1: float, y2: float, width: float, color: RGB) -> None:
        self.g.append(f"{rgb(color)} RG {fp_str(width)} w {fp_str(x, y1)} m {fp_str(x, y2)} l S")

    def rect(self, x: float, y: float, w: float, h: float, width: float, color: RGB) -> None:
        self.g.append(f"{rgb(color)} RG {fp_str(width)} w {fp_str(x, y, w, h)} re S")

    # text
    def text(self, x: float, y: float, s: str, size: float, color: RGB = INK,
             bold: float = 0.0) -> None:
        if not s:
            return
        t = self.t
        if color != self.color:
            c = rgb(color)
            t.append(f"{c} rg {c} RG")
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

    def text_right(self, x_right: float, y: float, s: str, size: float, color: RGB = INK,
                   bold: float = 0.0) -> None:
        self.text(x_right - text_layout.text_width(self.font, s, size), y, s, size, color, bold)

    def text_center(self, x_mid: float, y: float, s: str, size: float, color: RGB = INK,
                    bold: float = 0.0) -> None:
        self.text(x_mid - text_layout.text_width(self.font, s, size) / 2, y, s, size, color, bold)

    def stream(self) -> str:
        out = ["q"]
        out.extend(self.g)
        if self.t:
            out.append("BT")
            out.extend(self.t)
            out.append("ET")
        for x, y, size in self.boxes:  # placeholder boxes for characters without a glyph
            out.append(f"{rgb(GREY)} RG {fp_str(size * 0.04)} w "
                       f"{fp_str(x + size * 0.12, y - size * 0.1, size * 0.76, size * 0.9)} re S")
        out.append("Q")
        return "\n".join(out)
