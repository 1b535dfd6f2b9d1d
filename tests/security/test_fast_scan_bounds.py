"""Issue 24: the sheet scan's fast path (byte counts, one regex for the few unusual
references) counts exactly what the regex scan counts, or hands the piece to it.

Each probe is a sheet written a way the fast path does not take for granted. Most compare
the fast counter with the exact one (``fast=False``, the regexes of issue 19) on the same
XML fed in small chunks, so every tag boundary falls somewhere; the others check the
refusal (or acceptance) end to end with `check_xlsx`. Each fails if the matching shortcut
is removed: no prefix hint, counting "<row" without its end, a bound refused without a
recount, the reference regex taking a known column for any column, and so on.
"""

from __future__ import annotations

import io
import random
import zipfile
from typing import Any

import pytest

from portal_lib import sheet_reading as ss
from tests.security import test_import_bounds as b

SMALL = ss.ImportLimits(max_rows=50, max_cells=400, max_text_bytes=200_000, header_rows=0)
HEAD = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
TAIL = "</sheetData></worksheet>"


def count(
    xml: str,
    *,
    fast: bool,
    chunk: int = 7,
    limits: ss.ImportLimits = SMALL,
    recount: bool = True,
) -> Any:
    """Feed ``xml`` to a sheet counter ``chunk`` bytes at a time; its counts, or the
    refusal's messages. When the fast path asks for an exact count it is counted again
    exactly, as `check_xlsx` does (with ``recount=False``: "recount")."""
    counter = ss._SheetCounter("S", limits, [], set(), ss.XlsxScan(), fast=fast)
    data = xml.encode()
    try:
        for i in range(0, len(data), chunk):
            counter.feed(data[i : i + chunk])
        counter.feed(b"", final=True)
    except ss.SpreadsheetError as exc:
        return exc.messages
    except ss._CountExactly:
        if not recount:
            return "recount"
        return count(xml, fast=False, chunk=chunk, limits=limits)
    return {
        "rows": counter.rows,
        "cells": counter.cells,
        "rowless": counter.rowless,
        "max_col": counter.max_col,
        "max_rless": counter.max_rless,
        "text": counter.text,
    }


def same(xml: str, **kw: Any) -> Any:
    exact = count(xml, fast=False, **kw)
    assert count(xml, fast=True, **kw) == exact
    return exact


def sheet(rows: list[str]) -> str:
    return HEAD + "".join(rows) + TAIL


def plain_rows(n: int, columns: int = 3, start: int = 1) -> list[str]:
    return [
        f'<row r="{r}">'
        + "".join(f'<c r="{chr(65 + c)}{r}"><v>{c}</v></c>' for c in range(columns))
        + "</row>"
        for r in range(start, start + n)
    ]


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 11, 64, 4096])
def test_tags_split_across_chunks_are_counted_once(chunk):
    xml = sheet(plain_rows(12))
    assert same(xml, chunk=chunk) == {
        "rows": 12,
        "cells": 36,
        "rowless": 0,
        "max_col": 3,
        "max_rless": 0,
        "text": len(xml),
    }


def test_prefixed_rows_and_cells_are_counted():
    """<x:row>/<x:c> (the OpenXML SDK writes them): "<row" and "<c" never occur."""
    rows = [f'<x:row r="{r}"><x:c r="A{r}"><x:v>1</x:v></x:c></x:row>' for r in range(1, 61)]
    xml = sheet(rows).replace("<worksheet ", "<worksheet xmlns:x='urn:x' ")
    assert same(xml) == [ss.too_many_rows(50)]
    # Without references no bound comes to the rescue: only the rows' count refuses.
    bare = sheet(["<x:row><x:c><x:v>1</x:v></x:c></x:row>"] * 60)
    assert same(bare, chunk=4096) == [ss.too_many_rows(50)]


def test_self_closing_and_bare_rows_are_counted_like_the_regex():
    """<row/>, <row> and <row\\tr="…"> are rows; <rowBreaks> and <cols><col> are not."""
    rows = (
        ["<cols><col min='1' max='3'/></cols>"]
        + ["<row/>", "<row>", '<row\tr="9">', "</row>", "</row>"]
        + plain_rows(3, start=10)
        + ['<rowBreaks count="1"><brk id="3"/></rowBreaks>']
    )
    result = same(sheet(rows))
    assert (result["rows"], result["cells"], result["rowless"]) == (6, 9, 2)


def test_a_row_past_the_limit_in_a_cdata_counts_as_the_regex_counts_it():
    cdata = "<row><c><![CDATA[" + "<row>" * 60 + "]]></c></row>"
    assert same(sheet(plain_rows(2) + [cdata])) == [ss.too_many_rows(50)]


def test_rows_without_a_number_push_the_height():
    rows = plain_rows(40) + ["<row><c r='A1'><v>1</v></c></row>"] * 11
    assert same(sheet(rows)) == [ss.too_many_rows(50)]


def test_cells_without_a_reference_push_the_width():
    rows = plain_rows(3) + ['<row r="4">' + "<c><v>1</v></c>" * 200 + "</row>"]
    assert same(sheet(rows)) == [
        ss.range_too_big("セル", "S", "A1:CW4", 4, 101, SMALL)  # where the limit is passed
    ]


@pytest.mark.parametrize("ref", ["A900", "a900", "A$900", " A900", "A0000900", "$A900"], ids=repr)
@pytest.mark.parametrize("quote", ['"', "'"])
@pytest.mark.parametrize("equals", ["=", " = ", "\n=\t"])
def test_a_far_row_is_found_however_its_reference_is_written(ref, quote, equals):
    """One cell far down among plain rows: the fast path's regex must not take it for a
    known column and a near row."""
    far = f"<row r='5'><c r{equals}{quote}{ref}{quote}><v>1</v></c></row>"
    result = same(sheet(plain_rows(4) + [far]))
    if ref == "$A900":  # not a reference for the readers' regex either
        assert isinstance(result, dict)
    else:
        assert result == [ss.too_many_rows(50)]


def test_a_far_column_is_found_after_the_known_ones():
    far = '<row r="20"><c r="AB20"><v>1</v></c></row>'
    assert same(sheet(plain_rows(4) + [far])) == [
        ss.range_too_big("セル", "S", "A1:AB20", 20, 28, SMALL)
    ]


def test_a_lower_case_column_counts_as_its_upper_case_one():
    far = '<row r="20"><c r="z20"><v>1</v></c></row>'
    assert same(sheet(plain_rows(4) + [far])) == [
        ss.range_too_big("セル", "S", "A1:Z20", 20, 26, SMALL)
    ]


def test_a_bound_that_passes_a_limit_is_counted_again_exactly():
    """A new column late in the sheet makes the row bound the fast path used too big:
    it asks for an exact count, which accepts (8 rows x 40 columns = 320 cells)."""
    rows = plain_rows(7) + ['<row r="8"><c r="AN8"><v>1</v></c></row>']
    assert count(sheet(rows), fast=True, chunk=4096, recount=False) == "recount"
    data = b.raw_xlsx(iter(r.replace("<row", "<row") for r in rows))
    ss.check_xlsx(data, SMALL)  # check_xlsx recounts: no refusal


def test_the_recount_still_refuses_what_is_too_big():
    rows = plain_rows(11) + ['<row r="12"><c r="AN12"><v>1</v></c></row>']
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.check_xlsx(b.raw_xlsx(iter(rows)), SMALL)
    assert exc.value.messages == [ss.range_too_big("セル", "進捗", "A1:AN12", 12, 40, SMALL)]


def test_a_prefixed_sheet_in_an_upper_case_part_is_counted():
    """Part names in any letter case (python-calamine opens them) with prefixed tags."""
    rows = [f'<x:row r="{r}"><x:c r="A{r}"><x:v>1</x:v></x:c></x:row>' for r in range(1, 61)]
    data = b.raw_xlsx(iter(rows))
    from tests.security.test_upload_bombs import rewrite

    data = rewrite(data, rename={"xl/worksheets/sheet1.xml": "XL/Worksheets/SHEET1.xml"})
    data = rewrite(data)  # the bytes as written, renamed part included
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.check_xlsx(data, SMALL)
    assert exc.value.messages == [ss.too_many_rows(50)]


@pytest.mark.parametrize("quote", ['"', "'"])
def test_shared_strings_are_counted_through_the_fast_path(quote):
    """Plain rows whose cells reference one long shared string: the text bound holds."""
    rows = [f'<row r="{r}"><c r="A{r}" t={quote}s{quote}><v>0</v></c></row>' for r in range(1, 41)]
    data = b.raw_xlsx(iter(rows), shared=["x" * 10_000])
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.check_xlsx(data, SMALL)
    assert exc.value.messages == [ss.too_much_text(SMALL.max_text_bytes)]


def test_the_fast_path_matches_the_exact_scan_on_a_real_progress_sheet():
    xml = b"".join(r.encode() for r in b.numeric_rows(2_000, columns=7)).decode()
    limits = ss.ImportLimits()
    assert same(sheet([xml]), chunk=65_536, limits=limits)["rows"] == 2_001


# Sharper probes (issue 24, round 2): each fails when one shortcut of the fast path is
# broken, which the probes above did not all notice (checked by breaking it).


@pytest.mark.parametrize("chunk", [7, 64, 4096])
def test_row_breaks_and_columns_next_to_the_limits_are_not_rows_or_cells(chunk):
    """Exactly the row and cell limits, with <rowBreaks>, <cols>, <colBreaks> and a
    <cfRule> in the same piece: counting "<row" or "<c" without the character after it
    would pass a limit."""
    limits = ss.ImportLimits(max_rows=20, max_cells=60, max_text_bytes=200_000, header_rows=0)
    xml = sheet(
        ["<cols><col min='1' max='3'/></cols>"]
        + plain_rows(20)
        + ['<rowBreaks count="1"><brk id="3"/></rowBreaks>', '<colBreaks count="1"/>']
        + ['<conditionalFormatting sqref="A1"><cfRule type="x"/></conditionalFormatting>']
    )
    result = same(xml, chunk=chunk, limits=limits)
    assert (result["rows"], result["cells"]) == (20, 60)


def test_rows_whose_reference_has_letters_are_placed_like_rows_without_one():
    """<row r="A1"> is not a numbered row for the exact scan (it comes after the row
    before): six of them after row 45 make the sheet 51 rows high. The fast path must hand
    such a piece to the exact scan, not take "A1" for a known column and a near row."""
    rows = (
        plain_rows(5) + plain_rows(1, start=45) + ['<row r="A1"><c r="A1"><v>1</v></c></row>'] * 6
    )
    for chunk in (7, 4096):
        assert same(sheet(rows), chunk=chunk) == [ss.too_many_rows(50)]


def test_cells_whose_reference_has_no_column_are_placed_like_cells_without_one():
    """<c r="4"> has no column: for the exact scan it takes the column after the one before,
    so 200 of them make the sheet 200 columns wide."""
    rows = plain_rows(3) + ['<row r="4">' + '<c r="4"><v>1</v></c>' * 200 + "</row>"]
    assert same(sheet(rows), chunk=4096) == [
        ss.range_too_big("セル", "S", "A1:FV4", 4, 178, SMALL)  # where the limit is passed
    ]


def test_a_column_that_narrows_the_bound_rereads_the_rows_before_it():
    """Rows 10-12 pass as "below the bound" (49) until column AN, later in the same piece,
    narrows the bound to 9 (40 columns): they must be read again, or the sheet's 12 x 40
    cells pass as 9 x 40."""
    rows = plain_rows(12) + ['<row r="5"><c r="AN5"><v>1</v></c></row>'] + plain_rows(1, start=6)
    expected = [ss.range_too_big("セル", "S", "A1:AN12", 12, 40, SMALL)]
    assert same(sheet(rows), chunk=4096) == expected
    assert count(sheet(rows), fast=True, chunk=4096, recount=False) == expected


def sizes(xml: str, *, fast: bool, chunk: int) -> list[int]:
    measured = ss._SharedStringSizes(None, fast=fast)
    data = xml.encode()
    for i in range(0, len(data), chunk):
        measured.feed(data[i : i + chunk])
    measured.feed(b"", final=True)
    return list(measured.sizes)


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 4096])
@pytest.mark.parametrize(
    "items",
    [
        "<si><t>abc</t></si><si><t>de</t></si>",
        "<si><t>abc</t></si><si/><si><t>de</t></si>",  # an empty one
        '<si><t>a</t></si><si foo="1"><t>bcd</t></si>',  # an attribute
        "<x:si><x:t>abc</x:t></x:si><si><t>de</t></si>",  # a prefix
        "<si><t>a</t><si><t>bc</t></si></si>",  # nested: the inner one counts
        "<si><t>a</t></si ><si\n><t>bc</t></si>",  # whitespace in the tags
        "</si><si><t>abc</t></si></si>",  # stray closings
        "<si><t>a</t></si><sir/><si><t>b</t></si>",  # not an si
        # Issue 24, third pass: what a split at "</si><si>" alone would misread.
        "<si><t>a</t></si> <si><t>bc</t></si>",  # something between two strings
        "<si><t>a</t></si><si><t>b</si></t></si>",  # a stray closing inside the last one
        "<si><t>a</t></si><si><t>b</t></si><si>",  # the last one left open
        "<si><t>a</t><si>b</si></si><si>c</si>",  # an opening inside the first one
    ],
)
def test_shared_string_sizes_fast_and_exact_agree(items, chunk):
    xml = f'<sst xmlns="urn:x" xmlns:x="urn:x">{items}{"<si><t>xyz</t></si>" * 5}</sst>'
    assert sizes(xml, fast=True, chunk=chunk) == sizes(xml, fast=False, chunk=chunk)


def test_the_last_shared_string_is_measured():
    xml = "<sst>" + "<si><t>ab</t></si>" * 3 + "<si><t>" + "x" * 500 + "</t></si></sst>"
    assert sizes(xml, fast=True, chunk=4096) == [9, 9, 9, 507]


def test_an_upper_bound_on_shared_text_is_counted_again_before_a_refusal():
    """` t="s"><v>0</v>` in an element that is not a cell: the fast path may count it (an
    upper bound on the text), `_SHARED_REF` does not; the sheet is counted again exactly
    and accepted (and refused when the cells themselves reference too much)."""
    other = '<row r="{r}"><c r="A{r}"><v>1</v></c><x t="s"><v>0</v></x></row>'
    data = b.raw_xlsx(iter(other.format(r=r) for r in range(1, 41)), shared=["x" * 10_000])
    ss.check_xlsx(data, SMALL)
    cells = '<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>'
    data = b.raw_xlsx(iter(cells.format(r=r) for r in range(1, 41)), shared=["x" * 10_000])
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.check_xlsx(data, SMALL)
    assert exc.value.messages == [ss.too_much_text(SMALL.max_text_bytes)]


def test_a_bound_on_shared_text_that_fits_is_not_less_than_the_text():
    """Many short references and one long string: the bound (references x longest) is used
    while it fits; past that the exact sum refuses what is too much."""
    rows = [f'<row r="{r}"><c r="A{r}" t="s"><v>{r % 2}</v></c></row>' for r in range(1, 41)]
    limits = ss.ImportLimits(max_rows=50, max_cells=400, max_text_bytes=30_000, header_rows=0)
    ss.check_xlsx(b.raw_xlsx(iter(rows), shared=["x" * 100, "y" * 500]), limits)
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.check_xlsx(b.raw_xlsx(iter(rows), shared=["x" * 100, "y" * 2_000]), limits)
    assert exc.value.messages == [ss.too_much_text(30_000)]


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="A{r}" t="s" ><v>0</v></c>',
        '<c r="A{r}" t = "s"><v>0</v></c>',
        '<c r="A{r}" t="s"><v> 0 </v></c>',
        '<c r="A{r}" t="s"><x:v>0</x:v></c>',
        '<c r="A{r}" t="s"><v>0</v></c><c r="B{r}" t="s" s="1"><v>0</v></c>',
    ],
)
def test_shared_references_written_otherwise_are_counted(cell):
    """Each `"s"` not in a plain ` t="s"><v>N</v>` sends the piece to `_SHARED_REF`."""
    rows = [f'<row r="{r}">{cell.format(r=r)}</row>' for r in range(1, 41)]
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.check_xlsx(b.raw_xlsx(iter(rows), shared=["x" * 10_000]), SMALL)
    assert exc.value.messages == [ss.too_much_text(SMALL.max_text_bytes)]


@pytest.mark.parametrize("attribute", ['\tr="900"', '\nr="A900"', ' r\n="900"', ' r=\r"900"'])
def test_a_far_reference_after_other_whitespace_in_a_plain_piece_is_found(attribute):
    """Plain rows and cells, and one other element whose r="…" follows a tab or a line
    break: the regex that starts with " r" only serves pieces whose whitespace is " "."""
    rows = plain_rows(4) + [f"<x{attribute}/>"] + plain_rows(1, start=5)
    assert same(sheet(rows), chunk=4096) == [ss.too_many_rows(50)]


# Issue 24, third pass: the checks' cheaper shortcuts, each against what it must not miss.


def with_part(xlsx: bytes, name: str, data: bytes) -> bytes:
    """A copy of ``xlsx`` with one more part."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            zf.writestr(info.filename, src.read(info.filename))
        zf.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("before", [1, 2, 5, 11])
def test_a_declaration_across_two_pieces_is_found(before):
    """The regex only runs on a piece (with the previous one's tail) that holds a "!":
    a DOCTYPE whose "<!" ends the first piece and whose name starts the next has its one
    "!" in the tail, not in the piece being read."""
    rnd = random.Random(24)
    filler = bytes(rnd.choice(b"abcdefgh ") for _ in range(ss._CHUNK - before))
    part = filler + b"<!DOCTYPE x><x/>"
    data = with_part(b.raw_xlsx(iter(plain_rows(3))), "xl/custom.xml", part)
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.check_xlsx(data, SMALL)
    assert exc.value.messages == [ss.XML_ENTITY]


def test_the_cells_bound_on_shared_text_counts_every_cell():
    """Three cells a row, each referencing the one long string (2,007 bytes with its <t>):
    the bound found without a pass (the piece's cells x the longest string) is the text
    itself here; 33 rows pass the 200,000 bytes, 30 do not. Counting rows, or stopping at
    the first reference of a row, would accept the 33."""
    row = '<row r="{r}">' + "".join(f'<c r="{c}{{r}}" t="s"><v>0</v></c>' for c in "ABC")
    for n, refused in ((30, False), (33, True)):
        rows = (row.format(r=r) + "</row>" for r in range(1, n + 1))
        data = b.raw_xlsx(rows, shared=["x" * 2_000])
        if refused:
            with pytest.raises(ss.SpreadsheetError) as exc:
                ss.check_xlsx(data, SMALL)
            assert exc.value.messages == [ss.too_much_text(SMALL.max_text_bytes)]
        else:
            ss.check_xlsx(data, SMALL)


def test_a_cells_bound_too_big_falls_back_to_the_references():
    """One cell of 40 references a 5,000-byte string, the others a short one: the cells
    bound (40 x 5,007) passes the 30,000 bytes, the references' text (5.7 KB) does not, and
    the sheet is accepted; with the long string in every cell it is refused."""
    limits = ss.ImportLimits(max_rows=50, max_cells=400, max_text_bytes=30_000, header_rows=0)
    cell = '<row r="{r}"><c r="A{r}" t="s"><v>{i}</v></c></row>'
    rows = [cell.format(r=r, i=1 if r == 7 else 0) for r in range(1, 41)]
    ss.check_xlsx(b.raw_xlsx(iter(rows), shared=["x" * 10, "y" * 5_000]), limits)
    rows = [cell.format(r=r, i=1) for r in range(1, 41)]
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.check_xlsx(b.raw_xlsx(iter(rows), shared=["x" * 10, "y" * 5_000]), limits)
    assert exc.value.messages == [ss.too_much_text(30_000)]


@pytest.mark.parametrize("before", ["", "<x:foo a='dimension'/>", "<hyperlinks/>"])
def test_a_range_is_read_from_the_tag_start_before_its_name(before):
    """The range regex starts at the "<" before the first of its names in the piece, not
    at the name: a prefixed <x:mergeCell> (its name the first one) is still read."""
    xml = sheet(plain_rows(3) + [before, "<x:mergeCell ref='A1:Z99'/>"])
    expected = [ss.range_too_big("結合セル", "S", "A1:Z99", 99, 26, SMALL)]
    assert count(xml, fast=True, chunk=4096) == expected
    assert count(xml, fast=False, chunk=4096) == expected
