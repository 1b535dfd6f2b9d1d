"""The list of differences between two plan contents as a workbook (計画の比較.xlsx), the
``?format=xlsx`` of the plan comparison screen (reporting.views.versions)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import openpyxl

from portal_lib import xlsx_layout
from portal_lib.sheet_writing import set_cell

HEADER = ["区分", "対象", "番号・位置", "名称", "項目", "変更前", "変更後"]


def differences_workbook(a_label: str, b_label: str, differences: Iterable[Any]) -> bytes:
    """One row per changed field (a row with the item alone when nothing inside changed),
    every cell through the safe-cell rule; titled 「a → b」, laid out for A4 landscape."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "比較"
    set_cell(ws, 1, 1, f"{a_label} → {b_label}")
    for col, text in enumerate(HEADER, start=1):
        set_cell(ws, 3, col, text)
    row = 3
    for d in differences:
        for change in d.changes or [None]:
            row += 1
            kind = f"{d.kind_label}({d.ending_label})" if d.ending else d.kind_label
            values = [kind, d.area, d.key, d.title]
            values += [change.label, change.before, change.after] if change else ["", "", ""]
            for col, value in enumerate(values, start=1):
                set_cell(ws, row, col, str(value))
    xlsx_layout.layout_table(
        ws, header_row=3, landscape=True, title="計画の比較", fixed_widths={6: 50, 7: 50}
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
