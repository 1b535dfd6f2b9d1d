"""What exists today, in a real browser: login in Japanese, keyboard-only login, the admin,
and axe-core accessibility checks (WCAG 2.1 AA) on the main pages."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.helpers import axe_check, e2e_login
from tests.factory import PASSWORD, make_user


def test_login_page_is_japanese_and_accessible(page, live_server):
    response = page.goto(f"{live_server.url}/accounts/login/")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page).to_have_title(re.compile(r"^ログイン \| かほく市DX推進ポータル$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("ログイン")
    expect(page.get_by_label("ユーザー名")).to_be_visible()
    expect(page.get_by_label("パスワード")).to_be_visible()
    # The stylesheet and script are served (and allowed by the CSP).
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).display")
    axe_check(page)


def test_wrong_password_keeps_the_user_name_and_says_why(page, live_server, db):
    make_user("tanaka")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("tanaka")
    page.get_by_label("パスワード").fill("wrong-password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "正しいユーザー名とパスワードを入力してください"
    )
    expect(page.get_by_label("ユーザー名")).to_have_value("tanaka")
    axe_check(page)


def test_keyboard_only_login(page, live_server, db):
    make_user("keyboard", display_name="鍵盤 太郎")
    page.goto(f"{live_server.url}/accounts/login/")
    # The user name field has the focus when the page opens.
    assert page.evaluate("document.activeElement.name") == "username"
    # Going backwards with Shift+Tab passes the header controls and reaches the skip link.
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "本文へスキップ":
            break
    else:
        raise AssertionError("Shift+Tab では「本文へスキップ」に届きません")
    # The skip link moves the focus into the main content; Tab reaches the form from there.
    page.keyboard.press("Enter")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "username":
            break
    else:
        raise AssertionError("本文へスキップの後、Tab ではユーザー名の欄に届きません")
    page.keyboard.type("keyboard")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".user-name")).to_contain_text("鍵盤 太郎")


def test_secretariat_reaches_the_initiatives_in_the_admin(page, live_server, personas):
    e2e_login(page, live_server, personas.secretariat)
    axe_check(page)  # home page, logged in

    page.get_by_role("link", name="管理画面").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("データ管理")
    axe_check(page)  # admin index

    page.locator('a[href="/admin/initiatives/initiative/"]').first.click()
    expect(page).to_have_url(re.compile(r"/admin/initiatives/initiative/$"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(13)
    expect(page.locator("#result_list")).to_contain_text("オンライン")


def test_not_found_page_is_japanese_and_accessible(page, live_server, db):
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("ページが見つかりません。")
    expect(page.get_by_role("link", name="ホームへ戻る")).to_be_visible()
    axe_check(page)
