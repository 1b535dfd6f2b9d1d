"""Safe spreadsheet cells for every export: one rule, the safe-cell rule.

Export side: every value written to a workbook goes through `safe_value` / `set_cell` /
`write_only_cell` (openpyxl) or `write_cells` (XlsxWriter), which keep text that looks like
a formula (= + - @, tab, CR, NUL at the start) as plain text and drop characters that XML 1.0
cannot hold (after pretix's ``helpers/safe_openpyxl.py``). CSV for open data goes through
`csv_bytes` (UTF-8 with BOM).

The big exports write with XlsxWriter in constant-memory mode (`streamed_xlsxwriter`): one row
in memory, cells written straight to a temporary file, about three times faster than an
openpyxl write-only sheet with styled cells. There every text is written with `write_string`
(XlsxWriter never makes a formula of it), numbers, booleans and dates as typed cells.
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles.numbers import is_date_format
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet as XlsxWriterSheet

from portal_lib.disk import StorageUnavailable, storage_errors, write_only_workbook

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
# XML 1.0 allows #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF.
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------------------------
# Export: safe cells
# --------------------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Remove characters that XML (and therefore xlsx) cannot hold; line breaks become LF.

    A bare CR reads back as LF from plain XML but as CR where openpyxl writes through lxml
    (python-docx brings lxml in): normalising here makes every writer store the same text.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _XML_ILLEGAL_RE.sub("", text)


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES)


def safe_value(value: Any) -> Any:
    """The value as it may be written: text cleaned, other types unchanged."""
    if isinstance(value, str):
        return clean_text(value)
    return value


def _force_text(cell: Cell | WriteOnlyCell, value: Any) -> None:
    # openpyxl guesses a formula for "=..." strings; text must stay text whatever it starts with.
    if isinstance(value, str) and cell.data_type != "s":
        cell.data_type = "s"


def set_cell(ws: Any, row: int, column: int, value: Any) -> Cell:
    """Write one cell of a normal worksheet through the safe-cell rules."""
    cell = ws.cell(row=row, column=column)
    value = safe_value(value)
    cell.value = value
    _force_text(cell, value)
    return cell


def write_only_cell(ws: Any, value: Any) -> WriteOnlyCell:
    """A cell for a write-only (streamed) worksheet, through the safe-cell rules."""
    value = safe_value(value)
    cell = WriteOnlyCell(ws, value=value)
    _force_text(cell, value)
    return cell


def stream_value(ws: Any, value: Any) -> Any:
    """What to append to a write-only sheet: a plain value when openpyxl would store it as
    it is, a text-forced cell only when the text looks like a formula (fast path)."""
    if isinstance(value, str):
        value = clean_text(value)
        if value.startswith(FORMULA_PREFIXES):
            return write_only_cell(ws, value)
    return value


def stream_workbook(
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
    target: IO[bytes] | None = None,
) -> bytes:
    """A streamed (write-only) workbook: per sheet a title, a header row and data rows.

    With ``target`` (a seekable binary file, e.g. a temporary file) the workbook is written
    there and b"" is returned, so a large workbook never sits in memory as bytes.
    """
    with write_only_workbook("workbook") as wb:
        for title, header, rows in sheets:
            ws = wb.create_sheet(title=clean_text(title)[:31])
            ws.freeze_panes = "A2"
            ws.append([stream_value(ws, h) for h in header])
            for row in rows:
                ws.append([stream_value(ws, v) for v in row])
        return save_workbook(wb, target)


def save_workbook(wb: Any, target: IO[bytes] | None = None) -> bytes:
    """Save ``wb`` into ``target`` (returning b"") or, without one, return its bytes."""
    if target is not None:
        wb.save(target)
        return b""
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Export with XlsxWriter (constant memory): the same safe-cell rule
# --------------------------------------------------------------------------------------------

XLSXWRITER_OPTIONS = {
    "constant_memory": True,  # rows go to a temporary file as they are written
    # write() is never called, but should anyone: text stays text there too.
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
# What openpyxl shows a date or datetime in when its cell has no date format of its own.
DEFAULT_DATE_FORMAT = "yyyy-mm-dd"
DEFAULT_DATETIME_FORMAT = "yyyy-mm-dd h:mm:ss"


@contextmanager
def streamed_xlsxwriter(what: str, target: IO[bytes]) -> Iterator[SafeRowsWorkbook]:
    """An XlsxWriter workbook in constant-memory mode, saved into ``target`` (a binary file)
    when the block ends. Its temporary files live in a folder of their own, removed whatever
    happens; a failed write (a full disk) becomes StorageUnavailable, the 503 page."""
    with storage_errors(what):
        tmpdir = tempfile.mkdtemp(prefix="xlsx-")
    wb = None
    try:
        with storage_errors(what):
            wb = SafeRowsWorkbook(target, {**XLSXWRITER_OPTIONS, "tmpdir": tmpdir})
            yield wb
            try:
                wb.close()
            except FileCreateError as exc:  # XlsxWriter's wrapper of the OSError
                raise StorageUnavailable(f"{what}: {exc}") from exc
    finally:
        for ws in wb.worksheets() if wb is not None else ():
            with suppress(Exception):  # a failure leaves the sheet's row file open
                if ws.row_data_fh is not None and not ws.row_data_fh_closed:
                    ws.row_data_fh.close()
        shutil.rmtree(tmpdir, ignore_errors=True)


@dataclass(frozen=True)
class ColumnFormats:
    """The formats of one column: for its values, and for a date or datetime when the
    column's own number format is not a date format (openpyxl's defaults then)."""

    value: Format | None
    date: Format
    datetime: Format


def column_formats(
    wb: xlsxwriter.Workbook, styles: Sequence[Mapping[str, Any]]
) -> list[ColumnFormats]:
    """One ColumnFormats per column from XlsxWriter format properties (created once: a
    format is shared by every cell of its column, never one object per cell)."""
    out = []
    for style in styles:
        value = wb.add_format(dict(style)) if style else None
        fmt = style.get("num_format")
        if isinstance(fmt, str) and is_date_format(fmt):
            out.append(ColumnFormats(value, value, value))
        else:
            out.append(
                ColumnFormats(
                    value,
                    wb.add_format({**style, "num_format": DEFAULT_DATE_FORMAT}),
                    wb.add_format({**style, "num_format": DEFAULT_DATETIME_FORMAT}),
                )
            )
    return out


_XML_TEXT_ESCAPES = re.compile("[&<>]")
_EXCEL_ESCAPE_LIKE = re.compile("(_x[0-9a-fA-F]{4}_)")  # Excel would read it as an escape
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _excel_serial(value: date | datetime) -> float:
    """An Excel (1900 system) serial number, as XlsxWriter computes it for write_datetime."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        raise TypeError("Excel does not support timezones in datetimes")
    delta = value - _EXCEL_EPOCH
    serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    if value < datetime(1900, 3, 1):
        serial -= 1  # Excel's 1900 leap-year bug: serials before March 1900 are one less
    return serial


def _inline_text(text: str) -> str:
    """A cleaned text as the XML of an inline string: never markup, never a formula."""
    if "_x" in text:
        text = _EXCEL_ESCAPE_LIKE.sub(r"_x005F\1", text)  # shown as typed, as XlsxWriter does
    if _XML_TEXT_ESCAPES.search(text):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1].isspace() or text[-1:].isspace():
        return f'<is><t xml:space="preserve">{text}</t></is>'
    return f"<is><t>{text}</t></is>"


class SafeRowsWorksheet(XlsxWriterSheet):
    """An XlsxWriter worksheet (constant-memory mode) that writes whole rows of values through
    the safe-cell rule (`write_cells`).

    Each row is serialised here in one piece, straight to the sheet's temporary file; the
    sheet itself (columns, print set-up, panes, filter, formats, the <row> element with its
    height) stays XlsxWriter's. Twice as fast as a write_* call per cell, and safe where
    XlsxWriter is not: its constant-memory writer copies text that starts with "<r>" and
    ends with "</r>" into the file unescaped, as rich-text markup; here all text is escaped.
    """

    def write_safe_row(
        self, row: int, values: Sequence[Any], formats: Sequence[ColumnFormats]
    ) -> None:
        if row < self.previous_row or (row == self.previous_row and self.table.get(row)):
            raise ValueError(f"row {row}: a streamed sheet is written top to bottom")
        if row > self.previous_row:
            self._write_single_row(row)  # what XlsxWriter still holds goes to the file first
        last = max(len(values), 1) - 1
        if self._check_dimensions(row, 0) or self._check_dimensions(row, last):
            raise ValueError(f"row {row}: outside the worksheet")
        self.row_sizes.pop(row, None)  # nothing is kept once the row is in the file
        self._write_row(row, None, self.row_info.pop(row, None))
        number = row + 1
        parts = []
        for col, value in enumerate(values):
            fmt = formats[col]
            ref = f"{_column_letter(col)}{number}"
            cls = value.__class__
            if cls is str or isinstance(value, str):
                if "\r" in value or _XML_ILLEGAL_RE.search(value) or cls is not str:
                    value = clean_text(str(value))
                parts.append(
                    f'<c r="{ref}"{_xf(fmt.value)} t="inlineStr">{_inline_text(value)}</c>'
                )
            elif value is None:
                if fmt.value is not None:
                    parts.append(f'<c r="{ref}"{_xf(fmt.value)}/>')
            elif cls is bool:
                parts.append(f'<c r="{ref}"{_xf(fmt.value)} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
                if not math.isfinite(value):
                    raise ValueError(f"Cannot write {value!r} to Excel")
                parts.append(f'<c r="{ref}"{_xf(fmt.value)}><v>{value:.16G}</v></c>')
            elif isinstance(value, datetime):
                serial = _excel_serial(value)
                parts.append(f'<c r="{ref}"{_xf(fmt.datetime)}><v>{serial:.16G}</v></c>')
            elif isinstance(value, date):
                serial = _excel_serial(value)
                parts.append(f'<c r="{ref}"{_xf(fmt.date)}><v>{serial:.16G}</v></c>')
            else:
                raise ValueError(f"Cannot convert {value!r} to Excel")
        parts.append("</row>")
        self.fh.write("".join(parts))


class SafeRowsWorkbook(xlsxwriter.Workbook):
    worksheet_class = SafeRowsWorksheet


def _xf(fmt: Format | None) -> str:
    if fmt is None:
        return ""
    index = fmt._get_xf_index()  # numbered once, on first use, as XlsxWriter does
    return f' s="{index}"' if index else ""


@functools.cache
def _column_letter(col: int) -> str:
    letter: str = xl_col_to_name(col)  # XlsxWriter ships no types
    return letter


def write_cells(
    ws: SafeRowsWorksheet, row: int, values: Sequence[Any], formats: Sequence[ColumnFormats]
) -> None:
    """Write one row (0-based, rows in order) of a sheet of `streamed_xlsxwriter` through the
    safe-cell rule: text cleaned (`clean_text`) and written as escaped inline text whatever it
    starts with (never a formula), numbers, booleans and dates typed, an empty cell with its
    column's format (its borders)."""
    ws.write_safe_row(row, values, formats)


def csv_safe(value: Any) -> str:
    """A CSV field: formula-looking text gets a leading apostrophe (OWASP advice)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = clean_text(str(value))
    if isinstance(value, str) and looks_like_formula(text):
        return "'" + text
    return text


CSV_CHUNK_ROWS = 500


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV of csv_bytes in pieces of CSV_CHUNK_ROWS rows, for a streamed response."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    buf.write("\ufeff")
    writer.writerow([csv_safe(h) for h in header])
    for n, row in enumerate(rows, start=1):
        writer.writerow([csv_safe(v) for v in row])
        if n % CSV_CHUNK_ROWS == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with BOM so that Excel on a Japanese Windows opens it without mojibake."""
    return b"".join(csv_chunks(header, rows))


# --------------------------------------------------------------------------------------------
# Import: checks before any parser sees the bytes
# --------------------------------------------------------------------------------------------
