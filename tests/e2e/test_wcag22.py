"""WCAG 2.2 AA and phones (issue 23), in real Chromium.

JIS X 8341-3 is expected to follow WCAG 2.2 (ISO/IEC 40500:2025). Beyond what axe-core
checks (test_layout.py runs the 2.1 rules), this file checks the criteria 2.2 added, as a
person on a keyboard, a phone or a password manager would meet them:

- axe-core with the 2.2 tags on every main page of every persona, at 1366 and 390 px, and
  no main page scrolls sideways at 390 or 320 px;
- 2.4.11 focus not obscured: tabbing through a long page, the focused element is never
  under the header or a sticky table head, forwards or backwards;
- 2.5.8 target size: controls at least 24 × 24 px, the main actions 44 px;
- the phone layouts: the staff home's 進捗を記録 without scrolling sideways, the initiative
  list's filters folded behind one button and its first row near the top, table 4-1 on the
  public page as a list of items with their years (the table kept for desks and paper);
- the menu closes on Esc and gives the focus back to its button;
- 3.3.8 accessible authentication (autocomplete, paste allowed), 3.2.6 consistent help
  (one help link, in the same place on every page), 3.3.7 redundant entry (the roster's and
  the bulk import's confirm step asks for nothing again).

Kept quick: one browser, one page, personas switched by their cookies.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from initiatives.models import ProgressEntry, Review
from plans.models import ScheduleCell
from portal_lib import era
from reporting.exchange import sheets
from reporting.services.meeting_reports import report_snapshot_create
from tests.e2e.helpers import axe_violations, e2e_login
from tests.factory import (
    PASSWORD,
    REVIEW_COMPLETE,
    initiative,
    make_progress,
    make_review,
    xlsx_bytes,
)
from tests.workgroups.test_roster import person, roster_xlsx

PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 320, "height": 700}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture
def data(personas):
    ini = initiative("2.1")
    make_progress(
        ini,
        author=personas.member,
        status="on_track",
        percent=40,
        done_text="電子申請の対象手続を3件追加し、住民向けの案内ページを更新した。" * 3,
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


def main_pages(data) -> dict[str, list[str]]:
    """Each persona's main pages (their home, the initiative list and detail, the progress
    form, the review, the dashboard, reports, table 4-1, staff, WGs, versions, Excel, the
    public page, the login)."""
    personas, ini, review, snapshot = data
    ini_pages = ["/", "/initiatives/", f"/initiatives/{ini.pk}/", "/plan/schedule/", "/public/"]
    review_pages = [f"/initiatives/reviews/{review.pk}/"]
    return {
        "anonymous": ["/accounts/login/", "/accounts/password_reset/", "/public/"],
        "secretariat": [
            *ini_pages,
            f"/initiatives/{ini.pk}/progress/new/",
            *review_pages,
            f"/initiatives/{ini.pk}/reviews/{review.fiscal_year}/edit/",
            "/initiatives/procedures/",
            "/initiatives/systems/",
            "/plan/dashboard/",
            "/plan/reports/",
            f"/plan/reports/{snapshot.pk}/",
            "/plan/versions/",
            "/organisation/staff/",
            "/organisation/staff/roster/",
            "/organisation/working-groups/",
            "/excel/",
            "/excel/initiatives/import/",
            "/excel/schedule/import/",
        ],
        "hq": [
            *ini_pages,
            *review_pages,
            "/plan/dashboard/",
            "/plan/reports/",
            "/plan/versions/",
        ],
        "leader": [
            *ini_pages,
            f"/initiatives/{ini.pk}/progress/new/",
            *review_pages,
            f"/initiatives/{initiative('2.2').pk}/reviews/{review.fiscal_year}/edit/",
        ],
        "member": [*ini_pages, f"/initiatives/{ini.pk}/progress/new/", *review_pages],
        "viewer": ini_pages,
    }


# The page's main part as shown, without the per-request CSRF tokens.
MAIN_CONTENT = """() => document.querySelector('main').innerHTML
  .replace(/name="csrfmiddlewaretoken" value="[^"]*"/g, '')"""


# Where the help link sits: its landmark, its place among the landmark's links, its address.
HELP_PLACE = """() => {
  const link = document.querySelector('a.help-link');
  if (!link) return 'none';
  const box = link.closest('footer, header, nav, main');
  const links = Array.from(box.querySelectorAll('a'));
  const place = links.indexOf(link) === links.length - 1 ? 'last link' : 'link ' + links.indexOf(link);
  return `${box.localName}: ${place}, ${new URL(link.href).pathname}`;
}"""


def overflow(page: Page) -> int:
    """How far the page itself scrolls sideways, in CSS px (0 = not at all)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"


def switch_to(page: Page, live_server, user) -> None:
    page.context.clear_cookies()
    if user is not None:
        e2e_login(page, live_server, user)


def test_axe_wcag22_on_every_main_page_of_every_persona(page, live_server, data):
    """Every persona's main pages at 1366 and 390 px, and none scrolls sideways at 390 or
    320 px; each shows the help link in the same place (3.2.6 consistent help). A page
    whose main part another persona already showed identically is not checked by axe again
    (its header, the same on all of that persona's pages, was checked on their first page)."""
    personas = data[0]
    problems: list[str] = []
    wide: dict[str, int] = {}
    help_places: dict[str, str] = {}
    checked: set[tuple[int, str]] = set()
    for name, paths in main_pages(data).items():
        switch_to(page, live_server, getattr(personas, name, None))
        for path in paths:
            page.set_viewport_size(DESKTOP)
            visit(page, live_server.url + path)
            help_places[f"{name} {path}"] = page.evaluate(HELP_PLACE)
            content = page.evaluate(MAIN_CONTENT)
            for size in (DESKTOP, PHONE, SMALL_PHONE):
                page.set_viewport_size(size)
                if size is not DESKTOP and overflow(page) > 0:
                    wide[f"{name} {size['width']}px {path}"] = overflow(page)
                if size is SMALL_PHONE or (size["width"], content) in checked:
                    continue
                checked.add((size["width"], content))
                found = axe_violations(page)
                if found:
                    problems += [f"[{name} {size['width']}px {path}]", *found]
    assert not wide, f"pages that scroll sideways (px too wide): {wide}"
    assert not problems, "\n".join(problems)
    # Guard the shortcut: most pages were checked in full, and every persona's first page.
    assert len(checked) >= 60, len(checked)
    assert set(help_places.values()) == {"footer: last link, /public/help/"}, help_places


# The rect of the first visible element matching a selector, and whether anything that
# scrolls sideways (the page or a scrolling box around it) has to scroll to show it whole.
RECT_AND_SIDEWAYS = """(el) => {
  const r = el.getBoundingClientRect();
  let clipped = r.left < 0 || r.right > window.innerWidth;
  for (let box = el.parentElement; box; box = box.parentElement) {
    const b = box.getBoundingClientRect();
    if (box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== 'visible'
        && (r.left < b.left || r.right > b.right)) clipped = true;
  }
  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
          width: r.width, height: r.height, clipped};
}"""


def test_phone_layouts_home_initiative_list_and_public_table_4_1(page, live_server, data):
    personas = data[0]
    switch_to(page, live_server, personas.member)
    page.set_viewport_size(PHONE)

    # The staff home: each of their initiatives is a card; 進捗を記録 is whole on the screen,
    # 44 px high, without scrolling sideways.
    visit(page, f"{live_server.url}/")
    buttons = page.get_by_role("link", name="進捗を記録")
    expect(buttons).to_have_count(5)
    for i in range(5):
        rect = buttons.nth(i).evaluate(RECT_AND_SIDEWAYS)
        assert not rect["clipped"] and rect["height"] >= 44, rect
    first = buttons.first.evaluate(RECT_AND_SIDEWAYS)
    assert first["bottom"] <= PHONE["height"], f"the first 進捗を記録 is below the screen: {first}"
    card = page.locator("#my-initiatives tbody tr").first
    # Each value says what it is, and the card is still a table row to a screen reader.
    expect(card.get_by_role("cell", name="進捗状況： 順調")).to_be_visible()
    expect(card.get_by_role("cell", name="担当WG： 情報推進課WG")).to_be_visible()
    expect(page.locator("#my-initiatives thead")).not_to_be_in_viewport()
    # On a desk the same rows are a table again, the button at the row's end.
    page.set_viewport_size(DESKTOP)
    expect(page.locator("#my-initiatives thead")).to_be_visible()
    row = page.locator("#my-initiatives tbody tr").first.bounding_box()
    button = buttons.first.bounding_box()
    assert row and button and abs(button["y"] - row["y"]) < row["height"], (row, button)

    # The initiative list: the filters fold behind one button and the summary is compact,
    # so that the first row is whole on the first screen, for a member and for the
    # secretariat (whose header holds one more link).
    page.set_viewport_size(PHONE)
    first_row = page.locator("table.initiative-list tbody tr").first
    visit(page, f"{live_server.url}/initiatives/")
    rect = first_row.evaluate(RECT_AND_SIDEWAYS)
    assert rect["bottom"] <= PHONE["height"], f"first row not on the first screen: {rect}"
    switch_to(page, live_server, personas.secretariat)
    page.set_viewport_size(PHONE)
    visit(page, f"{live_server.url}/initiatives/")
    toggle = page.get_by_role("button", name="絞り込み")
    filters = page.locator("#initiative-filters")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(filters).to_be_hidden()
    rect = first_row.evaluate(RECT_AND_SIDEWAYS)
    assert rect["bottom"] <= PHONE["height"], f"first row not on the first screen: {rect}"
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(filters.get_by_label("進捗状況")).to_be_visible()
    filters.get_by_label("進捗状況").select_option("delayed")
    filters.get_by_role("button", name="絞り込む").click()
    expect(page.locator("table.initiative-list tbody tr")).to_have_count(1)
    expect(page.get_by_role("button", name="絞り込み（絞り込み中）")).to_be_visible()
    # A filter the list cannot read starts open, its message in view.
    visit(page, f"{live_server.url}/initiatives/?fy=令和3年2月")
    expect(page.locator("#initiative-filters .field-error")).to_be_visible()
    # On a desk the filters show as before, no button.
    page.set_viewport_size(DESKTOP)
    visit(page, f"{live_server.url}/initiatives/")
    expect(filters).to_be_visible()
    expect(toggle).to_be_hidden()

    # Public table 4-1: a list of items with their years on a phone (項目 at full width),
    # the table on a desk and on paper.
    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    visit(page, f"{live_server.url}/public/")
    table, listed = page.locator("#public-schedule"), page.locator("#public-schedule-list")
    expect(table).to_be_hidden()
    expect(listed).to_be_visible()
    items = listed.locator(".schedule-item h4")
    assert items.count() == page.locator("#public-schedule tbody th[scope=rowgroup]").count() > 3
    narrowest = min(
        b["width"] for b in items.evaluate_all("(els) => els.map((e) => e.getBoundingClientRect())")
    )
    assert narrowest > 300, f"項目 squeezed to {narrowest} px"
    planned = {t.strip() for t in table.locator("td.planned").all_text_contents()}
    shown = "".join(listed.all_text_contents())
    assert len(planned) > 5 and not [t for t in planned if t not in shown], planned
    expect(listed.locator(".schedule-years li.is-current").first).to_contain_text("令和8年度")
    # A cell merged over lines (the R7 migration, over three 項目) is read on each line.
    span = ScheduleCell.objects.get(row_span__gt=1)
    lines = listed.locator(
        ".schedule-lines > li", has_text=f"{era.format_fiscal_year(span.fiscal_year)}：{span.text}"
    )
    expect(lines).to_have_count(span.row_span)
    assert span.row_span == 3
    page.emulate_media(media="print")
    expect(table).to_be_visible()
    expect(listed).to_be_hidden()
    page.emulate_media(media="null")
    page.set_viewport_size(DESKTOP)
    expect(table).to_be_visible()
    expect(listed).to_be_hidden()


# The focused element, and whether something else covers it: the page header when it is
# sticky (its bottom edge), or anything painted over the element's centre and its upper
# corners (a table's sticky head), or the element being outside the screen.
FOCUS_SEEN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const r = el.getBoundingClientRect();
  window.e2eIds = window.e2eIds || new Map();
  if (!window.e2eIds.has(el)) window.e2eIds.set(el, window.e2eIds.size);
  const key = window.e2eIds.get(el) + ' ' + el.outerHTML.slice(0, 90);
  const header = document.querySelector('.site-header');
  const pos = getComputedStyle(header).position;
  const below = (pos === 'sticky' || pos === 'fixed') ? header.getBoundingClientRect().bottom : 0;
  const f = el.getClientRects()[0] || r;  // a link wrapped over two lines: its first part
  const top = Math.max(r.top, 0) + 2;
  const points = [[f.left + f.width / 2, f.top + f.height / 2], [f.left + 3, f.top + 3],
                  [f.right - 3, f.top + 3]];
  const covered = points.some(([x, y]) => {
    if (x < 0 || y < 0 || x >= innerWidth || y >= innerHeight) return true;
    const hit = document.elementFromPoint(x, y);
    return !hit || !(el.contains(hit) || hit.contains(el) && hit !== document.body);
  });
  return {key, covered: covered || r.top < below, top, below};
}"""


def tab_through(page: Page, key: str, limit: int) -> tuple[set[str], list[str]]:
    """Press ``key`` until the focus comes back round; the elements seen and those hidden."""
    seen: set[str] = set()
    hidden: list[str] = []
    for _ in range(limit):
        page.keyboard.press(key)
        info = page.evaluate(FOCUS_SEEN)
        if info is None or info["key"] in seen:
            break
        seen.add(info["key"])
        if info["covered"]:
            hidden.append(f"{key} {page.url} {info}")
    return seen, hidden


def test_keyboard_menu_closes_on_esc_and_focus_is_never_hidden(page, live_server, data):
    personas = data[0]
    switch_to(page, live_server, personas.secretariat)
    page.set_viewport_size(PHONE)
    visit(page, f"{live_server.url}/")

    # Esc closes the menu and gives the focus back to its button, from inside the menu too.
    toggle = page.get_by_role("button", name="メインメニュー")
    toggle.click()
    expect(page.locator("#main-menu")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.locator("#main-menu a").first).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#main-menu")).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main-menu")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#main-menu")).to_be_hidden()
    expect(toggle).to_be_focused()

    # 2.4.11: tabbing through long pages forwards and back, on a desk and on a phone, the
    # focused element is never under the header or a table's sticky head. The procedures
    # list's table is taller than its scrolling region, the dashboard the longest page.
    hidden: list[str] = []
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        for path in ("/initiatives/procedures/", "/plan/dashboard/"):
            visit(page, live_server.url + path)
            forwards, found = tab_through(page, "Tab", 150)
            hidden += found
            backwards, found = tab_through(page, "Shift+Tab", 150)
            hidden += found
            assert len(forwards) > 30 and len(backwards) > 30, (path, len(forwards))
    assert not hidden, "focused but hidden:\n" + "\n".join(hidden)


# Controls a pointer aims at (2.5.8): buttons, fields, the menu's, the header's, the
# footer's and the pages' navigation links, link-buttons. A link inside a sentence or a
# table cell's text is exempt (its size is the line's), and so is what is not displayed.
TARGETS = """(mainAction) => {
  const controls = 'button, select, summary, input:not([type=hidden]), textarea, .button, '
    + '.main-nav a, .user-menu a, .site-title a, .site-footer a, .pagination a, '
    + '.year-links a, [role=tab]';
  return Array.from(document.querySelectorAll(controls))
    .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden'
      && !el.closest('.visually-hidden'))
    .map((el) => {
      const r = el.getBoundingClientRect();
      const main = el.matches(mainAction);
      const least = main ? 44 : 24;
      return {html: el.outerHTML.slice(0, 90), w: r.width, h: r.height, least, main};
    })
    .filter((t) => t.h < t.least - 0.5 || t.w < t.least - 0.5);
}"""
# The main actions: a page's primary button, the menu and filter buttons.
MAIN_ACTIONS = ".button-primary, .nav-toggle, .disclosure-toggle"


def test_controls_are_24_px_and_main_actions_44_px(page, live_server, data):
    personas, ini, review, _snapshot = data
    pages = {
        personas.secretariat: [
            "/",
            "/initiatives/",
            f"/initiatives/{ini.pk}/",
            f"/initiatives/{ini.pk}/progress/new/",
            f"/initiatives/reviews/{review.pk}/",
            "/initiatives/procedures/",
            "/plan/dashboard/",
            "/plan/schedule/",
            "/plan/versions/",
            "/organisation/staff/",
            "/organisation/staff/roster/",
            "/excel/",
        ],
        personas.member: ["/"],
        None: ["/accounts/login/", "/public/", "/public/help/"],
    }
    small: list[str] = []
    for user, paths in pages.items():
        switch_to(page, live_server, user)
        for path in paths:
            page.set_viewport_size(DESKTOP)
            visit(page, live_server.url + path)
            for size in (DESKTOP, PHONE):
                page.set_viewport_size(size)
                if size is PHONE and page.locator(".nav-toggle").is_visible():
                    page.locator(".nav-toggle").click()  # the menu's links measured open
                small += [
                    f"{size['width']}px {path}: {t['html']} {t['w']:.0f}×{t['h']:.0f} < {t['least']}"
                    for t in page.evaluate(TARGETS, MAIN_ACTIONS)
                ]
    assert not small, "targets too small:\n" + "\n".join(small)


def test_login_allows_paste_and_password_managers(page, live_server, personas):
    """3.3.8: nothing to remember or transcribe beyond what a password manager fills in;
    the fields name what they hold and accept a pasted password."""
    page.set_viewport_size(PHONE)
    visit(page, f"{live_server.url}/accounts/login/")
    username, password = page.get_by_label("ユーザー名"), page.get_by_label("パスワード")
    expect(username).to_have_attribute("autocomplete", "username")
    expect(password).to_have_attribute("autocomplete", "current-password")
    expect(password).to_have_attribute("type", "password")
    # The form asks for the user name and password only: no puzzle, no code to copy.
    fields = page.locator("main form input:not([type=hidden]), main form select, main textarea")
    expect(fields).to_have_count(2)
    # Pasting is not blocked (a paste event is not cancelled by the page) …
    pasted = password.evaluate(
        """(el) => {
          const data = new DataTransfer();
          data.setData('text/plain', 'x');
          const event = new ClipboardEvent('paste', {clipboardData: data, cancelable: true,
                                                     bubbles: true});
          return el.dispatchEvent(event);
        }"""
    )
    assert pasted, "the page cancels pasting into the password field"
    # … and text put in as a paste or a password manager does, without key presses, logs in.
    username.focus()
    page.keyboard.insert_text(personas.member.get_username())
    password.focus()
    page.keyboard.insert_text(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator(".user-name")).to_contain_text(personas.member.get_username())


def test_multistep_imports_ask_for_nothing_twice(page, live_server, personas, tmp_path):
    """3.3.7: the roster's and the bulk import's confirm step carry what the first step took
    (a token for the upload), and a second reading keeps the date already typed."""
    from workgroups.models import StaffProfile

    switch_to(page, live_server, personas.secretariat)
    page.set_viewport_size(PHONE)
    StaffProfile.objects.filter(user=personas.member).update(staff_number="2001")
    roster = tmp_path / "meibo.xlsx"
    roster.write_bytes(
        roster_xlsx([person("2001", "総務課", "北 一郎"), person("2002", "総務課", "南 花子")])
    )
    visit(page, f"{live_server.url}/organisation/staff/roster/")
    page.locator("input[type=file]").set_input_files(str(roster))
    typed = timezone.localdate().isoformat()
    page.get_by_label("適用日").fill(typed)
    page.get_by_role("button", name="読み込んで変更内容を確認").click()
    expect(page.locator("main")).to_contain_text("追加 1人")
    confirm = page.locator("form[action$='/roster/confirm/']")
    expect(confirm.locator("input:not([type=hidden]), select, textarea")).to_have_count(0)
    expect(confirm.locator("input[name=token]")).to_have_count(1)
    expect(page.get_by_label("適用日")).to_have_value(typed)
    confirm.get_by_role("button", name="この内容で取り込む").click()
    expect(page.locator(".messages")).to_contain_text("職員名簿を取り込みました")
    assert StaffProfile.objects.filter(staff_number="2002").exists()

    progress = tmp_path / "progress.xlsx"
    progress.write_bytes(
        xlsx_bytes(
            [
                ["進捗記録の一括入力"],
                sheets.PROGRESS.header(),
                ["3.1", date(2026, 6, 1), "遅れ", 20, "ベンダー調整"],
            ]
        )
    )
    visit(page, f"{live_server.url}/excel/progress/import/")
    page.locator("input[type=file]").set_input_files(str(progress))
    page.get_by_role("button", name="読み込んで変更内容を確認").click()
    expect(page.locator("main")).to_contain_text("追加 1件")
    confirm = page.locator("form[action$='/progress/confirm/']")
    expect(confirm.locator("input:not([type=hidden]), select, textarea")).to_have_count(0)
    confirm.get_by_role("button", name="取り込む").click()
    expect(page.locator(".messages")).to_contain_text("取り込みました")
    assert ProgressEntry.objects.filter(initiative=initiative("3.1"), percent=20).exists()
