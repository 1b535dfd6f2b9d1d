"""How a workbook the portal writes looks on paper: the one home for print set-up.

A city office prints its sheets on A4, landscape when wide, fitted to the page width, with
the header repeated on every page. Text that wraps must have a row height that shows it
(Excel and LibreOffice do not grow rows by themselves for files written by a program), so
row heights are estimated from the text's display width: a Japanese character takes about
two columns of width, a Latin one about one.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from portal_lib.sheet_writing import column_formats, write_cells

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FONT = Font(bold=True)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center", horizontal="center")

LINE_HEIGHT_PT = 15.0  # one line of 11 pt text (Calibri / 游ゴシック), with leading
MIN_WIDTH = 6.0
MAX_WIDTH = 60.0
# Number formats for people (和暦 dates, percent) and for machines (ISO dates).
# [$-411] (Japanese) rather than Excel's newer [$-ja-JP-x-gannen]: LibreOffice prints the
# latter as a serial number (46296), while both Excel and LibreOffice print 令和8年10月1日.
WAREKI_DATE_FORMAT = '[$-411]ggge"年"m"月"d"日";@'
ISO_DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0%"
PERCENT_1DP_FORMAT = "0.0%"


class _CharWidths(dict[str, int]):
    """Each character's display width, looked up once (a big export measures every text of
    every row: unicodedata per character was a fifth of its time)."""

    LIMIT = 50_000  # distinct characters remembered; past it they are looked up each time

    def __missing__(self, ch: str) -> int:
        width = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if len(self) < self.LIMIT:
            self[ch] = width
        return width


_CHAR_WIDTHS = _CharWidths()


def text_width(text: str) -> int:
    """Display width in spreadsheet columns: wide (CJK, full-width) characters count 2."""
    if text.isascii():
        return len(text)  # no ASCII character is wide
    return sum(map(_CHAR_WIDTHS.__getitem__, text))


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return "令和00年00月00日"  # the widest 和暦 form a date cell shows
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def lines_needed(text: str, width: float) -> int:
    """How many lines ``text`` takes in a column ``width`` wide (wrapping on every line)."""
    usable = max(width - 1.0, 1.0)  # cell padding
    if 2 * len(text) <= usable and "\n" not in text:
        return 1  # fits even if every character is wide: nothing to measure
    return sum(max(1, math.ceil(text_width(part) / usable)) for part in text.split("\n")) or 1


def fit_columns(
    ws: Any,
    *,
    header_row: int,
    first_column: int = 1,
    last_column: int | None = None,
    min_width: float = MIN_WIDTH,
    max_width: float = MAX_WIDTH,
    fixed: dict[int, float] | None = None,
) -> dict[int, float]:
    """Set each column's width from its content (header included), within bounds."""
    last_column = last_column or ws.max_column
    fixed = fixed or {}
    widths: dict[int, float] = {}
    merged = _merged_cells(ws)
    for col in range(first_column, last_column + 1):
        if col in fixed:
            widths[col] = fixed[col]
            continue
        best = min_width
        for row in range(header_row, ws.max_row + 1):
            if (row, col) in merged:
                continue  # a merged cell's text spreads over several columns
            text = _display(ws.cell(row=row, column=col).value)
            longest = max((text_width(p) for p in text.split("\n")), default=0)
            best = max(best, min(longest + 2.0, max_width))
        widths[col] = best
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    return widths


def _merged_cells(ws: Any) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """(row, col) of every cell inside a merged range -> the range's bounds."""
    out: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    for rng in ws.merged_cells.ranges:
        bounds = (rng.min_row, rng.min_col, rng.max_row, rng.max_col)
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                out[(r, c)] = bounds
    return out


def _column_width(ws: Any, col: int) -> float:
    width = ws.column_dimensions[get_column_letter(col)].width
    return float(width) if width else 8.43  # Excel's default width


def fit_row_heights(ws: Any, *, first_row: int, last_row: int | None = None) -> None:
    """Give every row the height its wrapped text needs, merged ranges included.

    A value merged over several columns wraps in their summed width; one merged over several
    rows shares their heights, and the last row of the range takes what is still missing.
    """
    last_row = last_row or ws.max_row
    merged = _merged_cells(ws)
    need: dict[int, float] = {}
    spans: list[tuple[int, int, float]] = []
    for row in range(first_row, last_row + 1):
        for cell in ws[row]:
            if cell.value is None:
                continue
            bounds = merged.get((row, cell.column))
            if bounds and (bounds[0], bounds[1]) != (row, cell.column):
                continue
            r1, c1, r2, c2 = bounds or (row, cell.column, row, cell.column)
            width = sum(_column_width(ws, c) for c in range(c1, c2 + 1))
            lines = lines_needed(_display(cell.value), width)
            font = cell.font.sz if cell.font is not None and cell.font.sz else 11
            height = lines * LINE_HEIGHT_PT * float(font) / 11.0
            if r2 > r1:
                spans.append((r1, r2, height))
            else:
                need[row] = max(need.get(row, LINE_HEIGHT_PT), height)
    for r1, r2, height in spans:
        have = sum(need.get(r, LINE_HEIGHT_PT) for r in range(r1, r2 + 1))
        if have < height:
            need[r2] = need.get(r2, LINE_HEIGHT_PT) + (height - have)
    for row, height in need.items():
        ws.row_dimensions[row].height = round(height, 1)


def style_header(
    ws: Any, *, row: int, first_column: int = 1, last_column: int | None = None
) -> None:
    """Bold, filled, bordered, centred header cells that wrap."""
    last_column = last_column or ws.max_column
    for col in range(first_column, last_column + 1):
        cell = ws.cell(row=row, column=col)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = HEADER_ALIGNMENT


def wrap_body(ws: Any, *, first_row: int, last_row: int | None = None) -> None:
    """Borders and top-aligned wrapping for every cell of the body."""
    last_row = last_row or ws.max_row
    for row in ws.iter_rows(min_row=first_row, max_row=last_row):
        for cell in row:
            cell.border = BORDER
            if not (cell.alignment and cell.alignment.horizontal):
                cell.alignment = WRAP_TOP


# The printed page, one set of values for both writers (print_setup, print_setup_xlsxwriter):
# margins in inches, the page number in the footer's centre and the print date on its right.
PAGE_MARGINS = {"left": 0.4, "right": 0.4, "top": 0.6, "bottom": 0.6}
HEADER_FOOTER_MARGIN = 0.3
FOOTER_CENTRE = "&P / &N"
FOOTER_RIGHT = "印刷日 &D"
TITLE_MAX = 200  # characters of a title in the page header


def print_setup(
    ws: Any,
    *,
    landscape: bool,
    header_rows: tuple[int, int] | None,
    freeze: str | None = None,
    title: str = "",
) -> None:
    """A4, fitted to the page width, header rows on every page, page numbers in the footer."""
    # The class's constants: a write-only (streamed) sheet lacks them but takes the set-up.
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.orientation = (
        Worksheet.ORIENTATION_LANDSCAPE if landscape else Worksheet.ORIENTATION_PORTRAIT
    )
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(
        **PAGE_MARGINS, header=HEADER_FOOTER_MARGIN, footer=HEADER_FOOTER_MARGIN
    )
    ws.print_options.horizontalCentered = True
    if header_rows:
        ws.print_title_rows = f"{header_rows[0]}:{header_rows[1]}"
    if freeze:
        ws.freeze_panes = freeze
    if title:
        ws.oddHeader.left.text = title[:TITLE_MAX]
    ws.oddFooter.center.text = FOOTER_CENTRE
    ws.oddFooter.right.text = FOOTER_RIGHT


def add_choices(
    ws: Any, *, column: int, choices: Sequence[str], first_row: int, last_row: int, title: str
) -> DataValidation | None:
    """A drop-down list for a choice column (Excel's list validation, ≤ 255 characters)."""
    joined = ",".join(choices)
    if not choices or len(joined) > 255 or any("," in c or '"' in c for c in choices):
        return None
    dv = DataValidation(
        type="list",
        formula1=f'"{joined}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="入力できない値です",
        error=f"{title}は一覧から選んでください。",
        promptTitle=title[:32],
        prompt="一覧から選んでください。"[:255],
    )
    letter = get_column_letter(column)
    dv.add(f"{letter}{first_row}:{letter}{last_row}")
    ws.add_data_validation(dv)
    return dv


def layout_table(
    ws: Any,
    *,
    header_row: int,
    landscape: bool,
    title: str = "",
    fixed_widths: dict[int, float] | None = None,
    number_formats: dict[int, str] | None = None,
    freeze_column: int = 1,
) -> None:
    """The whole treatment for a plain table sheet whose header is at ``header_row``."""
    last_col = ws.max_column
    style_header(ws, row=header_row, last_column=last_col)
    wrap_body(ws, first_row=header_row + 1)
    for col, fmt in (number_formats or {}).items():
        for (cell,) in ws.iter_rows(
            min_row=header_row + 1, max_row=ws.max_row, min_col=col, max_col=col
        ):
            cell.number_format = fmt
    fit_columns(ws, header_row=header_row, fixed=fixed_widths)
    fit_row_heights(ws, first_row=1)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(last_col)}{max(ws.max_row, header_row)}"
    print_setup(
        ws,
        landscape=landscape,
        header_rows=(header_row, header_row),
        freeze=f"{get_column_letter(freeze_column + 1)}{header_row + 1}",
        title=title,
    )


def iter_text_cells(ws: Any) -> Iterable[Any]:
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str) and cell.value:
                yield cell


# --------------------------------------------------------------------------------------------
# Streamed (write-only) tables: the same look, with memory bounded whatever the row count
# --------------------------------------------------------------------------------------------

SAMPLE_ROWS = 1000  # rows read ahead to size the columns of a streamed table


def _sample_widths(
    header: Sequence[str], sample: Sequence[Sequence[Any]], min_width: float, max_width: float
) -> list[float]:
    """Each column's width from the header and the sampled rows, within bounds."""
    widths: list[float] = []
    for col, head in enumerate(header):
        best = max(min_width, min(text_width(head) + 2.0, max_width))
        for row in sample:
            if col < len(row):
                text = _display(row[col])
                longest = max((text_width(p) for p in text.split("\n")), default=0)
                best = max(best, min(longest + 2.0, max_width))
        widths.append(best)
    return widths


def _row_height(values: Sequence[Any], widths: Sequence[float]) -> float:
    lines = 1
    for value, width in zip(values, widths, strict=False):
        if isinstance(value, str) and value:
            if "\r" in value:
                value = value.replace("\r\n", "\n").replace("\r", "\n")  # as clean_text does
            lines = max(lines, lines_needed(value, width))
    return lines * LINE_HEIGHT_PT


# --------------------------------------------------------------------------------------------
# The same look written with XlsxWriter (constant memory): the big exports
# --------------------------------------------------------------------------------------------
# Format properties matching the openpyxl styles above (one home for the colours).

_BORDER_COLOR = "#" + THIN.color.rgb[-6:]
XW_HEADER_STYLE = {
    "bold": True,
    "pattern": 1,
    "bg_color": "#" + HEADER_FILL.fgColor.rgb[-6:],
    "border": 1,
    "border_color": _BORDER_COLOR,
    "text_wrap": True,
    "valign": "vcenter",
    "align": "center",
}
XW_BODY_STYLE = {"border": 1, "border_color": _BORDER_COLOR, "text_wrap": True, "valign": "top"}
PAPER_A4 = 9


def xlsxwriter_width(width: float) -> int:
    """The pixels to give XlsxWriter's ``set_column_pixels`` so that the file stores
    ``width`` (as openpyxl does): XlsxWriter stores pixels * 256 // 7 / 256 characters."""
    return round(width * 7)


def print_setup_xlsxwriter(
    ws: Any,
    *,
    landscape: bool,
    header_rows: tuple[int, int] | None,
    freeze: str | None = None,
    title: str = "",
) -> None:
    """``print_setup`` for an XlsxWriter worksheet: the same page, read back the same."""
    ws.set_paper(PAPER_A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    # One page wide, as many pages down as needed. XlsxWriter leaves out fitToWidth="1" (the
    # schema's default), which openpyxl then reads as unset: "1" as text is written out.
    ws.fit_to_pages("1", 0)
    ws.set_margins(**PAGE_MARGINS)
    ws.center_horizontally()
    if header_rows:
        ws.repeat_rows(header_rows[0] - 1, header_rows[1] - 1)
    if freeze:
        ws.freeze_panes(freeze)
    header = "&L" + title[:TITLE_MAX].replace("&", "&&") if title else ""
    ws.set_header(header, {"margin": HEADER_FOOTER_MARGIN})
    ws.set_footer(f"&C{FOOTER_CENTRE}&R{FOOTER_RIGHT}", {"margin": HEADER_FOOTER_MARGIN})


def stream_table_xlsxwriter(
    wb: Any,
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
    """``layout_table`` for an XlsxWriter worksheet in constant-memory mode (a workbook of
    ``sheet_writing.streamed_xlsxwriter``); returns the number of data rows written.

    The same page and look: widths from the header and the first ``sample_rows`` rows, the
    bold filled header repeated on every page and frozen, bordered wrapped body cells with
    ``number_formats`` by 0-based column index, each row the height its wrapped text needs,
    the auto filter over the whole table. One format per column, shared by its cells; every
    value through the safe-cell rule (``sheet_writing.write_cells``).
    """
    formats = number_formats or {}
    iterator = iter(rows)
    sample = [list(r) for _, r in zip(range(sample_rows), iterator, strict=False)]
    widths = _sample_widths(header, sample, min_width, max_width)
    for col, width in enumerate(widths):
        # A plain format of its own per column (it looks like the default): XlsxWriter joins
        # neighbouring columns of equal settings into one <col min max>, which Excel reads
        # but openpyxl gives only to the first column of the range.
        ws.set_column_pixels(col, col, xlsxwriter_width(width), wb.add_format())
    print_setup_xlsxwriter(
        ws,
        landscape=landscape,
        header_rows=(1, 1),
        freeze=f"{get_column_letter(freeze_column + 1)}2",
        title=title,
    )
    head_formats = column_formats(wb, [XW_HEADER_STYLE] * len(header))
    body = column_formats(
        wb,
        [
            {**XW_BODY_STYLE, "num_format": formats[col]} if col in formats else XW_BODY_STYLE
            for col in range(len(header))
        ],
    )
    ws.set_row(0, _row_height(header, widths))
    write_cells(ws, 0, header, head_formats)
    written = 0
    for row in itertools.chain(sample, iterator):
        written += 1
        height = _row_height(row, widths)
        if height > LINE_HEIGHT_PT:  # a one-line row keeps the default height
            ws.set_row(written, height)
        write_cells(ws, written, row, body)
    ws.autofilter(0, 0, written, max(len(header), 1) - 1)
    return written
