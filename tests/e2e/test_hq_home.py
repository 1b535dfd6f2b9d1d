"""HQ's first screen on a phone (issue 21): the mayor opens the portal at 390 px and reads
what waits for approval, the plan's figures with their coverage, the 27/20 targets and what
moved since the last meeting report, without scrolling sideways; axe finds nothing."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect

from initiatives import services
from initiatives.models import Review
from reporting.services.meeting_reports import report_snapshot_create
from tests.e2e.helpers import axe_check, e2e_login
from tests.factory import REVIEW_COMPLETE, initiative, make_progress, make_review

PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 320, "height": 700}


def test_hq_home_reads_on_a_phone_without_sideways_scrolling(page, live_server, personas):
    ini = initiative("2.1")
    report_snapshot_create(
        plan=ini.policy.plan,
        fiscal_year=2026,
        title="第1回DX推進本部会議",
        today=date(2026, 10, 15),
        user=personas.secretariat,
    )
    make_progress(
        ini,
        author=personas.member,
        status="on_track",
        percent=40,
        entry_date=date(2026, 11, 1),
        done_text="電子申請の対象手続を3件追加し、住民向けの案内ページを更新した。" * 3,
    )
    review = make_review(initiative("3.1"), state=Review.State.SUBMITTED, **REVIEW_COMPLETE)
    services.review_move(actor=personas.secretariat, review=review, move="check")

    e2e_login(page, live_server, personas.hq)
    for size in (PHONE, SMALL_PHONE):
        page.set_viewport_size(size)
        page.goto(live_server.url + "/")
        approvals = page.locator("section[aria-labelledby=approve-heading]")
        expect(approvals).to_contain_text(initiative("3.1").title)
        expect(page.locator("#hq-dashboard")).to_be_visible()
        expect(page.locator("#hq-countables .card")).to_have_count(2)
        expect(page.locator("#hq-since")).to_contain_text("第1回DX推進本部会議")
        expect(page.locator("#since-progress")).to_contain_text("1件")
        # the page itself never scrolls sideways, and no element of the main content
        # reaches past the screen's right edge
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        too_wide = page.evaluate(
            """() => [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                .map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className)"""
        )
        assert too_wide == [], f"{size['width']} px: {too_wide}"
        axe_check(page, every_impact=True)

    # nothing waiting: said so, on the phone too
    services.review_move(actor=personas.hq, review=review, move="approve")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")
    expect(page.locator("#none-to-approve")).to_have_text("承認待ちの振り返りはありません。")
