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
