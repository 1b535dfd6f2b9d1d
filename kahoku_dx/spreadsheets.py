"""Safe spreadsheet cells and a safe spreadsheet reader, shared by every import and export.

Export side: every value written to a workbook goes through `safe_value` / `set_cell` /
`write_only_cell`, which keep text that looks like a formula (= + - @, tab, CR, NUL at the
start) as plain text and drop characters that XML 1.0 cannot hold (after pretix's
``helpers/safe_openpyxl.py``). CSV for open data goes through `csv_bytes` (UTF-8 with BOM).

Import side: `read_upload` refuses anything that is too big, is not really an xlsx (a zip
with ``[Content_Types].xml`` and ``xl/workbook.xml``) or csv, is a zip bomb (uncompressed size
and compression ratio are bounded *while* decompressing, whatever the zip headers claim), or
carries XML DTD/entity declarations. Only then is the file handed to openpyxl (which uses
defusedxml when it is installed, as it is here) or python-calamine for fast streaming reads.
Every refusal is a `SpreadsheetError` with a Japanese message for the user.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import openpyxl
import openpyxl.xml
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

# Bounds for what a zip may expand to. A legitimate 100,000-row sheet is ~20 MB of XML;
# its deflate ratio stays well below 100 (measured ~15-40 for our exports).
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = 1024 * 1024  # tiny members (styles, rels) may compress extremely well
MAX_ZIP_MEMBERS = 2000
_CHUNK = 1024 * 1024

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
# XML 1.0 allows #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF.
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DTD_RE = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)

if not openpyxl.xml.DEFUSEDXML:  # pragma: no cover - guarded by requirements.txt
    raise ImportError("defusedxml must be installed so that openpyxl parses XML safely.")


class SpreadsheetError(Exception):
    """A file was refused; `messages` are user-facing Japanese sentences."""

    def __init__(self, *messages: str) -> None:
        super().__init__(" ".join(messages))
        self.messages = list(messages)


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


def stream_workbook(sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """A streamed (write-only) workbook: per sheet a title, a header row and data rows."""
    wb = openpyxl.Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=clean_text(title)[:31])
        ws.freeze_panes = "A2"
        ws.append([stream_value(ws, h) for h in header])
        for row in rows:
            ws.append([stream_value(ws, v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


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


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """UTF-8 with BOM so that Excel on a Japanese Windows opens it without mojibake."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return "\ufeff".encode() + buf.getvalue().encode("utf-8")


# --------------------------------------------------------------------------------------------
# Import: checks before any parser sees the bytes
# --------------------------------------------------------------------------------------------


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.0f}MB" if n >= 1024 * 1024 else f"{n}バイト"


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise SpreadsheetError(
            f"ファイルが大きすぎます({_mb(size)})。{_mb(limit)}以下のファイルにしてください。"
        )


NOT_SPREADSHEET = (
    "Excelファイル(.xlsx)として読み込めません。Excel または LibreOffice で"
    "「Excel 2007-365 (.xlsx)」形式で保存したファイルを選んでください。"
)
NOT_SPREADSHEET_OR_CSV = (
    "Excelファイル(.xlsx)またはCSVファイルとして読み込めません。"
    "Excel または LibreOffice で .xlsx か CSV(UTF-8)で保存したファイルを選んでください。"
)
ZIP_BOMB = (
    "ファイルを展開すると異常に大きくなるため、安全のため読み込みを中止しました"
    "(圧縮爆弾の疑い)。Excelで開き直して保存したファイルを使ってください。"
)
XML_ENTITY = (
    "ファイルに XML の DOCTYPE/ENTITY 宣言が含まれているため、安全のため読み込みを中止しました。"
    "Excelで開き直して保存したファイルを使ってください。"
)
BROKEN_XLSX = "Excelファイルが壊れているため読み込めません。Excelで開き直して保存してください。"


def check_xlsx(data: bytes) -> None:
    """Refuse what is not an xlsx, and zip bombs and DTD/entity tricks, with bounded memory.

    Every member is decompressed in 1 MB chunks and counted; the zip headers' sizes are not
    trusted. XML members are scanned for <!DOCTYPE / <!ENTITY (openpyxl's defusedxml would
    refuse them too, but python-calamine is not defusedxml, so the check lives here).
    """
    if not data.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise SpreadsheetError(NOT_SPREADSHEET)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetError(NOT_SPREADSHEET) from exc
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise SpreadsheetError(NOT_SPREADSHEET)
    if len(infos) > MAX_ZIP_MEMBERS:
        raise SpreadsheetError(ZIP_BOMB)
    declared = sum(i.file_size for i in infos)
    if declared > MAX_UNCOMPRESSED_BYTES:
        raise SpreadsheetError(ZIP_BOMB)
    total = 0
    try:
        for info in infos:
            if info.is_dir():
                continue
            member = 0
            is_xml = info.filename.endswith((".xml", ".rels", ".vml"))
            tail = b""
            with zf.open(info) as fh:
                while chunk := fh.read(_CHUNK):
                    member += len(chunk)
                    total += len(chunk)
                    if total > MAX_UNCOMPRESSED_BYTES:
                        raise SpreadsheetError(ZIP_BOMB)
                    if member > RATIO_CHECK_MIN_BYTES and member > MAX_COMPRESSION_RATIO * max(
                        info.compress_size, 1
                    ):
                        raise SpreadsheetError(ZIP_BOMB)
                    if is_xml:
                        if tail == b"" and chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
                            # UTF-16 XML would hide a DOCTYPE from a byte scan; Excel never writes it.
                            raise SpreadsheetError(XML_ENTITY)
                        if _DTD_RE.search(tail + chunk):
                            raise SpreadsheetError(XML_ENTITY)
                        tail = chunk[-32:]
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise SpreadsheetError(BROKEN_XLSX) from exc


def _decode_csv(data: bytes) -> str:
    if b"\0" in data[:4096]:
        raise SpreadsheetError(NOT_SPREADSHEET_OR_CSV)
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError(
        "CSVファイルの文字コードを読み取れません。UTF-8 または Shift_JIS で保存してください。"
    )


# --------------------------------------------------------------------------------------------
# Import: reading
# --------------------------------------------------------------------------------------------


@dataclass
class Sheet:
    """Values of one sheet: `rows[i]` is spreadsheet row `i + 1`; trailing blanks trimmed."""

    name: str
    rows: list[list[Any]] = field(default_factory=list)


def _trim(values: Sequence[Any]) -> list[Any]:
    out = [None if (isinstance(v, str) and not v.strip()) else v for v in values]
    while out and out[-1] is None:
        out.pop()
    return out


def is_csv_name(filename: str) -> bool:
    return filename.lower().endswith(".csv")


def validate_upload(data: bytes, filename: str, *, allow_csv: bool = False) -> str:
    """Run every check; return "xlsx" or "csv". Raises SpreadsheetError."""
    from django.conf import settings

    check_size(len(data), settings.MAX_UPLOAD_BYTES)
    if not data:
        raise SpreadsheetError("ファイルが空です。")
    if data.startswith(b"PK\x03\x04"):
        check_xlsx(data)
        return "xlsx"
    if allow_csv and is_csv_name(filename):
        _decode_csv(data)
        return "csv"
    raise SpreadsheetError(NOT_SPREADSHEET_OR_CSV if allow_csv else NOT_SPREADSHEET)


def iter_rows(
    data: bytes, kind: str, *, engine: str = "calamine"
) -> Iterator[tuple[str, int, list]]:
    """(sheet name, 1-based row number, values) for every non-empty row, streamed.

    Call only after `validate_upload`. "calamine" is fast; "openpyxl" uses read-only mode.
    """
    if kind == "csv":
        text = _decode_csv(data)
        for number, values in enumerate(csv.reader(io.StringIO(text)), start=1):
            trimmed = _trim(values)
            if trimmed:
                yield "CSV", number, trimmed
        return
    try:
        if engine == "calamine":
            from python_calamine import CalamineWorkbook

            wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
            for name in wb.sheet_names:
                sheet = wb.get_sheet_by_name(name)
                for number, values in enumerate(sheet.iter_rows(), start=1):
                    trimmed = _trim(values)
                    if trimmed:
                        yield name, number, trimmed
        else:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                for ws in wb.worksheets:
                    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                        trimmed = _trim(values)
                        if trimmed:
                            yield ws.title, number, trimmed
            finally:
                wb.close()
    except SpreadsheetError:
        raise
    except Exception as exc:  # any parser failure on a file that passed the checks
        raise SpreadsheetError(BROKEN_XLSX) from exc


def load_full_workbook(data: bytes) -> Any:
    """A normal (not read-only) openpyxl workbook, for layouts needing merged cells.

    Call only after `validate_upload`; intended for small files such as table 4-1.
    """
    try:
        return openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:
        raise SpreadsheetError(BROKEN_XLSX) from exc


def cell_error(sheet: str, row: int, col: int, header: str, value: Any, message: str) -> str:
    """The one import error format: sheet, row, column (letter and header) and the value."""
    where = f"シート「{sheet}」{row}行目 {column_letter(col)}列"
    if header:
        where += f"({header})"
    shown = "" if value is None else display_value(value)
    return f"{where}の「{shown}」: {message}"


def display_value(value: Any) -> str:
    """A read value as text (Excel gives 3.0 for 3, datetimes for dates)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)
