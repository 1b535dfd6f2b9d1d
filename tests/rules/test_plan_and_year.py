"""One reading of ``?plan=`` and ``?fy=`` (plans.selectors.plan_and_year): the initiative page,
the dashboard, table 4-1, the six-year summary, the WG screens and the Excel screens read
the same plan and year from the same request."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from plans.selectors import plan_and_year
from portal_lib import era
from tests.factory import initiative

pytestmark = pytest.mark.django_db

FY2025 = ["2025", "R7", "r7", "令和7年度", "令和７年度", "２０２５", "2025年度", "R7年度"]


def _today_fy() -> int:
    return era.fiscal_year_of(timezone.localdate())


@pytest.mark.parametrize("typed", FY2025)
def test_every_fiscal_year_form_reaches_every_page(client, plan, personas, typed):
    assert plan_and_year(RequestFactory().get("/", {"fy": typed})).fiscal_year == 2025
    client.force_login(personas.secretariat)
    detail = client.get(reverse("initiatives:detail", args=[initiative("2.1").pk]), {"fy": typed})
    dashboard = client.get(reverse("reporting:dashboard"), {"fy": typed})
    assert (detail.context["timeline_fy"], dashboard.context["dashboard"].fiscal_year) == (
        2025,
        2025,
    )


def test_a_year_nobody_can_read_is_ignored_alike(client, plan, personas):
    client.force_login(personas.secretariat)
    detail = client.get(reverse("initiatives:detail", args=[initiative("2.1").pk]), {"fy": "R"})
    dashboard = client.get(reverse("reporting:dashboard"), {"fy": "R"})
    default = min(max(_today_fy(), plan.start_fy), plan.end_fy)
    assert detail.status_code == dashboard.status_code == 200
    assert (detail.context["timeline_fy"], dashboard.context["dashboard"].fiscal_year) == (
        _today_fy(),
        default,
    )


def test_the_plan_named_and_an_unknown_plan_read_alike(client, plan, personas):
    client.force_login(personas.secretariat)
    schedule = client.get(reverse("reporting:schedule"), {"plan": plan.code})
    wgs = client.get(reverse("workgroups:working_groups"), {"plan": plan.code})
    summary = client.get(reverse("reporting:summary"), {"plan": plan.code})
    assert [r.context["plan"] for r in (schedule, wgs)] + [summary.context["summary"].plan] == [
        plan
    ] * 3
    # A code that names no plan: table 4-1 says so, the summary answers 404.
    schedule = client.get(reverse("reporting:schedule"), {"plan": "no-such-plan"})
    assert schedule.context["unknown_plan"] is True
    assert client.get(reverse("reporting:summary"), {"plan": "no-such-plan"}).status_code == 404


def test_the_excel_screens_always_work_on_the_plan_in_force(client, plan, personas):
    request = RequestFactory().get("/", {"plan": "no-such-plan", "fy": "R7"})
    chosen = plan_and_year(request, choose_plan=False)
    assert (chosen.plan, chosen.unknown_plan, chosen.fiscal_year) == (plan, False, 2025)
    client.force_login(personas.secretariat)
    page = client.get(reverse("excel:index"), {"plan": "no-such-plan"})
    assert page.status_code == 200 and page.context["plan"] == plan
