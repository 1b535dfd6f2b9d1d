"""The print set-up helper every workbook uses (kahoku_dx/xlsx_layout.py)."""

import io

import openpyxl

from kahoku_dx import xlsx_layout as xl


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
