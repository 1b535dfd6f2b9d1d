"""The close-out report in a real browser: readable on a phone, printed by Chromium on A4
landscape with every approved review's text and no unapproved one's (issue 22)."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from tests.e2e.helpers import axe_check, e2e_login
from tests.excel.test_table41_print import pdf_words
from tests.reporting.test_closing import (
    APPROVED_ACT,
    EXPAND_NOTE,
    LONG_CHECK,
    SECRET,
    assert_summary_is_page_one,
    page_text,
    six_years,
)

NOW = datetime(2027, 2, 20, 10, tzinfo=ZoneInfo("Asia/Tokyo"))


def test_close_out_report_on_a_phone_and_on_paper(page, live_server, plan, personas, tmp_path):
    with time_machine.travel(NOW, tick=False):
        six_years(plan)
    e2e_login(page, live_server, personas.hq)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/plan/summary/?plan={plan.code}")
    # nothing wider than the phone but the scrollable tables
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    axe_check(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    pdf = tmp_path / "closing.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info).groups())
    assert (round(width), round(height)) == (842, 595)  # A4 landscape
    text = "".join(
        subprocess.run(
            ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    for whole in (LONG_CHECK, APPROVED_ACT, EXPAND_NOTE, "令和6年度 (2024年度)の振り返り：未承認"):
        assert "".join(whole.split()) in text, whole
    assert SECRET not in text
    assert "ダウンロード" not in text  # the links are for the screen
    # the summary is page 1, whole (its decisions' 「計」 last); the first policy starts page 2
    assert_summary_is_page_one(pdf_words(pdf))
    assert "の振り返り（承認済" not in page_text(pdf, 1)
    assert page_text(pdf, 2).startswith("基本方針1産業・生活のデジタル化")
