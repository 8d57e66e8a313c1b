"""Measuring and breaking text in the bundled font: the one line breaker of the printed
documents (the transcript and the club's term report).

Widths come from the font's own advance widths (no reportlab call per string).  Lines
break greedily: Latin text at spaces, CJK text between any two characters except before
closing punctuation (，。、）》…) and after opening punctuation (（《“…), the usual
Chinese line-start / line-end rules.  A line too long for its box ends in "…".

The functions take any object with the font's ``widths`` (character → advance in 1/1000
em) and ``notdef_width``, i.e. a :class:`credentials.fonts.Font`.
"""

from __future__ import annotations

from typing import Protocol


class Metrics(Protocol):
    widths: dict[str, float]
    notdef_width: float


OPEN_PUNCT = frozenset("([{（［｛〔【《〈「『“‘")
CLOSE_PUNCT = frozenset(")]}.,;:!?%）］｝〕】》〉」』”’，。、；：？！…·～")
ELLIPSIS = "…"
#: Characters from here on (CJK radicals onwards) may break on either side.
CJK_START = "\u2e80"


def text_width(font: Metrics, text: str, size: float) -> float:
    """The advance width of ``text`` at ``size`` points."""
    get = font.widths.get
    nd = font.notdef_width
    return sum([get(c, nd) for c in text]) * size / 1000.0


def fit(font: Metrics, text: str, maxw: float, size: float) -> str:
    """``text`` cut with an ellipsis so that it is at most ``maxw`` wide."""
    if text_width(font, text, size) <= maxw:
        return text
    limit = maxw * 1000.0 / size - font.widths.get(ELLIPSIS, font.notdef_width)
    get = font.widths.get
    nd = font.notdef_width
    w = 0.0
    for i, ch in enumerate(text):
        w += get(ch, nd)
        if w > limit:
            return text[:i].rstrip() + ELLIPSIS
    return text


def wrap(font: Metrics, text: str, maxw: float, size: float, max_lines: int = 0) -> list[str]:
    """Greedy line breaking of cleaned text (one line, single spaces) into lines at most
    ``maxw`` wide; with ``max_lines``, the last kept line ends in an ellipsis."""
    if not text:
        return []
    get = font.widths.get
    nd = font.notdef_width
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
                elif (p >= CJK_START or c >= CJK_START) and c not in CLOSE_PUNCT \
                        and p not in OPEN_PUNCT:
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
        lines[-1] = fit(font, lines[-1] + ELLIPSIS, maxw, size)
    return lines


def wrap_paragraphs(font: Metrics, text: str, maxw: float, size: float) -> list[str]:
    """:func:`wrap` for each line of ``text``; an empty line stays an empty line."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        out.extend(wrap(font, paragraph, maxw, size) or [""])
    return out
