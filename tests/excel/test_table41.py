"""Table 4-1: export in the plan's layout, read back, preview, confirm, permissions."""

import io
from datetime import date

import openpyxl
import pytest
from django.urls import reverse

from plans.models import Lease, ScheduleCell, ScheduleItem, ScheduleRow
from portal_lib.sheet_reading import SpreadsheetError
from reporting import table41
from reporting.services.schedule import schedule_import_apply
from reporting.workbooks.table41 import export_schedule
from tests.factory import upload, xlsx_bytes

TODAY = date(2026, 10, 1)  # FY2026 = R8


def sheet_of(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


def history_total() -> int:
    return sum(m.history.count() for m in (ScheduleItem, ScheduleRow, ScheduleCell, Lease))


def find_row(ws, text: str, column: int = 1) -> int:
    for row in ws.iter_rows(min_col=column, max_col=column):
        if row[0].value == text:
            return row[0].row
    raise AssertionError(text)


def test_export_has_the_plan_layout(plan):
    ws = sheet_of(export_schedule(plan, today=TODAY))
    assert ws.title == "表4-1"
    assert ws["A1"].value == "表4-1 スケジュール予定(令和3年度〜令和8年度)"
    assert [c.value for c in ws[2]] == [
        "項目",
        "副項目",
        "R3 (2021)",
        "R4 (2022)",
        "R5 (2023)",
        "R6 (2024)",
        "R7 (2025)",
        "R8 (2026)",
    ]
    r = find_row(ws, "かほく市DX推進計画")
    assert [c.value for c in ws[r]][2:] == ["○"] * 6
    r = find_row(ws, "オンライン申請")
    assert ws.cell(r, 4).value == "年度末迄に27申請のオンライン化完了"
    related = find_row(ws, "かほく市DX推進計画関連")
    assert ws.cell(related + 1, 3).value == "DX推進本部設置"
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert "A1:H1" in merged  # title
    assert f"A{related}:A{related + 1}" in merged  # item cell over its two lines
    group1 = find_row(ws, "第1グループ", column=2)
    assert f"G{group1}:G{group1 + 2}" in merged  # R7 migration spans the three groups
    lease = find_row(ws, "システム等のリース等の状況")
    assert f"A{lease}:A{lease + 3}" in merged
    assert ws.cell(lease, 7).value == "(再リース)"
    assert ws.freeze_panes == "C3"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.print_title_rows == "$2:$2"
    assert ws.column_dimensions["A"].width == 42
    assert ws["H2"].fill.fgColor.rgb.endswith("FFD966")  # R8 = current fiscal year
    assert not ws["G2"].fill.fgColor.rgb.endswith("FFD966")
    assert ws.cell(lease, 3).alignment.wrap_text


def test_formula_looking_schedule_text_is_exported_as_text(plan):
    cell = ScheduleCell.objects.get(row__item__title="オンライン申請", fiscal_year=2022)
    cell.text = '=HYPERLINK("http://evil.example","27")'
    cell.save()
    ws = sheet_of(export_schedule(plan, today=TODAY))
    c = ws.cell(find_row(ws, "オンライン申請"), 4)
    assert c.data_type == "s"
    assert c.value == '=HYPERLINK("http://evil.example","27")'


def test_reimporting_an_unchanged_export_changes_nothing(plan, personas):
    data = export_schedule(plan, today=TODAY)
    before = history_total()
    diff = schedule_import_apply(plan=plan, data=data, filename="t.xlsx", user=personas.secretariat)
    assert diff.changes == []
    assert history_total() == before


def edited_export(plan) -> bytes:
    """Cell changed, a lease line added at the bottom, one lease line cleared (= removed)."""
    wb = openpyxl.load_workbook(io.BytesIO(export_schedule(plan, today=TODAY)))
    ws = wb.active
    ws.cell(find_row(ws, "オンライン申請"), 4).value = "年度末迄に30申請のオンライン化完了"
    removed = find_row(ws, "内部情報系財務会計システム等更改機器賃貸借", column=2)
    for col in range(2, 9):
        ws.cell(removed, col).value = None
    last = ws.max_row + 1
    ws.cell(last, 2).value = "庁内ネットワーク機器賃貸借"
    ws.cell(last, 8).value = "リース中"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_edited_file_previews_exactly_the_changes(plan):
    diff = table41.preview_schedule(plan, edited_export(plan), "e.xlsx")
    assert [(c.action, c.target, c.field, c.old, c.new) for c in diff.changes] == [
        (
            "changed",
            "「オンライン申請」1行目 R4 (2022)",
            "内容",
            "年度末迄に27申請のオンライン化完了",
            "年度末迄に30申請のオンライン化完了",
        ),
        ("added", "「システム等のリース等の状況」4行目", "行", "", "庁内ネットワーク機器賃貸借"),
        ("added", "「システム等のリース等の状況」4行目 R8 (2026)", "セル", "", "リース中"),
        ("changed", "「システム等のリース等の状況」4行目", "行番号", "4", "3"),
        (
            "removed",
            "「システム等のリース等の状況」3行目",
            "行",
            "内部情報系財務会計システム等更改機器賃貸借",
            "",
        ),
    ]


def login(client, user):
    client.force_login(user)


def test_preview_then_confirm_applies_with_history_naming_the_user(client, plan, personas):
    login(client, personas.secretariat)
    response = client.post(reverse("excel:schedule_import"), {"file": upload(edited_export(plan))})
    assert response.status_code == 200
    assert "追加 2件、変更 2件、削除 1件" in response.content.decode()
    cell = ScheduleCell.objects.get(row__item__title="オンライン申請", fiscal_year=2022)
    assert cell.text == "年度末迄に27申請のオンライン化完了"  # preview writes nothing

    token = response.context["token"]
    response = client.post(reverse("excel:schedule_confirm"), {"token": token})
    assert response.status_code == 302
    cell.refresh_from_db()
    assert cell.text == "年度末迄に30申請のオンライン化完了"
    assert cell.history.first().history_user == personas.secretariat
    assert not ScheduleRow.objects.filter(
        sub_title="内部情報系財務会計システム等更改機器賃貸借"
    ).exists()
    assert not Lease.objects.filter(name="内部情報系財務会計システム等更改機器賃貸借").exists()
    new_row = ScheduleRow.objects.get(sub_title="庁内ネットワーク機器賃貸借")
    assert new_row.line == 4
    assert new_row.lease.name == "庁内ネットワーク機器賃貸借"
    assert new_row.cells.get().kind == ScheduleCell.Kind.STATUS
    assert new_row.history.get().history_user == personas.secretariat
    removed = ScheduleRow.history.filter(
        sub_title="内部情報系財務会計システム等更改機器賃貸借"
    ).first()
    assert removed.history_type == "-" and removed.history_user == personas.secretariat
    # a fresh export now round-trips unchanged, and the token cannot be replayed
    fresh = export_schedule(plan, today=TODAY)
    assert table41.preview_schedule(plan, fresh, "e.xlsx").changes == []
    response = client.post(reverse("excel:schedule_confirm"), {"token": token}, follow=True)
    assert "確認の期限が切れたか" in response.content.decode()


def hand_made(rows_below_header: list[list], header=None) -> bytes:
    header = header or [
        "項目",
        "副項目",
        "令和3年度",
        "R04",
        "2023年度",
        "FY2024",
        "R7",
        "令和8年度",
        None,
    ]
    return xlsx_bytes(
        [["かほく市 DX推進計画 表4-1(編集版)"], [None], header, *rows_below_header, [None], [None]]
    )


def test_reads_what_a_person_saves_title_rows_year_forms_continuation_lines(plan):
    data = hand_made(
        [
            [
                "かほく市DX推進計画関連",
                None,
                "DX推進計画【第0.5版】策定",
                "DX推進計画【第1.0版】策定",
            ],
            [
                None,
                None,
                "DX推進本部設置",
                "DX推進WG設置",
                None,
                None,
                None,
                "DX推進計画【第2.0版】策定",
            ],
        ]
    )
    parsed = table41.read_schedule(data, "h.xlsx", plan)
    assert parsed.years == [2021, 2022, 2023, 2024, 2025, 2026]
    [item] = parsed.items
    assert item.title == "かほく市DX推進計画関連"
    assert [r.cells[2026].text for r in item.rows[1:]] == ["DX推進計画【第2.0版】策定"]
    assert [sorted(r.cells) for r in item.rows] == [[2021, 2022], [2021, 2022, 2026]]


def test_bad_header_year_and_lease_status_are_all_reported(plan, personas):
    header = ["項目", "副項目", "R3", "R4", "R5", "R6", "R7", "令和9年度"]
    with pytest.raises(SpreadsheetError) as exc:
        table41.read_schedule(hand_made([], header=header), "h.xlsx", plan)
    assert exc.value.messages == [
        "シート「Sheet1」3行目 H列(見出し)の「令和9年度」: "
        "計画期間(令和3年度 (2021年度)〜令和8年度 (2026年度))外の年度です。"
    ]
    wb = openpyxl.load_workbook(io.BytesIO(export_schedule(plan, today=TODAY)))
    ws = wb.active
    r = find_row(ws, "情報系及び基幹系資産管理システム更改機器賃貸借", column=2)
    ws.cell(r, 5).value = "リース"
    ws.cell(r, 6).value = "契約中"
    buf = io.BytesIO()
    wb.save(buf)
    before = history_total()
    with pytest.raises(SpreadsheetError) as exc:
        schedule_import_apply(
            plan=plan, data=buf.getvalue(), filename="x.xlsx", user=personas.secretariat
        )
    hint = "リースの状況は リース中、リース最終年、(再リース) のいずれかを入力してください。"
    assert exc.value.messages == [
        f"シート「表4-1」{r}行目 E列(R5 (2023))の「リース」: {hint}",
        f"シート「表4-1」{r}行目 F列(R6 (2024))の「契約中」: {hint}",
    ]
    assert history_total() == before


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def test_bad_files_are_refused_on_the_screen_and_nothing_is_written(
    client, plan, personas, settings
):
    login(client, personas.secretariat)
    before = history_total()
    response = client.post(reverse("excel:schedule_import"), {"file": upload(PNG, "table.xlsx")})
    assert response.status_code == 400
    assert "Excelファイル(.xlsx)として読み込めません。" in response.content.decode()
    settings.MAX_UPLOAD_BYTES = 100
    response = client.post(reverse("excel:schedule_import"), {"file": upload(b"x" * 200)})
    assert response.status_code == 400
    assert (
        "ファイルが大きすぎます(200バイト)。100バイト以下のファイルにしてください。"
        in response.content.decode()
    )
    assert history_total() == before


def test_permissions(client, plan, personas):
    urls = [
        reverse("excel:index"),
        reverse("excel:schedule_export"),
        reverse("excel:schedule_import"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    login(client, personas.member)
    for url in urls:
        assert client.get(url).status_code == 403
    assert client.post(reverse("excel:schedule_confirm"), {"token": "x"}).status_code == 403
    login(client, personas.hq)
    assert client.get(reverse("excel:index")).status_code == 403
    login(client, personas.secretariat)
    assert client.get(reverse("excel:schedule_confirm")).status_code == 405
    response = client.get(reverse("excel:schedule_export"))
    assert response.status_code == 200
    assert (
        response["Content-Type"]
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "Excel入出力" in client.get(reverse("excel:index")).content.decode()


def test_removing_a_line_unlinks_targets_with_history(plan, personas):
    from initiatives.models import CountableTarget

    wb = openpyxl.load_workbook(io.BytesIO(export_schedule(plan, today=TODAY)))
    ws = wb.active
    r = find_row(ws, "オンライン申請")
    for col in range(1, 9):
        ws.cell(r, col).value = None
    buf = io.BytesIO()
    wb.save(buf)
    diff = schedule_import_apply(
        plan=plan, data=buf.getvalue(), filename="x.xlsx", user=personas.secretariat
    )
    assert ("changed", "数値目標「行政手続のオンライン化(27申請)」", "表4-1の行") in [
        (c.action, c.target, c.field) for c in diff.changes
    ]
    target = CountableTarget.objects.get(code="online-procedures")
    assert target.schedule_row is None
    assert target.history.first().history_user == personas.secretariat
    assert not ScheduleItem.objects.filter(title="オンライン申請").exists()


def test_overlapping_spans_are_not_merged_over_other_text(plan):
    cell = ScheduleCell.objects.get(row__item__title="オンライン申請", fiscal_year=2022)
    cell.col_span = 3
    cell.save()
    ScheduleCell.objects.create(row=cell.row, fiscal_year=2023, text="中間確認")
    ws = sheet_of(export_schedule(plan, today=TODAY))
    r = find_row(ws, "オンライン申請")
    assert ws.cell(r, 5).value == "中間確認"
    assert not [m for m in ws.merged_cells.ranges if m.min_row == r and m.min_col == 4]
