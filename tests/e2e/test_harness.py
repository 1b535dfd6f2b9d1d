"""The browser harness catches what it promises to catch (a check that cannot fail is no check)."""

from __future__ import annotations

import pytest

from tests.e2e.helpers import axe_check

BAD_PAGE = """<!DOCTYPE html><html><head><title>probe</title></head><body>
<script>document.title = "inline ran";</script>
<img src="https://cdn.example.com/tracker.png">
<p><input type="text"></p></body></html>"""


def test_harness_blocks_network_reports_csp_and_axe_violations(page, live_server):
    def probe(route):
        route.fulfill(
            status=200,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "default-src 'self'; img-src 'self' https:"},
            body=BAD_PAGE,
        )

    page.route(f"{live_server.url}/probe/", probe)
    page.goto(f"{live_server.url}/probe/")
    page.wait_for_load_state("networkidle")
    assert page.title() == "probe"  # the inline script was refused
    assert page.e2e_blocked == ["https://cdn.example.com/tracker.png"]
    assert any("Content Security Policy" in p for p in page.e2e_problems)

    with pytest.raises(pytest.fail.Exception) as failure:
        axe_check(page)
    message = str(failure.value)
    assert "html-has-lang" in message  # serious: no lang attribute
    assert "label" in message  # critical: an input without a label

    # Clear what this test provoked on purpose so the fixture's own checks pass.
    page.e2e_blocked.clear()
    page.e2e_problems.clear()
