"""Table 4-1 (スケジュール予定) in the plan's own spreadsheet layout: the workbook.

The layout: a title row, then the header 項目 / 副項目 / R3 (2021) … R8 (2026), then one
spreadsheet row per schedule line. The 項目 cell is merged down over the item's lines; a
ScheduleCell with row_span / col_span is a merged range. Reading it back (any title rows,
years in any form, merged cells) is `reporting.table41`, on the import framework.
"""

from __future__ import annotations

import io
from datetime import date

import openpyxl
from django.utils import timezone
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from plans.models import Plan, ScheduleCell, ScheduleItem
from portal_lib import era
from portal_lib.sheet_reading import column_letter
from portal_lib.sheet_writing import set_cell
from portal_lib.xlsx_layout import fit_row_heights, print_setup

SHEET_TITLE = "表4-1"
ITEM_HEADER = "項目"
SUB_HEADER = "副項目"
TITLE_ROW = 1
HEADER_ROW = 2

_thin = Side(style="thin", color="808080")
BORDER = Border(left=_thin, right=_thin, top=_thin, bottom=_thin)
HEADER_FILL = PatternFill("solid", fgColor="E3E8EF")
CURRENT_FY_FILL = PatternFill("solid", fgColor="FFF2B3")
CURRENT_FY_HEADER_FILL = PatternFill("solid", fgColor="FFD966")


def table_title(plan: Plan) -> str:
    return (
        f"表4-1 スケジュール予定({era.era_label(plan.start_fy, short=False)}〜"
        f"{era.era_label(plan.end_fy, short=False)})"
    )


def schedule_items(plan: Plan) -> list[ScheduleItem]:
    """The plan's items with their lines, cells and leases (what is written, and what a
    file read back is compared with)."""
    return list(
        ScheduleItem.objects.filter(plan=plan)
        .order_by("order")
        .prefetch_related("rows__cells", "rows__lease")
    )


def export_schedule(plan: Plan, *, today: date | None = None) -> bytes:
    """The plan's table 4-1 as an .xlsx file (bytes)."""
    years = plan.fiscal_years
    current = era.current_fiscal_year(today or timezone.localdate())
    last_col = 2 + len(years)
    year_col = {fy: 3 + i for i, fy in enumerate(years)}

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET_TITLE

    title = set_cell(ws, TITLE_ROW, 1, table_title(plan))
    title.font = Font(bold=True, size=14)
    ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=last_col)

    headers = [ITEM_HEADER, SUB_HEADER] + [era.short_header(fy) for fy in years]
    for col, text in enumerate(headers, start=1):
        cell = set_cell(ws, HEADER_ROW, col, text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER
        cell.fill = HEADER_FILL
        if col >= 3 and years[col - 3] == current:
            cell.fill = CURRENT_FY_HEADER_FILL

    wrap = Alignment(wrap_text=True, vertical="top")
    centre = Alignment(wrap_text=True, vertical="center", horizontal="center")
    r = HEADER_ROW
    merges: list[tuple[int, int, int, int]] = []
    for item in schedule_items(plan):
        rows = sorted(item.rows.all(), key=lambda x: x.line)
        first = r + 1
        for row in rows:
            r += 1
            for col in range(1, last_col + 1):
                cell = ws.cell(row=r, column=col)
                cell.border = BORDER
                cell.alignment = wrap
                if col >= 3 and years[col - 3] == current:
                    cell.fill = CURRENT_FY_FILL
            set_cell(ws, r, 2, row.sub_title or None)
            for c in row.cells.all():
                if c.fiscal_year not in year_col:
                    continue
                col = year_col[c.fiscal_year]
                cell = set_cell(ws, r, col, c.text)
                if c.kind == ScheduleCell.Kind.MARKER:
                    cell.alignment = centre
                end_col = min(col + c.col_span - 1, last_col)
                if c.col_span > 1 or c.row_span > 1:
                    merges.append((r, col, r + c.row_span - 1, end_col))
        if not rows:
            continue
        set_cell(ws, first, 1, item.title)
        if r > first:
            merges.append((first, 1, r, 1))
    covered: set[tuple[int, int]] = set()
    for r1, c1, r2, c2 in merges:
        r2 = min(r2, max(r, r1))
        area = {(rr, cc) for rr in range(r1, r2 + 1) for cc in range(c1, c2 + 1)}
        # Never let a span swallow another cell's text or overlap another merge (Excel
        # would call the file corrupt); such a span is left unmerged instead.
        if area & covered or any(ws.cell(rr, cc).value is not None for rr, cc in area - {(r1, c1)}):
            continue
        covered |= area
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)

    ws.column_dimensions["A"].width = 42
    ws.column_dimensions["B"].width = 30
    for col in year_col.values():
        ws.column_dimensions[column_letter(col)].width = 18
    # Rows grow to show their wrapped text (merged ranges included): nothing prints cut.
    fit_row_heights(ws, first_row=TITLE_ROW)
    print_setup(ws, landscape=True, header_rows=(HEADER_ROW, HEADER_ROW), freeze="C3")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
