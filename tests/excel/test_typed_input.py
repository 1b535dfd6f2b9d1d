"""Imports read what people type (issue 11): 和暦 and western dates, date cells shown in 和暦,
Excel serial numbers, percentages stored as 0.6 with a % format or typed as 「60%」, and
initiative numbers typed full-width."""

import io
from datetime import date, datetime

import openpyxl
import pytest

from initiatives.models import ProgressEntry
from portal_lib.sheet_reading import SpreadsheetError
from reporting.exchange import engine, sheets, writer

HEADER = sheets.PROGRESS.header()
TODAY = date(2026, 10, 1)  # FY2026 = 令和8年度


def typed_workbook(rows: list[list], formats: dict[str, str] | None = None) -> bytes:
    """A sheet as the city keeps it: a title row and a blank row above the header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "進捗入力"
    ws.append(["令和8年度 進捗状況一覧"])
    ws.append([])
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    for ref, fmt in (formats or {}).items():
        ws[ref].number_format = fmt
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# (initiative as typed, date as typed, percent as typed) -> (code, stored date, stored percent)
TYPED = [
    (["2.1", "令和8年10月1日", "順調", 60], ("2.1", date(2026, 10, 1), 60)),
    (["2.1", "R8.10.2", "順調", "60%"], ("2.1", date(2026, 10, 2), 60)),
    (["2.1", "R8/10/3", "順調", "６０％"], ("2.1", date(2026, 10, 3), 60)),
    (["2.1", "R08.10.04", "順調", 0.5], ("2.1", date(2026, 10, 4), 50)),  # % cell, F8 below
    (["２．１", "令和８年１１月２日", "順調", 1], ("2.1", date(2026, 11, 2), 100)),  # % cell
    (["2-1", "2026年10月6日", "順調", 1], ("2.1", date(2026, 10, 6), 1)),  # plain number 1
    (["2.2", "2026/10/7", "遅れ", "45"], ("2.2", date(2026, 10, 7), 45)),
    (["2.2", "2026-10-08", "遅れ", 0.45], ("2.2", date(2026, 10, 8), 45)),  # a fraction: 45%
    (["2.2", datetime(2026, 10, 9), "順調", None], ("2.2", date(2026, 10, 9), None)),
    (["2.2", date(2026, 10, 10), "順調", None], ("2.2", date(2026, 10, 10), None)),  # 和暦 format
    (["2.2", 46316, "順調", None], ("2.2", date(2026, 10, 21), None)),  # serial number
]


def test_a_hand_typed_progress_sheet_imports_with_the_right_values(plan, personas):
    data = typed_workbook(
        [row for row, _ in TYPED],
        formats={"D7": "0%", "D8": "0%", "B13": '[$-ja-JP-x-gannen]ggge"年"m"月"d"日";@'},
    )
    result = engine.parse_import(sheets.PROGRESS, data, "typed.xlsx", plan=plan, today=TODAY)
    assert result.counts() == {"added": len(TYPED), "changed": 0, "unchanged": 0}
    assert result.warnings == []
    writer.bulk_import(
        slug="progress", plan=plan, data=data, filename="typed.xlsx", user=personas.secretariat
    )
    stored = {
        (e.initiative.code, e.entry_date, e.percent)
        for e in ProgressEntry.objects.select_related("initiative__policy")
    }
    assert stored == {expected for _, expected in TYPED}


def test_era_dates_outside_the_plan_period_are_refused_with_its_bounds(plan):
    # 令和元年 and H31 are read (the era is right), but the plan starts on 令和3年4月1日.
    data = typed_workbook(
        [["2.3", "令和元年5月1日", "順調", None], ["2.3", "H31.4.30", "順調", None]]
    )
    with pytest.raises(SpreadsheetError) as exc:
        engine.parse_import(sheets.PROGRESS, data, "typed.xlsx", plan=plan, today=TODAY)
    assert [m.split(": ", 1)[1].split("範囲外です。")[0] for m in exc.value.messages] == [
        "進捗の記録日「令和元年5月1日(水)」は",
        "進捗の記録日「平成31年4月30日(火)」は",
    ]
    assert all("令和3年4月1日(木)から" in m for m in exc.value.messages)


def test_a_date_in_another_fiscal_year_is_a_warning_not_an_error(plan):
    data = typed_workbook([["2.1", "R7.6.1", "順調", 10]])
    result = engine.parse_import(sheets.PROGRESS, data, "typed.xlsx", plan=plan, today=TODAY)
    assert result.counts()["added"] == 1
    assert result.warnings == [
        "シート「進捗入力」4行目 B列(日付)の「2025-06-01」: 今年度(令和8年度 (2026年度))以外の日付です。"
        "取り込めますが、入力の誤りでないか確認してください。"
    ]


def test_unreadable_dates_percents_and_numbers_name_row_column_and_value(plan):
    data = typed_workbook(
        [
            ["2.1", "令和元年4月30日", "順調", "六十"],
            ["2.1", "R8.2.30", "順調", "50.5%"],
            ["2.1", "あした", "順調", 10],
            ["9-9", "2026/10/1", "順調", 10],
        ]
    )
    with pytest.raises(SpreadsheetError) as exc:
        engine.parse_import(sheets.PROGRESS, data, "typed.xlsx", plan=plan, today=TODAY)
    hint = "令和8年10月1日、R8.10.1、2026/10/1、2026-10-01 のように入力してください。"
    percent = "0〜100の整数、60%、または % 表示のセル(0.6)で入力してください。"
    assert exc.value.messages == [
        f"シート「進捗入力」4行目 B列(日付)の「令和元年4月30日」: 日付として読み取れません。令和は2019年5月1日からです。{hint}",
        f"シート「進捗入力」4行目 D列(進捗率(%))の「六十」: {percent}",
        f"シート「進捗入力」5行目 B列(日付)の「R8.2.30」: 日付として読み取れません。その日付はありません。{hint}",
        f"シート「進捗入力」5行目 D列(進捗率(%))の「50.5%」: {percent}",
        f"シート「進捗入力」6行目 B列(日付)の「あした」: 日付として読み取れません。{hint}",
        "シート「進捗入力」7行目 A列(取り組み番号)の「9-9」: この番号の取り組みはありません。"
        "「2.1」のように基本方針番号.取り組み番号で入力してください。",
    ]
