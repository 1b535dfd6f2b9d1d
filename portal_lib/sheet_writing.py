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
import io
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles.numbers import is_date_format
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.format import Format
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
def streamed_xlsxwriter(what: str, target: IO[bytes]) -> Iterator[xlsxwriter.Workbook]:
    """An XlsxWriter workbook in constant-memory mode, saved into ``target`` (a binary file)
    when the block ends. Its temporary files live in a folder of their own, removed whatever
    happens; a failed write (a full disk) becomes StorageUnavailable, the 503 page."""
    with storage_errors(what):
        tmpdir = tempfile.mkdtemp(prefix="xlsx-")
    wb = None
    try:
        with storage_errors(what):
            wb = xlsxwriter.Workbook(target, {**XLSXWRITER_OPTIONS, "tmpdir": tmpdir})
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
            out.append(ColumnFormats(value, value, value))  # type: ignore[arg-type]
        else:
            out.append(
                ColumnFormats(
                    value,
                    wb.add_format({**style, "num_format": DEFAULT_DATE_FORMAT}),
                    wb.add_format({**style, "num_format": DEFAULT_DATETIME_FORMAT}),
                )
            )
    return out


def write_cells(
    ws: XlsxWriterSheet, row: int, values: Sequence[Any], formats: Sequence[ColumnFormats]
) -> None:
    """Write one row (0-based) of an XlsxWriter sheet through the safe-cell rule: text cleaned
    and written as text whatever it starts with, numbers, booleans and dates typed; an
    empty cell keeps its column's format (borders)."""
    write_string = ws.write_string
    for col, value in enumerate(values):
        cls = value.__class__
        if cls is str:
            if "\r" in value or _XML_ILLEGAL_RE.search(value):
                value = clean_text(value)
            write_string(row, col, value, formats[col].value)
        elif value is None:
            fmt = formats[col].value
            if fmt is not None:
                ws.write_blank(row, col, None, fmt)
        elif cls is int or cls is float or cls is Decimal:
            ws.write_number(row, col, value, formats[col].value)
        elif cls is bool:
            ws.write_boolean(row, col, value, formats[col].value)
        elif cls is date:
            ws.write_datetime(row, col, value, formats[col].date)
        else:
            _write_other(ws, row, col, value, formats[col])


def _write_other(ws: XlsxWriterSheet, row: int, col: int, value: Any, fmt: ColumnFormats) -> None:
    if isinstance(value, str):  # a str subclass (SafeString and the like)
        ws.write_string(row, col, clean_text(str(value)), fmt.value)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt.value)
    elif isinstance(value, int | float | Decimal):
        ws.write_number(row, col, value, fmt.value)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value, fmt.datetime)  # aware datetimes raise, as in openpyxl
    elif isinstance(value, date):
        ws.write_datetime(row, col, value, fmt.date)
    elif isinstance(value, time):
        ws.write_datetime(row, col, value, fmt.datetime)
    else:
        raise ValueError(f"Cannot convert {value!r} to Excel")


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
