"""The portal's daily work, end to end in real Chromium: each role through its screens.

Kept to a few long flows: every live-server test flushes and reloads the database.
"""

from __future__ import annotations

import io
from datetime import date

import openpyxl
from django.utils import timezone
from playwright.sync_api import Page, expect

from initiatives.models import ProgressEntry, Review
from plans.models import ScheduleCell
from portal_lib import era
from tests.e2e.helpers import axe_check, e2e_login
from tests.factory import initiative


def _accept_confirmations(page: Page) -> None:
    # Buttons with data-confirm ask "よろしいですか？" first; a person clicks OK.
    page.on("dialog", lambda dialog: dialog.accept())


def _logout(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")


def test_member_logs_progress_using_only_the_keyboard(page, live_server, personas):
    ini = initiative("2.1")
    e2e_login(page, live_server, personas.member)
    page.goto(f"{live_server.url}/initiatives/{ini.pk}/")
    axe_check(page)
    page.get_by_role("link", name="進捗を記録する").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("進捗")
    axe_check(page)

    # Keyboard only: the date is pre-filled with today; Tab through its year/month/day
    # segments to the next field, then from field to field, and Enter to save.
    expect(page.get_by_label("日付")).to_have_value(str(timezone.localdate()))
    page.get_by_label("日付").focus()
    for _ in range(4):
        if page.evaluate("document.activeElement.name") != "entry_date":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "status"
    page.keyboard.press("ArrowDown")  # 未着手 -> 順調 or 順調 -> 遅れ: any change is fine
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "percent"
    page.keyboard.type("45")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "done_text"
    page.keyboard.type("電子申請の対象手続を3件追加した")
    page.get_by_role("button", name="保存").focus()
    page.keyboard.press("Enter")

    expect(page.locator(".messages")).to_be_visible()
    expect(page.locator("ol.timeline")).to_contain_text("電子申請の対象手続を3件追加した")
    entry = ProgressEntry.objects.get(initiative=ini)
    assert (entry.percent, entry.author, entry.fiscal_year) == (
        45,
        personas.member,
        era.current_fiscal_year(timezone.localdate()),
    )


def test_review_goes_round_the_pdca_cycle(page, live_server, personas):
    _accept_confirmations(page)
    ini = initiative("2.1")
    fy = era.current_fiscal_year(timezone.localdate())

    # The WG leader writes the review and submits it.
    e2e_login(page, live_server, personas.leader)
    page.goto(f"{live_server.url}/initiatives/{ini.pk}/reviews/{fy}/edit/")
    page.get_by_label("Plan(計画)").fill("27手続のオンライン化")
    page.get_by_label("Do(実行)").fill("子育て関係15手続を公開")
    page.get_by_label("Check(評価)").fill("介護関係が未了")
    page.get_by_label("Act(改善)").fill("介護関係を次年度に公開")
    page.get_by_label("自己評価").select_option("B")
    page.get_by_role("button", name="保存").click()
    axe_check(page)
    page.get_by_role("button", name="提出する").click()
    expect(page.locator(".messages")).to_be_visible()
    review = Review.objects.get(initiative=ini, fiscal_year=fy)
    assert review.state == Review.State.SUBMITTED
    _logout(page)

    # The secretariat returns it with a reason.
    e2e_login(page, live_server, personas.secretariat)
    page.goto(f"{live_server.url}/initiatives/reviews/{review.pk}/")
    axe_check(page)
    page.get_by_label("差戻しの理由").fill("介護関係の見通しを具体的に")
    page.get_by_role("button", name="差し戻す").click()
    review.refresh_from_db()
    assert review.state == Review.State.RETURNED
    _logout(page)

    # The leader sees the reason, revises and resubmits.
    e2e_login(page, live_server, personas.leader)
    page.goto(f"{live_server.url}/initiatives/reviews/{review.pk}/")
    expect(page.locator("main")).to_contain_text("介護関係の見通しを具体的に")
    page.get_by_role("link", name="内容を編集").click()
    page.get_by_label("Act(改善)").fill("介護関係11手続を令和9年6月までに公開")
    page.get_by_role("button", name="保存").click()
    page.get_by_role("button", name="再提出する").click()
    review.refresh_from_db()
    assert review.state == Review.State.SUBMITTED
    _logout(page)

    # The secretariat checks it; headquarters approves it.
    e2e_login(page, live_server, personas.secretariat)
    page.goto(f"{live_server.url}/initiatives/reviews/{review.pk}/")
    page.get_by_role("button", name="確認済にする").click()
    review.refresh_from_db()
    assert review.state == Review.State.CHECKED
    _logout(page)

    e2e_login(page, live_server, personas.hq)
    page.goto(f"{live_server.url}/initiatives/reviews/{review.pk}/")
    page.get_by_role("button", name="承認する").click()
    review.refresh_from_db()
    assert review.state == Review.State.APPROVED
    assert [e.to_state for e in review.events.order_by("at", "id")][-5:] == [
        "submitted",
        "returned",
        "submitted",
        "checked",
        "approved",
    ]
    _logout(page)

    # Approved means locked, even for its own leader.
    e2e_login(page, live_server, personas.leader)
    page.e2e_expected_errors.append("403 (Forbidden)")
    response = page.goto(f"{live_server.url}/initiatives/{ini.pk}/reviews/{fy}/edit/")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("承認")
    review.refresh_from_db()
    assert review.act_text == "介護関係11手続を令和9年6月までに公開"


def test_secretariat_edits_table_4_1_in_excel_and_the_dashboard_shows_it(
    page, live_server, personas, tmp_path
):
    e2e_login(page, live_server, personas.secretariat)
    page.goto(f"{live_server.url}/excel/")
    axe_check(page)

    # The download is a real xlsx in the plan's layout.
    with page.expect_download() as info:
        page.get_by_role("link", name="Excelでダウンロード").click()
    path = tmp_path / "table41.xlsx"
    info.value.save_as(path)
    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    header = next(row for row in sheet.iter_rows(values_only=True) if row and row[0] == "項目")
    assert header[:3] == ("項目", "副項目", "R3 (2021)")

    # A person edits one cell of this fiscal year's column and saves the file.
    fy = era.current_fiscal_year(timezone.localdate())
    column = header.index(era.short_header(fy)) + 1
    for row in sheet.iter_rows():
        if row[0].value == "オンライン申請":
            row[column - 1].value = "未対応手続のオンライン化を継続"
            break
    else:
        raise AssertionError("オンライン申請 の行がありません")
    edited = io.BytesIO()
    workbook.save(edited)
    (tmp_path / "edited.xlsx").write_bytes(edited.getvalue())

    page.get_by_role("link", name="編集したファイルを取り込む").click()
    page.locator("input[type=file]").set_input_files(str(tmp_path / "edited.xlsx"))
    page.get_by_role("button", name="読み込んで変更内容を確認").click()
    # The preview names the change; nothing is written before confirming.
    expect(page.locator("main")).to_contain_text("未対応手続のオンライン化を継続")
    axe_check(page)
    assert not ScheduleCell.objects.filter(text="未対応手続のオンライン化を継続").exists()
    page.get_by_role("button", name="取り込む").click()
    expect(page.locator(".messages")).to_be_visible()

    cell = ScheduleCell.objects.get(text="未対応手続のオンライン化を継続")
    assert cell.fiscal_year == fy
    assert cell.history.first().history_user == personas.secretariat

    # This year's milestones on the dashboard come from table 4-1: the new one is there.
    page.goto(f"{live_server.url}/plan/dashboard/")
    expect(page.locator("main")).to_contain_text("未対応手続のオンライン化を継続")
    axe_check(page)


def test_main_pages_have_no_serious_accessibility_problem(page, live_server, personas):
    """axe-core (WCAG 2.1 AA) on every main page, as the secretariat sees them."""
    ini = initiative("3.1")
    ProgressEntry.objects.create(
        initiative=ini, entry_date=date(2026, 4, 10), fiscal_year=2026, percent=30
    )
    e2e_login(page, live_server, personas.secretariat)
    for path in [
        "/",
        "/initiatives/",
        f"/initiatives/{ini.pk}/",
        "/initiatives/procedures/",
        "/initiatives/systems/",
        "/plan/dashboard/",
        "/plan/schedule/",
        "/plan/reports/",
        "/plan/compare/",
        "/excel/",
        "/accounts/password_change/",
    ]:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        expect(page.locator("html")).to_have_attribute("lang", "ja")
        axe_check(page)
    _logout(page)
    # The public page, as a citizen without an account.
    response = page.goto(live_server.url + "/public/")
    assert response.status == 200
    axe_check(page)
