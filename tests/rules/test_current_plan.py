"""The current plan (plans.selectors.current_plan) is what every screen opens on when no plan
is chosen: the dashboard, table 4-1, meeting reports, comparison, publication settings, the
public page and the Excel screens change plan together on 1 April of the new plan's first year."""

from datetime import date

import pytest
from django.urls import reverse

from plans import selectors
from plans.models import Plan

pytestmark = pytest.mark.django_db

SCREENS = [
    ("reporting:dashboard", lambda ctx: ctx["dashboard"].plan),
    ("reporting:schedule", lambda ctx: ctx["plan"]),
    ("reporting:report_list", lambda ctx: ctx["plan"]),
    ("reporting:version_compare", lambda ctx: ctx["plan"]),
    ("reporting:publication", lambda ctx: ctx["plan"]),
    ("public:index", lambda ctx: ctx["plan"]),
    ("excel:index", lambda ctx: ctx["plan"]),
]


@pytest.fixture
def next_plan(personas):
    return Plan.objects.create(
        code="kahoku-dx-r9-r13",
        name="第2期かほく市DX推進計画",
        start_fy=2027,
        end_fy=2031,
        predecessor=personas.wg.plan,
    )


def _plans_shown(client, user, today: date, monkeypatch) -> dict[str, str]:
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: today)
    client.force_login(user)
    shown = {}
    for name, plan_of in SCREENS:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        shown[name] = plan_of(response.context).code
    return shown


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2027, 3, 31), "kahoku-dx-r3-r8"),  # last day of R8年度
        (date(2027, 4, 1), "kahoku-dx-r9-r13"),  # first day of R9年度
        (date(2040, 4, 1), "kahoku-dx-r9-r13"),  # after every plan: the latest
    ],
)
def test_every_screen_opens_on_the_current_plan(
    client, personas, next_plan, monkeypatch, today, expected
):
    shown = _plans_shown(client, personas.secretariat, today, monkeypatch)
    assert selectors.current_plan().code == expected
    assert shown == {name: expected for name, _ in SCREENS}


def test_changing_the_definition_changes_every_screen(client, personas, next_plan, monkeypatch):
    """Were "current" to mean "the newest plan" even before it starts, all screens would follow."""
    monkeypatch.setattr(selectors, "_plan_in_force", lambda plans, fiscal_year: plans[-1])
    shown = _plans_shown(client, personas.secretariat, date(2026, 10, 1), monkeypatch)
    assert shown == {name: next_plan.code for name, _ in SCREENS}


@pytest.mark.parametrize("fiscal_year", [2020, 2021, 2026, 2027, 2031, 2032])
def test_plan_period_in_python_and_in_queries_agree(personas, next_plan, fiscal_year):
    """Plan.covers (forms, imports, the review page) and Plan.covering (lists, roll-ups) sit
    side by side on the model; the initiative list and the plan pickers agree year by year."""
    from initiatives.models import Initiative
    from initiatives.selectors import initiatives_for_fiscal_year

    policy = next_plan.policies.create(number=1, title="産業・生活のデジタル化")
    Initiative.objects.create(policy=policy, number=1, title="次期の取り組み")
    plans = list(Plan.objects.all())
    covering = {p.code for p in plans if p.covers(fiscal_year)}
    assert set(Plan.objects.filter(Plan.covering(fiscal_year)).values_list("code", flat=True)) == (
        covering
    )
    listed = set(
        initiatives_for_fiscal_year(fiscal_year).values_list("policy__plan__code", flat=True)
    )
    assert listed == covering


def test_plans_from_reaches_the_plan_of_the_date_and_its_successors_never_an_ended_one():
    """An organisation change dated in December reaches the plan in force and its drafted
    successor; one dated 1 April of the successor's first year reaches the successor only."""
    old = Plan.objects.create(code="old", name="旧", start_fy=2021, end_fy=2026)
    new = Plan.objects.create(
        code="new", name="新", start_fy=2027, end_fy=2031, predecessor=old, status="draft"
    )
    Plan.objects.exclude(pk__in=[old.pk, new.pk]).update(status="ended")
    assert selectors.plans_from(date(2026, 12, 10)) == [old, new]
    assert selectors.plans_from(date(2027, 3, 31)) == [old, new]
    assert selectors.plans_from(date(2027, 4, 1)) == [new]
    old.status = "ended"
    old.save()
    assert selectors.plans_from(date(2026, 12, 10)) == [new]
