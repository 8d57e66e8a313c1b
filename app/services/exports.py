"""Tables as files: CSV (UTF-8 with a BOM, so Excel shows Chinese) and .xlsx (openpyxl).

A ``Table`` is a title, a header row and rows of plain values; the builders below turn
the scorecard's results into tables, and ``to_csv`` / ``to_xlsx`` write any table.
Headings, titles and the words in cells are in the requester's language (Chinese by
default, so a file for 教务处 reads in Chinese); numbers are written as on the pages.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from app.i18n import pick
from app.services.scorecard import (
    DIMENSION_KEYS,
    DIMENSION_LABELS,
    HeatTable,
    Overview,
    Scorecard,
)

#: Excel reads a CSV as UTF-8 only when it starts with this byte order mark.
BOM = "\ufeff"
#: A cell that starts with one of these is a formula to Excel; such text gets a leading
#: apostrophe so a club named "=HYPERLINK(…)" stays text (CSV/formula injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list]
    #: file name without extension, ASCII (the title goes in the UTF-8 name)
    slug: str


def _text_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, float):
        return f"{value:.1f}"
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_text_cell(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([_text_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _xlsx_cell(value):
    if isinstance(value, bool):
        return _yes_no(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = (_SHEET_FORBIDDEN.sub(" ", table.title) or "Sheet")[:31]
    sheet.append([_xlsx_cell(h) for h in table.headers])
    for row in table.rows:
        sheet.append([_xlsx_cell(v) for v in row])
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEEEF2")
    for cell in sheet[1]:
        cell.font, cell.fill = head, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    for index, header in enumerate(table.headers, start=1):
        longest = max([_width(header)] + [_width(r[index - 1]) for r in table.rows[:500]])
        sheet.column_dimensions[get_column_letter(index)].width = min(60, max(8, longest + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _width(value) -> int:
    """Display width: a CJK character is two columns wide."""
    text = _text_cell(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def render(table: Table, fmt: str) -> bytes:
    if fmt == "csv":
        return to_csv(table)
    if fmt == "xlsx":
        return to_xlsx(table)
    raise ValueError(f"unknown format {fmt!r}")


# --------------------------------------------------------------------------- builders


def _score(value: float | None):
    return _("No data") if value is None else value


def _dimension_headers() -> list[str]:
    return [pick(DIMENSION_LABELS[k]) for k in DIMENSION_KEYS]


def indicator_table(card: Scorecard) -> Table:
    """One club-term: every indicator with its score and raw figures."""
    rows = []
    for key in DIMENSION_KEYS:
        dim = card.dimensions[key]
        for item in dim.indicators:
            rows.append([dim.label, item.label, _score(item.score), item.detail, item.hint or ""])
        rows.append([dim.label, _("Dimension score"), _score(dim.score), "", ""])
    rows.append([_("Overall"), "", _score(card.overall), "", ""])
    return Table(
        f"{card.club.name} {card.term}",
        [_("Dimension"), _("Indicator"), _("Score"), _("Raw figures"), _("Hint")],
        rows, f"scorecard-{card.club.id}-{card.term}",
    )


def trend_table(cards: Sequence[Scorecard]) -> Table:
    club = cards[0].club if cards else None
    rows = [[c.term, _score(c.overall), *(_score(c.scores()[k]) for k in DIMENSION_KEYS)]
            for c in cards]
    return Table(
        _("%(club)s trend", club=club.name if club else ""),
        [_("Term"), _("Overall"), *_dimension_headers()],
        rows, f"scorecard-trend-{club.id if club else 0}",
    )


def ranking_table(overview: Overview) -> Table:
    rows = []
    for row in overview.rows:
        card, scores = row.card, row.card.scores()
        rows.append([
            row.rank if row.rank is not None else "", card.club.name, card.club.unit_name,
            card.club.category, _score(card.overall),
            *(_score(scores[k]) for k in DIMENSION_KEYS),
            _score(row.previous.overall) if row.previous is not None else _("No data"),
            row.change if row.change is not None else "",
        ])
    return Table(
        _("Five-izations ranking %(term)s", term=overview.term),
        [_("Rank"), _("Club"), _("Unit"), _("Category"), _("Overall"),
         *_dimension_headers(), _("Last term %(term)s", term=overview.previous_term), _("Change")],
        rows, f"scorecards-{overview.term}",
    )


def heat_table(heat: HeatTable) -> Table:
    rows = [
        [name, *(heat.value(uid, m) for m, _zh, _en in heat.modules), heat.unit_total(uid)]
        for uid, name in heat.units
    ]
    rows.append([_("Total"), *(heat.module_total(m) for m, _zh, _en in heat.modules),
                 round(sum(heat.cells.values()), 1)])
    return Table(
        _("Module hours %(term)s", term=heat.term),
        [_("Unit"), *(pick((zh, en)) for _key, zh, en in heat.modules), _("Total")],
        rows, f"module-hours-{heat.term}",
    )
