"""The meeting report's workbook on paper (issue 22): its summary sheet (概要) printed by
LibreOffice as a city office would, once for the module: A4 landscape, no 「###」, the rules
and lists whole inside their rows, each figure in a cell of its own, 進捗率 a number with
未報告 beside it, 基準日 a real date, the self grade kept.

Needs soffice, pdftotext and pdfinfo: a missing tool fails the test, never skips it.
"""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime
from io import BytesIO

import openpyxl
import pytest

from initiatives.models import GRADE_RULE_TEXT, Review, StandardSystem
from initiatives.selectors import ROLLUP_RULE_TEXT
from portal_lib import xlsx_layout as xl
from reporting.services.meeting_reports import report_snapshot_create
from reporting.workbooks.meeting_report import TITLE_ROWS, snapshot_workbook
from tests.excel.test_table41_print import (
    A4_LANDSCAPE,
    TOLERANCE,
    _tool,
    page_sizes,
    pdf_words,
    print_with_libreoffice,
    runs_of,
)
from tests.factory import REVIEW_COMPLETE, initiative, make_progress, make_review

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
TODAY = date(2026, 11, 24)


def _summary_only(data: bytes) -> bytes:
    """The workbook with its first sheet alone: the summary's pages are the whole PDF."""
    wb = openpyxl.load_workbook(BytesIO(data))
    for ws in wb.worksheets[1:]:
        wb.remove(ws)
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_the_summary_sheet_prints_readable_on_a4_landscape(personas, tmp_path):
    make_progress(initiative("2.1"), status="on_track", percent=60, entry_date=date(2026, 10, 1))
    make_review(initiative("2.1"), state=Review.State.SUBMITTED, **REVIEW_COMPLETE)
    make_review(
        initiative("2.2"), state=Review.State.CHECKED, **{**REVIEW_COMPLETE, "self_grade": "A"}
    )
    make_review(initiative("1.1"), state=Review.State.DRAFT, plan_text="下書きの計画")
    # A long list of hard-to-migrate systems: it wraps inside its merged row.
    difficult = list(StandardSystem.objects.order_by("number")[:8])
    StandardSystem.objects.filter(pk__in=[s.pk for s in difficult]).update(difficult=True)
    snapshot = report_snapshot_create(
        plan=initiative("2.1").policy.plan,
        fiscal_year=2026,
        title="令和8年度 第2回DX推進本部会議",
        today=TODAY,
        user=personas.secretariat,
        document_number="資料2",
    )
    data = snapshot_workbook(snapshot)
    wb = openpyxl.load_workbook(BytesIO(data))
    ws = wb["概要"]

    # --- the cells: numbers are numbers, the date a date, each figure beside its label ---
    header = [c.value for c in ws[TITLE_ROWS + 1]]
    assert header == [
        *("区分", "進捗率", "備考", "報告", "取り組み", "未報告"),
        *("A", "B", "C", "D", "未評価"),
    ]
    body = {
        r[0].value: r for r in ws.iter_rows(min_row=TITLE_ROWS + 2) if isinstance(r[0].value, str)
    }
    overall = body["計画全体"]
    assert overall[1].value == pytest.approx(0.6) and overall[2].value is None
    assert overall[1].number_format == xl.PERCENT_1DP_FORMAT
    policy1 = next(r for label, r in body.items() if label.startswith("基本方針1"))
    assert (policy1[1].value, policy1[2].value) == (None, "未報告")  # never text in 進捗率
    for row in (overall, policy1):
        assert all(isinstance(c.value, int) for c in row[3:11]), [c.value for c in row]
    assert isinstance(ws["B3"].value, datetime) and ws["B3"].value.date() == TODAY
    assert ws["B3"].number_format == xl.WAREKI_DATE_FORMAT
    date_span = next(m for m in ws.merged_cells.ranges if m.min_row == 3 and m.min_col == 2)
    widths = [ws.column_dimensions[chr(64 + c)].width for c in range(2, date_span.max_col + 1)]
    assert sum(widths) >= xl.text_width("令和00年00月00日") + 2
    online = body["オンライン化済の手続"]
    assert [c.value for c in online[:6]] == ["オンライン化済の手続", 0, 27, 27, 0, 0]
    assert [c.value for c in body["数値目標"][:6]] == [
        *("数値目標", "完了", "目標・対象", "登録", "確認済み", "期限超過")
    ]
    assert body["推進本部の承認待ち"][1].value == 1
    grades_at = next(r for r in ws.iter_rows() if r[0].value == "自己評価(提出・確認・承認済)")
    counts = ws[grades_at[0].row + 1]
    assert [c.value for c in grades_at[1:5]] == ["A", "B", "C", "D"]
    assert [c.value for c in counts[:5]] == ["件数", 1, 1, 0, 0]  # the draft's grade is not
    assert ws.oddHeader.right.text == "資料2"
    # the self grade on the initiatives sheet too
    by_initiative = wb["取り組み別"]
    assert by_initiative.cell(TITLE_ROWS + 1, 9).value == "自己評価"
    r22 = next(r for r in by_initiative.iter_rows() if r[0].value == "2.2")
    assert r22[8].value == "A"

    # --- on paper ---
    xlsx = tmp_path / "summary.xlsx"
    xlsx.write_bytes(_summary_only(data))
    pdf = print_with_libreoffice(xlsx)
    sizes = page_sizes(pdf)
    assert len(sizes) == 1, sizes  # the summary is one page
    assert all(s == pytest.approx(A4_LANDSCAPE, abs=1) for s in sizes), sizes
    text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "###" not in text
    assert not re.search(r"\d(目標|登録|対象|確認済み)", text), "a figure runs into a label"
    words = pdf_words(pdf)
    assert runs_of(words, "令和8年11月24日"), "基準日 prints as a 和暦 date"
    assert runs_of(words, "60.0%"), "進捗率 prints as a percent"
    whole = {
        "集計方法": ROLLUP_RULE_TEXT,
        "指標の評価": GRADE_RULE_TEXT,
        "移行困難システム": "、".join(str(s) for s in difficult),
    }
    right_edge = A4_LANDSCAPE[0]
    for label, value in whole.items():
        runs = runs_of(words, value)
        assert len(runs) == 1, f"{label}: not printed whole"
        run = runs[0]
        assert max(w.x1 for w in run) < right_edge, f"{label}: cut at the page edge"
        # It ends above the next row's first word: its row is tall enough for it.
        bottom = max(w.y1 for w in run)
        below = [
            w
            for w in words
            if w.page == run[-1].page and w.y0 > min(x.y0 for x in run) and w.x0 < run[0].x0 - 20
        ]
        below = [w for w in below if w.y0 > run[0].y1]
        if below:
            assert bottom <= min(w.y0 for w in below) + TOLERANCE, f"{label}: runs into next row"
