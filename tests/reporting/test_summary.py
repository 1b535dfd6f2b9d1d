"""The six-year summary (計画期間の総括): per year, per initiative, with what figures rest on."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from initiatives.models import Indicator, IndicatorValue
from plans.models import Plan
from reporting.selectors.summary import plan_summary
from tests.factory import initiative, make_progress, make_review

pytestmark = pytest.mark.django_db


def _data(personas):
    ini21 = initiative("2.1")
    make_progress(ini21, entry_date=date(2022, 3, 1), status="on_track", percent=40)
    make_progress(ini21, entry_date=date(2022, 9, 1), status="on_track", percent=60)
    make_progress(initiative("3.1"), entry_date=date(2025, 6, 1), status="done", percent=None)
    ind = Indicator.objects.create(initiative=ini21, name="オンライン申請件数", unit="件")
    IndicatorValue.objects.create(
        indicator=ind, fiscal_year=2022, target=Decimal(27), actual=Decimal(30)
    )
    make_review(ini21, fiscal_year=2022, act_text="手続を拡充する", state="approved")
    return ini21


def test_summary_figures_per_year_rest_on_what_was_reported(plan, personas):
    _data(personas)
    s = plan_summary(plan)
    assert s.years == [2021, 2022, 2023, 2024, 2025, 2026]
    r2022 = s.overall.rollups[1]
    assert (r2022.percent, r2022.reported, r2022.total) == (Decimal("60.0"), 1, 13)
    r2025 = s.overall.rollups[4]
    assert (r2025.percent, r2025.reported) == (Decimal("100.0"), 1)
    # 2022-03-01 falls in FY2021 (R3): the fiscal year, not the calendar year, counts
    assert (s.overall.rollups[0].percent, s.overall.rollups[0].reported) == (Decimal("40.0"), 1)
    assert s.overall.rollups[2].reported == 0 and s.overall.rollups[2].percent is None
    policy2 = next(g for g in s.policies if g.label.startswith("基本方針2"))
    assert policy2.rollups[1].reported == 1 and policy2.rollups[1].total == 4
    row = next(i for i in s.initiatives if i.initiative.code == "2.1")
    assert [y.percent for y in row.years] == [40, 60, None, None, None, None]
    assert row.years[1].status_label == "順調" and row.years[2].status_label == "未報告"
    (ind,) = row.indicators
    assert ind.values[1].grade == "A" and ind.values[0] is None
    assert [r.act_text for r in row.reviews] == ["手続を拡充する"]
    assert [c.state_text for c in row.review_cells] == ["未作成", "承認済", *["未作成"] * 4]


def test_summary_queries_do_not_grow_with_initiatives(
    plan, personas, django_assert_max_num_queries
):
    _data(personas)
    with django_assert_max_num_queries(16):
        plan_summary(plan)


def test_summary_screen_and_excel(client, personas):
    _data(personas)
    client.force_login(personas.hq)
    page = client.get(reverse("reporting:summary")).content.decode()
    assert "計画期間の総括" in page and "報告 1 / 13件" in page and "報告 0 / 13件" in page
    assert "手続を拡充する" in page
    response = client.get(reverse("reporting:summary"), {"format": "xlsx"})
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["総括", "進捗", "指標", "振り返り", "最終年度の方針"]
    ws = wb["総括"]
    assert ws["C4"].value == "R3 (2021)" and ws["D5"].value == pytest.approx(0.6)
    assert (ws["D6"].value, ws["D7"].value) == (1, 13)
    assert ws.page_setup.orientation == "landscape"
    assert wb["振り返り"]["I2"].value == "手続を拡充する"
    client.force_login(personas.member)
    assert client.get(reverse("reporting:summary")).status_code == 403


def test_summary_of_another_plan_by_code_and_unknown_plan(client, personas):
    client.force_login(personas.secretariat)
    assert client.get(reverse("reporting:summary"), {"plan": "nope"}).status_code == 404
    code = Plan.objects.get().code
    assert client.get(reverse("reporting:summary"), {"plan": code}).status_code == 200
