"""The compare screen's 新旧対照表 buttons in a real browser: the Word file downloads with the
chosen column order, and the screen reads at a phone's width."""

from __future__ import annotations

import docx
from playwright.sync_api import expect

from plans.models import PlanVersion
from tests.e2e.helpers import axe_check, e2e_login
from tests.reporting.test_plan_compare import _next_plan


def test_the_word_button_downloads_the_table_in_the_chosen_order(page, live_server, personas):
    current = personas.wg.plan
    nxt = _next_plan(personas, current)
    v10 = PlanVersion.objects.get(plan=current, number="1.0")
    e2e_login(page, live_server, personas.hq)
    page.goto(f"{live_server.url}/plan/versions/compare/?a=v{v10.pk}&b=p{nxt.code}")
    box = page.locator("#shinkyu")
    expect(box).to_contain_text("改正後は「第2期かほく市DX推進計画(現在の内容)」")
    box.get_by_label("列の並び").select_option("before-left")
    with page.expect_download() as info:
        box.get_by_role("button", name="Word (.docx)").click()
    download = info.value
    assert download.suggested_filename == "第2期かほく市DX推進計画 新旧対照表.docx"
    document = docx.Document(str(download.path()))
    assert [c.text for c in document.tables[0].rows[0].cells] == ["箇所", "改正前", "改正後"]
    axe_check(page)
    page.set_viewport_size({"width": 390, "height": 844})
    expect(box.get_by_role("button", name="PDF")).to_be_visible()
    # At a phone's width the three buttons stay inside the screen.
    right = max(
        b.bounding_box()["x"] + b.bounding_box()["width"] for b in box.get_by_role("button").all()
    )
    assert right <= 390
