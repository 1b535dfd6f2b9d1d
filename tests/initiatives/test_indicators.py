from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from initiatives.models import GRADE_RULE_TEXT, Indicator, IndicatorValue
from tests.factory import initiative, make_indicator

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("direction", "target", "actual", "grade"),
    [
        ("higher", "100", "110", "A"),
        ("higher", "100", "100", "A"),  # exactly on target → A (目標達成)
        ("higher", "100", "99.99", "B"),
        ("higher", "100", "90", "B"),  # exactly 90% → B
        ("higher", "100", "89.99", "C"),
        ("higher", "100", None, "none"),  # no actual yet, the year still runs: 未評価
        ("higher", None, "50", "none"),
        ("higher", "0", "5", "A"),  # a zero target exceeded is reached
        ("lower", "10", "9", "A"),  # 10/9 = 111%
        ("lower", "10", "10", "A"),
        ("lower", "10", "11", "B"),  # 10/11 = 90.9%
        ("lower", "10", "12", "C"),
        ("lower", "10", "0", "A"),
    ],
)
def test_grade_rule(plan, direction, target, actual, grade):
    ind = make_indicator(initiative("2.1"), direction=direction)
    value = IndicatorValue(
        indicator=ind,
        fiscal_year=2026,
        target=Decimal(target) if target else None,
        actual=Decimal(actual) if actual else None,
    )
    assert value.grade_on(date(2026, 12, 6)) == grade
    # Once FY2026 has ended, a missing target or actual cannot be assessed any more: D.
    assert value.grade_on(date(2027, 4, 1)) == ("D" if grade == "none" else grade)
    assert value.grade_on(date(2027, 3, 31)) == grade  # the year's last day: still running


def test_leader_sets_targets_and_actuals_and_page_shows_grades_with_rule(client, personas):
    ini = initiative("2.1")
    client.force_login(personas.leader)
    response = client.post(
        reverse("initiatives:indicator_create", args=[ini.pk]),
        {
            "name": "オンライン申請件数",
            "unit": "件",
            "direction": "higher",
            "baseline": "100",
            "baseline_fy": "R3",
            "target_2025": "200",
            "actual_2025": "230",
            "target_2026": "300",
            "actual_2026": "250",
        },
        follow=True,
    )
    assert "指標を登録しました。" in [str(m) for m in response.context["messages"]]
    ind = Indicator.objects.get(initiative=ini)
    assert (ind.baseline, ind.baseline_fy) == (Decimal("100"), 2021)
    grades = {v.fiscal_year: v.grade for v in ind.values.all()}
    assert grades == {2025: "A", 2026: "C"}  # 115% and 83%
    body = response.content.decode()
    assert GRADE_RULE_TEXT in body  # beside the grades (includes/grade_rule.html)
    assert "令和7年度 (2025年度)" in body

    # Edit: the actual arrives, the grade follows; an emptied year is kept empty.
    response = client.post(
        reverse("initiatives:indicator_edit", args=[ind.pk]),
        {
            "name": "オンライン申請件数",
            "unit": "件",
            "direction": "higher",
            "baseline": "100",
            "baseline_fy": "2021",
            "target_2025": "200",
            "actual_2025": "230",
            "target_2026": "300",
            "actual_2026": "290",
            "version": "1",
        },
    )
    assert response.status_code == 302
    assert ind.values.get(fiscal_year=2026).grade == "B"  # 97%


def test_bad_indicator_input_is_explained_and_kept(client, personas):
    ini = initiative("2.1")
    make_indicator(ini, name="重複する指標")
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("initiatives:indicator_create", args=[ini.pk]),
        {
            "name": "重複する指標",
            "direction": "higher",
            "baseline_fy": "令和3年2月",
            "target_2026": "abc",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "「令和3年2月」は年月を表しており、年度ではありません。" in body
    assert "数値を入力してください。" in body
    assert 'value="重複する指標"' in body


def test_duplicate_indicator_name_is_refused_by_the_service(client, personas):
    ini = initiative("2.1")
    make_indicator(ini, name="重複する指標")
    client.force_login(personas.leader)
    response = client.post(
        reverse("initiatives:indicator_create", args=[ini.pk]),
        {"name": "重複する指標", "direction": "higher", "target_2026": "5"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "この取り組みには「重複する指標」という指標がすでにあります。"
    ]
    assert Indicator.objects.filter(initiative=ini).count() == 1
