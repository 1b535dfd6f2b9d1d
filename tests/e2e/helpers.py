"""Helpers for browser tests; import them in new flow tests:

from tests.e2e.helpers import axe_check, e2e_login

def test_member_records_progress(page, live_server, personas):
    e2e_login(page, live_server, personas.member)
    page.goto(live_server.url + "/initiatives/...")
    ...
    axe_check(page)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.factory import PASSWORD

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

# WCAG 2.1 A and AA: the success criteria JIS X 8341-3:2016 builds on.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}

_axe = Axe()  # axe-core's axe.min.js ships inside the package: injected, never fetched


def e2e_login(page: Page, live_server: Any, user: PortalUser, password: str = PASSWORD) -> None:
    """Log in through the real login form and wait for the home page."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill(user.get_username())
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.locator(".user-name")).to_contain_text(user.get_full_name() or user.username)


def axe_check(page: Page, *, context: str | dict | None = None, every_impact: bool = False) -> None:
    """Fail with a readable list if axe-core finds a serious or critical WCAG 2.1 AA problem
    (with ``every_impact``, any problem at all, minor and moderate included)."""
    results = _axe.run(
        page,
        context=context,
        options={
            "runOnly": {"type": "tag", "values": WCAG_TAGS},
            "resultTypes": ["violations"],
        },
    )
    violations = [
        v
        for v in results.response["violations"]
        if every_impact or v.get("impact") in BLOCKING_IMPACTS
    ]
    if violations:
        lines = [f"axe-core: {len(violations)} violation(s) on {page.url}"]
        for v in violations:
            lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
            for node in v["nodes"][:5]:
                lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
        pytest.fail("\n".join(lines), pytrace=False)


# WCAG 2.2 A and AA (ISO/IEC 40500:2025, which JIS X 8341-3 is expected to follow): the 2.1
# tags plus wcag22aa (target size 2.5.8 and the other 2.2 rules axe-core checks, from 4.5).
WCAG22_TAGS = [*WCAG_TAGS, "wcag22aa"]


def axe_violations(page: Page, tags: list[str] = WCAG22_TAGS, context: Any = None) -> list[str]:
    """Every axe-core violation of ``tags`` on the page (or in ``context``, a selector),
    whatever its impact, one readable line per rule and per node (empty when it passes)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe.axe_script)  # once per document: run again at another width
    options = {"runOnly": {"type": "tag", "values": tags}, "resultTypes": ["violations"]}
    violations = page.evaluate(
        "([context, options]) => axe.run(context || document, options)", [context, options]
    )["violations"]
    lines = []
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} on {page.url}")
        for node in v["nodes"][:5]:
            lines.append(f"    {', '.join(map(str, node['target']))}: {node['html'][:160]}")
    return lines
