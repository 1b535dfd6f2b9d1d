"""Pages that read well on a phone and on a desk, and print well (issue 14), in real Chromium.

Every main page with realistic data (the loaded plan, progress, a review, a meeting report):
- at 390 and 320 px nothing scrolls sideways but a wide table inside its own region;
- axe-core finds no WCAG 2.1 AA violation at 1366 and 390 px;
- the wide pages print on A4 landscape with the whole table (Chromium's own PDF).
"""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, expect

from initiatives.models import Review
from portal_lib import era
from reporting.services.meeting_reports import report_snapshot_create
from tests.e2e.helpers import axe_check, e2e_login
from tests.factory import REVIEW_COMPLETE, initiative, make_progress, make_review

PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 320, "height": 700}
DESKTOP = {"width": 1366, "height": 900}
A4_LANDSCAPE = (841.89, 595.28)  # points


@pytest.fixture
def data(personas):
    ini = initiative("2.1")
    make_progress(
        ini,
        author=personas.member,
        status="on_track",
        percent=40,
        done_text="電子申請の対象手続を3件追加し、住民向けの案内ページを更新した。" * 3,
        next_steps="オンライン申請の利用状況を集計し、次年度の対象手続を選定する。" * 3,
    )
    make_progress(initiative("1.1"), status="delayed", percent=10, entry_date=date(2026, 9, 1))
    review = make_review(ini, state=Review.State.SUBMITTED, **REVIEW_COMPLETE)
    snapshot = report_snapshot_create(
        plan=ini.policy.plan,
        fiscal_year=2026,
        title="第1回DX推進本部会議",
        today=date(2026, 11, 24),
        user=personas.secretariat,
    )
    return personas, ini, review, snapshot


def anonymous_pages(live_server, user) -> list[str]:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return [
        "/accounts/login/",
        "/accounts/password_reset/",
        "/accounts/password_reset/done/",
        f"/accounts/reset/{uid}/{token}/",  # redirects to the set-password form
        "/accounts/reset/done/",
        "/public/",
    ]


def staff_pages(ini, review, snapshot) -> list[str]:
    return [
        "/",
        "/initiatives/",
        f"/initiatives/{ini.pk}/",
        f"/initiatives/{ini.pk}/progress/new/",
        f"/initiatives/{ini.pk}/reviews/{review.fiscal_year}/edit/",
        f"/initiatives/reviews/{review.pk}/",
        "/initiatives/procedures/",
        "/initiatives/systems/",
        "/plan/dashboard/",
        "/plan/schedule/",
        "/plan/reports/",
        f"/plan/reports/{snapshot.pk}/",
        "/plan/compare/",
        "/plan/carry-over/",
        "/plan/switch/",
        "/plan/versions/",
        "/organisation/staff/",
        "/organisation/sections/",
        "/organisation/working-groups/",
        "/organisation/bodies/",
        "/plan/publication/",
        "/excel/",
        "/accounts/password_change/",
    ]


def overflow(page: Page) -> int:
    """How far the page itself scrolls sideways, in CSS px (0 = not at all)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"


def test_no_page_scrolls_sideways_and_axe_finds_nothing(page, live_server, data):
    personas, ini, review, snapshot = data
    wide: dict[str, int] = {}

    def check(paths: list[str]) -> None:
        for size, run_axe in ((DESKTOP, True), (PHONE, True), (SMALL_PHONE, False)):
            page.set_viewport_size(size)
            for path in paths:
                visit(page, live_server.url + path)
                if size is not DESKTOP and overflow(page) > 0:
                    wide[f"{size['width']}px {path}"] = overflow(page)
                if run_axe:
                    axe_check(page, every_impact=True)

    anonymous = anonymous_pages(live_server, personas.member)
    check(anonymous)
    # The password pages are the portal's own (not the admin's), the set-password form too.
    visit(page, live_server.url + anonymous[3])
    expect(page.locator(".site-header")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("新しいパスワードの設定")
    expect(page.locator("input[name=new_password1]")).to_be_visible()

    e2e_login(page, live_server, personas.secretariat)
    check(staff_pages(ini, review, snapshot))
    assert not wide, f"pages that scroll sideways (px too wide): {wide}"


def test_phone_menu_touch_targets_wide_tables_and_focus(page, live_server, data):
    personas, ini, _review, snapshot = data
    e2e_login(page, live_server, personas.secretariat)
    page.set_viewport_size(PHONE)

    # The menu folds behind one button, a disclosure that says whether it is open.
    visit(page, f"{live_server.url}/")
    toggle = page.get_by_role("button", name="メインメニュー")
    menu = page.locator("#main-menu")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="ダッシュボード")).to_be_visible()
    menu.get_by_role("link", name="ダッシュボード").click()
    expect(page).to_have_url(f"{live_server.url}/plan/dashboard/")
    expect(page.locator("#main-menu")).to_be_hidden()

    # Controls are at least 44 px high (and buttons 44 px wide) on a phone.
    small = []
    for path in ["/", f"/initiatives/{ini.pk}/progress/new/", "/plan/dashboard/", "/initiatives/"]:
        visit(page, live_server.url + path)
        page.get_by_role("button", name="メインメニュー").click()
        small += page.evaluate(
            """(path) => Array.from(document.querySelectorAll(
                'button, select, .button, .main-nav a, .user-menu a, ' +
                'input:not([type=hidden]):not([type=checkbox]):not([type=radio])'))
              .filter((el) => el.getClientRects().length)
              .map((el) => [el, el.getBoundingClientRect()])
              .filter(([el, r]) => r.height < 43.5 || (el.matches('button, .button') && r.width < 43.5))
              .map(([el, r]) => `${path} ${el.outerHTML.slice(0, 80)} ${r.width}x${r.height}`)""",
            path,
        )
    assert not small, "controls smaller than 44 px:\n" + "\n".join(small)

    # Wide tables scroll inside their own labelled, focusable region, not the page.
    for path in ["/plan/schedule/", f"/plan/reports/{snapshot.pk}/", f"/initiatives/{ini.pk}/"]:
        visit(page, live_server.url + path)
        tables = page.evaluate(
            """() => Array.from(document.querySelectorAll('main table')).map((t) => {
                const wrap = t.closest('.table-wrap');
                return {
                  id: t.id || t.className,
                  wider: t.scrollWidth > document.documentElement.clientWidth,
                  region: !!wrap && wrap.getAttribute('role') === 'region'
                    && !!wrap.getAttribute('aria-label') && wrap.tabIndex === 0,
                };
              })"""
        )
        assert any(t["wider"] for t in tables), f"{path}: expected a table wider than a phone"
        unwrapped = [t["id"] for t in tables if t["wider"] and not t["region"]]
        assert not unwrapped, f"{path}: wide tables outside a scroll region: {unwrapped}"
        assert overflow(page) <= 0

    # Every element the keyboard reaches shows where the focus is (the date field included).
    page.set_viewport_size(DESKTOP)
    unfocused = []
    for path in ["/", f"/initiatives/{ini.pk}/progress/new/", "/plan/schedule/"]:
        visit(page, live_server.url + path)
        seen = set()
        for _ in range(120):
            page.keyboard.press("Tab")
            info = page.evaluate(
                """() => {
                  const el = document.activeElement;
                  if (!el || el === document.body) return null;
                  const s = getComputedStyle(el);
                  return {
                    key: el.outerHTML.slice(0, 100),
                    shown: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2)
                      || s.boxShadow !== 'none',
                  };
                }"""
            )
            if info is None or info["key"] in seen:
                break
            seen.add(info["key"])
            if not info["shown"]:
                unfocused.append(f"{path} {info['key']}")
        assert (
            any('name="entry_date"' in k for k in seen)
            or path != f"/initiatives/{ini.pk}/progress/new/"
        )
    assert not unfocused, "focus not visible on:\n" + "\n".join(unfocused)


def pdf_pages(pdf: Path) -> tuple[list[tuple[float, float]], list[str]]:
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "99", str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    sizes = [
        (float(w), float(h))
        for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    ]
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return sizes, text.split("\f")


def pdf_word_boxes(pdf: Path, word: str) -> list[tuple[float, float]]:
    xml = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [
        (float(x0), float(x1))
        for x0, x1, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>',
            xml,
        )
        if text == word
    ]


def is_a4_landscape(size: tuple[float, float]) -> bool:
    return abs(size[0] - A4_LANDSCAPE[0]) < 1.5 and abs(size[1] - A4_LANDSCAPE[1]) < 1.5


def test_wide_pages_print_on_a4_landscape(page, live_server, data, tmp_path):
    personas, ini, _review, snapshot = data
    e2e_login(page, live_server, personas.secretariat)
    page.set_viewport_size(DESKTOP)
    r8 = era.short_header(2026).split()[0]  # "R8"
    pages = {
        "schedule": ("/plan/schedule/", [r8, "かほく市DX推進計画関連", "行政手続のオンライン化"]),
        "dashboard": ("/plan/dashboard/", ["ダッシュボード"]),
        "report": (f"/plan/reports/{snapshot.pk}/", ["第1回DX推進本部会議", "担当WG"]),
        "list": ("/initiatives/", []),  # a narrow page stays portrait
    }
    for name, (path, texts) in pages.items():
        visit(page, live_server.url + path)
        if name != "list":
            # Laid out as printed (A4 landscape less 12 mm margins = 273 mm = 1032 px):
            # every table fits, none is cut at the right edge.
            page.emulate_media(media="print")
            page.set_viewport_size({"width": 1032, "height": 720})
            cut = page.evaluate(
                """() => Array.from(document.querySelectorAll('main table'))
                  .filter((t) => t.getBoundingClientRect().right > window.innerWidth + 0.5
                    || (t.closest('.table-wrap') && t.closest('.table-wrap').scrollWidth
                        > t.closest('.table-wrap').clientWidth + 1))
                  .map((t) => t.id || t.className)"""
            )
            assert not cut, f"{name}: tables cut on paper: {cut}"
            page.emulate_media(media="null")  # back to no emulation (not "screen": PDFs use it)
            page.set_viewport_size(DESKTOP)
        pdf = tmp_path / f"{name}.pdf"
        # prefer_css_page_size: the page size the stylesheet asks for, as Chromium's print dialog.
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
        sizes, printed = pdf_pages(pdf)
        assert sizes, f"{name}: no pages"
        if name == "list":
            assert not any(is_a4_landscape(s) for s in sizes), sizes
            continue
        assert all(is_a4_landscape(s) for s in sizes), f"{name}: {sizes}"
        for number, text in enumerate(printed[: len(sizes)], start=1):
            # Footer of every page: page number of page count and the print date.
            assert re.search(rf"\b{number}\s*/\s*{len(sizes)}\b", text), f"{name} p.{number}"
            assert re.search(r"印刷日 \d{4}-\d{2}-\d{2}", text), f"{name} p.{number}: no date"
        whole = "\n".join(printed)
        for text in texts:
            assert text in whole, f"{name}: {text!r} is not printed in one piece"
    # Table 4-1's last year column lies inside the printable area (12 mm margins).
    right_edge = A4_LANDSCAPE[0] - 12 / 25.4 * 72
    boxes = pdf_word_boxes(tmp_path / "schedule.pdf", r8)
    assert boxes and all(x1 <= right_edge for _x0, x1 in boxes), (boxes, right_edge)
    # The report's table of initiatives runs over pages: its header repeats on each.
    report_pages = pdf_pages(tmp_path / "report.pdf")[1]
    with_rows = [p for p in report_pages if re.search(r"(?m)^\s*\d\.\d+\s+\S", p)]
    assert len(with_rows) >= 2, "expected the initiatives table to run over pages"
    assert all("担当WG" in p for p in with_rows)
