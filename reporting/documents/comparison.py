"""The 新旧対照表 as Word (.docx, A4 landscape) and PDF (LibreOffice from that .docx), from the
table reporting.selectors.comparison builds (the workbook: reporting.workbooks.comparison)."""

from __future__ import annotations

from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt

from portal_lib.office import convert_to_pdf
from reporting.documents import parts
from reporting.selectors.comparison import (
    AFTER_LEFT,
    ComparisonTable,
    Piece,
    columns_in_order,
    legend,
)

PLACE_WIDTH, TEXT_WIDTH = Mm(45), Mm(106)  # A4 landscape within 20 mm margins: 257 mm
KEEP_TOGETHER_CHARS = 600  # a row this short is kept on one page; a longer one may run on


def _write(paragraph: Any, pieces: list[Piece]) -> None:
    for piece in pieces:
        run = paragraph.add_run(parts.text(piece.text))
        if piece.marked:
            run.font.underline = True


def comparison_docx(table: ComparisonTable, *, order: str = AFTER_LEFT) -> bytes:
    document = parts.new_document(landscape=True, font_size=10)
    parts.page_number_footer(document.sections[0], table.title)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(parts.text(table.title))
    run.bold, run.font.size = True, Pt(14)
    columns = columns_in_order(table, order)
    for header, label, _which in columns:
        document.add_paragraph(parts.text(f"{header}:{label}"))
    for line in legend():
        paragraph = document.add_paragraph(parts.text(f"※{line}"))
        paragraph.runs[0].font.size = Pt(9)
    if table.cut_note:
        paragraph = document.add_paragraph(parts.text(f"※{table.cut_note}"))
        paragraph.runs[0].bold = True

    grid = document.add_table(rows=1, cols=3)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    widths = [PLACE_WIDTH, TEXT_WIDTH, TEXT_WIDTH]
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width  # the grid LibreOffice lays out by; Word reads the cells'
    headers = ["箇所"] + [c[0] for c in columns]
    for cell, header, width in zip(grid.rows[0].cells, headers, widths, strict=True):
        cell.width = width
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        cell.paragraphs[0].add_run(header).bold = True
        parts.shade(cell)
    parts.repeat_header(grid.rows[0])
    if not table.rows:
        cells = grid.add_row().cells
        merged = cells[0].merge(cells[2])
        merged.paragraphs[0].add_run("違いはありません。")
    for row in table.rows:
        added = grid.add_row()
        if sum(len(p.text) for p in row.after + row.before) <= KEEP_TOGETHER_CHARS:
            parts.cant_split(added)
        cells = added.cells
        for cell, width in zip(cells, widths, strict=True):
            cell.width = width
        cells[0].paragraphs[0].add_run(parts.text(row.place))
        if row.note:
            cells[0].add_paragraph().add_run(parts.text(row.note)).font.size = Pt(8)
        for cell, (_h, _l, which) in zip(cells[1:], columns, strict=True):
            _write(cell.paragraphs[0], row.after if which == "after" else row.before)
    parts.table_font_size(grid, 9)
    return parts.docx_bytes(document)


def comparison_pdf(table: ComparisonTable, *, order: str = AFTER_LEFT) -> bytes:
    """The .docx as PDF (LibreOffice); raises portal_lib.office.OfficeError."""
    return convert_to_pdf(comparison_docx(table, order=order), suffix=".docx")
