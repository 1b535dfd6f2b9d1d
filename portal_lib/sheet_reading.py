"""A safe spreadsheet reader, shared by every import (the bounded reader process).

Import side: `read_upload` refuses anything that is too big, is not really an xlsx (a zip
with ``[Content_Types].xml`` and ``xl/workbook.xml``) or csv, is a zip bomb (uncompressed size
and compression ratio are bounded *while* decompressing, whatever the zip headers claim), or
carries XML DTD/entity declarations, or expands past the row/cell/text limits (merged and
hyperlinked ranges cell by cell, <dimension>, the area the cells span, shared strings in any
letter case). Only then is the file handed to openpyxl (which uses defusedxml when it is
installed, as it is here) or python-calamine for fast streaming reads, and always in the
bounded reader process (`run_bounded`: a forked child under RLIMIT_AS/RLIMIT_CPU and a
wall-clock wait), the one place every upload path reads through: `read_upload` (streamed
rows), `merged_sheet_rows` and `read_full_sheets` (openpyxl's full mode).
Every refusal is a `SpreadsheetError` with a Japanese message for the user.
"""

from __future__ import annotations

import csv
import ctypes
import faulthandler
import gc
import io
import multiprocessing
import os
import posixpath
import re
import resource
import signal
import time
import zipfile
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import openpyxl
import openpyxl.xml

# Bounds for what a zip may expand to. A legitimate 100,000-row sheet is ~20 MB of XML;
# its deflate ratio stays well below 100 (measured ~15-40 for our exports).
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
MAX_COMPRESSION_RATIO = 200
RATIO_CHECK_MIN_BYTES = 1024 * 1024  # tiny members (styles, rels) may compress extremely well
MAX_ZIP_MEMBERS = 2000
# Members decompress in 1 MB pieces: zipfile copies less per read than with 4 MB ones, and
# each pass over a piece runs in the core's cache (issue 24: measured faster than 4 MB).
_CHUNK = 1024 * 1024
MAX_SHOWN_VALUE = 100  # characters of a cell value quoted in an error message

_DTD_RE = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)


def _has_dtd(data: bytes) -> bool:
    """`_DTD_RE` finds a declaration in ``data``. Every match holds a "!": where there is
    none (one memchr, most XML parts) the regex, a pass over every "<", is not needed."""
    return b"!" in data and _DTD_RE.search(data) is not None


if not openpyxl.xml.DEFUSEDXML:  # pragma: no cover - guarded by requirements.txt
    raise ImportError("defusedxml must be installed so that openpyxl parses XML safely.")


class SpreadsheetError(Exception):
    """A file was refused; `messages` are user-facing Japanese sentences."""

    def __init__(self, *messages: str, total: int | None = None) -> None:
        super().__init__(" ".join(messages))
        self.messages = list(messages)
        # How many problems there were: more than `messages` when only the first are kept.
        self.total = len(self.messages) if total is None else total


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
    # All sheets together (None: each sheet on its own); set where every sheet is loaded at
    # once (openpyxl's full mode).
    max_workbook_cells: int | None = None

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


DUPLICATE_PART = (
    "ファイルの中に同じ名前(大文字・小文字や区切り文字だけが違うもの)の部品が複数あるため、"
    "安全のため読み込みを中止しました。Excelで開き直して保存したファイルを使ってください。"
)

# Element starts, with or without a namespace prefix ("<row ", "<x:row>", "<c r=...").
# Attribute values may be quoted either way (XML allows r='5' as well as r="5").
_P = rb"<(?:[A-Za-z_][\w.-]*:)?"
_Q = rb"[\"']"
_ROW_TAG = re.compile(_P + rb"row[\s>/]")
_CELL_TAG = re.compile(_P + rb"c[\s>/]")
_SHARED_REF = re.compile(
    _P + rb"c\s[^>]*?\bt\s*=\s*" + _Q + rb"s" + _Q + rb"[^>]*>\s*<(?:[\w.-]+:)?v>\s*(\d+)\s*<"
)
_SI_TAG = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?si[\s>/]")
_CELL_REF = re.compile(rb"\br\s*=\s*" + _Q + rb"([A-Za-z]{1,3})([0-9]{1,7})" + _Q)
# Where the readers put things: a row's r="N", a cell's r="AB12", the <dimension ref>, every
# <mergeCell ref> (openpyxl's full mode makes an object for each cell of a merged range) and
# <hyperlink ref> (the same for a hyperlink over a range).
# Any r="…" in the sheet: column letters (cells only) and row number (rows and cells).
# Looser than the elements (an unknown element's r= counts too): it can only count more.
_ANY_REF = re.compile(rb"\sr\s*=\s*" + _Q + rb"\s*([A-Za-z]*)\$?(\d+)")
_RANGE_TAG = re.compile(
    _P + rb"(dimension|mergeCell|hyperlink)\s[^>]*?\bref\s*=\s*" + _Q + rb"([^\"']*)" + _Q
)
_RANGE_NAMES = (b"dimension", b"mergeCell", b"hyperlink")  # what `_RANGE_TAG` reads
_A1 = re.compile(rb"\$?([A-Za-z]{1,7})\$?([0-9]{1,12})")
_MAX_CARRY = 4 * 1024 * 1024
# The fast path of `_SheetCounter` (see `_plain_refs`): byte counts and a few regexes with
# a literal start instead of a regex per tag. What it cannot prove exactly goes to the
# regexes above, which stay the one definition of what is counted.
_TAG_ENDS = (b" ", b">", b"/", b"\t", b"\n", b"\r", b"\f", b"\v")  # what [\s>/] matches
_OTHER_SPACES = (b"\t", b"\n", b"\r", b"\f", b"\v")  # \s but " " (one memchr each)
# Any prefixed row or cell tag contains one of these (searched only when a ":" is there).
_PREFIXED_HINT = re.compile(rb":(?:row|c)")
# A row or cell start not written the plain way (a literal start: the regex engine finds
# those faster than bytes.count finds "<c"); <cols>, <rowBreaks>… are found too. A plain
# row's number starts with a digit (else `_ROW_NOT_NUMBERED` decides).
_ODD_ROW = re.compile(rb'<row(?! r="\d)')
_ODD_CELL = re.compile(rb'<c(?! r=")')
_ROW_NOT_NUMBERED = re.compile(rb'<row r="(?!\d)')
# Every "<row", its group " " when a numbered r="…" follows (else b""): `_count_rows`.
# It starts with the "w" (rarer in a sheet than "<", where the regex engine stops).
_ROW_STARTS = re.compile(rb'w(?<=<row)( (?=r="\d))?')
# An r attribute, however written (`_plain_refs` skips a " r" that is not one).
_R_ATTR = re.compile(rb"\sr\s*=\s*[\"']")
# Every <dimension>, <mergeCell> and <hyperlink> that `_RANGE_TAG` reads has a "ref".
_REF_HINT = re.compile(rb"ref")
# A shared-string cell written the usual way (Excel, XlsxWriter): `_shared_text`.
_SHARED_PLAIN = re.compile(rb' t="s"><v>(\d+)</v>')
# A shared string written the usual way: `_SharedStringSizes._plain`.
_SI_PLAIN = re.compile(rb"<si>(.*?)</si>", re.DOTALL)
_BUILTIN_PERCENT_FORMATS = {9, 10}
_RANGE_KIND = {b"dimension": "シートの使用範囲(dimension)", b"mergeCell": "結合セル"}


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def part_name(name: str) -> str:
    """A zip part name as the readers may look it up: "/", "\\" and letter case ignored."""
    return posixpath.normpath(name.replace("\\", "/").lstrip("/")).casefold()


def range_too_big(
    kind: str, sheet: str, ref: str, rows: int, columns: int, limits: ImportLimits
) -> str:
    return (
        f"{kind}の範囲が大きすぎます(シート「{sheet}」の{ref[:40]}、{rows:,}行×{columns:,}列)。"
        f"1つのシートで扱えるのは{limits.max_rows + limits.header_rows:,}行・"
        f"{limits.max_cells:,}セルまでです。結合や書式を解除して範囲を小さくするか、"
        "ファイルを分けてください。"
    )


class _Parts:
    """The zip's parts by normalised name (a name that differs only by case, "\\" or a leading
    "/" from another is refused: python-calamine finds parts whatever their letter case)."""

    def __init__(self, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
        self.zf = zf
        self.by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.is_dir():
                continue
            key = part_name(info.filename)
            if key in self.by_name:
                raise SpreadsheetError(DUPLICATE_PART)
            self.by_name[key] = info

    def read_small(self, name: str, limit: int = 8 * 1024 * 1024) -> bytes:
        info = self.by_name.get(part_name(name))
        if info is None:
            return b""
        with self.zf.open(info) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise SpreadsheetError(ZIP_BOMB)
        if _has_dtd(data) or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
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


def _workbook_rels(parts: _Parts) -> list[tuple[str, str, str]]:
    """(Id, Type, normalised target) of every relationship of xl/workbook.xml."""
    rels_data = parts.read_small("xl/_rels/workbook.xml.rels")
    out = []
    if rels_data:
        for rel in _xml(rels_data):
            target = (rel.get("Target") or "").replace("\\", "/")
            path = target if target.startswith("/") else "xl/" + target
            out.append((rel.get("Id", ""), rel.get("Type", ""), part_name(path)))
    return out


def _sheet_members(parts: _Parts, rels: list[tuple[str, str, str]]) -> dict[str, str]:
    """Normalised part name of each worksheet -> its sheet name (workbook.xml and its rels)."""
    workbook = _xml(parts.read_small("xl/workbook.xml"))
    targets = {rid: path for rid, _, path in rels}
    out = {}
    for el in workbook.iter():
        if _local(el.tag) == "sheet":
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            if rid in targets:
                out[targets[rid]] = el.get("name", "")
    # A worksheet part the workbook does not name is counted too (under its part name):
    # what a reader may open is counted, whatever the workbook says.
    for name in parts.by_name:
        if name.startswith("xl/worksheets/") and name.endswith(".xml") and name not in out:
            out[name] = name.rsplit("/", 1)[-1]
    return out


def _shared_strings_part(parts: _Parts, rels: list[tuple[str, str, str]]) -> str | None:
    """The one shared-strings part, wherever a reader would look for it: the usual name in
    any letter case (python-calamine), the content type (openpyxl) or the workbook's
    relationship. Two different candidates are refused: a reader might use either."""
    found = set()
    if "xl/sharedstrings.xml" in parts.by_name:
        found.add("xl/sharedstrings.xml")
    types = parts.read_small("[Content_Types].xml")
    if types:
        for el in _xml(types).iter():
            if _local(el.tag) == "Override" and (el.get("ContentType") or "").endswith(
                ".sharedStrings+xml"
            ):
                found.add(part_name(el.get("PartName") or ""))
    for _, kind, path in rels:
        if kind.endswith("/sharedStrings"):
            found.add(path)
    found &= set(parts.by_name)
    if len(found) > 1:
        raise SpreadsheetError(DUPLICATE_PART)
    return found.pop() if found else None


def _percent_styles(parts: _Parts) -> set[bytes]:
    """Indices (as they appear in s="…") of cell styles whose number format shows a %."""
    data = parts.read_small("xl/styles.xml")
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


def _count_tags(
    piece: bytes, start: bytes, plain: bytes, odd: re.Pattern[bytes]
) -> tuple[int, int, bool]:
    """How many times ``start`` (b"<row", b"<c") opens a tag in ``piece``: what
    ``len(re.findall(start + rb"[\\s>/]", piece))`` gives, with bytes.count. Usually every
    ``start`` is the ``plain`` one (``<c r="``: ``odd``, ``start`` not followed by the rest of
    ``plain``, finds none) and one count suffices; otherwise each end is counted (<cols>,
    <cfRule>… are not cells). Returns both counts and whether ``odd`` found one."""
    plain_total = piece.count(plain)
    if not odd.search(piece):
        return plain_total, plain_total, False
    total = piece.count(start)
    found = 0
    for end in _TAG_ENDS:
        if found == total:
            break
        found += piece.count(start + end)
    return found, plain_total, True


def _count_rows(piece: bytes) -> tuple[int, int, bool]:
    """`_count_tags` for rows in one pass: when every "<row" of the piece is followed by a
    numbered `` r="…`` (no b"" among `_ROW_STARTS`' groups, which are one-byte or empty
    bytes: no new object per row), they are all rows and all plain. Otherwise
    `_count_tags` itself."""
    found = _ROW_STARTS.findall(piece)
    if b"" not in found:
        return len(found), len(found), False
    return _count_tags(piece, b"<row", b'<row r="', _ODD_ROW)


class _CountExactly(Exception):
    """The fast path's bound passed a limit: the sheet is counted again exactly."""


class _SheetCounter:
    """Counts what one worksheet expands to as it streams: rows, cells, the area the readers
    allocate (the furthest row and column any cell, row, <dimension> or range names: python-
    calamine allocates that rectangle, openpyxl's read-only mode pads every row to it), the
    cells of merged and hyperlinked ranges (openpyxl's full mode makes one object for each)
    and the resolved shared-string text."""

    def __init__(
        self,
        name: str,
        limits: ImportLimits | None,
        shared: Sequence[int],
        percent_styles: set[bytes],
        scan: XlsxScan,
        *,
        fast: bool = True,
        size_hint: int = 0,
    ) -> None:
        self.name, self.limits, self.shared = name, limits, shared
        # The part's size as its zip header declares it (0: unknown): only which bound on
        # the shared-string text `_shared_text` tries first depends on it.
        self.size_hint, self.seen = size_hint, 0
        self.rows = self.cells = self.text = self.range_cells = 0
        self.max_row = self.rowless = self.max_col = 0
        self.row_rless = self.row_named = self.max_rless = 0
        self.carry = b""
        # The fast path (`_plain_refs`, `_shared_text`): the columns seen, by name; whether
        # max_row may be a bound rather than the furthest row, and whether the text may be
        # a bound rather than the exact sum (then the sheet is counted again exactly before
        # a refusal, with fast=False).
        self.fast = fast
        self.columns: dict[bytes, int] = {}
        self.bounded_only = False
        self.text_bound = False
        self.longest: int | None = None  # the longest shared string, once needed
        self._unusual_cache: tuple[Any, tuple[int, Any, int]] | None = None
        self.percent_re = (
            re.compile(
                _P
                + rb"c\s[^>]*?\bs\s*=\s*"
                + _Q
                + rb"(?:"
                + b"|".join(sorted(percent_styles))
                + rb")"
                + _Q
                + rb"[^>]*>"
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
        # A prefixed tag holds a ":" (one memchr; Excel's rows have spans="1:7", then the
        # regex looks for ":row" / ":c").
        plain = self.fast and not (b":" in piece and _PREFIXED_HINT.search(piece))
        if plain:  # no prefixed tag: the regexes' counts are those of "<row" and "<c"
            rows, plain_rows, odd_rows = _count_rows(piece)
            cells, plain_cells, _ = _count_tags(piece, b"<c", b'<c r="', _ODD_CELL)
            plain = rows == plain_rows and cells == plain_cells  # each with its r="
            if plain and odd_rows and _ROW_NOT_NUMBERED.search(piece):
                plain = False  # a row whose r="…" does not start with a digit
        else:
            rows = len(_ROW_TAG.findall(piece))
            cells = len(_CELL_TAG.findall(piece))
        self.rows += rows
        self.cells += cells
        limits = self.limits
        if limits is not None:
            if self.rows > limits.max_rows + limits.header_rows:
                raise SpreadsheetError(too_many_rows(limits.max_rows))
            if self.cells > limits.max_cells:
                raise SpreadsheetError(too_many_cells(limits.max_cells))
            self._extent(piece, rows, cells, limits, plain=plain)
            # The sheet's own XML (inline strings live there) plus the shared strings its
            # cells reference: what calamine will hold once the sheet is loaded.
            self.text += len(piece)
            self.seen += len(piece)
            if self.shared:
                self.text += self._shared_text(piece, cells)
            if self.text > limits.max_text_bytes:
                if self.text_bound:  # the fast path's sum may be above the truth
                    raise _CountExactly
                raise SpreadsheetError(too_much_text(limits.max_text_bytes))
        if self.percent_re is not None:
            percent = self.scan.percent_cells.setdefault(self.name, set())
            for m in self.percent_re.finditer(piece):
                ref = _CELL_REF.search(m[0])
                if ref:
                    percent.add((int(ref[2]), _column_index(ref[1])))

    def _shared_text(self, piece: bytes, cells: int) -> int:
        """The bytes of the shared strings the piece's cells reference (`_SHARED_REF`'s
        indices, resolved through ``self.shared``; an index past the end counts nothing).

        Fast path: every `_SHARED_REF` match starts at a cell tag, so ``cells`` (the piece's
        `_CELL_TAG` count) times the longest shared string is an upper bound, found without
        a pass over the piece. It is used while the sheet's text so bounded stays within
        the limit's share of the part read so far (by the declared size: a loose bound must
        not spend the room the rest of a big sheet needs; a false size, or a sheet much
        denser at its end, only costs a recount). Else: every `_SHARED_REF` match holds its t value's quotes around the s;
        in a piece without a single quote that is a ``"s"``, each match its own. So the
        number of ``"s"`` times the longest shared string is an upper bound, used while the
        text stays within the limit with it. Past that, when each ``"s"`` of the piece is in a
        cell written `` t="s"><v>N</v>`` (`_SHARED_PLAIN`, one regex with a literal start),
        those cells hold every match, with the same N; they may also hold one that
        `_SHARED_REF` would not count (the same text in another element). Both are upper
        bounds (``self.text_bound``: the sheet is counted again exactly before it is
        refused for its text). Otherwise `_SHARED_REF` itself."""
        shared, size = self.shared, len(self.shared)
        limits = self.limits
        if self.fast and limits is not None and self.size_hint > 0:
            if not cells:
                return 0
            if self.longest is None:  # the shared strings are all measured by now
                self.longest = max(shared)
            share = min(1.0, self.seen / self.size_hint) * limits.max_text_bytes
            bound = cells * self.longest
            if self.text + bound <= share:
                self.text_bound = True
                return bound
        if self.fast and b"'" not in piece:
            quoted_s = piece.count(b'"s"')
            if not quoted_s:
                return 0
            if self.longest is None:  # the shared strings are all measured by now
                self.longest = max(shared)
            bound = quoted_s * self.longest
            if limits is not None and self.text + bound <= limits.max_text_bytes:
                self.text_bound = True
                return bound
            found = _SHARED_PLAIN.findall(piece)
            if quoted_s == len(found):
                self.text_bound = True
                indices = list(map(int, found))
                if max(indices) < size:
                    return sum(map(shared.__getitem__, indices))
                return sum(shared[i] for i in indices if i < size)
        return sum(shared[i] for i in map(int, _SHARED_REF.findall(piece)) if i < size)

    def _extent(
        self, piece: bytes, rows: int, cells: int, limits: ImportLimits, *, plain: bool = False
    ) -> None:
        """Where the cells are (not only how many): refuse a rectangle too big to allocate."""
        if not (plain and self._plain_refs(piece, rows, cells, limits)):
            self._refs(piece, rows, cells)
        # Every "ref" holds an "f", which a sheet's data seldom does (one memchr).
        if b"f" in piece and _REF_HINT.search(piece):
            found = [at for at in map(piece.find, _RANGE_NAMES) if at >= 0]
            if found:
                # A match starts at the "<" before its name (only a prefix between them), so
                # none starts before the "<" before the first name: the regex, which tries
                # every "<", starts there (Excel's <dimension> is near the start, its
                # <mergeCells> at the end).
                start = max(0, piece.rfind(b"<", 0, min(found)))
                for kind, ref in _RANGE_TAG.findall(piece, start):
                    for part in ref.split():
                        self._range(kind, part, limits)
        height = self.max_row + self.rowless
        width = max(self.max_col, self.max_rless)
        if height > limits.max_rows + limits.header_rows or height * width > limits.max_cells:
            if self.bounded_only:  # an upper bound passed a limit: count this sheet exactly
                raise _CountExactly
        if height > limits.max_rows + limits.header_rows:
            raise SpreadsheetError(too_many_rows(limits.max_rows))
        if height * width > limits.max_cells:
            ref = f"A1:{column_name(width)}{height}"
            raise SpreadsheetError(range_too_big("セル", self.name, ref, height, width, limits))

    def _plain_refs(self, piece: bytes, rows: int, cells: int, limits: ImportLimits) -> bool:
        """The fast path of `_refs`, for a piece written the plain way (every row
        ``<row r="5"``, every cell ``<c r="B5"``, as Excel, LibreOffice and openpyxl write
        them): one regex (`_unusual`) finds only the references that are not "a row's number
        below a bound" or "a known column and a row number below the bound"; those few are
        read with `_ANY_REF`, and a row among them whose r="…" does not start with a digit,
        or a cell whose r="…" does not start with a letter, sends the piece to `_refs`. The
        furthest column comes out exact; the furthest row may be the bound
        (``self.bounded_only``), which is never less than the truth, and `_extent` counts
        the sheet again exactly before it refuses on a bound. False (nothing changed): the
        piece needs `_refs`."""
        max_row, columns = 0, dict(self.columns)
        # Whitespace is only " " (five memchr): the regex may start with the literal " r".
        spaces_only = not any(space in piece for space in _OTHER_SPACES)
        bound, unusual, skip = self._unusual(columns, limits, spaces_only)
        pos, widest = 0, bound
        while m := unusual.search(piece, pos):
            at = m.start() + skip  # the r of r="…"
            if not _R_ATTR.match(piece, at - 1):
                pos = m.end()  # " r" in a text, not an attribute
                continue
            ref = _ANY_REF.match(piece, at - 1)
            if ref is None:
                return False  # an r="…" that is not a reference: let `_refs` judge it
            if piece.startswith(b'<row r="', at - 5):
                if not piece[at + 3 : at + 4].isdigit():
                    return False  # a row without its number
            elif piece.startswith(b'<c r="', at - 3):
                if not piece[at + 3 : at + 4].isalpha():
                    return False  # a cell without its column
            letters, pos = ref[1], ref.end()
            max_row = max(max_row, int(ref[2]))
            if letters and letters not in columns:
                columns[letters] = _column_index(letters)
                bound, unusual, skip = self._unusual(columns, limits, spaces_only)
                if bound < widest:  # a wider sheet: what passed as below the bound may not
                    pos, widest = 0, bound  # be, so the piece is read again from the start
        # Every other reference is a row's number, or a known column and a row number, <= bound.
        self.columns = columns
        if columns:
            self.max_col = max(self.max_col, *columns.values())
        if bound > max(max_row, self.max_row):
            self.max_row, self.bounded_only = bound, True
        else:
            self.max_row = max(self.max_row, max_row)
        return True

    def _unusual(
        self, columns: dict[bytes, int], limits: ImportLimits, spaces_only: bool = False
    ) -> tuple[int, Any, int]:
        """The row bound, the regex finding every r="…" that is not "a row's number <=
        that bound" (after ``<row r="``) or "a known column and a row number <= the bound"
        (anywhere else), for `_plain_refs`, and where in a match its r is. The bound is the
        largest d·10^k - 1 within the rows and the area the limits allow. With
        ``spaces_only`` (no whitespace but " " in the piece) the regex starts with the
        literal " r", which the regex engine finds faster than every "r". No group and
        possessive digits: the engine does the least work on each of the many boring
        references (a digit left over could not be the closing quote or end anyway)."""
        width = max([self.max_col, self.max_rless, *columns.values(), 1])
        room = min(limits.max_rows + limits.header_rows, limits.max_cells // width)
        room -= self.rowless
        key = (frozenset(columns), room, spaces_only)
        if self._unusual_cache and self._unusual_cache[0] == key:
            return self._unusual_cache[1]
        digits = str(max(room, 0) + 1)
        k, lead = len(digits) - 1, int(digits[0]) - 1
        numbers = [rb"[1-9]\d{0,%d}+" % (k - 1)] if k else []
        if lead and k:
            numbers.append(rb"[1-%d]\d{%d}" % (lead, k))
        bound = (lead + 1) * 10**k - 1 if lead else 10**k - 1
        names = sorted(columns, key=len, reverse=True)
        # Rows with letters never come here (a plain piece's rows start with a digit).
        end, head = (rb'"', rb' r(?!="') if spaces_only else (rb"(?!\d)", rb"r(?<=\sr)")
        if not spaces_only:  # any spelling of r = "…"
            head += rb"\s*=\s*[\"']\s*(?!"
        if numbers:
            number = rb"(?:" + b"|".join(numbers) + rb")" + end
            boring = rb'(?<=<row r=")' + number
            if names:
                known = rb"(?:" + b"|".join(re.escape(c) for c in names) + rb")"
                boring = known + number + b"|" + boring
        else:
            boring = rb"(?!)"
        regex = re.compile(head + rb"(?:" + boring + rb"))")
        found = (bound, regex, 1 if spaces_only else 0)
        self._unusual_cache = (key, found)
        return found

    def _refs(self, piece: bytes, rows: int, cells: int) -> None:
        """Every r="…" of the piece read with `_ANY_REF`: the furthest row and column, rows
        and cells without one (placed after the one before)."""
        refs = _ANY_REF.findall(piece)
        columns: set[bytes] = set()
        if refs:
            self.max_row = max(self.max_row, max(map(int, {r for _, r in refs})))
            letters = [c for c, _ in refs]
            numbered_rows = letters.count(b"")
            columns = set(letters)
            columns.discard(b"")
            if columns:
                self.max_col = max(self.max_col, *(_column_index(c) for c in columns))
        else:
            numbered_rows = 0
        named_cells = len(refs) - numbered_rows
        # A row without r="…" comes after the one before it.
        self.rowless += max(0, rows - numbered_rows)
        if cells > named_cells:
            # A cell without r="…" takes the column after the one before it: per row, the
            # furthest column is at most the furthest named one plus the unnamed cells.
            for k, segment in enumerate(_ROW_TAG.split(piece)):
                named = [c for c, _ in _ANY_REF.findall(segment) if c]
                n = len(_CELL_TAG.findall(segment)) - len(named)
                far = max((_column_index(c) for c in set(named)), default=0)
                if k == 0:
                    self.row_rless += n
                    self.row_named = max(self.row_named, far)
                else:
                    self.row_rless, self.row_named = n, far
                self.max_rless = max(self.max_rless, self.row_named + self.row_rless)
        for c in columns:  # known to the fast path from now on
            self.columns.setdefault(c, _column_index(c))

    def _range(self, kind: bytes, ref: bytes, limits: ImportLimits) -> None:
        corners = _A1.findall(ref)
        if not corners:
            return
        cols = [_column_index(c) for c, _ in corners]
        rows_ = [int(r) for _, r in corners]
        height, width = max(rows_) - min(rows_) + 1, max(cols) - min(cols) + 1
        shown = ref.decode("ascii", "replace")
        label = _RANGE_KIND.get(kind, "ハイパーリンク")
        if kind == b"dimension" and max(rows_) > limits.max_rows + limits.header_rows:
            raise SpreadsheetError(too_many_rows(limits.max_rows))
        if (
            max(rows_) > limits.max_rows + limits.header_rows
            or max(cols) > 16384
            or max(rows_) * max(cols) > limits.max_cells
        ):
            raise SpreadsheetError(range_too_big(label, self.name, shown, height, width, limits))
        if kind != b"dimension":
            self.range_cells += height * width
            if self.cells + self.range_cells > limits.max_cells:
                raise SpreadsheetError(
                    range_too_big(label, self.name, shown, height, width, limits)
                )
        self.max_row = max(self.max_row, max(rows_))
        self.max_col = max(self.max_col, max(cols))


def column_name(index: int) -> str:
    """1 -> A, 27 -> AA, for any positive index (also past Excel's XFD)."""
    out = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out or "A"


class _SharedStringSizes:
    """Byte length of every <si> of the shared strings, measured while it streams; their
    number and total size are bounded (python-calamine and openpyxl hold them all)."""

    def __init__(self, limits: ImportLimits | None, *, fast: bool = True) -> None:
        self.fast = fast  # False: `_SI_TAG` reads every piece (what `_plain` must match)
        self.sizes = array("q")
        self.offset = 0
        self.start: int | None = None
        self.carry = b""
        self.limits = limits

    def feed(self, chunk: bytes, *, final: bool = False) -> None:
        buf = self.carry + chunk
        # Cut before the last string's start when it is near the end (the fast path wants
        # each string whole in one piece), else before the last tag.
        cut = len(buf) if final else buf.rfind(b"<si", max(0, len(buf) - 65536))
        if cut <= 0:
            cut = buf.rfind(b"<")
        if cut <= 0:
            cut = len(buf)
        piece, self.carry = buf[:cut], buf[cut:]
        if len(self.carry) > _MAX_CARRY:
            raise SpreadsheetError(BROKEN_XLSX)
        if not self._plain(piece):
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
        limits = self.limits
        if limits is not None:
            if len(self.sizes) > limits.max_cells:
                raise SpreadsheetError(too_many_cells(limits.max_cells))
            if self.offset > limits.max_text_bytes:
                raise SpreadsheetError(too_much_text(limits.max_text_bytes))

    def _plain(self, piece: bytes) -> bool:
        """The fast path of `feed`, for a piece written the plain way (``<si>…</si>``, no
        prefix, no attribute, outside any string when it starts): when every "<si" and
        every "</si" of the piece belong to one `_SI_PLAIN` match, the tags `_SI_TAG` finds
        are those matches' opening and closing ones in turn, and each size is the length
        of a match's text. False (nothing recorded): `_SI_TAG` reads the piece.

        First the way Excel and XlsxWriter write them, one right after the other: the
        text from the first ``<si>`` to the last ``</si>`` split at ``</si><si>`` gives n
        texts; when the piece holds exactly n "<si" and n "</si" (those of the split and
        the two ends), they are every tag, in turn, and the n texts are the strings (byte
        counts and one split instead of a regex match and an object per string)."""
        if not self.fast or self.start is not None or (b":" in piece and b":si" in piece):
            return False
        first, last = piece.find(b"<si>"), piece.rfind(b"</si>")
        if 0 <= first and first + 4 <= last:
            texts = piece[first + 4 : last].split(b"</si><si>")
            n = len(texts)
            if piece.count(b"<si") == n and piece.count(b"</si") == n:
                self.sizes.fromlist(list(map(len, texts)))  # faster than extend(map(…))
                return True
        found = _SI_PLAIN.findall(piece)
        if piece.count(b"<si") != len(found) or piece.count(b"</si") != len(found):
            return False
        self.sizes.extend(map(len, found))
        return True


def check_xlsx(data: bytes, limits: ImportLimits | None = None) -> XlsxScan:
    """Refuse what is not an xlsx, zip bombs, DTD/entity tricks and (with ``limits``) sheets
    that are too big or expand too much, with bounded memory; return what the scan learnt
    (percent cells).

    Every member is decompressed in 1 MB chunks and counted; the zip headers' sizes are not
    trusted. Part names are compared as the readers may look them up (letter case, "\\" and
    a leading "/" ignored); two parts with one such name are refused. XML members are
    scanned for <!DOCTYPE / <!ENTITY (openpyxl's defusedxml would refuse them too, but
    python-calamine is not defusedxml, so the check lives here). Worksheets are counted
    while they stream (rows, cells, the rectangle their cells, <dimension>, merged and
    hyperlinked ranges span, shared-string text) and reading stops at the first limit
    passed, so a 2.5-million-row sheet is refused after ~100,000 and a 5 KB file with
    <mergeCell ref="A4:XFD1048576"/> before any reader makes a cell. With
    ``limits.max_workbook_cells`` the cells of all sheets together are bounded too (for
    openpyxl's full mode, which loads every sheet).
    """
    if not data.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(io.BytesIO(data)):
        raise SpreadsheetError(NOT_SPREADSHEET)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetError(NOT_SPREADSHEET) from exc
    if len(infos) > MAX_ZIP_MEMBERS:
        raise SpreadsheetError(ZIP_BOMB)
    parts = _Parts(zf, infos)
    if "[content_types].xml" not in parts.by_name or "xl/workbook.xml" not in parts.by_name:
        raise SpreadsheetError(NOT_SPREADSHEET)
    declared = sum(i.file_size for i in infos)
    if declared > MAX_UNCOMPRESSED_BYTES:
        raise SpreadsheetError(ZIP_BOMB)
    scan = XlsxScan()
    total = workbook_cells = 0
    try:
        rels = _workbook_rels(parts)
        sheets = _sheet_members(parts, rels)
        shared_name = _shared_strings_part(parts, rels)
        percent_styles = _percent_styles(parts)
        shared = _SharedStringSizes(limits)
        # Shared strings first: a sheet's text is counted through them.
        ordered = sorted(parts.by_name.items(), key=lambda kv: kv[0] != shared_name)
        for key, info in ordered:
            counter = None
            if key in sheets:
                counter = _SheetCounter(
                    sheets[key],
                    limits,
                    shared.sizes,
                    percent_styles,
                    scan,
                    size_hint=info.file_size,
                )
            try:
                total = _scan_member(zf, info, key, total, counter, shared_name, shared, limits)
            except _CountExactly:  # counted again without the fast path's bound
                counter = _SheetCounter(
                    sheets[key], limits, shared.sizes, percent_styles, scan, fast=False
                )
                total = _scan_member(zf, info, key, total, counter, shared_name, shared, limits)
            if counter is not None:
                workbook_cells += counter.cells + counter.range_cells
                if limits is not None and limits.max_workbook_cells is not None:
                    if workbook_cells > limits.max_workbook_cells:
                        raise SpreadsheetError(too_many_cells(limits.max_workbook_cells))
    except SpreadsheetError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise SpreadsheetError(BROKEN_XLSX) from exc
    return scan


def _scan_member(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    key: str,
    total: int,
    counter: _SheetCounter | None,
    shared_name: str | None,
    shared: _SharedStringSizes,
    limits: ImportLimits | None,
) -> int:
    """Decompress one member in _CHUNK pieces, bounding the bytes it expands to (alone and
    with the members before: ``total``, returned updated) and its ratio, refusing a DTD or
    entity in XML, and feeding a worksheet to its counter and the shared strings to their
    sizes."""
    member = 0
    is_xml = key.endswith((".xml", ".rels", ".vml"))
    tail = b""
    is_shared = key == shared_name and limits is not None
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
                # A declaration across the pieces' border has its "!" in one of them.
                if (b"!" in chunk or b"!" in tail) and _DTD_RE.search(tail + chunk):
                    raise SpreadsheetError(XML_ENTITY)
                tail = chunk[-32:]
            if counter is not None:
                counter.feed(chunk)
            elif is_shared:
                shared.feed(chunk)
    if counter is not None:
        counter.feed(b"", final=True)
    elif is_shared:
        shared.feed(b"", final=True)
    return total


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

    def rows(self, *, engine: str = "calamine") -> Iterator[tuple[str, int, list[Any]]]:
        """The rows, read in the bounded reader process (`run_bounded`) and streamed here."""
        return _flatten(
            run_bounded(_rows_job, self.data, self.kind, engine, self.limits, self.scan)
        )


def read_upload(
    data: bytes,
    filename: str,
    *,
    allow_csv: bool = False,
    limits: ImportLimits | None = None,
    engine: str = "calamine",
) -> Iterator[tuple[str, int, list[Any]]]:
    """Every check of `open_upload` and then the reading, both in one bounded reader process
    (`run_bounded`): the rows (sheet name, 1-based row number, values) stream from it in
    batches. A refused file raises SpreadsheetError here, before any row is returned; a
    file that passes the checks but still costs more than the reader's bound (memory, CPU,
    time) raises `reader_limit`'s message while it is read."""
    from django.conf import settings

    limits = limits or ImportLimits.from_settings()
    check_size(len(data), settings.MAX_UPLOAD_BYTES)  # before anything is copied
    stream = run_bounded(_read_job, data, filename, allow_csv, limits, engine)
    next(stream)  # the file's kind once the checks passed; raises what they refused
    return _flatten(stream)


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
    rows: Iterator[tuple[str, int, list[Any]]], limits: ImportLimits | None
) -> Iterator[tuple[str, int, list[Any]]]:
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
) -> Iterator[tuple[str, int, list[Any]]]:
    """(sheet name, 1-based row number, values) for every non-empty row, streamed.

    Call only after `validate_upload`. "calamine" is fast; "openpyxl" uses read-only mode.
    Numbers in cells shown with a % format come as `PercentCell`.
    """
    return _bounded(_iter_rows(data, kind, engine=engine, scan=scan or XlsxScan()), limits)


def _with_percent(name: str, number: int, values: list[Any], scan: XlsxScan) -> list[Any]:
    cells = scan.percent_cells.get(name)
    if cells:
        for i, v in enumerate(values):
            if (number, i + 1) in cells and isinstance(v, int | float) and not isinstance(v, bool):
                values[i] = PercentCell(v)
    return values


def _iter_rows(
    data: bytes, kind: str, *, engine: str, scan: XlsxScan
) -> Iterator[tuple[str, int, list[Any]]]:
    if kind == "csv":
        text = _decode_csv(data)
        try:
            for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
                trimmed = _trim(fields)
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
    except (SpreadsheetError, MemoryError):  # MemoryError: the reader's bound, not the file
        raise
    except Exception as exc:  # any parser failure on a file that passed the checks
        raise SpreadsheetError(BROKEN_XLSX) from exc


def load_full_workbook(data: bytes, filename: str, limits: ImportLimits) -> Any:
    """A normal (not read-only) openpyxl workbook, for layouts needing merged cells.

    openpyxl's full mode makes an object for every cell, every cell of a merged range and
    of a hyperlinked range, in every sheet: so the file first passes every check of
    `open_upload` with ``limits`` (which count all of these, in all sheets together) and only
    then is loaded. Runs in the calling process: use it inside `run_bounded` (as
    `read_full_sheets` and `merged_sheet_rows` do).
    """
    if limits.max_workbook_cells is None:
        limits = replace(limits, max_workbook_cells=limits.max_cells)
    open_upload(data, filename, limits=limits)
    try:
        return openpyxl.load_workbook(io.BytesIO(data), data_only=True, keep_links=False)
    except MemoryError:
        raise
    except Exception as exc:
        raise SpreadsheetError(BROKEN_XLSX) from exc


@dataclass
class FullSheet:
    """A worksheet as openpyxl's full mode reads it, reduced to plain values (what a layout
    reader needs), made in the bounded reader process by `read_full_sheets`."""

    title: str
    max_row: int
    max_column: int
    values: dict[tuple[int, int], Any]  # (row, column) -> value, only cells with a value
    merged: list[tuple[int, int, int, int]]  # (min_row, min_col, max_row, max_col)

    def value(self, row: int, column: int) -> Any:
        return self.values.get((row, column))

    def row(self, row: int) -> list[Any]:
        """Columns 1 to max_column of a row, as openpyxl's ``ws[row]`` gives them."""
        return [self.values.get((row, c)) for c in range(1, self.max_column + 1)]


def read_full_sheets(data: bytes, filename: str, limits: ImportLimits) -> list[FullSheet]:
    """Every sheet of a workbook read in openpyxl's full mode (merged cells), bounded: the
    checks with ``limits`` (all sheets together) and the load run in the reader process."""
    sheets: list[FullSheet] = run_bounded_once(_full_sheets_job, data, filename, limits)
    return sheets


def _full_sheets_job(data: bytes, filename: str, limits: ImportLimits) -> Iterator[Any]:
    wb = load_full_workbook(data, filename, limits)
    try:
        sheets = []
        for ws in wb.worksheets:
            values = {
                (cell.row, cell.column): cell.value
                for row in ws.iter_rows()
                for cell in row
                if cell.value is not None
            }
            merged = [(r.min_row, r.min_col, r.max_row, r.max_col) for r in ws.merged_cells.ranges]
            sheets.append(FullSheet(ws.title, ws.max_row, ws.max_column, values, merged))
        yield sheets
    finally:
        wb.close()


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

    return str(get_column_letter(index))


def merged_sheet_rows(
    data: bytes, filename: str, *, max_rows: int, max_columns: int = 64
) -> tuple[str, list[tuple[int, list[Any]]]]:
    """The first sheet's non-empty rows with merged cells filled from their top-left cell.

    Merged ranges need openpyxl's normal (not read-only) mode, which holds the whole
    workbook in memory; so the file passes every check of `open_upload` with ``max_rows``
    (plus title rows) and ``max_rows * max_columns`` cells (merged ranges counted cell by
    cell, all sheets together) *before* it is loaded, and both run in the bounded reader
    process. Returns the sheet name and (1-based row number, values) pairs.
    """
    limits = ImportLimits(
        max_rows=max_rows,
        max_cells=(max_rows + ImportLimits.header_rows) * max_columns,
        max_text_bytes=8 * 1024 * 1024,
    )
    merged: tuple[str, list[tuple[int, list[Any]]]] = run_bounded_once(
        _merged_rows_job, data, filename, limits, max_columns
    )
    return merged


def _merged_rows_job(
    data: bytes, filename: str, limits: ImportLimits, max_columns: int
) -> Iterator[tuple[str, list[tuple[int, list[Any]]]]]:
    max_rows = limits.max_rows
    wb = load_full_workbook(data, filename, limits)
    try:
        ws = wb.worksheets[0]
        fill: dict[tuple[int, int], Any] = {}
        for merged in ws.merged_cells.ranges:
            value = ws.cell(merged.min_row, merged.min_col).value
            for r in range(merged.min_row, min(merged.max_row, ws.max_row) + 1):
                for c in range(merged.min_col, min(merged.max_col, max_columns) + 1):
                    fill[(r, c)] = value
        rows: list[tuple[int, list[Any]]] = []
        for number, values in enumerate(
            ws.iter_rows(max_col=max_columns, values_only=True), start=1
        ):
            if number > max_rows + limits.header_rows:
                raise SpreadsheetError(too_many_rows(max_rows))
            filled = [fill.get((number, i + 1), v) for i, v in enumerate(values)]
            trimmed = _trim(filled)
            if trimmed:
                rows.append((number, trimmed))
        yield ws.title, rows
    finally:
        wb.close()


# --------------------------------------------------------------------------------------------
# Import: the bounded reader process
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReaderBounds:
    """What one reading of an upload may cost, whatever the checks let through: the reader
    runs in a child process whose address space may grow by ``memory_mb`` (RLIMIT_AS) and
    which may use ``seconds`` of CPU (RLIMIT_CPU); the parent waits for it at most
    ``seconds`` in all (wall clock), then kills it. Settings IMPORT_READER_MEMORY_MB and
    IMPORT_READER_SECONDS."""

    memory_mb: int = 150
    seconds: int = 8

    @classmethod
    def from_settings(cls) -> ReaderBounds:
        from django.conf import settings

        return cls(
            memory_mb=getattr(settings, "IMPORT_READER_MEMORY_MB", cls.memory_mb),
            seconds=getattr(settings, "IMPORT_READER_SECONDS", cls.seconds),
        )


def reader_limit(bounds: ReaderBounds) -> str:
    return (
        f"ファイルの読み込みが制限(メモリ {bounds.memory_mb}MB/時間 {bounds.seconds}秒)を"
        "超えたため中止しました。行・列・結合セル・文字の多すぎる部分がないか確かめるか、"
        "ファイルを分けて取り込んでください。"
    )


READER_BATCH_ROWS = 1000
# What the last reading cost, measured in the reader process (for the bench and tests):
# peak_mb (RSS growth over its start), cpu_seconds, and in the parent wall_seconds;
# killed=True when the bound stopped it.
last_read: dict[str, Any] = {}
_EXIT_MEMORY = 70


def _batched(rows: Iterator[tuple[str, int, list[Any]]]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= READER_BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def _flatten(batches: Iterator[list[Any]]) -> Iterator[tuple[str, int, list[Any]]]:
    try:
        for batch in batches:
            yield from batch
    finally:
        batches.close()  # type: ignore[attr-defined]  # stops the reader process early


def _read_job(
    data: bytes, filename: str, allow_csv: bool, limits: ImportLimits, engine: str
) -> Iterator[Any]:
    upload = open_upload(data, filename, allow_csv=allow_csv, limits=limits)
    yield upload.kind
    yield from _batched(
        iter_rows(data, upload.kind, engine=engine, limits=limits, scan=upload.scan)
    )


def _rows_job(
    data: bytes, kind: str, engine: str, limits: ImportLimits, scan: XlsxScan
) -> Iterator[list[Any]]:
    yield from _batched(iter_rows(data, kind, engine=engine, limits=limits, scan=scan))


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def _bound_this_process(bounds: ReaderBounds) -> int:
    """In the reader process: limits on, signals to their defaults; return the RSS (KB)
    that the peak is measured from."""
    # Nothing inherited is collected here: a collection would touch (and so copy) every
    # object page of the parent; freezing them keeps the child's memory its own.
    gc.freeze()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGXCPU):
        try:
            signal.signal(sig, signal.SIG_DFL)
        except (OSError, ValueError):  # pragma: no cover
            pass
    try:  # die with the parent (a worker killed by gunicorn's timeout)
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:  # a native allocation failure aborts the child: that is the bound, not a crash report
        faulthandler.disable()
    except Exception:  # pragma: no cover
        pass
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = _status_kb("VmSize") * 1024 + bounds.memory_mb * 1024 * 1024
    for inherited in (soft, hard):
        if inherited != resource.RLIM_INFINITY:
            ceiling = min(ceiling, inherited)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    resource.setrlimit(resource.RLIMIT_CPU, (bounds.seconds, bounds.seconds + 1))
    try:  # the peak (VmHWM) counts from here, not from the parent's high-water mark
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:  # pragma: no cover
        pass
    return _status_kb("VmRSS")


def _reader_process(job: Any, args: tuple[Any, ...], send: Any, bounds: ReaderBounds) -> None:
    """The child's whole life: run ``job``, send what it yields, exit without cleanup (the
    parent's database connections, files and handlers are never touched here)."""
    code = 0
    try:
        start_kb = _bound_this_process(bounds)

        def stats() -> dict[str, Any]:
            t = os.times()
            return {
                "peak_mb": (_status_kb("VmHWM") - start_kb) / 1024,
                "cpu_seconds": t.user + t.system,
            }

        try:
            for item in job(*args):
                send.send(("item", item))
            send.send(("done", stats()))
        except SpreadsheetError as exc:
            send.send(("error", exc.messages, exc.total, stats()))
    except MemoryError:
        code = _EXIT_MEMORY
    except BaseException:
        try:
            import traceback

            send.send(("crash", traceback.format_exc()))
        except BaseException:
            code = 1
    finally:
        os._exit(code)


def run_bounded(job: Any, *args: Any) -> Iterator[Any]:
    """Run the generator function ``job(*args)`` in a forked reader process under
    `ReaderBounds` and yield what it yields (each item pickled through a pipe).

    The one place every upload is read: the screens' imports, the roster, table 4-1, the
    admin import and the commands all come here, so a hole in the checks before reading
    costs at most this bound. A SpreadsheetError in the child is raised here with its
    messages; a child that runs out of memory or CPU, is killed, or makes the parent wait
    longer than the bound in all, becomes a SpreadsheetError with `reader_limit`'s message.
    Closing this generator early kills the child. The child never touches the database:
    it only reads bytes, and leaves with os._exit.
    """

    bounds = ReaderBounds.from_settings()
    last_read.clear()
    if not hasattr(os, "fork"):  # pragma: no cover - the portal runs on Linux
        yield from job(*args)
        return
    receive, send = multiprocessing.Pipe(duplex=False)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (its coverage is not collected)
        receive.close()
        _reader_process(job, args, send, bounds)
    send.close()
    waited = 0.0
    try:
        while True:
            t0 = time.monotonic()
            try:
                if not receive.poll(max(0.0, bounds.seconds - waited)):
                    raise EOFError
                message = receive.recv()
            except (EOFError, OSError):
                last_read.update(killed=True, wall_seconds=waited + time.monotonic() - t0)
                raise SpreadsheetError(reader_limit(bounds)) from None
            finally:
                waited += time.monotonic() - t0
            if message[0] == "item":
                yield message[1]
            elif message[0] == "done":
                last_read.update(message[1], wall_seconds=waited)
                return
            elif message[0] == "error":
                last_read.update(message[3], wall_seconds=waited)
                raise SpreadsheetError(*message[1], total=message[2])
            else:
                raise RuntimeError("The upload reader failed:\n" + message[1])
    finally:
        receive.close()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:  # pragma: no cover
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:  # pragma: no cover - reaped by someone else
            pass


def run_bounded_once(job: Any, *args: Any) -> Any:
    """`run_bounded` for a job that yields one result."""
    items = list(run_bounded(job, *args))
    return items[0]
