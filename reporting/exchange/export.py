"""Export of the bulk sheets (xlsx and CSV) and their empty templates.

Every workbook is ready to print as a city office prints it (portal_lib.xlsx_layout): A4,
landscape when the sheet is wide, fitted to the page width, the header repeated on every
page and frozen on screen, widths from the content, wrapped text with row heights that show
it. Dates are date cells shown in 和暦, numbers are numbers and percents are % cells; the
importer reads all of them back (a date cell, a % cell), so an unchanged export re-imports
with nothing to change. Exports are streamed: memory stays bounded at 100,000 rows.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter

from initiatives.models import SystemGroup
from plans.models import Plan
from portal_lib import xlsx_layout as xl
from portal_lib.sheet_writing import (
    clean_text,
    csv_bytes,
    csv_chunks,
    save_workbook,
    set_cell,
    streamed_xlsxwriter,
)
from reporting.exchange.columns import (
    DATE_PARSERS,
    Column,
    ExtraColumn,
    Spec,
    p_group,
    p_percent,
)

TEMPLATE_ROWS = 1000  # rows of a template that get the drop-down lists


def extra_columns(spec: Spec, plan: Plan) -> list[ExtraColumn]:
    """The export-only columns of the sheet (Spec.extra_columns), none for most sheets."""
    return spec.extra_columns(plan) if spec.extra_columns is not None else []


def header(spec: Spec, extras: list[ExtraColumn]) -> list[str]:
    return spec.header() + [e.header for e in extras]


def export_rows(
    spec: Spec, plan: Plan, extras: list[ExtraColumn] | None = None
) -> Iterator[list[Any]]:
    for obj in spec.queryset(plan).iterator(chunk_size=5000):
        yield [c.export(obj) for c in spec.columns] + [e.value(obj) for e in extras or []]


def _number_format(column: Column) -> str | None:
    if column.parse in DATE_PARSERS:
        return xl.WAREKI_DATE_FORMAT  # a date cell: p_date reads it back whatever its format
    if column.parse is p_percent:
        return xl.PERCENT_FORMAT  # a % cell: read back as PercentCell (0.6 -> 60)
    return None


def _xlsx_rows(spec: Spec, rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """Percents as the fractions a % cell holds (60 -> 0.6); everything else as it is."""
    percent = [i for i, c in enumerate(spec.columns) if c.parse is p_percent]
    for row in rows:
        for i in percent:
            if isinstance(row[i], int | float):
                row[i] = row[i] / 100
        yield row


def export_xlsx(spec: Spec, plan: Plan, target: IO[bytes] | None = None) -> bytes:
    """The sheet as bytes, or written to ``target`` (a binary file; then returns b"")."""
    extras = extra_columns(spec, plan)
    formats = {i: f for i, c in enumerate(spec.columns) if (f := _number_format(c))}
    formats.update(
        {len(spec.columns) + i: e.number_format for i, e in enumerate(extras) if e.number_format}
    )
    out = target if target is not None else io.BytesIO()
    # XlsxWriter in constant-memory mode: rows stream to a temporary file (a full disk: the
    # 503 page), every cell through the safe-cell rule, the print layout of xlsx_layout.
    with streamed_xlsxwriter(f"export {spec.slug}", out) as wb:
        ws = wb.add_worksheet(clean_text(spec.title)[:31])
        xl.stream_table_xlsxwriter(
            wb,
            ws,
            header(spec, extras),
            _xlsx_rows(spec, export_rows(spec, plan, extras)),
            landscape=not spec.portrait,
            title=spec.title,
            number_formats=formats,
        )
    return b"" if target is not None else out.getvalue()


def export_csv(spec: Spec, plan: Plan) -> bytes:
    extras = extra_columns(spec, plan)
    return csv_bytes(header(spec, extras), export_rows(spec, plan, extras))


def export_csv_chunks(spec: Spec, plan: Plan) -> Iterator[bytes]:
    """The CSV in pieces, read from the database as they are sent (a streamed response)."""
    extras = extra_columns(spec, plan)
    return csv_chunks(header(spec, extras), export_rows(spec, plan, extras))


def column_choices(column: Column, plan: Plan | None = None) -> tuple[str, ...]:
    """The values a choice column takes, as the importer reads them (its parser's list; the
    plan's system groups for a グループ column)."""
    if column.parse is p_group:
        if plan is None:
            return ()
        groups = SystemGroup.objects.filter(target__plan=plan, target__code="standard-systems")
        return tuple(g.name for g in groups.order_by("number"))
    return tuple(getattr(column.parse, "choices", ()))


def _template_width(column: Column, choices: tuple[str, ...]) -> float:
    hint = min(xl.text_width(column.hint), 40) if column.hint else 0
    widest_choice = max((xl.text_width(c) for c in choices), default=0)
    width = max(xl.text_width(column.header), hint, widest_choice, 8) + 2.0
    return min(width, xl.MAX_WIDTH)


def _template_note(column: Column, choices: tuple[str, ...]) -> str:
    parts = ["必須" if column.required else "任意"]
    if column.hint:
        parts.append(column.hint)
    if choices:
        parts.append("セルの▼から選べます。")
    return "\n".join(parts)


def template_xlsx(spec: Spec, plan: Plan | None = None) -> bytes:
    """An empty sheet with the headers (a comment on each: 必須/任意 and how to fill it in,
    a drop-down list on every choice column), and a second sheet explaining each column."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = spec.title[:31]
    last = TEMPLATE_ROWS + 1
    choices_of = {c.attr: column_choices(c, plan) for c in spec.columns}
    for col, column in enumerate(spec.columns, start=1):
        choices = choices_of[column.attr]
        cell = set_cell(ws, 1, col, column.header)
        note = _template_note(column, choices)
        cell.comment = Comment(note, "かほく市DX推進計画", width=240, height=90)
        letter = get_column_letter(col)
        dim = ws.column_dimensions[letter]
        dim.width = _template_width(column, choices)
        # Column styles: what is typed later wraps, and a typed date shows in 和暦.
        dim.alignment = xl.WRAP_TOP
        if fmt := _number_format(column):
            dim.number_format = fmt
        if choices:
            xl.add_choices(
                ws, column=col, choices=choices, first_row=2, last_row=last, title=column.header
            )
    xl.style_header(ws, row=1)
    xl.fit_row_heights(ws, first_row=1, last_row=1)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(spec.columns))}1"
    xl.print_setup(
        ws,
        landscape=not spec.portrait,
        header_rows=(1, 1),
        freeze="B2",
        title=spec.title,
    )

    guide_ws = wb.create_sheet("記入方法")
    guide = [["列", "必須", "入力のしかた", "選択肢"]]
    guide += [
        [c.header, "必須" if c.required else "", c.hint or "", " / ".join(choices_of[c.attr])]
        for c in spec.columns
    ]
    guide += [
        ["", "", "", ""],
        ["キー", "", "、".join(spec.column(k).header for k in spec.key if spec.column(k)), ""],
        [
            "",
            "",
            "キーが同じ行は更新、ない行は追加されます。ファイルにない行は削除されません。",
            "",
        ],
    ]
    for r, row in enumerate(guide, start=1):
        for c, value in enumerate(row, start=1):
            set_cell(guide_ws, r, c, value)
    xl.layout_table(guide_ws, header_row=1, landscape=True, title=f"{spec.title} 記入方法")
    return save_workbook(wb)
