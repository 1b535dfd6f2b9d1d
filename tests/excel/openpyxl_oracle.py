"""The openpyxl twin of portal_lib.xlsx_layout.stream_table_xlsxwriter: a write-only
openpyxl sheet laid out the same way. The portal writes its big exports with XlsxWriter; this
copy stays as the test oracle the XlsxWriter table is compared with, cell for cell
(tests/excel/test_export_print_layout.py), since openpyxl's styles are the ones the page was
first designed and checked with."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from copy import copy
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter

from portal_lib.sheet_writing import safe_value
from portal_lib.xlsx_layout import (
    BORDER,
    HEADER_ALIGNMENT,
    HEADER_FILL,
    HEADER_FONT,
    LINE_HEIGHT_PT,
    MAX_WIDTH,
    MIN_WIDTH,
    SAMPLE_ROWS,
    WRAP_TOP,
    _row_height,
    _sample_widths,
    print_setup,
)


def _styled(ws: Any, **style: Any) -> StyleArray:
    """The style of a prototype cell, to be copied onto every cell of a column (creating a
    cell from a style array is much faster than assigning font/border/alignment per cell)."""
    proto = Cell(ws, row=1, column=1)
    for name, value in style.items():
        setattr(proto, name, value)
    return proto._style


def _stream_cell(ws: Any, value: Any, style: StyleArray) -> Cell:
    value = safe_value(value)
    cell = Cell(ws, row=1, column=1, value=value, style_array=copy(style))
    if isinstance(value, str) and cell.data_type != "s":
        cell.data_type = "s"  # text that looks like a formula stays text
    return cell


def stream_table(
    ws: Any,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    landscape: bool,
    title: str = "",
    number_formats: dict[int, str] | None = None,
    freeze_column: int = 1,
    sample_rows: int = SAMPLE_ROWS,
    min_width: float = MIN_WIDTH,
    max_width: float = MAX_WIDTH,
) -> int:
    """``layout_table`` for a write-only worksheet (``Workbook(write_only=True)``); returns
    the number of data rows written.

    A streamed sheet takes column widths, print set-up and frozen panes only before its first
    row, so the widths come from the header and the first ``sample_rows`` rows (the only rows
    held in memory). Every cell gets its style (bold filled header; bordered, wrapped body;
    ``number_formats`` by 0-based column index, e.g. WAREKI_DATE_FORMAT or PERCENT_FORMAT),
    and every row the height its wrapped text needs, set just before the row is written and
    dropped after, so nothing grows with the row count.
    """
    formats = number_formats or {}
    iterator = iter(rows)
    sample = [list(r) for _, r in zip(range(sample_rows), iterator, strict=False)]
    widths = _sample_widths(header, sample, min_width, max_width)
    for col, best in enumerate(widths):
        ws.column_dimensions[get_column_letter(col + 1)].width = best
    print_setup(
        ws,
        landscape=landscape,
        header_rows=(1, 1),
        freeze=f"{get_column_letter(freeze_column + 1)}2",
        title=title,
    )
    head_style = _styled(
        ws, font=HEADER_FONT, fill=HEADER_FILL, border=BORDER, alignment=HEADER_ALIGNMENT
    )
    body = [
        _styled(ws, border=BORDER, alignment=WRAP_TOP, number_format=formats.get(col, "General"))
        for col in range(len(header))
    ]
    ws.row_dimensions[1].height = _row_height(header, widths)
    ws.append([_stream_cell(ws, h, head_style) for h in header])
    del ws.row_dimensions[1]
    written = 0
    for row in itertools.chain(sample, iterator):
        written += 1
        height = _row_height(row, widths)
        if height > LINE_HEIGHT_PT:  # openpyxl writes a row's set height when it streams it
            ws.row_dimensions[written + 1].height = height
        ws.append([_stream_cell(ws, v, body[i]) for i, v in enumerate(row)])
        ws.row_dimensions.pop(written + 1, None)
    last = get_column_letter(max(len(header), 1))
    ws.auto_filter.ref = f"A1:{last}{written + 1}"  # written with the sheet's tail
    return written
