"""Tables as files: CSV (UTF-8 with a BOM, so Excel shows Chinese) and .xlsx (openpyxl).

A ``Table`` is a title, a header row and rows of plain values; the builders below turn
the scorecard's results into tables, and ``to_csv`` / ``to_xlsx`` write any table.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

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
NO_DATA = "无数据 No data"

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
        return "是 yes" if value else "否 no"
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


def _xlsx_cell(value):
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
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
    return NO_DATA if value is None else value


def _dimension_headers() -> list[str]:
    return [f"{DIMENSION_LABELS[k][0]} {DIMENSION_LABELS[k][1]}" for k in DIMENSION_KEYS]


def indicator_table(card: Scorecard) -> Table:
    """One club-term: every indicator with its score and raw figures."""
    rows = []
    for key in DIMENSION_KEYS:
        dim = card.dimensions[key]
        for item in dim.indicators:
            rows.append([
                dim.label_zh, dim.label_en, item.label_zh, item.label_en, _score(item.score),
                item.detail_zh, item.detail_en, item.hint_zh or "", item.hint_en or "",
            ])
        rows.append([dim.label_zh, dim.label_en, "维度得分", "Dimension score", _score(dim.score),
                     "", "", "", ""])
    rows.append(["总分", "Overall", "", "", _score(card.overall), "", "", "", ""])
    return Table(
        f"{card.club.name} {card.term}",
        ["维度", "Dimension", "指标", "Indicator", "得分 Score", "原始数据", "Raw figures",
         "改进建议", "Hint"],
        rows, f"scorecard-{card.club.id}-{card.term}",
    )


def trend_table(cards: Sequence[Scorecard]) -> Table:
    club = cards[0].club if cards else None
    rows = [[c.term, _score(c.overall), *(_score(c.dimensions[k].score) for k in DIMENSION_KEYS)]
            for c in cards]
    return Table(
        f"{club.name if club else ''} 趋势 trend",
        ["学期 Term", "总分 Overall", *_dimension_headers()],
        rows, f"scorecard-trend-{club.id if club else 0}",
    )


def ranking_table(overview: Overview) -> Table:
    rows = []
    for row in overview.rows:
        card = row.card
        rows.append([
            row.rank if row.rank is not None else "", card.club.name, card.club.unit_name,
            card.club.category, _score(card.overall),
            *(_score(card.dimensions[k].score) for k in DIMENSION_KEYS),
            _score(row.previous.overall) if row.previous is not None else NO_DATA,
            row.change if row.change is not None else "",
        ])
    return Table(
        f"五化排名 {overview.term}",
        ["排名 Rank", "社团 Club", "院系 Unit", "类别 Category", "总分 Overall",
         *_dimension_headers(), f"上学期 {overview.previous_term}", "变化 Change"],
        rows, f"scorecards-{overview.term}",
    )


def heat_table(heat: HeatTable) -> Table:
    rows = [
        [name, *(heat.value(uid, m) for m, _, _ in heat.modules), heat.unit_total(uid)]
        for uid, name in heat.units
    ]
    rows.append(["合计 Total", *(heat.module_total(m) for m, _, _ in heat.modules),
                 round(sum(heat.cells.values()), 1)])
    return Table(
        f"模块学时 {heat.term}",
        ["院系 Unit", *(f"{zh} {en}" for _, zh, en in heat.modules), "合计 Total"],
        rows, f"module-hours-{heat.term}",
    )
