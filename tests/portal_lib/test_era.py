"""Tests for portal_lib.era (no Django needed: the module is framework-free)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

import pytest

from portal_lib import era
from portal_lib.era import (
    MAX_YEAR,
    MIN_YEAR,
    EraError,
    current_fiscal_year,
    days_until_fiscal_year_end,
    era_label,
    fiscal_year_end,
    fiscal_year_of,
    fiscal_year_start,
    fiscal_years,
    format_era_month,
    format_fiscal_year,
    parse_era_month,
    parse_era_year,
    parse_fiscal_year,
    short_header,
)

FY_HINT = "R3、令和3年度、2021、FY2021 のように入力してください。"
ERA_YEAR_HINT = "H25、R3、令和3年度 のように和暦で入力してください。"
ERA_MONTH_HINT = "令和4年2月 のように入力してください。"


# --------------------------------------------------------------------------------------------
# parse_fiscal_year: accepted forms
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "R3",
        "R03",
        "r3",
        "Ｒ３",
        "ｒ０３",
        "令和3",
        "令和3年度",
        "令和３年度",
        "R3年度",
        "2021",
        "２０２１",
        "2021年度",
        "２０２１年度",
        "FY2021",
        "fy2021",
        "Fy2021",
        "FY 2021",
        "ＦＹ２０２１",
        "R3 (2021)",
        "R3(2021)",
        "R3（2021）",
        "Ｒ３（２０２１）",
        "令和3年度 (2021年度)",
        "令和3年度（2021年度）",
        "令和3年度 (FY2021)",
        "2021 (R3)",
        "2021年度 (令和3年度)",
        "  R3  ",
        "\tR3\n",
        "　令和3年度　",  # ideographic spaces
        "令和 3 年度",
        "FY 2021 ( R3 )",
        2021,
    ],
)
def test_parse_fiscal_year_accepts_all_forms_of_2021(value: str | int) -> None:
    assert parse_fiscal_year(value) == 2021


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("令和元年度", 2019),
        ("令和元", 2019),
        ("R1", 2019),
        ("R01", 2019),
        ("H31", 2019),
        ("平成31年度", 2019),
        ("H31 (2019)", 2019),
        ("R1 (2019)", 2019),
        ("令和元年度 (2019年度)", 2019),
        ("H30", 2018),
        ("h30", 2018),
        ("H30年度", 2018),
        ("平成30", 2018),
        ("平成30年度", 2018),
        ("H30 (2018)", 2018),
        ("H1", 1989),
        ("平成元年度", 1989),
        ("1989", 1989),
        ("R4", 2022),
        ("R7", 2025),
        ("R99", 2117),
        # Three-digit era numbers are read so that every formatted label parses back.
        ("R100", 2118),
        ("令和182年度", 2200),
        ("2200", 2200),
        (1989, 1989),
        (2200, 2200),
    ],
)
def test_parse_fiscal_year_values(value: str | int, expected: int) -> None:
    assert parse_fiscal_year(value) == expected


def test_heisei_31_and_reiwa_1_are_the_same_fiscal_year() -> None:
    assert parse_fiscal_year("H31") == parse_fiscal_year("R1") == parse_fiscal_year("令和元年度")
    assert parse_fiscal_year("H31") == 2019


@pytest.mark.parametrize("fy", range(MIN_YEAR, MAX_YEAR + 1))
def test_formatted_labels_parse_back(fy: int) -> None:
    # Every label the portal displays must be accepted when pasted back into a form.
    assert parse_fiscal_year(format_fiscal_year(fy)) == fy
    assert parse_fiscal_year(short_header(fy)) == fy
    assert parse_fiscal_year(era_label(fy)) == fy
    assert parse_fiscal_year(era_label(fy, short=False)) == fy
    assert parse_fiscal_year(str(fy)) == fy


# --------------------------------------------------------------------------------------------
# parse_fiscal_year: rejections
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "R0",
        "R00",
        "令和0",
        "令和0年度",
        "H0",
        "abc",
        "2021-22",
        "2021/22",
        "FY21",
        "21",
        "R",
        "令和",
        "R1000",
        "R3.5",
        "S63",
        "昭和63",
        "R3 (2021",
        "R3 2021",
        "R3 (H33)",
        "(2021)",
        "20 21",
        "１９８８年度",
    ],
)
def test_parse_fiscal_year_rejects_garbage(value: str) -> None:
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year(value)
    message = str(excinfo.value)
    assert f"「{value.strip()}」" in message
    assert message.endswith(FY_HINT)


def test_parse_fiscal_year_r0_exact_message() -> None:
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year("R0")
    assert str(excinfo.value) == (
        "「R0」は年度として解釈できません。R3、令和3年度、2021、FY2021 のように入力してください。"
    )


def test_parse_fiscal_year_abc_exact_message() -> None:
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year("abc")
    assert str(excinfo.value) == f"「abc」は年度として解釈できません。{FY_HINT}"


def test_parse_fiscal_year_message_shows_original_full_width_value() -> None:
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year("  Ｒ０ ")
    assert str(excinfo.value) == f"「Ｒ０」は年度として解釈できません。{FY_HINT}"


@pytest.mark.parametrize("value", ["H32", "H33", "平成32", "平成32年度", "H99", "Ｈ３２"])
def test_parse_fiscal_year_rejects_heisei_after_31(value: str) -> None:
    with pytest.raises(EraError, match="平成は31年までです") as excinfo:
        parse_fiscal_year(value)
    assert f"「{value}」" in str(excinfo.value)


def test_parse_fiscal_year_h32_exact_message() -> None:
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year("H32")
    assert str(excinfo.value) == (
        "「H32」は年度として解釈できません。平成は31年までです。それ以降は令和で入力してください。"
        + FY_HINT
    )


@pytest.mark.parametrize("value", ["", " ", "　", "\t\n"])
def test_parse_fiscal_year_rejects_empty(value: str) -> None:
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year(value)
    assert str(excinfo.value) == f"年度が入力されていません。{FY_HINT}"


@pytest.mark.parametrize(
    "value", ["令和3年2月", "R3年2月", "令和３年２月", "2021年4月", "令和元年5月"]
)
def test_parse_fiscal_year_rejects_calendar_month(value: str) -> None:
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year(value)
    assert str(excinfo.value) == (
        f"「{value}」は年月を表しており、年度ではありません。年度は{FY_HINT}"
    )


def test_parse_fiscal_year_calendar_month_exact_message() -> None:
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year("令和3年2月")
    assert str(excinfo.value) == (
        "「令和3年2月」は年月を表しており、年度ではありません。"
        "年度はR3、令和3年度、2021、FY2021 のように入力してください。"
    )


@pytest.mark.parametrize("value", ["令和3年", "R3年", "平成30年", "2021年"])
def test_parse_fiscal_year_rejects_calendar_year(value: str) -> None:
    # 令和3年 (calendar 2021) and 令和3年度 differ by three months; guessing would be wrong.
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year(value)
    assert str(excinfo.value) == (
        f"「{value}」は暦年を表しており、年度ではありません。年度は{FY_HINT}"
    )


@pytest.mark.parametrize(
    ("value", "era_text", "era_year", "west_year"),
    [
        ("R3 (2022)", "R3", 2021, 2022),
        ("r3（2020）", "R3", 2021, 2020),
        ("令和3年度 (2022年度)", "令和3", 2021, 2022),
        ("H30 (2019)", "H30", 2018, 2019),
        ("2021 (R4)", "R4", 2022, 2021),
        ("令和元年度 (2018年度)", "令和元", 2019, 2018),
    ],
)
def test_parse_fiscal_year_rejects_disagreeing_era_and_western_year(
    value: str, era_text: str, era_year: int, west_year: int
) -> None:
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year(value)
    assert str(excinfo.value) == (
        f"「{value}」は年度として解釈できません。"
        f"{era_text}は{era_year}年度ですが、{west_year}年度と併記されています。{FY_HINT}"
    )


@pytest.mark.parametrize(
    "value",
    ["1988", "1900", "2201", "9999", "FY1988", "0000", "R183", "令和183年度", 1988, 2201, 0, -1],
)
def test_parse_fiscal_year_rejects_out_of_range(value: str | int) -> None:
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year(value)
    assert str(excinfo.value) == (
        f"「{value}」は年度として解釈できません。"
        f"対応している年度は1989年度から2200年度までです。{FY_HINT}"
    )


@pytest.mark.parametrize("value", [True, False])
def test_parse_fiscal_year_rejects_booleans(value: bool) -> None:
    # bool is an int subclass; True must not slip through as fiscal year 1.
    with pytest.raises(EraError) as excinfo:
        parse_fiscal_year(value)
    assert str(excinfo.value) == (
        f"「{value}」は年度として解釈できません。真偽値は年度として使えません。{FY_HINT}"
    )


@pytest.mark.parametrize("value", [None, 2021.0, b"2021", ["R3"]])
def test_parse_fiscal_year_rejects_other_types(value: object) -> None:
    with pytest.raises(EraError):
        parse_fiscal_year(value)  # type: ignore[arg-type]


def test_era_error_is_a_value_error() -> None:
    assert issubclass(EraError, ValueError)
    with pytest.raises(ValueError):
        parse_fiscal_year("abc")


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fy", "expected"),
    [
        (2021, "令和3年度 (2021年度)"),
        (2019, "令和元年度 (2019年度)"),
        (2020, "令和2年度 (2020年度)"),
        (2018, "平成30年度 (2018年度)"),
        (1989, "平成元年度 (1989年度)"),
        (1990, "平成2年度 (1990年度)"),
        (2030, "令和12年度 (2030年度)"),
    ],
)
def test_format_fiscal_year(fy: int, expected: str) -> None:
    assert format_fiscal_year(fy) == expected


@pytest.mark.parametrize(
    ("fy", "short", "long"),
    [
        (2021, "R3", "令和3年度"),
        (2019, "R1", "令和元年度"),
        (2018, "H30", "平成30年度"),
        (1989, "H1", "平成元年度"),
        (2013, "H25", "平成25年度"),
        (2027, "R9", "令和9年度"),
        (2028, "R10", "令和10年度"),
    ],
)
def test_era_label(fy: int, short: str, long: str) -> None:
    assert era_label(fy) == short
    assert era_label(fy, short=True) == short
    assert era_label(fy, short=False) == long


def test_fy2019_is_labelled_reiwa_not_heisei() -> None:
    # FY2019 began on 2019-04-01, still 平成31, but the municipal convention is 令和元年度.
    assert era_label(2019) == "R1"
    assert era_label(2019, short=False) == "令和元年度"
    assert format_fiscal_year(2019).startswith("令和元年度")


@pytest.mark.parametrize(
    ("fy", "expected"),
    [(2021, "R3 (2021)"), (2019, "R1 (2019)"), (2018, "H30 (2018)"), (2027, "R9 (2027)")],
)
def test_short_header(fy: int, expected: str) -> None:
    assert short_header(fy) == expected


@pytest.mark.parametrize("func", [format_fiscal_year, era_label, short_header])
@pytest.mark.parametrize("fy", [1988, 2201, 0])
def test_formatters_reject_out_of_range(func: Callable[[int], object], fy: int) -> None:
    with pytest.raises(EraError) as excinfo:
        func(fy)
    assert str(excinfo.value) == (
        f"「{fy}」は対応範囲外の年度です。1989年度から2200年度までを指定してください。"
    )


@pytest.mark.parametrize("func", [format_fiscal_year, era_label, short_header])
@pytest.mark.parametrize("fy", [True, "2021", 2021.0, None])
def test_formatters_reject_non_int(func: Callable[[int], object], fy: object) -> None:
    with pytest.raises(EraError, match="西暦の整数で指定してください"):
        func(fy)


# --------------------------------------------------------------------------------------------
# Date arithmetic
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2022, 3, 31), 2021),
        (date(2022, 4, 1), 2022),
        (date(2022, 1, 1), 2021),
        (date(2021, 12, 31), 2021),
        (date(2021, 4, 1), 2021),
        (date(2021, 3, 31), 2020),
        (date(2019, 4, 30), 2019),  # still 平成31, already FY2019
        (date(2019, 5, 1), 2019),  # first day of 令和
        (date(2019, 3, 31), 2018),
        (date(2020, 2, 29), 2019),
        (datetime(2022, 3, 31, 23, 59, 59), 2021),
        (datetime(2022, 4, 1, 0, 0, 0), 2022),
    ],
)
def test_fiscal_year_of(d: date, expected: int) -> None:
    assert fiscal_year_of(d) == expected


@pytest.mark.parametrize(
    ("fy", "start", "end"),
    [
        (2021, date(2021, 4, 1), date(2022, 3, 31)),
        (2022, date(2022, 4, 1), date(2023, 3, 31)),
        (2019, date(2019, 4, 1), date(2020, 3, 31)),
        (2023, date(2023, 4, 1), date(2024, 3, 31)),  # spans the 2024 leap day
        (1989, date(1989, 4, 1), date(1990, 3, 31)),
        (2200, date(2200, 4, 1), date(2201, 3, 31)),
    ],
)
def test_fiscal_year_start_and_end(fy: int, start: date, end: date) -> None:
    assert fiscal_year_start(fy) == start
    assert fiscal_year_end(fy) == end
    assert fiscal_year_of(start) == fy
    assert fiscal_year_of(end) == fy


def test_r4_fiscal_year_end_is_2023_03_31() -> None:
    # "R4年度末" in the plan means the end of March 2023, not 2022.
    assert fiscal_year_end(parse_fiscal_year("R4")) == date(2023, 3, 31)


@pytest.mark.parametrize("fy", range(2015, 2035))
def test_fiscal_years_are_contiguous(fy: int) -> None:
    assert (fiscal_year_start(fy + 1) - fiscal_year_end(fy)).days == 1


@pytest.mark.parametrize("func", [fiscal_year_start, fiscal_year_end])
@pytest.mark.parametrize("fy", [1988, 2201, True])
def test_fiscal_year_bounds_reject_invalid(func: Callable[[int], object], fy: int) -> None:
    with pytest.raises(EraError):
        func(fy)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2022, 3, 31), 2021),
        (date(2022, 4, 1), 2022),
        (date(2025, 6, 15), 2025),
    ],
)
def test_current_fiscal_year_with_explicit_date(today: date, expected: int) -> None:
    assert current_fiscal_year(today) == expected


def test_current_fiscal_year_defaults_to_today() -> None:
    before = fiscal_year_of(date.today())
    result = current_fiscal_year()
    after = fiscal_year_of(date.today())
    # Tolerate the (unlikely) case of the test straddling midnight on 1 April.
    assert result in {before, after}
    assert isinstance(result, int)


@pytest.mark.parametrize(
    ("fy", "today", "expected"),
    [
        (2022, date(2023, 3, 31), 0),
        (2022, date(2023, 3, 30), 1),
        (2022, date(2023, 4, 1), -1),
        (2022, date(2023, 3, 1), 30),
        (2022, date(2022, 4, 1), 364),
        (2023, date(2023, 4, 1), 365),  # FY2023 contains 29 Feb 2024
        (2021, date(2023, 3, 31), -365),
        (2022, datetime(2023, 3, 30, 12, 0), 1),
    ],
)
def test_days_until_fiscal_year_end(fy: int, today: date, expected: int) -> None:
    assert days_until_fiscal_year_end(fy, today) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (2021, 2025, [2021, 2022, 2023, 2024, 2025]),
        (2018, 2020, [2018, 2019, 2020]),
        (2021, 2021, [2021]),
    ],
)
def test_fiscal_years(start: int, end: int, expected: list[int]) -> None:
    assert fiscal_years(start, end) == expected


def test_fiscal_years_reversed_range_raises() -> None:
    with pytest.raises(EraError) as excinfo:
        fiscal_years(2025, 2021)
    assert str(excinfo.value) == "開始年度 2025 が終了年度 2021 より後になっています。"


@pytest.mark.parametrize(("start", "end"), [(1988, 2021), (2021, 2201), (True, 2021)])
def test_fiscal_years_rejects_invalid_bounds(start: int, end: int) -> None:
    with pytest.raises(EraError):
        fiscal_years(start, end)


# --------------------------------------------------------------------------------------------
# parse_era_year
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("H25", 2013),
        ("R03", 2021),
        ("R2", 2020),
        ("r2", 2020),
        ("Ｒ２", 2020),
        ("H31", 2019),
        ("R1", 2019),
        ("平成25年度", 2013),
        ("平成25年", 2013),
        ("平成25", 2013),
        ("平成元年", 1989),
        ("令和元年度", 2019),
        ("令和３年度", 2021),
        (" H25 ", 2013),
        ("R3 (2021)", 2021),
    ],
)
def test_parse_era_year(value: str, expected: int) -> None:
    assert parse_era_year(value) == expected


@pytest.mark.parametrize(
    "value", ["2013", "FY2013", "H0", "R0", "abc", "S63", "R1000", "2013 (H25)"]
)
def test_parse_era_year_rejects(value: str) -> None:
    with pytest.raises(EraError) as excinfo:
        parse_era_year(value)
    assert str(excinfo.value) == f"「{value}」は和暦の年として解釈できません。{ERA_YEAR_HINT}"


def test_parse_era_year_rejects_heisei_32() -> None:
    with pytest.raises(EraError) as excinfo:
        parse_era_year("H32")
    assert str(excinfo.value) == (
        "「H32」は和暦の年として解釈できません。"
        f"平成は31年までです。それ以降は令和で入力してください。{ERA_YEAR_HINT}"
    )


def test_parse_era_year_rejects_mismatched_western_year() -> None:
    with pytest.raises(EraError, match=re.escape("R3は2021年度ですが、2022年度と併記されています")):
        parse_era_year("R3 (2022)")


@pytest.mark.parametrize("value", ["", "  "])
def test_parse_era_year_rejects_empty(value: str) -> None:
    with pytest.raises(EraError) as excinfo:
        parse_era_year(value)
    assert str(excinfo.value) == f"和暦の年が入力されていません。{ERA_YEAR_HINT}"


@pytest.mark.parametrize("value", [None, 25, True])
def test_parse_era_year_rejects_non_str(value: object) -> None:
    with pytest.raises(EraError):
        parse_era_year(value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# parse_era_month
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("令和4年2月", (2022, 2)),
        ("令和元年5月", (2019, 5)),
        ("令和1年5月", (2019, 5)),
        ("令和元年12月", (2019, 12)),
        ("令和2年1月", (2020, 1)),
        ("令和４年２月", (2022, 2)),
        ("令和 4 年 2 月", (2022, 2)),
        ("令和4年02月", (2022, 2)),
        ("R4年2月", (2022, 2)),
        ("平成31年4月", (2019, 4)),
        ("平成31年1月", (2019, 1)),
        ("平成30年12月", (2018, 12)),
        ("平成元年1月", (1989, 1)),
        ("H25年10月", (2013, 10)),
    ],
)
def test_parse_era_month(value: str, expected: tuple[int, int]) -> None:
    assert parse_era_month(value) == expected


def test_era_month_is_not_shifted_to_fiscal_year() -> None:
    # 令和4年2月 is February 2022, which belongs to fiscal year 2021.
    year, month = parse_era_month("令和4年2月")
    assert (year, month) == (2022, 2)
    assert fiscal_year_of(date(year, month, 1)) == 2021


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("令和4年0月", "月は1から12で指定してください。"),
        ("令和4年13月", "月は1から12で指定してください。"),
        ("令和元年4月", "令和は2019年5月からです。"),
        ("令和元年1月", "令和は2019年5月からです。"),
        ("平成31年5月", "平成は31年4月までです。"),
        ("平成31年12月", "平成は31年4月までです。"),
        ("平成32年1月", "平成は31年までです。それ以降は令和で入力してください。"),
        ("令和0年5月", ""),
        ("平成0年5月", ""),
        ("令和4年", ""),
        ("2022年2月", ""),
        ("令和4年2", ""),
        ("R4", ""),
        ("abc", ""),
    ],
)
def test_parse_era_month_rejects(value: str, reason: str) -> None:
    with pytest.raises(EraError) as excinfo:
        parse_era_month(value)
    assert str(excinfo.value) == f"「{value}」は年月として解釈できません。{reason}{ERA_MONTH_HINT}"


def test_parse_era_month_rejects_empty() -> None:
    with pytest.raises(EraError) as excinfo:
        parse_era_month(" ")
    assert str(excinfo.value) == f"年月が入力されていません。{ERA_MONTH_HINT}"


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2022, 2, "令和4年2月"),
        (2019, 5, "令和元年5月"),
        (2019, 4, "平成31年4月"),
        (2018, 12, "平成30年12月"),
    ],
)
def test_format_era_month(year, month, expected):
    assert format_era_month(year, month) == expected
    assert parse_era_month(expected) == (year, month)


def test_format_era_month_rejects_month_13():
    with pytest.raises(EraError, match="月は1から12"):
        format_era_month(2022, 13)


# --- parse_date: dates as people type them (issue 11) --------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("令和8年10月1日", date(2026, 10, 1)),
        ("R8.10.1", date(2026, 10, 1)),
        ("R8/10/1", date(2026, 10, 1)),
        ("R08.10.01", date(2026, 10, 1)),
        ("r8-10-1", date(2026, 10, 1)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("R1.5.1", date(2019, 5, 1)),
        ("H31.4.30", date(2019, 4, 30)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("令和８年１１月２日", date(2026, 11, 2)),
        ("Ｒ８．１０．１", date(2026, 10, 1)),
        ("2026年10月1日", date(2026, 10, 1)),
        ("2026/10/1", date(2026, 10, 1)),
        ("2026-10-01", date(2026, 10, 1)),
        ("２０２６／１０／０１", date(2026, 10, 1)),
        (" 令和 8 年 10 月 1 日 ", date(2026, 10, 1)),
        ("2024/2/29", date(2024, 2, 29)),
    ],
)
def test_parse_date_reads_what_people_type(text, expected):
    assert era.parse_date(text) == expected


HINT = "令和8年10月1日、R8.10.1、2026/10/1、2026-10-01 のように入力してください。"


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "令和元年4月30日",
            f"「令和元年4月30日」は日付として解釈できません。令和は2019年5月1日からです。{HINT}",
        ),
        (
            "H31.5.1",
            f"「H31.5.1」は日付として解釈できません。平成は1989年1月8日から2019年4月30日までです。{HINT}",
        ),
        (
            "平成元年1月7日",
            f"「平成元年1月7日」は日付として解釈できません。平成は1989年1月8日から2019年4月30日までです。{HINT}",
        ),
        (
            "H32.1.1",
            f"「H32.1.1」は日付として解釈できません。平成は31年までです。それ以降は令和で入力してください。{HINT}",
        ),
        ("2026/13/01", f"「2026/13/01」は日付として解釈できません。その日付はありません。{HINT}"),
        ("R8.2.30", f"「R8.2.30」は日付として解釈できません。その日付はありません。{HINT}"),
        ("2025/2/29", f"「2025/2/29」は日付として解釈できません。その日付はありません。{HINT}"),
        (
            "1900/1/1",
            f"「1900/1/1」は日付として解釈できません。1989年から2200年までの日付を入力してください。{HINT}",
        ),
        ("R0.5.1", f"「R0.5.1」は日付として解釈できません。{HINT}"),
        ("令和8年10月", f"「令和8年10月」は日付として解釈できません。{HINT}"),
        ("あした", f"「あした」は日付として解釈できません。{HINT}"),
        ("", f"「」は日付として解釈できません。{HINT}"),
    ],
)
def test_parse_date_refuses_with_a_japanese_message_naming_the_value(text, message):
    with pytest.raises(era.EraError) as exc:
        era.parse_date(text)
    assert str(exc.value) == message


@pytest.mark.parametrize(
    "serial, expected",
    [(46296, date(2026, 10, 1)), (46296.75, date(2026, 10, 1)), (43586, date(2019, 5, 1))],
)
def test_excel_serial_numbers_are_dates(serial, expected):
    assert era.date_from_excel_serial(serial) == expected


@pytest.mark.parametrize("serial", [0, -1, 60, 1e12, float("nan"), True])
def test_excel_serials_outside_the_supported_years_are_refused(serial):
    with pytest.raises(era.EraError):
        era.date_from_excel_serial(serial)
