"""The close-out report (計画期間の総括) of the loaded plan with six years of data: the same
figures as the dashboard each year, unapproved reviews never shown beyond 「未承認」, and the
screen, Word, PDF and Excel files read back (LibreOffice prints each file once)."""

from __future__ import annotations

import io
import subprocess
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import docx
import openpyxl
import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from initiatives.models import CountableTarget, IndicatorValue
from reporting.documents.closing import closing_document
from reporting.selectors.dashboard import dashboard_for
from reporting.selectors.summary import plan_summary
from reporting.workbooks.summary import closing_workbook
from tests.excel.test_table41_print import (
    A4_LANDSCAPE,
    page_sizes,
    pdf_words,
    print_with_libreoffice,
    runs_of,
)
from tests.factory import (
    initiative,
    make_indicator,
    make_online_procedure,
    make_progress,
    make_review,
    set_system_phase,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 2, 20, 10, tzinfo=ZoneInfo("Asia/Tokyo"))  # FY2026, the final year
TODAY = date(2027, 2, 20)
YEARS = [2021, 2022, 2023, 2024, 2025, 2026]
# Text only an unapproved review holds: it must appear nowhere.
SECRET = "未承認の下書きにだけある秘密の文言"
APPROVED_ACT = "ぴったりサービスの対象手続を子育て以外にも広げる"
EXPAND_NOTE = "利用件数が伸びており、対象手続を広げて拡充する"
LONG_CHECK = (
    "申請フォームの項目を市民課と見直し、マイナポータルのぴったりサービスへ児童手当の"
    "認定請求と現況届を登録した。操作説明会を各地区の公民館で三回開き、高齢の方からの"
    "問合せに答える窓口を情報推進課に設けた。"
)


@pytest.fixture(autouse=True)
def _in_the_final_year():
    with time_machine.travel(NOW, tick=False):
        yield


def six_years(plan):
    """Progress in every year for some initiatives (not all: the basis shows), indicators
    with targets and actuals, procedures and systems, approved and unapproved reviews."""
    for fy in YEARS:
        k = fy - 2020  # 1..6
        make_progress(
            initiative("2.1"), entry_date=date(fy, 9, 1), status="on_track", percent=10 * k
        )
        make_progress(
            initiative("3.1"), entry_date=date(fy, 11, 1), status="delayed", percent=5 * k
        )
        if fy % 2:
            make_progress(initiative("1.1"), entry_date=date(fy, 6, 1), status="on_track")
        if fy >= 2024:
            make_progress(initiative("4.1"), entry_date=date(fy, 7, 1), status="done")
    usage = make_indicator(initiative("2.1"), "電子申請の利用件数", unit="件")
    for fy in YEARS:
        k = fy - 2020
        IndicatorValue.objects.create(
            indicator=usage,
            fiscal_year=fy,
            target=Decimal(100 * k),
            actual=Decimal(110 * k) if fy != 2025 else Decimal(85 * k),
        )
    paper = make_indicator(initiative("3.1"), "紙の申請書の削減率", unit="%")
    IndicatorValue.objects.create(
        indicator=paper, fiscal_year=2024, target=Decimal("50.5"), actual=Decimal("40.25")
    )
    target = CountableTarget.objects.get(plan=plan, code="online-procedures")
    online = make_indicator(initiative("2.1"), "オンライン化した手続数", countable_target=target)
    IndicatorValue.objects.create(indicator=online, fiscal_year=2022, target=Decimal(27))
    for n in range(1, 21):
        make_online_procedure(n, online_on=date(2022, 6, 1) if n <= 18 else date(2023, 8, 1))
    set_system_phase(1, "done", migrated_on=date(2025, 9, 1))
    set_system_phase(2, "done", migrated_on=date(2026, 5, 1))  # 期限後移行

    for fy in YEARS:
        make_review(
            initiative("2.1"),
            fy,
            state="approved",
            plan_text=f"計画{fy}",
            do_text=f"実行{fy}",
            check_text=LONG_CHECK if fy == 2026 else f"評価{fy}",
            act_text=APPROVED_ACT if fy == 2026 else f"改善{fy}",
            self_grade="A",
            carry_over="expand" if fy == 2026 else "",
            carry_over_note=EXPAND_NOTE if fy == 2026 else "",
        )
    make_review(
        initiative("1.1"), 2026, state="approved", act_text="目標を達成した", carry_over="complete"
    )
    make_review(
        initiative("4.1"), 2026, state="approved", act_text="運用を続ける", carry_over="continue"
    )
    # Not approved: only 「未承認」 may show, never their text.
    make_review(
        initiative("3.1"),
        2026,
        state="submitted",
        plan_text=SECRET,
        do_text=SECRET,
        check_text=SECRET,
        act_text=SECRET,
        carry_over="abolish",
        carry_over_note=SECRET,
        self_grade="C",
    )
    make_review(initiative("3.1"), 2024, state="checked", act_text=SECRET)
    make_review(initiative("1.1"), 2023, state="draft", check_text=SECRET)
    return plan


def page_text(pdf: Path, page: int) -> str:
    """One page's text (pdftotext -f N -l N) with spaces and line breaks dropped."""
    out = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "".join(out.split())


def assert_summary_is_page_one(words) -> None:
    """The summary's last table, the decisions, ends on page 1: its 「廃止」 row and its
    「計」 row with the 13 initiatives on the same line."""
    assert [w.page for w in words if w.text == "廃止"][:1] == [1]
    total = next(w for w in words if w.text == "計")
    assert total.page == 1
    same_line = [
        w.text
        for w in words
        if w.page == 1 and w.x0 > total.x1 and total.y0 < (w.y0 + w.y1) / 2 < total.y1
    ]
    assert same_line == ["13"]


def _grades(summary, fy):
    i = summary.years.index(fy)
    return [(g.key, g.counts[i]) for g in summary.grades]


def test_each_year_shows_the_dashboards_figures(plan, personas):
    six_years(plan)
    summary = plan_summary(plan)
    assert summary.as_of == TODAY and summary.years == YEARS
    for i, fy in enumerate(YEARS):
        board = dashboard_for(plan=plan, fiscal_year=fy, today=TODAY)
        assert summary.overall.rollups[i] == board.overall, fy
        assert [row.rollups[i] for row in summary.policies] == [g.rollup for g in board.policies]
        assert [row.label for row in summary.policies] == [g.label for g in board.policies]
        assert _grades(summary, fy) == [(k, n) for k, _label, n in board.grades], fy
    # and the figures themselves, so that the comparison cannot pass on two empty pages
    r2026 = summary.overall.rollups[-1]
    assert (r2026.percent, r2026.reported, r2026.total) == (Decimal("63.3"), 3, 13)
    # FY2023: 1.1 reported 順調 without a percentage: reported, not counted
    r2023 = summary.overall.rollups[2]
    assert (r2023.percent, r2023.counted, r2023.reported) == (Decimal("22.5"), 2, 3)
    board = dashboard_for(plan=plan, fiscal_year=2026, today=TODAY)
    online, systems = summary.countables
    assert online.done == board.burnup.summary.done == 20
    assert (online.target_count, online.done_by_deadline, online.late) == (27, 18, 2)
    assert systems.done == board.systems.summary.done == 2
    assert (systems.target_count, systems.done_by_deadline, systems.late) == (20, 1, 1)
    # final grades: usage R8 A, paper (last target R6) C, online procedures (target R4): 18 of 27
    assert {(g.key, g.final) for g in summary.grades if g.final} == {("A", 1), ("C", 2)}
    assert dict((k, n) for k, _label, n in summary.decisions) == {
        "continue": 1,
        "expand": 1,
        "revise": 0,
        "complete": 1,
        "abolish": 0,  # 3.1's 廃止 is not approved: not counted as a decision
        "": 0,
        "unapproved": 1,
        "no_review": 9,
    }


def test_summary_queries_do_not_grow_with_initiatives(
    plan, personas, django_assert_max_num_queries
):
    six_years(plan)
    with django_assert_max_num_queries(16):
        plan_summary(plan)


def test_the_screen_prints_every_approved_review_and_never_an_unapproved_one(
    client, plan, personas
):
    six_years(plan)
    client.force_login(personas.hq)
    response = client.get(reverse("reporting:summary"), {"plan": plan.code})
    html = response.content.decode()
    assert SECRET not in html
    assert "<details" not in html  # nothing collapsed: the print shows every text
    assert LONG_CHECK in html and APPROVED_ACT in html and EXPAND_NOTE in html
    assert "令和6年度 (2024年度)の振り返り：未承認" in html
    assert "令和8年度 (2026年度)の振り返り：未承認" in html
    assert "自己評価 A(目標達成)" in html
    assert "目標 600 / 実績 660" in html and "目標 50.5 / 実績 40.25" in html
    assert ".00" not in html.split('id="closing-rollups"')[1]
    assert "最終年度の振り返りが未承認" in html and "拡充" in html
    assert '<th scope="row">計</th><td class="num">13</td>' in html
    assert "css/closing.css" in html and 'class="page-wide"' in html
    client.force_login(personas.member)
    assert client.get(reverse("reporting:summary")).status_code == 403


def _docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    tables = list(document.tables)
    while tables:  # the summary page's tables sit in a layout table's cells
        table = tables.pop(0)
        for cell in (cell for row in table.rows for cell in row.cells):
            parts.append(cell.text)
            tables += cell.tables
    return "\n".join(parts)


def test_word_document_reads_back(plan, personas):
    six_years(plan)
    data = closing_document(plan_summary(plan))
    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    assert section.page_width > section.page_height  # A4 landscape
    text = _docx_text(data)
    assert SECRET not in text
    assert "かほく市DX推進計画 計画期間の総括" in text
    assert "60.0%(報告 1/13件)" not in text  # a roll-up and its basis, from the data:
    assert "63.3%\n報告 3/13件" in text  # the summary: two lines in a narrow column
    assert "60.0%(報告 1/4件)" in text  # a policy's page: one line
    assert LONG_CHECK in text and APPROVED_ACT in text and EXPAND_NOTE in text
    assert "R6 (2024) の振り返り:未承認" in text
    assert "目標 50.5 / 実績 40.25 / C" in text
    # the decisions with their total, every initiative once
    _figures, decisions = document.tables[0].rows[0].cells[1].tables  # the right column
    assert [c.text for c in decisions.rows[-1].cells] == ["計", "13"]
    # the indicator's name gets the room, the year columns share the rest
    indicators = next(t for t in document.tables if t.rows[0].cells[0].text == "項目")
    widths = [c.width for c in indicators.columns]
    assert widths[0] >= 2 * widths[1] and widths[1] == widths[6] > widths[7]
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading 1")]
    assert headings[1:] == [
        "基本方針1 産業・生活のデジタル化",
        "基本方針2 行政サービスの利便性向上",
        "基本方針3 行政事務の効率化",
        "基本方針4 安全・安心のデジタル基盤強化",
    ]


@pytest.fixture
def workbook(plan, personas):
    six_years(plan)
    return closing_workbook(plan_summary(plan))


def test_workbook_holds_numbers_as_numbers(workbook):
    wb = openpyxl.load_workbook(io.BytesIO(workbook))
    assert wb.sheetnames == ["総括", "進捗", "指標", "振り返り", "最終年度の方針"]
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage is True
        assert (int(ws.page_setup.fitToWidth), int(ws.page_setup.fitToHeight)) == (1, 0)
        for row in ws.iter_rows():
            for cell in row:
                assert not (isinstance(cell.value, str) and SECRET in cell.value), ws.title
    ind = wb["指標"]
    rows = {(r[1], r[3]): r for r in ind.iter_rows(min_row=2, values_only=True) if r[0]}
    usage = rows[("電子申請の利用件数", "R8 (2026)")]
    assert usage[4:8] == (600, 660, "A", "A") and type(usage[4]) is int
    assert rows[("紙の申請書の削減率", "R6 (2024)")][4:8] == (50.5, 40.25, "C", "C")
    assert rows[("オンライン化した手続数", "R4 (2022)")][4:8] == (27, 18, "C", "C")
    summary = wb["総括"]
    values = [c.value for row in summary.iter_rows() for c in row]
    assert 27 in values and 20 in values and "27.00" not in map(str, values)
    overall = next(r for r in range(1, 20) if summary.cell(r, 1).value == "かほく市DX推進計画")
    assert summary.cell(overall, 8).value == pytest.approx(0.633)
    assert summary.cell(overall, 8).number_format == "0.0%"
    assert summary.cell(overall + 1, 8).value == 3 and summary.cell(overall + 2, 8).value == 13
    decisions = {
        summary.cell(r, 10).value: summary.cell(r, 14).value for r in range(1, summary.max_row)
    }
    assert (decisions["拡充"], decisions["廃止"], decisions["計"]) == (1, 0, 13)
    reviews = wb["振り返り"]
    states = {(r[0], r[2]): r for r in reviews.iter_rows(min_row=2, values_only=True)}
    assert states[("3.1", "R8 (2026)")][3:] == ("未承認", None, None, None, None, None)
    assert states[("2.1", "R8 (2026)")][8] == APPROVED_ACT
    progress = wb["進捗"]
    row = next(
        r
        for r in progress.iter_rows(min_row=2)
        if r[0].value == "2.1" and r[3].value == "R8 (2026)"
    )
    assert row[5].value == pytest.approx(0.6) and row[5].number_format == "0%"
    assert row[6].value == datetime(2026, 9, 1)


@pytest.mark.slow
def test_libreoffice_prints_the_workbook_readably_on_a4_landscape(workbook, tmp_path):
    xlsx = tmp_path / "closing.xlsx"
    xlsx.write_bytes(workbook)
    pdf = print_with_libreoffice(xlsx)
    sizes = page_sizes(pdf)
    assert sizes and all(s == pytest.approx(A4_LANDSCAPE, abs=1) for s in sizes)
    words = pdf_words(pdf)
    assert not [w for w in words if "###" in w.text]
    for text in (LONG_CHECK, APPROVED_ACT, EXPAND_NOTE, "電子申請の利用件数", "63.3%"):
        assert runs_of(words, text), f"{text} is not printed whole"
    # ≥ 8 pt on paper: the body text's glyph boxes (11 pt scaled to the page width)
    run = runs_of(words, APPROVED_ACT)[0]
    assert min(w.y1 - w.y0 for w in run) >= 8.0
    assert SECRET not in " ".join(w.text for w in words)
    # the summary sheet is page 1, the next sheet starts page 2
    assert_summary_is_page_one(words)
    assert "取り組みごとの進捗" not in page_text(pdf, 1)
    assert page_text(pdf, 2).startswith("取り組みごとの進捗")


@pytest.mark.slow
def test_command_writes_pdf_docx_and_xlsx(plan, personas, tmp_path):
    six_years(plan)
    out = tmp_path / "closing.pdf"
    call_command("export_closing_report", plan=plan.code, format="pdf", output=str(out))
    assert out.read_bytes().startswith(b"%PDF")
    assert all(s == pytest.approx(A4_LANDSCAPE, abs=1) for s in page_sizes(out))
    text = subprocess.run(
        ["pdftotext", str(out), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = "".join(text.split())
    assert "計画期間の総括" in flat and SECRET not in flat
    for whole in (APPROVED_ACT, EXPAND_NOTE, LONG_CHECK, "基本方針4安全・安心のデジタル基盤強化"):
        assert whole in flat, whole
    # the summary is page 1, whole; the first basic policy starts page 2
    assert_summary_is_page_one(pdf_words(out))
    assert "の振り返り(承認済" not in page_text(out, 1)
    assert page_text(out, 2).startswith("基本方針1産業・生活のデジタル化進捗率")
    for fmt in ("docx", "xlsx"):
        path = tmp_path / f"closing.{fmt}"
        call_command("export_closing_report", plan=plan.code, format=fmt, output=str(path))
        assert path.stat().st_size > 5000
    with pytest.raises(CommandError, match="計画「nope」が見つかりません。"):
        call_command("export_closing_report", plan="nope", format="docx", output=str(out))
    with pytest.raises(CommandError, match="書き出し先のフォルダ"):
        call_command(
            "export_closing_report",
            plan=plan.code,
            format="docx",
            output=str(tmp_path / "x" / "y.docx"),
        )


def test_downloads_from_the_screen(client, plan, personas):
    client.force_login(personas.secretariat)
    url = reverse("reporting:summary")
    for fmt, kind in (
        ("docx", "wordprocessingml"),
        ("xlsx", "spreadsheetml"),
    ):
        response = client.get(url, {"plan": plan.code, "format": fmt})
        assert response.status_code == 200 and kind in response["Content-Type"]
        assert (
            "計画期間の総括" in response["Content-Disposition"]
            or "%E8%A8%88" in response["Content-Disposition"]
        )


def test_pdf_download_without_libreoffice_says_so(client, plan, personas, settings):
    settings.OFFICE_SOFFICE = str(Path("/nonexistent/soffice"))
    client.force_login(personas.secretariat)
    response = client.get(
        reverse("reporting:summary"), {"plan": plan.code, "format": "pdf"}, follow=True
    )
    assert (
        "PDF を作成できません: サーバーに LibreOffice がありません。" in response.content.decode()
    )
