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
from typing import IO, Any

import openpyxl
import openpyxl.xml
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell

from kahoku_dx.disk import write_only_workbook

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

# Bounds for what a zip may expand to. A legitimate 100,000-row sheet is ~20 MB of XML;
# its deflate ratio stays well below 100 (measured ~15-40 for our exports).
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = 1024 * 1024  # tiny members (styles, rels) may compress extremely well
MAX_ZIP_MEMBERS = 2000
_CHUNK = 1024 * 1024
MAX_SHOWN_VALUE = 100  # characters of a cell value quoted in an error message

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
# XML 1.0 allows #x9 #xA #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF.
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DTD_RE = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)

if not openpyxl.xml.DEFUSEDXML:  # pragma: no cover - guarded by requirements.txt
    raise ImportError("defusedxml must be installed so that openpyxl parses XML safely.")


class SpreadsheetError(Exception):
    """A file was refused; `messages` are user-facing Japanese sentences."""

    def __init__(self, *messages: str, total: int | None = None) -> None:
        super().__init__(" ".join(messages))
        self.messages = list(messages)
        # How many problems there were: more than `messages` when only the first are kept.
        self.total = len(self.messages) if total is None else total


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
        if target is not None:
            wb.save(target)
            return b""
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
BROKEN_CSV = "CSVファイルの形式が正しくないため読み込めません(1つの欄が長すぎるなど)。"
BROKEN_XLSX = "Excelファイルが壊れているため読み込めません。Excelで開き直して保存してください。"


@dataclass(frozen=True)
class ImportLimits:
    """How much one uploaded sheet may hold; checked while the file streams, before parsing.

    ``max_rows`` counts data rows (the engine counts them exactly below the header; the scan
    allows ``header_rows`` more for titles and the header). ``max_cells`` bounds every cell
    element of a sheet (calamine holds a sheet's cells in memory, ~100 bytes each) and
    ``max_text_bytes`` the sheet's XML plus the text its cells reference once shared strings
    are resolved (a 1 MB file can reference one 30,000-character string 90,000 times, or
    repeat a long inline string on every row).
    """

    max_rows: int = 100_000
    max_cells: int = 1_000_000
    max_text_bytes: int = 48 * 1024 * 1024
    header_rows: int = 20

    @classmethod
    def from_settings(cls) -> ImportLimits:
        from django.conf import settings

        return cls(max_rows=settings.IMPORT_MAX_ROWS, max_cells=settings.IMPORT_MAX_CELLS)


def too_many_rows(limit: int) -> str:
    return (
        f"行数が多すぎます。1回に取り込めるのは{limit:,}行までです。"
        "ファイルを分けて取り込んでください。"
    )


def too_many_cells(limit: int) -> str:
    return (
        f"セルの数が多すぎます。1つのシートに入れられるのは{limit:,}セルまでです。"
        "不要な行や列を削除するか、ファイルを分けてください。"
    )


def too_much_text(limit: int) -> str:
    return f"シートの文字の量が多すぎます({_mb(limit)}まで)。ファイルを分けて取り込んでください。"


@dataclass
class XlsxScan:
    """What the streaming check learnt about a workbook besides "it is safe"."""

    # sheet name -> {(row, column)} of cells shown with a % number format (value 0.6 = 60%)
    percent_cells: dict[str, set[tuple[int, int]]] = field(default_factory=dict)


# Element starts, with or without a namespace prefix ("<row ", "<x:row>", "<c r=...").
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s>/]")
_SHARED_REF = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\bt=\"s\"[^>]*>\s*<(?:[\w.-]+:)?v>(\d+)<"
)
_SI_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?si[\s>/]")
_CELL_REF = re.compile(rb"\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_MAX_CARRY = 4 * 1024 * 1024
_BUILTIN_PERCENT_FORMATS = {9, 10}


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _read_small(zf: zipfile.ZipFile, name: str, limit: int = 8 * 1024 * 1024) -> bytes:
    if name not in zf.namelist():
        return b""
    with zf.open(name) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise SpreadsheetError(ZIP_BOMB)
    if _DTD_RE.search(data) or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise SpreadsheetError(XML_ENTITY)
    return data


def _xml(data: bytes) -> Any:
    from defusedxml import ElementTree

    try:
        return ElementTree.fromstring(data)
    except Exception as exc:
        raise SpreadsheetError(BROKEN_XLSX) from exc


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """Zip member path of each worksheet -> its sheet name (workbook.xml and its rels)."""
    workbook = _xml(_read_small(zf, "xl/workbook.xml"))
    rels_data = _read_small(zf, "xl/_rels/workbook.xml.rels")
    targets = {}
    if rels_data:
        for rel in _xml(rels_data):
            target = rel.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id")] = path
    out = {}
    for el in workbook.iter():
        if _local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            if rid in targets:
                out[targets[rid]] = el.get("name", "")
    return out


def _percent_styles(zf: zipfile.ZipFile) -> set[bytes]:
    """Indices (as they appear in s="…") of cell styles whose number format shows a %."""
    data = _read_small(zf, "xl/styles.xml")
    if not data:
        return set()
    root = _xml(data)
    custom_percent = set()
    xfs: list[int] = []
    for el in root.iter():
        name = _local(el.tag)
        if name == "numFmt" and "%" in (el.get("formatCode") or "").replace('"%"', ""):
            custom_percent.add(int(el.get("numFmtId", "-1")))
        elif name == "cellXfs":
            xfs = [int(xf.get("numFmtId", "0")) for xf in el if _local(xf.tag) == "xf"]
    percent = _BUILTIN_PERCENT_FORMATS | custom_percent
    return {str(i).encode() for i, fmt in enumerate(xfs) if fmt in percent}


class _SheetCounter:
    """Counts rows, cells and resolved shared-string bytes of one worksheet as it streams."""

    def __init__(
        self,
        name: str,
        limits: ImportLimits | None,
        shared: list[int],
        percent_styles: set[bytes],
        scan: XlsxScan,
    ) -> None:
        self.name, self.limits, self.shared = name, limits, shared
        self.rows = self.cells = self.text = 0
        self.carry = b""
        self.percent_re = (
            re.compile(
                rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\bs=\"(?:"
                + b"|".join(sorted(percent_styles))
                + rb")\"[^>]*>"
            )
            if percent_styles
            else None
        )
        self.scan = scan

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        buf = self.carry + chunk
        if final:
            cut = len(buf)
        else:
            # Cut before the last cell start (a shared-string cell needs its <v> with it) or,
            # when no cell is near the end, before the last tag: every counted tag is whole.
            cut = buf.rfind(b"<c", max(0, len(buf) - 65536))
            if cut <= 0:
                cut = buf.rfind(b"<")
            if cut <= 0:
                self.carry = buf
                if len(buf) > _MAX_CARRY:
                    raise SpreadsheetError(BROKEN_XLSX)
                return
        piece, self.carry = buf[:cut], buf[cut:]
        if len(self.carry) > _MAX_CARRY:
            raise SpreadsheetError(BROKEN_XLSX)
        limits = self.limits
        self.rows += len(_ROW_TAG.findall(piece))
        self.cells += len(_CELL_TAG.findall(piece))
        if limits is not None:
            if self.rows > limits.max_rows + limits.header_rows:
                raise SpreadsheetError(too_many_rows(limits.max_rows))
            if self.cells > limits.max_cells:
                raise SpreadsheetError(too_many_cells(limits.max_cells))
            # The sheet's own XML (inline strings live there) plus the shared strings its
            # cells reference: what calamine will hold once the sheet is loaded.
            self.text += len(piece)
            if self.shared:
                shared, size = self.shared, len(self.shared)
                for index in _SHARED_REF.findall(piece):
                    i = int(index)
                    if i < size:
                        self.text += shared[i]
            if self.text > limits.max_text_bytes:
                raise SpreadsheetError(too_much_text(limits.max_text_bytes))
        if self.percent_re is not None:
            cells = self.scan.percent_cells.setdefault(self.name, set())
            for m in self.percent_re.finditer(piece):
                ref = _CELL_REF.search(m[0])
                if ref:
                    cells.add((int(ref[2]), _column_index(ref[1])))


class _SharedStringSizes:
    """Byte length of every <si> of sharedStrings.xml, measured while it streams."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.offset = 0
        self.start: int | None = None
        self.carry = b""

    def feed(self, chunk: bytes) -> None:
        buf = self.carry + chunk
        cut = buf.rfind(b"<")
        if cut <= 0:
            cut = len(buf)
        piece, self.carry = buf[:cut], buf[cut:]
        if len(self.carry) > _MAX_CARRY:
            raise SpreadsheetError(BROKEN_XLSX)
        for m in _SI_TAG.finditer(piece):
            if m[1]:
                if self.start is not None:
                    self.sizes.append(self.offset + m.start() - self.start)
                    self.start = None
            elif m[0].endswith(b"/"):
                self.sizes.append(0)
            else:
                self.start = self.offset + m.end()
        self.offset += len(piece)


def check_xlsx(data: bytes, limits: ImportLimits | None = None) -> XlsxScan:
    """Refuse what is not an xlsx, zip bombs, DTD/entity tricks and (with ``limits``) sheets
    that are too big, with bounded memory; return what the scan learnt (percent cells).

    Every member is decompressed in 1 MB chunks and counted; the zip headers' sizes are not
    trusted. XML members are scanned for <!DOCTYPE / <!ENTITY (openpyxl's defusedxml would
    refuse them too, but python-calamine is not defusedxml, so the check lives here).
    Worksheets are counted while they stream (rows, cells, shared-string text) and reading
    stops at the first limit passed, so a 2.5-million-row sheet is refused after ~100,000.
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
    scan = XlsxScan()
    total = 0
    try:
        sheets = _sheet_members(zf)
        percent_styles = _percent_styles(zf)
        shared = _SharedStringSizes()
        # Shared strings first: a sheet's text is counted through them.
        ordered = sorted(infos, key=lambda i: i.filename != "xl/sharedStrings.xml")
        for info in ordered:
            if info.is_dir():
                continue
            member = 0
            is_xml = info.filename.endswith((".xml", ".rels", ".vml"))
            tail = b""
            counter = (
                _SheetCounter(sheets[info.filename], limits, shared.sizes, percent_styles, scan)
                if info.filename in sheets
                else None
            )
            is_shared = info.filename == "xl/sharedStrings.xml" and limits is not None
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
                    if counter is not None:
                        counter.feed(chunk)
                    elif is_shared:
                        shared.feed(chunk)
            if counter is not None:
                counter.feed(b"", final=True)
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise SpreadsheetError(BROKEN_XLSX) from exc
    return scan


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


class PercentCell(float):
    """A numeric cell shown with a % number format: Excel stores 60% as 0.6."""


@dataclass
class Upload:
    """An upload that passed every check, with what reading it needs."""

    data: bytes
    kind: str  # "xlsx" or "csv"
    limits: ImportLimits
    scan: XlsxScan = field(default_factory=XlsxScan)

    def rows(self, *, engine: str = "calamine") -> Iterator[tuple[str, int, list]]:
        return iter_rows(self.data, self.kind, engine=engine, limits=self.limits, scan=self.scan)


def open_upload(
    data: bytes, filename: str, *, allow_csv: bool = False, limits: ImportLimits | None = None
) -> Upload:
    """Run every check (size, type, zip bomb, XML tricks, rows/cells/text limits)."""
    from django.conf import settings

    limits = limits or ImportLimits.from_settings()
    check_size(len(data), settings.MAX_UPLOAD_BYTES)
    if not data:
        raise SpreadsheetError("ファイルが空です。")
    if data.startswith(b"PK\x03\x04"):
        return Upload(data, "xlsx", limits, check_xlsx(data, limits))
    if allow_csv and is_csv_name(filename):
        _decode_csv(data)
        return Upload(data, "csv", limits)
    raise SpreadsheetError(NOT_SPREADSHEET_OR_CSV if allow_csv else NOT_SPREADSHEET)


def validate_upload(
    data: bytes, filename: str, *, allow_csv: bool = False, limits: ImportLimits | None = None
) -> str:
    """Run every check; return "xlsx" or "csv". Raises SpreadsheetError."""
    return open_upload(data, filename, allow_csv=allow_csv, limits=limits).kind


def _bounded(
    rows: Iterator[tuple[str, int, list]], limits: ImportLimits | None
) -> Iterator[tuple[str, int, list]]:
    """Second guard behind the scan (and the only one for CSV): rows and cells per sheet."""
    if limits is None:
        yield from rows
        return
    sheet, cells = None, 0
    for name, number, values in rows:
        if name != sheet:
            sheet, cells = name, 0
        cells += len(values)
        if number > limits.max_rows + limits.header_rows:
            raise SpreadsheetError(too_many_rows(limits.max_rows))
        if cells > limits.max_cells:
            raise SpreadsheetError(too_many_cells(limits.max_cells))
        yield name, number, values


def iter_rows(
    data: bytes,
    kind: str,
    *,
    engine: str = "calamine",
    limits: ImportLimits | None = None,
    scan: XlsxScan | None = None,
) -> Iterator[tuple[str, int, list]]:
    """(sheet name, 1-based row number, values) for every non-empty row, streamed.

    Call only after `validate_upload`. "calamine" is fast; "openpyxl" uses read-only mode.
    Numbers in cells shown with a % format come as `PercentCell`.
    """
    return _bounded(_iter_rows(data, kind, engine=engine, scan=scan or XlsxScan()), limits)


def _with_percent(name: str, number: int, values: list, scan: XlsxScan) -> list:
    cells = scan.percent_cells.get(name)
    if cells:
        for i, v in enumerate(values):
            if (number, i + 1) in cells and isinstance(v, int | float) and not isinstance(v, bool):
                values[i] = PercentCell(v)
    return values


def _iter_rows(
    data: bytes, kind: str, *, engine: str, scan: XlsxScan
) -> Iterator[tuple[str, int, list]]:
    if kind == "csv":
        text = _decode_csv(data)
        try:
            for number, values in enumerate(csv.reader(io.StringIO(text)), start=1):
                trimmed = _trim(values)
                if trimmed:
                    yield "CSV", number, trimmed
        except csv.Error as exc:
            raise SpreadsheetError(BROKEN_CSV) from exc
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
                        yield name, number, _with_percent(name, number, trimmed, scan)
        else:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                for ws in wb.worksheets:
                    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                        trimmed = _trim(values)
                        if trimmed:
                            yield ws.title, number, _with_percent(ws.title, number, trimmed, scan)
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
    if len(shown) > MAX_SHOWN_VALUE:  # an error page stays small whatever a cell holds
        shown = shown[:MAX_SHOWN_VALUE] + f"…(全{len(shown):,}文字)"
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


def merged_sheet_rows(
    data: bytes, filename: str, *, max_rows: int, max_columns: int = 64
) -> tuple[str, list[tuple[int, list]]]:
    """The first sheet's non-empty rows with merged cells filled from their top-left cell.

    Merged ranges need openpyxl's normal (not read-only) mode, which holds the whole sheet
    in memory; so the file passes every check of `open_upload` with ``max_rows`` (plus
    title rows) and ``max_rows * max_columns`` cells *before* it is loaded. Returns the
    sheet name and (1-based row number, values) pairs.
    """
    limits = ImportLimits(
        max_rows=max_rows,
        max_cells=(max_rows + ImportLimits.header_rows) * max_columns,
        max_text_bytes=8 * 1024 * 1024,
    )
    open_upload(data, filename, limits=limits)
    wb = load_full_workbook(data)
    try:
        ws = wb.worksheets[0]
        fill: dict[tuple[int, int], Any] = {}
        for merged in ws.merged_cells.ranges:
            value = ws.cell(merged.min_row, merged.min_col).value
            for r in range(merged.min_row, min(merged.max_row, ws.max_row) + 1):
                for c in range(merged.min_col, min(merged.max_col, max_columns) + 1):
                    fill[(r, c)] = value
        rows: list[tuple[int, list]] = []
        for number, values in enumerate(
            ws.iter_rows(max_col=max_columns, values_only=True), start=1
        ):
            if number > max_rows + limits.header_rows:
                raise SpreadsheetError(too_many_rows(max_rows))
            filled = [fill.get((number, i + 1), v) for i, v in enumerate(values)]
            trimmed = _trim(filled)
            if trimmed:
                rows.append((number, trimmed))
        return ws.title, rows
    finally:
        wb.close()
