"""The bundled CJK font (WenQuanYi Micro Hei): loaded and registered with reportlab once
per process, its advance widths cached, and text cleaned to what it can draw.

reportlab subsets the TrueType font per document; the subset's ToUnicode CMap is ours
(:func:`to_unicode_cmap`) so characters beyond the BMP still copy and search correctly.
"""

from __future__ import annotations

import threading
import unicodedata
from pathlib import Path

from reportlab.pdfbase import pdfmetrics, ttfonts

from . import text_layout

FONT_NAME = "WenQuanYiMicroHei"
FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei.ttc"


def to_unicode_cmap(fontname: str, subset: list[int]) -> str:
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


class Font:
    """The embedded TrueType font with cached advance widths and a text sanitiser.

    Characters the font lacks (e.g. 𠮷 U+20BB7) are mapped to the empty .notdef glyph
    so the text layer still carries them (copy/search works), and an outlined box is
    drawn in their place; control characters become spaces, format characters and
    combining marks the font lacks are dropped from the drawing.

    Measuring and line breaking live in :mod:`credentials.text_layout`; ``width``,
    ``fit`` and ``wrap`` here are shortcuts to it.
    """

    def __init__(self) -> None:
        tt = ttfonts.TTFont(FONT_NAME, str(FONT_FILE), subfontIndex=0, asciiReadable=1)
        pdfmetrics.registerFont(tt)
        self.name = FONT_NAME
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
        return text_layout.text_width(self, text, size)

    def fit(self, text: str, maxw: float, size: float) -> str:
        return text_layout.fit(self, text, maxw, size)

    def wrap(self, text: str, maxw: float, size: float, max_lines: int = 0) -> list[str]:
        return text_layout.wrap(self, text, maxw, size, max_lines)


_font: Font | None = None
_font_lock = threading.Lock()


def get_font() -> Font:
    """The bundled font, registered with reportlab once per process (~0.2 s)."""
    global _font
    if _font is None:
        with _font_lock:
            if _font is None:
                ttfonts.makeToUnicodeCMap = to_unicode_cmap
                _font = Font()
    return _font
