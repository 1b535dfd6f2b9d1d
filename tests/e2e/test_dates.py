"""Dates as Japanese staff type them, in real Chromium (issue 21): the progress form reads
令和8年11月2日, R8.11.2 and ２０２６／１１／０２ as 2026-11-02 and echoes 令和8年11月2日(月);
9999-12-31 and a date after today are refused with the bounds in 和暦; the calendar picker
beside the field writes into it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import Page, expect

from initiatives.models import ProgressEntry
from tests.e2e.helpers import axe_check, e2e_login
from tests.factory import initiative

ECHO = "令和8年11月2日(月)"
BOUNDS = "令和3年4月1日(木)から令和8年12月6日(日)までの日付にしてください。"


@pytest.fixture
def pinned_today():
    # Ticking, so that sessions and the live server keep working; the day stays 2026-12-06.
    moment = datetime(2026, 12, 6, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    with time_machine.travel(moment, tick=True):
        yield


def _open_form(page: Page, live_server, ini) -> None:
    page.goto(f"{live_server.url}/initiatives/{ini.pk}/progress/new/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("進捗")


def test_progress_form_reads_dates_as_typed_and_refuses_them_out_of_bounds(
    page, live_server, personas, pinned_today
):
    ini = initiative("2.1")
    e2e_login(page, live_server, personas.member)
    for typed in ("令和8年11月2日", "R8.11.2", "２０２６／１１／０２"):
        ProgressEntry.objects.filter(initiative=ini).delete()
        _open_form(page, live_server, ini)
        field = page.get_by_label("日付")
        field.fill(typed)
        # The live echo, from the same reader as the server (era.parse_date).
        expect(page.locator("#id_entry_date_echo")).to_have_text(ECHO)
        expect(page.locator(".era-date-picker")).to_have_value("2026-11-02")
        page.get_by_role("button", name="保存").click()
        expect(page.locator(".messages")).to_contain_text(f"{ECHO}の進捗を記録しました。")
        assert ProgressEntry.objects.get(initiative=ini).entry_date == date(2026, 11, 2)

    ProgressEntry.objects.filter(initiative=ini).delete()
    for typed, shown in (("9999-12-31", "9999-12-31(金)"), ("R8.12.7", "令和8年12月7日(月)")):
        _open_form(page, live_server, ini)
        page.get_by_label("日付").fill(typed)
        page.get_by_role("button", name="保存").click()
        errors = page.locator("#id_entry_date_error")
        expect(errors).to_contain_text(f"進捗の記録日「{shown}」は範囲外です。{BOUNDS}")
        # What was typed stays in the field, echoed back, for the person to correct.
        expect(page.get_by_label("日付")).to_have_value(typed)
        expect(page.locator("#id_entry_date_echo")).to_have_text(shown)
        assert not ProgressEntry.objects.filter(initiative=ini).exists()
    axe_check(page)


def test_calendar_picker_writes_into_the_text_field(page, live_server, personas, pinned_today):
    ini = initiative("2.1")
    e2e_login(page, live_server, personas.member)
    _open_form(page, live_server, ini)
    picker = page.locator(".era-date-picker")
    expect(picker).to_be_visible()  # shown by era_date.js; hidden without JavaScript
    picker.fill("2026-11-02")
    expect(page.get_by_label("日付")).to_have_value("2026-11-02")
    expect(page.locator("#id_entry_date_echo")).to_have_text(ECHO)
    page.get_by_label("日付").fill("あした")
    expect(page.locator("#id_entry_date_echo")).to_contain_text("日付として解釈できません")
