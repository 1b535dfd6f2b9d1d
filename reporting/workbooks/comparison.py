"""The 新旧対照表 as a workbook: A4 landscape, header repeated, underlines kept as rich text,
from the table reporting.selectors.comparison builds."""

from __future__ import annotations

from typing import Any

import openpyxl
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Font

from portal_lib import xlsx_layout
from portal_lib.sheet_writing import clean_text, save_workbook, set_cell
from reporting.selectors.comparison import (
    AFTER_LEFT,
    ComparisonTable,
    Piece,
    columns_in_order,
    legend,
)

UNDERLINE = InlineFont(u="single")


def _rich(pieces: list[Piece]) -> Any:
    parts = [(clean_text(p.text), p.marked) for p in pieces if p.text]
    if not any(marked for _t, marked in parts):
        return "".join(t for t, _m in parts)
    return CellRichText([TextBlock(UNDERLINE, t) if marked else t for t, marked in parts])


HEADER_ROW = 6


def comparison_workbook(table: ComparisonTable, *, order: str = AFTER_LEFT) -> bytes:
    """The table as an office prints it: A4 landscape, header repeated, underlines kept."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "新旧対照表"
    columns = columns_in_order(table, order)
    top = [table.title] + [f"{h}:{label}" for h, label, _w in columns]
    top.append("\n".join(f"※{line}" for line in legend()))
    top.append(f"※{table.cut_note}" if table.cut_note else "")
    for r, value in enumerate(top, start=1):
        if value:
            cell = set_cell(ws, r, 1, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=3)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    for col, header in enumerate(["箇所"] + [c[0] for c in columns], start=1):
        set_cell(ws, HEADER_ROW, col, header)
    r = HEADER_ROW
    for row in table.rows:
        r += 1
        set_cell(ws, r, 1, row.place + (f"\n{row.note}" if row.note else ""))
        for col, (_h, _l, which) in enumerate(columns, start=2):
            set_cell(ws, r, col, _rich(row.after if which == "after" else row.before))
    if not table.rows:
        set_cell(ws, HEADER_ROW + 1, 1, "違いはありません。")
    xlsx_layout.layout_table(
        ws,
        header_row=HEADER_ROW,
        landscape=True,
        title=table.title,
        fixed_widths={1: 18, 2: 60, 3: 60},
    )
    ws.auto_filter.ref = None  # a document to read, not a list to filter
    return save_workbook(wb)
