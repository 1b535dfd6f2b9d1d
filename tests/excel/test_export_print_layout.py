"""Issue 24: the bulk export written with XlsxWriter (constant memory) keeps its print layout
and the safe-cell rule.

The export is printed by LibreOffice, as a city office would: A4 landscape on every page and
the header row printed again at the top of page 2. The XlsxWriter table of
portal_lib.xlsx_layout is read back with openpyxl: formula-looking text stays text, characters
XML cannot hold are dropped, numbers and dates are typed, and its memory does not grow with
the rows.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

from initiatives.models import ProgressEntry
from portal_lib import xlsx_layout as xl
from portal_lib.sheet_writing import streamed_xlsxwriter
from reporting.exchange import export, sheets
from tests.excel.openpyxl_oracle import stream_table
from tests.excel.test_table41_print import (
    A4_LANDSCAPE,
    page_sizes,
    pdf_words,
    print_with_libreoffice,
    runs_of,
)
from tests.factory import initiative

ROWS = 150  # several landscape pages of one-line rows


def test_libreoffice_prints_the_export_landscape_with_the_header_on_every_page(plan, tmp_path):
    ini = initiative("2.1")
    start = date(2026, 4, 1)
    ProgressEntry.objects.bulk_create(
        ProgressEntry(
            initiative=ini,
            entry_date=start + timedelta(days=n),
            fiscal_year=2026,
            status="on_track",
            percent=n % 101,
            done_text=f"記録{n:03d}",
        )
        for n in range(ROWS)
    )
    xlsx = tmp_path / "progress.xlsx"
    xlsx.write_bytes(export.export_xlsx(sheets.PROGRESS, plan))

    pdf = print_with_libreoffice(xlsx)
    sizes = page_sizes(pdf)
    assert len(sizes) >= 2, sizes
    assert all(s == pytest.approx(A4_LANDSCAPE, abs=1) for s in sizes)
    words = pdf_words(pdf)
    done = "実施内容"
    assert done in export.header(sheets.PROGRESS, [])
    header_pages = {run[0].page for run in runs_of(words, done)}
    assert header_pages == set(range(1, len(sizes) + 1)), header_pages  # repeated on each page
    # Page 2 starts with the header, then rows that page 1 did not print.
    second = [w for w in words if w.page == 2]
    header_top = min(w.y0 for w in second if w.text == done)
    rows_on_2 = [w for w in second if w.text.startswith("記録")]
    assert rows_on_2 and header_top < min(w.y0 for w in rows_on_2)
    first_rows = {w.text for w in words if w.page == 1 and w.text.startswith("記録")}
    assert "記録000" in first_rows and not first_rows & {w.text for w in rows_on_2}
    assert runs_of(words, "2/"), "the footer numbers the pages"


def _xlsxwriter_table(header, rows, **kwargs) -> tuple[int, bytes]:
    buf = io.BytesIO()
    with streamed_xlsxwriter("test", buf) as wb:
        ws = wb.add_worksheet("s")
        written = xl.stream_table_xlsxwriter(wb, ws, header, rows, **kwargs)
    return written, buf.getvalue()


FORMULAS = ["=SUM(1)", "+1", "-1", "@A1", "\t=1", '=HYPERLINK("http://x")']


def test_xlsxwriter_table_keeps_formula_looking_text_as_text_and_drops_illegal_characters():
    rows = [[f, n] for n, f in enumerate(FORMULAS)]
    rows += [["a\x01b\x0bc\ufffe", Decimal("2.5")], ["一行目\r\n二行目\r三行目", True]]
    rows += [["日付", date(2026, 10, 1)], ["日時", datetime(2026, 10, 1, 9, 30)], [None, 0.25]]
    written, data = _xlsxwriter_table(
        ["内容", "値"], iter(rows), landscape=False, title="A&B", number_formats={}
    )
    assert written == len(rows)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet and b"<f " not in sheet  # no formula anywhere
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    for r, text in enumerate(FORMULAS, start=2):
        assert ws.cell(r, 1).value == text and ws.cell(r, 1).data_type == "s"
        assert ws.cell(r, 2).value == r - 2
    n = len(FORMULAS) + 2
    assert ws.cell(n, 1).value == "abc" and ws.cell(n, 2).value == 2.5
    assert ws.cell(n + 1, 1).value == "一行目\n二行目\n三行目" and ws.cell(n + 1, 2).value is True
    assert ws.row_dimensions[n + 1].height == 3 * xl.LINE_HEIGHT_PT
    # A date in a column without a date format gets openpyxl's default one, as before.
    assert ws.cell(n + 2, 2).value == datetime(2026, 10, 1)
    assert ws.cell(n + 2, 2).number_format == "yyyy-mm-dd"
    assert ws.cell(n + 3, 2).value == datetime(2026, 10, 1, 9, 30)
    assert ws.cell(n + 3, 2).number_format == "yyyy-mm-dd h:mm:ss"
    empty = ws.cell(n + 4, 1)
    assert empty.value is None and empty.border.left.style == "thin"  # still in the grid
    assert ws.page_setup.orientation == "portrait" and ws.oddHeader.left.text == "A&&B"
    assert ws.oddFooter.center.text == "&P / &N" and ws.oddFooter.right.text == "印刷日 &D"
    assert ws.print_options.horizontalCentered is True
    margins = ws.page_margins
    assert (margins.left, margins.top, margins.header, margins.footer) == (0.4, 0.6, 0.3, 0.3)


def test_xlsxwriter_table_has_the_openpyxl_tables_widths_heights_and_formats():
    long = "申請フォームの項目を見直し、説明会を三回開いた。" * 4
    rows = [["2.1", date(2026, 10, 1), 0.6, long], ["2.2", None, None, "短い"]]
    rows += [["9.9", date(2027, 1, 1), 1, "x" * 200]]  # past the sample: not in the widths
    kwargs = {
        "landscape": True,
        "title": "進捗",
        "number_formats": {1: xl.WAREKI_DATE_FORMAT, 2: xl.PERCENT_FORMAT},
        "sample_rows": 2,
    }
    header = ["番号", "日付", "進捗率", "内容"]
    _, ours = _xlsxwriter_table(header, iter(rows), **kwargs)
    wb = openpyxl.Workbook(write_only=True)
    stream_table(wb.create_sheet("s"), header, iter(rows), **kwargs)
    buf = io.BytesIO()
    wb.save(buf)
    new = openpyxl.load_workbook(io.BytesIO(ours)).active
    old = openpyxl.load_workbook(io.BytesIO(buf.getvalue())).active
    for letter in "ABCD":
        assert new.column_dimensions[letter].width == old.column_dimensions[letter].width
    for r in range(2, 5):
        assert new.row_dimensions[r].height == old.row_dimensions[r].height
        for c in range(1, 5):
            a, b = new.cell(r, c), old.cell(r, c)
            assert (a.value, a.number_format, a.data_type) == (
                b.value,
                b.number_format,
                b.data_type,
            )
            assert a.alignment.wrap_text and a.alignment.vertical == "top"
            assert a.border.left.style == b.border.left.style == "thin"
    for a, b in zip(new[1], old[1], strict=True):
        assert (a.value, a.font.b) == (b.value, b.font.b)
        assert a.fill.fgColor.rgb[-6:] == b.fill.fgColor.rgb[-6:] == "DDEBF7"  # alpha aside
        assert (a.alignment.horizontal, a.alignment.vertical) == ("center", "center")
    for attr in ("orientation", "paperSize", "fitToWidth", "fitToHeight"):
        assert str(getattr(new.page_setup, attr)) == str(getattr(old.page_setup, attr)), attr
    assert new.print_title_rows == old.print_title_rows == "$1:$1"
    assert new.freeze_panes == old.freeze_panes == "B2"
    assert new.auto_filter.ref == old.auto_filter.ref == "A1:D4"
    assert new.oddHeader.left.text == old.oddHeader.left.text == "進捗"


def _peak(n: int) -> tuple[int, bytes]:
    def rows():
        for i in range(n):
            yield [f"{i}", "申請フォームの項目を見直した。" * 3, i]

    tracemalloc.start()
    try:
        written, data = _xlsxwriter_table(
            ["番号", "内容", "数"], rows(), landscape=True, sample_rows=500
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == n
    return peak, data


def test_xlsxwriter_table_memory_does_not_grow_with_the_rows():
    """Ten times the rows costs no more memory than the finished file: the rows (and their
    heights) go to a temporary file, so 100,000 rows stay bounded too."""
    small, _ = _peak(1_000)
    large, data = _peak(10_000)
    assert large - small < len(data) + 512 * 1024, (small, large, len(data))
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert sheet.count(b'customHeight="1"') == 10_000  # every data row got its 2-line height
