"""Real-browser tests: Debian's chromium driven by Playwright's sync API.

- chromium missing → the tests FAIL (pytest.fail), never skip.
- no network: every request outside the live server is aborted and fails the test.
- CSP violations and JavaScript errors reported by the page fail the test.
- on failure a screenshot and the page's HTML are saved in test-artifacts/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"{CHROMIUM} がありません: ブラウザテストには Debian の chromium が必要です "
            "(`make browser` または `apt-get install chromium`)。",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the tests
    # make for their data are still synchronous, so Django's guard is lifted for them only.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, request) -> Iterator:
    context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    server_host = urlsplit(live_server.url).hostname
    blocked: list[str] = []
    problems: list[str] = []

    def only_the_live_server(route):
        host = urlsplit(route.request.url).hostname
        if host in {server_host, "127.0.0.1", "localhost"} or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_live_server)
    page = context.new_page()
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" or "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
    page.e2e_blocked = blocked  # for tests of this harness itself
    page.e2e_problems = problems
    page.e2e_expected_errors = []  # e.g. "403 (Forbidden)" when a test provokes one on purpose
    yield page

    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        try:
            page.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
            (ARTIFACTS / f"{stem}.html").write_text(page.content(), encoding="utf-8")
        except Exception as exc:  # the page may be gone; the test already failed
            print(f"screenshot failed: {exc}")
    context.close()
    if not failed:
        # 404s the tests provoke on purpose log a console error; nothing else may.
        expected = ["404 (Not Found)", *page.e2e_expected_errors]
        problems[:] = [p for p in problems if not any(e in p for e in expected)]
        assert not blocked, f"requests outside the live server: {blocked}"
        assert not problems, "\n".join(problems)
