"""The API in a real browser: the secretariat makes a token, staff read the docs page.

Swagger UI must run under the portal's CSP (no inline script or style, nothing from a CDN);
the harness fails the test on any CSP violation, JavaScript error or outside request.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.helpers import axe_check, e2e_login


def test_secretariat_makes_a_token_and_reads_the_docs(page, live_server, personas):
    e2e_login(page, live_server, personas.secretariat)
    page.get_by_role("link", name="API連携").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("API連携(サービスアカウント)")
    axe_check(page)
    page.get_by_label("ユーザー名").fill("bi-zaisei")
    page.get_by_label("用途・利用システム").fill("財政課BIツール")
    page.get_by_label("読み取り範囲").select_option(value="all")
    page.get_by_role("button", name="作成してトークンを発行").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("サービスアカウントを作成しました")
    token = page.get_by_label("トークン").input_value()
    assert re.fullmatch(r"[0-9a-f]{40}", token)
    axe_check(page)

    # The token works from outside the browser session.
    response = page.request.get(
        f"{live_server.url}/api/v1/summary/?fiscal_year=R8",
        headers={"Authorization": f"Token {token}"},
    )
    assert response.status == 200 and response.json()["fiscal_year"] == 2026

    # The docs page: Swagger UI from local files, the schema fetched with the session.
    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page).to_have_title("かほく市DX推進ポータル API ドキュメント")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("かほく市DX推進計画")
    summary = page.locator(".opblock-get", has_text="/api/v1/summary/")
    expect(summary).to_be_visible()
    expect(page.locator(".opblock-post, .opblock-put, .opblock-delete")).to_have_count(0)
    # Try the call from the docs page with the logged-in session.
    summary.locator(".opblock-summary").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table tbody .response-col_status").first).to_contain_text(
        "200"
    )
