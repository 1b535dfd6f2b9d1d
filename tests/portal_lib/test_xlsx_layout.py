"""The print set-up helper every workbook uses (portal_lib/xlsx_layout.py)."""

import io

import openpyxl

from portal_lib import xlsx_layout as xl
from portal_lib.sheet_writing import streamed_xlsxwriter


def _roundtrip(wb):
    buf = io.BytesIO()
    wb.save(buf)
    return openpyxl.load_workbook(io.BytesIO(buf.getvalue()))


def test_text_width_counts_japanese_twice():
    assert xl.text_width("ABC") == 3
    assert xl.text_width("令和8年") == 7
    assert xl.text_width("２７") == 4


def test_lines_needed_wraps_by_display_width():
    assert xl.lines_needed("あ" * 10, 21) == 1  # 20 columns of text in 20 usable
    assert xl.lines_needed("あ" * 10, 11) == 2
    assert xl.lines_needed("一行目\n二行目", 30) == 2


def test_layout_table_sets_print_widths_heights_and_header():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["番号", "内容", "状況"])
    ws.append(["2.1", "年度末迄に27申請のオンライン化完了" * 5, "順調"])
    xl.layout_table(ws, header_row=1, landscape=True, title="進捗", fixed_widths={2: 30})
    ws = _roundtrip(wb).active
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$1:$1"
    assert ws.freeze_panes == "B2"
    assert ws["A1"].font.bold and ws["A1"].fill.fgColor.rgb.endswith("DDEBF7")
    assert ws.column_dimensions["B"].width == 30
    # 5 × 34 columns of text in 29 usable columns: 6 lines
    assert ws.row_dimensions[2].height == 6 * xl.LINE_HEIGHT_PT
    assert ws["B2"].alignment.wrap_text
    assert "&P" in ws.oddFooter.center.text


def test_merged_rows_share_the_height_their_text_needs():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.column_dimensions["A"].width = 11
    ws["A1"] = "あ" * 40  # 80 columns in 10 usable: 8 lines
    ws.merge_cells("A1:A2")
    xl.fit_row_heights(ws, first_row=1)
    heights = (ws.row_dimensions[1].height or xl.LINE_HEIGHT_PT) + ws.row_dimensions[2].height
    assert heights == 8 * xl.LINE_HEIGHT_PT


def test_choices_become_a_drop_down():
    wb = openpyxl.Workbook()
    ws = wb.active
    dv = xl.add_choices(
        ws, column=3, choices=["順調", "遅れ"], first_row=2, last_row=500, title="状況"
    )
    assert dv is not None
    ws = _roundtrip(wb).active
    (v,) = ws.data_validations.dataValidation
    assert v.type == "list" and v.formula1 == '"順調,遅れ"' and str(v.sqref) == "C2:C500"


def _streamed(header, rows, **kwargs):
    buf = io.BytesIO()
    with streamed_xlsxwriter("test", buf) as wb:
        written = xl.stream_table_xlsxwriter(wb, wb.add_worksheet("s"), header, rows, **kwargs)
    return written, buf.getvalue()


def test_stream_table_lays_out_a_constant_memory_sheet():
    from datetime import date, datetime

    long = "申請フォームの項目を見直し、説明会を三回開いた。" * 4
    rows = [["2.1", date(2026, 10, 1), 0.6, long], ["2.2", None, None, "=SUM(1)"]]
    rows += [["9.9", date(2027, 1, 1), 1, "x" * 200]]  # past the sample: not in the widths
    written, data = _streamed(
        ["番号", "日付", "進捗率", "内容"],
        iter(rows),
        landscape=True,
        title="進捗",
        number_formats={1: xl.WAREKI_DATE_FORMAT, 2: xl.PERCENT_FORMAT},
        sample_rows=2,
    )
    assert written == 3
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == "A1:D4"
    assert all(c.font.b and c.fill.fill_type == "solid" for c in ws[1])
    assert ws.column_dimensions["A"].width == xl.MIN_WIDTH
    assert ws.column_dimensions["B"].width == xl.text_width("令和00年00月00日") + 2
    assert ws.column_dimensions["D"].width == xl.MAX_WIDTH  # long text capped, then wrapped
    assert ws["B2"].value == datetime(2026, 10, 1)
    assert ws["B2"].number_format == xl.WAREKI_DATE_FORMAT
    assert ws["C2"].number_format == xl.PERCENT_FORMAT and ws["C2"].value == 0.6
    assert ws["D3"].value == "=SUM(1)" and ws["D3"].data_type == "s"  # text, not a formula
    assert ws["D2"].alignment.wrap_text and ws["D2"].border.left.style == "thin"
    assert ws.row_dimensions[2].height == xl.lines_needed(long, xl.MAX_WIDTH) * 15.0 > 15
    assert ws.row_dimensions[3].height is None  # one line: the default height
    assert ws.row_dimensions[4].height == xl.lines_needed("x" * 200, xl.MAX_WIDTH) * 15.0


def _peak(n: int) -> tuple[int, bytes]:
    import tracemalloc

    def rows():
        for i in range(n):
            yield [f"{i}", "申請フォームの項目を見直した。" * 3, i]

    tracemalloc.start()
    try:
        written, data = _streamed(["番号", "内容", "数"], rows(), landscape=True, sample_rows=500)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == n
    return peak, data


def test_stream_table_memory_does_not_grow_with_the_rows():
    """The rows stream to a temporary file: ten times the rows costs no more memory than
    the larger finished (compressed) file itself, so 100,000 rows stay bounded too."""
    import zipfile

    small, _ = _peak(1_000)
    large, data = _peak(10_000)
    assert large - small < len(data) + 512 * 1024, (small, large, len(data))
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    # every data row got its (2-line) height; the one-line header keeps the default height
    assert sheet.count(b'customHeight="1"') == 10_000
    assert b'<row r="1"' in sheet and b'<row r="10001"' in sheet
