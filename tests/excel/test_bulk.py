"""Bulk sheets: natural keys, all errors at once, preview then confirm, templates, CSV."""

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from initiatives.models import Indicator, IndicatorValue, ProgressEntry
from portal_lib.sheet_reading import SpreadsheetError
from reporting.exchange import engine, export, sheets, writer
from tests.factory import initiative, make_progress, upload, xlsx_bytes

HEADER = sheets.PROGRESS.header()


def test_every_error_is_reported_with_sheet_row_column_and_nothing_is_written(plan, personas):
    data = xlsx_bytes(
        [
            HEADER,
            ["2.1", "2026-05-01", "順調", 40, "申請フォーム作成"],
            ["9.9", "2026/13/01", "進行中", 140],
            ["2.1", "2026-05-01", "完了", 100],
            [None, "2026-05-02", "完了", 80],
        ],
        title="進捗",
    )
    with pytest.raises(SpreadsheetError) as exc:
        writer.bulk_import(
            slug="progress", plan=plan, data=data, filename="p.xlsx", user=personas.secretariat
        )
    assert exc.value.messages == [
        "シート「進捗」3行目 A列(取り組み番号)の「9.9」: この番号の取り組みはありません。"
        "「2.1」のように基本方針番号.取り組み番号で入力してください。",
        # The date rule's text now comes from portal_lib.era.parse_date (one home for dates).
        "シート「進捗」3行目 B列(日付)の「2026/13/01」: 日付として読み取れません。その日付はありません。"
        "令和8年10月1日、R8.10.1、2026/10/1、2026-10-01 のように入力してください。",
        "シート「進捗」3行目 C列(状況)の「進行中」: 選択肢にありません。未着手、順調、遅れ、完了、中止 のいずれかを入力してください。",
        # The 0-100 rule's text now comes from the model field's validator (full_clean).
        "シート「進捗」3行目 D列(進捗率(%))の「140」: この値は 100 以下でなければなりません。",
        "シート「進捗」4行目 B列(日付)の「2.1 / 2026-05-01」: 2行目と同じキーです。1行にまとめてください。",
        "シート「進捗」5行目 A列(取り組み番号)の「」: 必須です。入力してください。",
    ]
    assert ProgressEntry.objects.count() == 0
    assert ProgressEntry.history.count() == 0


def test_model_rule_errors_name_the_cell(plan, personas):
    data = xlsx_bytes([HEADER, ["2.1", "2026-05-01", "完了", 80]])
    with pytest.raises(SpreadsheetError) as exc:
        engine.parse_import(sheets.PROGRESS, data, "p.xlsx", plan=plan)
    assert exc.value.messages == [
        "シート「Sheet1」2行目 D列(進捗率(%))の「80」: 状況が「完了」の場合、進捗率は100%にしてください。"
    ]


def test_preview_then_confirm_adds_and_updates_with_history(client, plan, personas):
    existing = make_progress(
        initiative("2.1"), entry_date=date(2026, 5, 1), percent=10, done_text="前回"
    )
    data = xlsx_bytes(
        [
            ["進捗記録の一括入力"],
            HEADER,
            ["2.1", date(2026, 5, 1), "順調", 40, "申請フォーム作成"],
            ["3.1", "2026/6/1", "遅れ", None, "@cmd", "", "ベンダー調整"],
        ]
    )
    client.force_login(personas.secretariat)
    response = client.post(reverse("excel:bulk_import", args=["progress"]), {"file": upload(data)})
    assert response.status_code == 200
    body = response.content.decode()
    assert "追加 1件、変更 2件" not in body
    assert "追加 1件、変更 1件、変更なし 0件。" in body
    result = response.context["result"]
    assert [(r.row, r.key_label, r.action) for r in result.rows] == [
        (3, "2.1 / 2026-05-01", "changed"),
        (4, "3.1 / 2026-06-01", "added"),
    ]
    assert [(c.label, c.old, c.new) for c in result.rows[0].changes] == [
        ("進捗率(%)", "10", "40"),
        ("実施内容", "前回", "申請フォーム作成"),
    ]
    assert ProgressEntry.objects.count() == 1  # nothing written yet

    response = client.post(
        reverse("excel:bulk_confirm", args=["progress"]), {"token": response.context["token"]}
    )
    assert response.status_code == 302
    existing.refresh_from_db()
    assert (existing.percent, existing.done_text, existing.version) == (40, "申請フォーム作成", 2)
    assert existing.history.first().history_user == personas.secretariat
    added = ProgressEntry.objects.get(initiative=initiative("3.1"))
    assert (added.status, added.fiscal_year, added.done_text, added.issues_text) == (
        "delayed",
        2026,
        "@cmd",
        "ベンダー調整",
    )
    assert added.author == personas.secretariat
    assert added.history.get().history_user == personas.secretariat


def test_indicator_values_create_missing_indicators_keyed_by_era_years(plan, personas):
    header = sheets.INDICATOR_VALUES.header()
    data = xlsx_bytes(
        [
            header,
            ["2.1", "オンライン申請件数", "件", "R7", 100, 80],
            ["2.1", "オンライン申請件数", "件", "令和8年度", 150],
        ]
    )
    result = writer.bulk_import(
        slug="indicators", plan=plan, data=data, filename="i.xlsx", user=personas.secretariat
    )
    assert result.counts() == {"added": 2, "changed": 0, "unchanged": 0}
    ind = Indicator.objects.get(name="オンライン申請件数")
    assert ind.unit == "件"
    assert ind.history.get().history_user == personas.secretariat
    values = {
        v.fiscal_year: (v.target, v.actual) for v in IndicatorValue.objects.filter(indicator=ind)
    }
    assert values == {2025: (Decimal("100.00"), Decimal("80.00")), 2026: (Decimal("150.00"), None)}


@pytest.mark.parametrize("slug", sorted(sheets.SPECS))
def test_export_reimports_unchanged_and_template_has_the_headers(plan, personas, slug):
    spec = sheets.SPECS[slug]
    if slug == "progress":
        make_progress(
            initiative("2.1"), entry_date=date(2026, 5, 1), percent=10, done_text="@SUM(1)"
        )
    data = export.export_xlsx(spec, plan)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    extras = [e.header for e in export.extra_columns(spec, plan)]  # export-only columns
    assert [c.value for c in ws[1]] == spec.header() + extras
    if ws.max_row > 1:
        result = engine.parse_import(spec, data, "x.xlsx", plan=plan)
        assert result.counts()["added"] == 0 and result.counts()["changed"] == 0
    template = openpyxl.load_workbook(io.BytesIO(export.template_xlsx(spec)))
    assert [c.value for c in template.worksheets[0][1]] == spec.header()
    assert template.sheetnames[1] == "記入方法"


def test_exports_keep_formulas_as_text_and_csv_has_bom(client, plan, personas):
    make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), done_text="=1+1")
    client.force_login(personas.secretariat)
    response = client.get(reverse("excel:bulk_export", args=["progress", "xlsx"]))
    assert response.streaming  # a temporary file sent in blocks, not bytes in memory
    content = response.getvalue()
    assert response["Content-Length"] == str(len(content))
    assert response["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    assert ws["E2"].value == "=1+1" and ws["E2"].data_type == "s"
    assert ws["A2"].value == "2.1" and ws["A2"].data_type == "s"
    response = client.get(reverse("excel:bulk_export", args=["progress", "csv"]))
    assert response.streaming
    content = response.getvalue()
    assert content.startswith(b"\xef\xbb\xbf")
    lines = content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(HEADER)
    assert lines[1] == "2.1,2026-05-01,順調,,'=1+1,,"


def test_systems_accept_circled_numbers_and_group_names(plan, personas):
    header = sheets.SYSTEMS.header()
    data = xlsx_bytes(
        [header, ["①", "第1グループ", "住民基本台帳", "市民生活課", "移行完了(稼働)", None, None]]
    )
    with pytest.raises(SpreadsheetError) as exc:
        engine.parse_import(sheets.SYSTEMS, data, "s.xlsx", plan=plan)
    assert exc.value.messages == [
        "シート「Sheet1」2行目 G列(移行完了日)の「」: 移行完了の場合は移行完了日を入力してください。"
    ]


def test_bulk_permissions(client, plan, personas):
    url = reverse("excel:bulk_import", args=["progress"])
    assert client.get(url).status_code == 302
    client.force_login(personas.leader)
    assert client.get(url).status_code == 403
    assert client.get(reverse("excel:bulk_export", args=["progress", "csv"])).status_code == 403
    client.force_login(personas.secretariat)
    assert client.get(reverse("excel:bulk_confirm", args=["progress"])).status_code == 405
    assert client.get(reverse("excel:bulk_import", args=["nope"])).status_code == 404


def test_initiatives_update_and_add_through_bulk_history(plan, personas):
    header = sheets.INITIATIVES.header()
    data = xlsx_bytes(
        [
            header,
            [
                "2.1",
                "行政手続のオンライン化",
                None,
                "国が挙げる重点取組事項",
                "情報推進課WG",
                "情報推進課",
                2,
                "○",
            ],
            [
                "2.5",
                "窓口のキャッシュレス化",
                "窓口での手数料支払い",
                None,
                "総務課WG",
                "総務課",
                None,
                "×",
            ],
        ]
    )
    result = writer.bulk_import(
        slug="initiatives", plan=plan, data=data, filename="i.xlsx", user=personas.secretariat
    )
    assert result.counts() == {"added": 1, "changed": 1, "unchanged": 0}
    changed = initiative("2.1")
    assert (changed.title, changed.weight, changed.is_public, changed.version) == (
        "行政手続のオンライン化",
        Decimal("2.00"),
        True,
        2,
    )
    assert changed.history.first().history_user == personas.secretariat
    added = initiative("2.5")
    assert (added.title, added.working_group.name, added.lead_section.name) == (
        "窓口のキャッシュレス化",
        "総務課WG",
        "総務課",
    )


def test_procedures_and_systems_use_natural_keys(plan, personas):
    from initiatives.models import OnlineProcedure, StandardSystem

    data = xlsx_bytes(
        [
            sheets.PROCEDURES.header(),
            [
                1,
                "児童手当の認定請求",
                "子育て",
                "ぴったりサービス",
                "子育て支援課",
                "オンライン化済",
                "2023/3/1",
            ],
        ]
    )
    writer.bulk_import(
        slug="procedures", plan=plan, data=data, filename="p.xlsx", user=personas.secretariat
    )
    proc = OnlineProcedure.objects.get(number=1)
    assert (proc.target.code, proc.channel, proc.section.name, proc.online_on) == (
        "online-procedures",
        "pittari",
        "子育て支援課",
        date(2023, 3, 1),
    )
    data = xlsx_bytes(
        [
            sheets.SYSTEMS.header(),
            ["⑱", "第3グループ", "戸籍", "市民生活課", "調達・契約", "2025-12-01"],
        ]
    )
    result = writer.bulk_import(
        slug="systems", plan=plan, data=data, filename="s.xlsx", user=personas.secretariat
    )
    assert [(c.label, c.old, c.new) for c in result.rows[0].changes] == [
        ("主管課", "", "市民生活課"),
        ("移行フェーズ", "未着手", "調達・契約"),
        ("移行予定日", "", "2025-12-01"),
    ]
    system = StandardSystem.objects.get(number=18)
    assert (system.phase, system.section.name, system.planned_on) == (
        "procurement",
        "市民生活課",
        date(2025, 12, 1),
    )


def test_csv_upload_with_errors_shows_them_all_and_writes_nothing(client, plan, personas):
    client.force_login(personas.secretariat)
    csv_text = ",".join(HEADER) + "\r\n2.1,2026-05-01,順調,40\r\n2.2,2026-05-01,保留,\r\n"
    url = reverse("excel:bulk_import", args=["progress"])
    response = client.post(url, {"file": upload(csv_text.encode("cp932"), "progress.csv")})
    assert response.status_code == 400
    body = response.content.decode()
    assert "ファイルを取り込めません(1件の問題)。何も書き込まれていません。" in body
    assert "シート「CSV」3行目 C列(状況)の「保留」: 選択肢にありません。" in body
    assert ProgressEntry.objects.count() == 0
    response = client.post(
        url, {"file": upload(csv_text.replace("保留", "遅れ").encode("utf-8-sig"), "p.csv")}
    )
    assert response.status_code == 200
    assert response.context["counts"] == {"added": 2, "changed": 0, "unchanged": 0}
    response = client.post(url, {"file": upload(b"\x89PNG\r\n\x1a\n", "p.png")})
    assert response.status_code == 400
    assert (
        "Excelファイル(.xlsx)またはCSVファイルとして読み込めません。" in response.content.decode()
    )


def _bad_files():
    from portal_lib import sheet_reading as ss
    from tests.portal_lib.test_spreadsheets import BILLION_LAUGHS, _with_member

    good = xlsx_bytes([HEADER, ["2.1", "2026-05-01", "順調"]])
    return [
        ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, ss.NOT_SPREADSHEET_OR_CSV),
        ("notes.xlsx", "取り組み番号,日付\n".encode(), ss.NOT_SPREADSHEET_OR_CSV),
        (
            "bomb.xlsx",
            _with_member(good, "xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024)),
            ss.ZIP_BOMB,
        ),
        ("lol.xlsx", _with_member(good, "xl/worksheets/sheet1.xml", BILLION_LAUGHS), ss.XML_ENTITY),
    ]


@pytest.mark.parametrize(
    "name, data, message",
    _bad_files(),
    ids=lambda v: v if isinstance(v, str) and v.endswith("xlsx") else "",
)
def test_bad_files_are_refused_on_the_bulk_screen(client, plan, personas, name, data, message):
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("excel:bulk_import", args=["progress"]), {"file": upload(data, name)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ProgressEntry.objects.count() == 0


def test_confirm_refuses_when_data_changed_after_the_preview(client, plan, personas):
    entry = make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), percent=10)
    data = xlsx_bytes([HEADER, ["2.1", "2026-05-01", "順調", 40]])
    client.force_login(personas.secretariat)
    response = client.post(reverse("excel:bulk_import", args=["progress"]), {"file": upload(data)})
    token = response.context["token"]
    entry.percent = 20
    entry.save()
    response = client.post(
        reverse("excel:bulk_confirm", args=["progress"]), {"token": token}, follow=True
    )
    assert (
        "プレビューの後にデータが変更されました。もう一度ファイルを読み込んで確認してください。"
        in response.content.decode()
    )
    entry.refresh_from_db()
    assert entry.percent == 20
