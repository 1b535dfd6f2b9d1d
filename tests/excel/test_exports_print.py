"""The bulk sheets' exports and templates on paper (issue 14) and the indicator grade and
counted actual in the /excel/ export (issue 10).

Every workbook is read back with openpyxl: print set-up, widths, header style, cell types and
the templates' drop-downs; one wide sheet is printed by LibreOffice; every export goes back
through the import preview with nothing to change.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from openpyxl.utils import get_column_letter

from initiatives.models import CountableTarget, IndicatorValue, SystemGroup
from portal_lib import xlsx_layout as xl
from reporting.exchange import engine, export, sheets
from reporting.exchange.columns import (
    DATE_PARSERS,
    Column,
    p_decimal,
    p_int,
    p_percent,
    p_system_number,
)
from tests.excel.test_table41_print import (
    A4_LANDSCAPE,
    page_sizes,
    pdf_words,
    print_with_libreoffice,
    runs_of,
)
from tests.factory import (
    initiative,
    make_indicator,
    make_online_procedure,
    make_progress,
    set_system_phase,
    upload,
)

SLUGS = sorted(sheets.SPECS)
LONG_TEXT = (
    "申請フォームの項目を市民課と見直し、マイナポータルのぴったりサービスへ"
    "児童手当の認定請求と現況届を登録した。操作説明会を各地区の公民館で三回開き、"
    "高齢の方からの問合せに答える窓口を情報推進課に設けた。次は転入届の事前入力に取り組む。"
)


@pytest.fixture
def filled(plan):
    """Rows of every kind the sheets hold: dates, percents, numbers, long text, a linked
    indicator whose actual is counted from the procedures."""
    make_progress(
        initiative("2.1"),
        entry_date=date(2026, 10, 1),
        status="on_track",
        percent=60,
        done_text=LONG_TEXT,
        next_steps="=1+1 は数式ではなく文字",
    )
    make_progress(initiative("3.1"), entry_date=date(2026, 6, 15), status="delayed", percent=7)
    make_online_procedure(1, online_on=date(2026, 6, 1))
    make_online_procedure(2, online_on=date(2026, 7, 1))
    make_online_procedure(3, online_on=date(2027, 6, 1))  # after FY2026: not counted in it
    target = CountableTarget.objects.get(plan=plan, code="online-procedures")
    linked = make_indicator(initiative("2.1"), "オンライン化した手続数", countable_target=target)
    IndicatorValue.objects.create(
        indicator=linked, fiscal_year=2026, target=Decimal(10), actual=Decimal(3)
    )
    typed = make_indicator(initiative("2.1"), "電子申請の利用件数", unit="件")
    IndicatorValue.objects.create(
        indicator=typed, fiscal_year=2026, target=Decimal(100), actual=Decimal(120)
    )
    IndicatorValue.objects.create(indicator=typed, fiscal_year=2027, target=Decimal(150))
    set_system_phase(1, "done", migrated_on=date(2026, 9, 1))
    return plan


def _numeric(column: Column) -> bool:
    return column.parse in (p_decimal, p_system_number) or column.parse.__qualname__.startswith(
        p_int.__qualname__
    )


def _sheet(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]


def _assert_print_setup(ws, *, landscape: bool, freeze: str = "B2") -> None:
    assert ws.page_setup.orientation == ("landscape" if landscape else "portrait")
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert int(ws.page_setup.fitToWidth) == 1
    assert int(ws.page_setup.fitToHeight) == 0
    assert ws.print_title_rows == "$1:$1"
    assert ws.freeze_panes == freeze


def _assert_header_style(ws, header: list[str]) -> None:
    assert [c.value for c in ws[1]] == header
    for cell in ws[1]:
        assert cell.font.b is True
        assert cell.fill.fill_type == "solid"
        assert cell.fill.fgColor.rgb.endswith(xl.HEADER_FILL.fgColor.rgb[-6:])
        assert cell.alignment.wrap_text is True


@pytest.mark.parametrize("slug", SLUGS)
def test_every_export_is_ready_to_print_with_typed_cells(filled, slug):
    spec = sheets.SPECS[slug]
    data = export.export_xlsx(spec, filled)
    ws = _sheet(data)
    header = export.header(spec, export.extra_columns(spec, filled))
    _assert_print_setup(ws, landscape=slug != "projects")
    _assert_header_style(ws, header)
    assert ws.max_row > 1, "the fixture gives every sheet rows"
    assert ws.auto_filter.ref == f"A1:{get_column_letter(len(header))}{ws.max_row}"
    for col, head in enumerate(header, start=1):
        width = ws.column_dimensions[get_column_letter(col)].width
        texts = [head] + [
            xl._display(ws.cell(row=r, column=col).value) for r in range(2, ws.max_row + 1)
        ]
        widest = max(xl.text_width(line) for t in texts for line in t.split("\n"))
        assert width == pytest.approx(max(xl.MIN_WIDTH, min(widest + 2, xl.MAX_WIDTH)))
    for row in ws.iter_rows(min_row=2):
        for cell, column in zip(row, spec.columns, strict=False):
            assert cell.alignment.wrap_text is True and cell.border.left.style == "thin"
            if cell.value is None:
                continue
            if column.parse in DATE_PARSERS:
                assert isinstance(cell.value, datetime), (column.header, cell.value)
                assert cell.number_format == xl.WAREKI_DATE_FORMAT
            elif column.parse is p_percent:
                assert isinstance(cell.value, float) and 0 <= cell.value <= 1
                assert cell.number_format == xl.PERCENT_FORMAT
            elif _numeric(column):
                assert isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
            else:
                assert isinstance(cell.value, str), (column.header, cell.value)


def test_long_text_gets_the_row_height_it_needs_and_formulas_stay_text(filled):
    ws = _sheet(export.export_xlsx(sheets.PROGRESS, filled))
    done = export.header(sheets.PROGRESS, []).index("実施内容") + 1
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, done).value == LONG_TEXT)
    width = ws.column_dimensions[get_column_letter(done)].width
    assert width == xl.MAX_WIDTH  # the long text is capped, and wraps
    lines = xl.lines_needed(LONG_TEXT, width)
    assert lines >= 3
    assert ws.row_dimensions[row].height == pytest.approx(lines * xl.LINE_HEIGHT_PT)
    formula = ws.cell(row, done + 1)
    assert formula.value == "=1+1 は数式ではなく文字" and formula.data_type == "s"
    assert ws.cell(row, 2).value == datetime(2026, 10, 1)
    assert ws.cell(row, 4).value == pytest.approx(0.6)


@time_machine.travel(datetime(2026, 12, 6, 10, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False)
def test_indicator_export_shows_grade_and_counted_actual(client, filled, personas):
    client.force_login(personas.secretariat)
    response = client.get(reverse("excel:bulk_export", args=["indicators", "xlsx"]))
    assert response.status_code == 200
    ws = _sheet(b"".join(response.streaming_content))
    header = [c.value for c in ws[1]]
    assert header[-2:] == [sheets.GRADE_HEADER, sheets.COUNTED_HEADER]
    rows = {
        (r[1], r[3]): (r[4], r[5], r[-2], r[-1]) for r in ws.iter_rows(min_row=2, values_only=True)
    }
    # Linked to the online procedures: 2 went online by the end of FY2026 (the third in
    # FY2027), so 2 of a target of 10 is counted, whatever was typed (3): grade C.
    assert rows[("オンライン化した手続数", "R8")] == (10, 3, "C", 2)
    assert rows[("電子申請の利用件数", "R8")] == (100, 120, "A", None)  # 120%: A, not linked
    # no actual yet, FY2027 not started: 未評価 (D only once the year has ended)
    assert rows[("電子申請の利用件数", "R9")] == (150, None, "未評価", None)
    csv = client.get(reverse("excel:bulk_export", args=["indicators", "csv"]))
    assert (
        sheets.GRADE_HEADER in b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()[0]
    )


def test_indicator_export_columns_are_ignored_on_reimport(filled):
    data = export.export_xlsx(sheets.INDICATOR_VALUES, filled)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    grade_col = ws.max_column - 1
    for row in range(2, ws.max_row + 1):  # someone types over the export-only columns
        ws.cell(row, grade_col).value = "A"
        ws.cell(row, grade_col + 1).value = 999
    buf = io.BytesIO()
    wb.save(buf)
    before = list(IndicatorValue.objects.values_list("pk", "target", "actual", "note"))
    result = engine.parse_import(sheets.INDICATOR_VALUES, buf.getvalue(), "x.xlsx", plan=filled)
    assert result.counts() == {"added": 0, "changed": 0, "unchanged": ws.max_row - 1}
    assert result.rows == []  # nothing to add or change (a new indicator is an added row)
    assert list(IndicatorValue.objects.values_list("pk", "target", "actual", "note")) == before


@pytest.mark.parametrize("slug", SLUGS)
def test_export_then_import_preview_has_nothing_to_change(client, filled, personas, slug):
    client.force_login(personas.secretariat)
    data = b"".join(client.get(reverse("excel:bulk_export", args=[slug, "xlsx"])).streaming_content)
    response = client.post(
        reverse("excel:bulk_import", args=[slug]), {"file": upload(data, f"{slug}.xlsx")}
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    counts = response.context["counts"]
    assert counts["added"] == 0 and counts["changed"] == 0 and counts["unchanged"] > 0
    assert response.context["token"] == ""  # nothing to confirm
    # The other reader (openpyxl) reads the same 和暦 date cells and % cells back.
    result = engine.parse_import(sheets.SPECS[slug], data, "x.xlsx", plan=filled, engine="openpyxl")
    assert result.counts()["added"] == 0 and result.counts()["changed"] == 0


EXPECTED_CHOICES = {
    "initiatives": {
        "区分": ["国が挙げる重点取組事項", "自治体DXの取組みとあわせて取り組むべき事項"],
        "公開": ["○", "×"],
    },
    "projects": {},
    "progress": {"状況": ["未着手", "順調", "遅れ", "完了", "中止"]},
    "indicators": {},
    "procedures": {
        "申請手段": [
            "ぴったりサービス",
            "市の電子申請サービス",
            "ベンダー提供の申請サービス",
            "その他",
        ],
        "状況": ["未着手", "準備中", "オンライン化済"],
        "確認済み": ["○", "×"],
    },
    "systems": {
        "移行フェーズ": [
            "未着手",
            "標準仕様の確認",
            "Fit&Gap分析",
            "調達・契約",
            "移行・テスト",
            "移行完了(稼働)",
        ],
        "確認済み": ["○", "×"],
    },
}


@pytest.mark.parametrize("slug", SLUGS)
def test_templates_have_drop_downs_required_notes_and_print_setup(client, plan, personas, slug):
    spec = sheets.SPECS[slug]
    client.force_login(personas.secretariat)
    response = client.get(reverse("excel:bulk_template", args=[slug]))
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb.worksheets[0]
    _assert_print_setup(ws, landscape=slug != "projects")
    _assert_header_style(ws, spec.header())  # row 1 is the header the importer looks for
    expected = dict(EXPECTED_CHOICES[slug])
    if slug == "systems":
        groups = SystemGroup.objects.filter(target__plan=plan).order_by("number")
        expected["グループ"] = [g.name for g in groups]
        assert len(expected["グループ"]) >= 2
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert len(validations) == len(expected)
    for col, column in enumerate(spec.columns, start=1):
        letter = get_column_letter(col)
        note = ws.cell(1, col).comment.text
        assert note.splitlines()[0] == ("必須" if column.required else "任意")
        assert ws.column_dimensions[letter].width >= xl.text_width(column.header) + 2
        if column.parse in DATE_PARSERS:
            assert ws.column_dimensions[letter].number_format == xl.WAREKI_DATE_FORMAT
        if column.header in expected:
            dv = validations[f"{letter}2:{letter}{export.TEMPLATE_ROWS + 1}"]
            assert dv.type == "list"
            assert dv.formula1 == '"' + ",".join(expected[column.header]) + '"'
            assert dv.showErrorMessage
    guide = wb["記入方法"]
    assert [c.value for c in guide[1]] == ["列", "必須", "入力のしかた", "選択肢"]
    assert guide.print_title_rows == "$1:$1"


def test_a_filled_in_template_imports(plan):
    """The notes and drop-downs do not get in the importer's way."""
    wb = openpyxl.load_workbook(io.BytesIO(export.template_xlsx(sheets.PROGRESS, plan)))
    ws = wb.worksheets[0]
    ws.append(["2.1", date(2026, 10, 1), "順調", 0.4, "手続の洗い出し"])
    ws.cell(2, 4).number_format = xl.PERCENT_FORMAT
    buf = io.BytesIO()
    wb.save(buf)
    result = engine.parse_import(sheets.PROGRESS, buf.getvalue(), "t.xlsx", plan=plan)
    assert result.counts()["added"] == 1
    added = result.rows[0].new_obj  # the preview keeps the first rows' objects
    assert added.percent == 40
    assert added.entry_date == date(2026, 10, 1)


@pytest.mark.slow
def test_libreoffice_prints_the_progress_export_on_a4_landscape_with_the_long_text(
    filled, tmp_path
):
    xlsx = tmp_path / "progress.xlsx"
    xlsx.write_bytes(export.export_xlsx(sheets.PROGRESS, filled))
    pdf = print_with_libreoffice(xlsx)
    sizes = page_sizes(pdf)
    assert sizes and all(s == pytest.approx(A4_LANDSCAPE, abs=1) for s in sizes)
    words = pdf_words(pdf)
    runs = runs_of(words, LONG_TEXT)
    assert runs, "the long text is not printed whole"
    # Printed whole and inside its row: its last line ends above the next row's text.
    run = runs[0]
    below = [w for w in words if w.page == run[-1].page and w.text.startswith("3.1")]
    assert below and max(w.y1 for w in run) <= min(w.y0 for w in below) + 2.0
    assert runs_of(words, "令和8年10月1日"), "the date prints in 和暦"
    assert runs_of(words, "60%"), "the percent prints as a percent"
