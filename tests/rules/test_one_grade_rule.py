"""One grade rule (IndicatorValue.grade_on, GRADE_RULE_TEXT), asked by every caller.

An indicator-year whose target or actual is missing is 未評価 while its fiscal year runs and
D (評価できない) once it has ended; reaching the target is A. The initiative page, the
dashboard, the meeting report (page and Excel), the six-year summary (page and Excel), the
indicator export and the API (detail and summary) all say the same on the same day, and
every distribution counts each indicator once, 未評価 included.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from initiatives.models import Indicator, IndicatorValue
from plans.models import Plan
from reporting.exchange import export, sheets
from reporting.models import ReportSnapshot
from tests.factory import PLAN_CODE, initiative

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
PAPER = "窓口での紙申請件数"
ONLINE = "オンライン申請件数"

# (day, what FY2026 without an actual is on that day, the same as a file cell / API key)
RUNNING = ("2026-12-06", "none", "未評価", "ungraded")  # FY2026 still running
ENDED = ("2027-04-01", "D", "D(評価できない)", "D")  # FY2026 has ended


@pytest.fixture(params=[RUNNING, ENDED], ids=["fy-running", "fy-ended"])
def day(request):
    on, key, text, api = request.param
    moment = datetime.fromisoformat(f"{on}T10:00").replace(tzinfo=TOKYO)
    with time_machine.travel(moment, tick=False):
        yield key, text, api


@pytest.fixture
def indicators(personas):
    ini = initiative("2.1")
    paper = Indicator.objects.create(initiative=ini, name=PAPER, direction="lower")
    # FY2026: a target, no actual yet; FY2025: no row at all (ended in both cases: D).
    IndicatorValue.objects.create(indicator=paper, fiscal_year=2026, target=Decimal("50"))
    online = Indicator.objects.create(initiative=ini, name=ONLINE, order=1)
    # Exactly on target: A (目標達成), not B.
    IndicatorValue.objects.create(indicator=online, fiscal_year=2026, target=27, actual=27)
    return paper, online


def _badge(html: str, caption: str, year_label: str) -> str:
    table = html[html.index(caption) :]
    table = table[: table.index("</table>")]
    row = table[table.index(year_label) :]
    return re.search(r'class="badge grade grade-(\w+)"', row)[1]


def test_the_initiative_page(client, personas, indicators, day):
    key, _, _ = day
    client.force_login(personas.viewer)
    html = client.get(reverse("initiatives:detail", args=[initiative("2.1").pk])).content.decode()
    assert _badge(html, PAPER, "令和8年度 (2026年度)") == key
    assert _badge(html, PAPER, "令和7年度 (2025年度)") == "D"  # ended before both days
    assert _badge(html, ONLINE, "令和8年度 (2026年度)") == "A"
    assert ('grade-none">未評価</span>' in html) is (key == "none")
    assert "年度が終わるとD(評価できない)" in html  # the rule beside the grades


def test_the_dashboard_and_the_api_summary_count_every_indicator(client, personas, indicators, day):
    key, _, api = day
    client.force_login(personas.hq)
    response = client.get(reverse("reporting:dashboard"), {"plan": PLAN_CODE, "fy": "2026"})
    counts = {k: n for k, _, n in response.context["dashboard"].grades}
    expected = {"A": 1, "B": 0, "C": 0, "D": 0, "none": 0}
    expected[key] += 1
    assert counts == expected
    html = response.content.decode()
    assert 'id="grade-rule"' in html and "A: 100%以上(目標達成)" in html

    api_client = APIClient()
    api_client.force_login(personas.hq)
    body = api_client.get("/api/v1/summary/", {"fiscal_year": "2026"}).json()
    assert body["grades"] == {"A": 1, "B": 0, "C": 0, "D": 0, "ungraded": 0} | {
        api: 1 + (api == "A")
    }
    assert sum(body["grades"].values()) == Indicator.objects.count() == 2
    assert body["grade_rule"] == response.context["dashboard"].grade_rule


def test_the_api_detail(personas, indicators, day):
    _, text, api = day
    client = APIClient()
    client.force_login(personas.member)
    body = client.get("/api/v1/initiatives/2.1/", {"fiscal_year": "2026"}).json()
    grades = {i["name"]: (i["grade"], i["grade_label"]) for i in body["indicators"]}
    assert grades[PAPER] == (api, text)
    assert grades[ONLINE] == ("A", "A(目標達成)")
    body = client.get("/api/v1/initiatives/2.1/", {"fiscal_year": "2025"}).json()
    assert {i["name"]: i["grade"] for i in body["indicators"]} == {PAPER: "D", ONLINE: "D"}


def test_the_meeting_report_page_and_excel(client, personas, indicators, day):
    key, text, _ = day
    client.force_login(personas.secretariat)
    response = client.post(reverse("reporting:report_create"), {"title": "本部会議", "fy": "R8"})
    assert response.status_code == 302
    snapshot = ReportSnapshot.objects.get()
    (row,) = [i for i in snapshot.data["initiatives"] if i["code"] == "2.1"]
    assert {i["name"]: i["grade"] for i in row["indicators"]} == {PAPER: key, ONLINE: "A"}
    assert {k: n for k, _, n in snapshot.data["grades"]}[key] == 1
    assert sum(n for _, _, n in snapshot.data["grades"]) == 2

    html = client.get(reverse("reporting:report_detail", args=[snapshot.pk])).content.decode()
    cell = html[html.index(PAPER) :]
    assert re.search(r'class="badge grade grade-(\w+)"', cell[: cell.index("</div>")])[1] == key
    assert "年度が終わるとD(評価できない)" in html

    data = client.get(reverse("reporting:report_excel", args=[snapshot.pk])).content
    ws = openpyxl.load_workbook(io.BytesIO(data))["指標"]
    rows = {r[2]: r for r in ws.iter_rows(values_only=True) if r and r[2] in (PAPER, ONLINE)}
    assert (rows[PAPER][6], rows[ONLINE][6]) == (text, "A(目標達成)")
    assert any(str(c.value or "").startswith("評価の基準:") for c in ws["A"])


def test_the_six_year_summary_page_and_excel(client, personas, indicators, day):
    key, text, _ = day
    client.force_login(personas.hq)
    url = reverse("reporting:summary")
    response = client.get(url, {"plan": PLAN_CODE})
    (row,) = [
        r
        for s in response.context["summary"].initiatives
        for r in s.indicators
        if r.indicator.name == PAPER
    ]
    assert row.grades == ["D", "D", "D", "D", "D", key]  # R3–R7 ended without a value
    html = response.content.decode()
    assert "評価の基準：" in html

    data = client.get(url, {"plan": PLAN_CODE, "format": "xlsx"}).content
    ws = openpyxl.load_workbook(io.BytesIO(data))["指標"]
    # 目標, 実績 (numbers), 評価, 最終評価 (on the final year's row only)
    rows = {(r[1], r[3]): r[4:8] for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert rows[(PAPER, "R8 (2026)")] == (50, None, text, text)
    assert rows[(PAPER, "R7 (2025)")] == (None, None, "D(評価できない)", None)
    assert rows[(ONLINE, "R8 (2026)")] == (27, 27, "A", "A")


def test_the_indicator_export(personas, indicators, day):
    _, text, _ = day
    data = export.export_xlsx(sheets.INDICATOR_VALUES, Plan.objects.get(code=PLAN_CODE))
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    header = [c.value for c in ws[1]]
    col = header.index(sheets.GRADE_HEADER)
    grades = {r[1]: r[col] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert grades == {PAPER: text, ONLINE: "A"}
