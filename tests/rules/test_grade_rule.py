"""The grade of a KPI value (IndicatorValue.grade with GRADE_A_RATIO / GRADE_B_RATIO) is what
the initiative page's badges show, for entered and empty years alike, and the rule text both
indicator pages print states the same thresholds."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from initiatives import models
from tests.factory import initiative, make_indicator

pytestmark = pytest.mark.django_db


def _badges(client, ini) -> dict[str, str]:
    html = client.get(reverse("initiatives:detail", args=[ini.pk])).content.decode()
    section = html[html.index('id="indicators"') : html.index('id="reviews"')]
    rows = []
    for row in section.split("<tr>"):
        found = re.search(r'scope="row">([^<]+)</th>.*class="badge grade grade-(\w)"', row, re.S)
        if found:
            rows.append(found.groups())
    return {label: grade for label, grade in rows}


def _set_values(ini):
    ind = make_indicator(ini)
    ind.values.create(fiscal_year=2023, target=Decimal("100"), actual=Decimal("110"))  # 110%
    ind.values.create(fiscal_year=2024, target=Decimal("100"), actual=Decimal("109"))  # 109%
    ind.values.create(fiscal_year=2025, target=Decimal("100"), actual=Decimal("90"))  # 90%
    ind.values.create(fiscal_year=2026, target=Decimal("100"), actual=None)
    return ind


def test_page_badges_are_the_models_grades(client, personas):
    ini = initiative("2.1")
    ind = _set_values(ini)
    client.force_login(personas.viewer)
    badges = _badges(client, ini)
    by_year = {v.fiscal_year: v.grade for v in ind.values.all()}
    assert by_year == {2023: "A", 2024: "B", 2025: "B", 2026: "D"}
    assert list(badges.values()) == ["D", "D", "A", "B", "B", "D"]  # R3, R4 have no values
    assert badges["令和7年度 (2025年度)"] == by_year[2025]


def test_the_rule_text_on_both_pages_states_the_ratios(client, personas):
    ini = initiative("2.1")
    ind = _set_values(ini)
    a, b = f"{models.GRADE_A_RATIO:.0%}", f"{models.GRADE_B_RATIO:.0%}"
    client.force_login(personas.leader)
    for url in (
        reverse("initiatives:detail", args=[ini.pk]),
        reverse("initiatives:indicator_edit", args=[ind.pk]),
    ):
        html = client.get(url).content.decode()
        assert f"A: {a}以上、B: {b}以上{a}未満、C: {b}未満" in html, url


def test_changing_the_ratio_changes_the_model_and_the_page(client, personas, monkeypatch):
    monkeypatch.setattr(models, "GRADE_A_RATIO", Decimal("1.05"))
    ini = initiative("2.1")
    ind = _set_values(ini)
    client.force_login(personas.viewer)
    assert ind.values.get(fiscal_year=2024).grade == "A"
    assert _badges(client, ini)["令和6年度 (2024年度)"] == "A"
