"""The meeting report on paper, printed by Chromium (issue 22).

- the short paper (?mode=short) is one or two A4 landscape pages, its 資料番号 at the top right,
  with the figures and no review text;
- the full report prints no draft, no empty Plan/Do/Check/Act block, and its 報告 column
  keeps 「未報告」 whole.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date
from pathlib import Path

import pytest

from initiatives.models import Initiative, Review
from reporting.services.meeting_reports import report_snapshot_create
from tests.e2e.helpers import axe_check, e2e_login
from tests.factory import REVIEW_COMPLETE, initiative, make_indicator, make_progress, make_review

A4_LANDSCAPE = (841.89, 595.28)  # points
DRAFT = "【下書き・未確認】窓口の混雑は改善したと思う（内部メモ：課長に未確認）"
LONG_TEXT = "電子申請の対象手続を3件追加し、住民向けの案内ページを更新した。" * 4


@pytest.fixture
def snapshot(personas):
    ini = list(Initiative.objects.order_by("policy__number", "number"))
    for n, i in enumerate(ini[::2]):
        make_progress(i, status="on_track", percent=10 * (n + 1), entry_date=date(2026, 10, 1))
    for i in ini[:6]:
        make_indicator(i, "オンライン申請件数", unit="件")
    make_review(initiative("1.1"), state=Review.State.DRAFT, plan_text=DRAFT, check_text=DRAFT)
    for code, state in (("2.1", "submitted"), ("2.2", "checked"), ("2.3", "checked")):
        make_review(initiative(code), state=state, **{**REVIEW_COMPLETE, "do_text": LONG_TEXT})
    make_review(initiative("3.1"), state="approved", plan_text="承認された計画", self_grade="A")
    return report_snapshot_create(
        plan=ini[0].policy.plan,
        fiscal_year=2026,
        title="令和8年度 第2回DX推進本部会議",
        today=date(2026, 11, 24),
        user=personas.secretariat,
        document_number="資料2",
    ), personas


def pdf_info(pdf: Path) -> list[tuple[float, float]]:
    out = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "99", str(pdf)], check=True, capture_output=True, text=True
    ).stdout
    return [(float(w), float(h)) for w, h in re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", out)]


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


def word_boxes(pdf: Path, word: str) -> list[tuple[float, float, float, float]]:
    xml = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [
        tuple(float(v) for v in box)
        for *box, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            xml,
        )
        if text == word
    ]


def print_pdf(page, url: str, pdf: Path) -> list[tuple[float, float]]:
    response = page.goto(url)
    assert response is not None and response.ok
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    sizes = pdf_info(pdf)
    assert sizes and all(
        abs(w - A4_LANDSCAPE[0]) < 1.5 and abs(h - A4_LANDSCAPE[1]) < 1.5 for w, h in sizes
    ), sizes
    return sizes


def test_the_short_paper_prints_on_one_or_two_a4_landscape_pages(
    page, live_server, snapshot, tmp_path
):
    report, personas = snapshot
    e2e_login(page, live_server, personas.hq)
    pdf = tmp_path / "report-short.pdf"
    sizes = print_pdf(page, f"{live_server.url}/plan/reports/{report.pk}/?mode=short", pdf)
    assert 1 <= len(sizes) <= 2, f"{len(sizes)} pages"
    text = re.sub(r"[ \t]+", "", pdf_text(pdf))  # pdftotext spaces wide glyphs apart
    for expected in ("資料2", "令和8年度第2回DX推進本部会議", "0/27", "0/20", "推進本部の承認待ち"):
        assert expected in text, expected
    assert "2.2情報発信の充実・強化" in text  # waits for headquarters' approval (so does 2.3)
    assert DRAFT not in text and "承認された計画" not in text and "電子申請の対象手続" not in text
    # 資料番号 at the top right of the first page (inside the 12 mm margin, level with the
    # title, above the line under it). pdftotext splits 「資料2」 where the script changes.
    (label,) = word_boxes(pdf, "資料")
    number = next(b for b in word_boxes(pdf, "2") if abs(b[0] - label[2]) < 1)
    right_edge = A4_LANDSCAPE[0] - 12 / 25.4 * 72
    assert right_edge - 40 < number[2] <= right_edge + 1, number
    (meta,) = word_boxes(pdf, "かほく市DX推進計画")
    assert label[3] < meta[1] + 5 and label[0] > A4_LANDSCAPE[0] * 0.8, (label, meta)


def test_the_full_report_prints_no_draft_no_empty_block_and_whole_labels(
    page, live_server, snapshot, tmp_path
):
    report, personas = snapshot
    e2e_login(page, live_server, personas.secretariat)
    url = f"{live_server.url}/plan/reports/{report.pk}/"
    page.goto(url)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1032, "height": 720})  # A4 landscape less its margins
    # Every 報告 cell is one line: 「未報告」 never breaks into 未報 / 告.
    lines = page.evaluate(
        """() => Array.from(document.querySelectorAll('td.report-reported')).map((td) => {
             const range = document.createRange(); range.selectNodeContents(td);
             return new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size;
           })"""
    )
    assert lines and set(lines) == {1}, lines
    page.emulate_media(media="null")
    page.set_viewport_size({"width": 1366, "height": 900})
    pdf = tmp_path / "report-full.pdf"
    print_pdf(page, url, pdf)
    text = re.sub(r"[ \t]+", "", pdf_text(pdf))
    assert DRAFT not in text and "内部メモ" not in text
    assert "未報告" in text and "未報\n" not in text
    reviews = text[text.index("PDCA振り返り（Plan・Do・Check・Act）") :]
    assert "承認された計画" in reviews and "提出済" in reviews and "確認済" in reviews
    # 3.1 was approved with its Plan only: its Do/Check/Act are not printed as 「—」.
    approved = reviews[reviews.index("3.1") :]
    assert "Do(実行)" not in approved and "—" not in approved


def test_the_short_paper_reads_on_a_phone_and_axe_finds_nothing(
    page, live_server, snapshot, tmp_path
):
    report, personas = snapshot
    e2e_login(page, live_server, personas.hq)
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (f"/plan/reports/{report.pk}/?mode=short", "/plan/reports/"):
        response = page.goto(live_server.url + url)
        assert response is not None and response.ok
        # Nothing scrolls sideways but a wide table inside its own region.
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        axe_check(page, every_impact=True)
    page.goto(f"{live_server.url}/plan/reports/{report.pk}/?mode=short")
    page.screenshot(path=str(tmp_path / "report-short-390.png"), full_page=True)
