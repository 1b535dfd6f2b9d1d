"""The grade of a KPI value (IndicatorValue.grade with GRADE_A_RATIO / GRADE_B_RATIO) is what
the initiative page's badges show, for entered and empty years alike, and the rule text every
grade display prints (includes/grade_rule.html) states the same thresholds."""

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from initiatives import models
from tests.factory import initiative, make_indicator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_fy2026():
    # 2026-12-06: FY2026 (R8) is running, every earlier year of the plan has ended.
    moment = datetime(2026, 12, 6, 10, tzinfo=ZoneInfo("Asia/Tokyo"))
    with time_machine.travel(moment, tick=False):
        yield


def _badges(client, ini) -> dict[str, str]:
    html = client.get(reverse("initiatives:detail", args=[ini.pk])).content.decode()
    section = html[html.index('id="indicators"') : html.index('id="reviews"')]
    rows = []
    for row in section.split("<tr>"):
        found = re.search(r'scope="row">([^<]+)</th>.*class="badge grade grade-(\w+)"', row, re.S)
        if found:
            rows.append(found.groups())
    return {label: grade for label, grade in rows}


def _set_values(ini):
    ind = make_indicator(ini)
    ind.values.create(fiscal_year=2022, target=Decimal("100"), actual=Decimal("100"))  # 100%
    ind.values.create(fiscal_year=2023, target=Decimal("100"), actual=Decimal("99"))  # 99%
    ind.values.create(fiscal_year=2024, target=Decimal("100"), actual=Decimal("90"))  # 90%
    ind.values.create(fiscal_year=2025, target=Decimal("100"), actual=Decimal("89"))  # 89%
    ind.values.create(fiscal_year=2026, target=Decimal("100"), actual=None)
    return ind


def test_page_badges_are_the_models_grades(client, personas):
    ini = initiative("2.1")
    ind = _set_values(ini)
    client.force_login(personas.viewer)
    badges = _badges(client, ini)
    by_year = {v.fiscal_year: v.grade for v in ind.values.all()}
    # Exactly meeting the target is A; 2026 has no actual yet and is still running.
    assert by_year == {2022: "A", 2023: "B", 2024: "B", 2025: "C", 2026: "none"}
    # R3 (2021) has no row and has ended: D; R8 is running: 未評価.
    assert list(badges.values()) == ["D", "A", "B", "B", "C", "none"]
    assert badges["令和7年度 (2025年度)"] == by_year[2025]


def test_lower_is_better_reaches_its_target_at_or_below_it():
    ind = make_indicator(initiative("2.1"), name="処理日数", direction="lower")
    at = ind.values.create(fiscal_year=2024, target=Decimal("10"), actual=Decimal("10"))
    near = ind.values.create(fiscal_year=2025, target=Decimal("10"), actual=Decimal("11"))
    far = ind.values.create(fiscal_year=2023, target=Decimal("10"), actual=Decimal("12"))
    assert (at.grade, near.grade, far.grade) == ("A", "B", "C")  # 100%, 91%, 83%


def test_a_ratio_without_a_denominator_is_reached_or_missed():
    """No ratio (a target of 0 to exceed, an actual of 0 against a lower-is-better target):
    reaching the target is still A, missing it C, never 評価できない."""
    up = make_indicator(initiative("2.1"), name="新規件数")
    zero = up.values.create(fiscal_year=2024, target=Decimal("0"), actual=Decimal("0"))
    low = make_indicator(initiative("2.1"), name="差額", direction="lower")
    missed = low.values.create(fiscal_year=2024, target=Decimal("-1"), actual=Decimal("0"))
    assert (zero.achievement, missed.achievement) == (None, None)
    assert (zero.grade, missed.grade) == ("A", "C")


def test_the_rule_text_on_both_pages_states_the_ratios(client, personas):
    ini = initiative("2.1")
    ind = _set_values(ini)
    a, b = f"{models.GRADE_A_RATIO:.0%}", f"{models.GRADE_B_RATIO:.0%}"
    assert (a, b) == ("100%", "90%")
    client.force_login(personas.leader)
    for url in (
        reverse("initiatives:detail", args=[ini.pk]),
        reverse("initiatives:indicator_edit", args=[ind.pk]),
    ):
        html = client.get(url).content.decode()
        assert f"A: {a}以上(目標達成)、B: {b}以上{a}未満、C: {b}未満" in html, url
        assert "年度が終わるとD(評価できない)" in html, url


def test_changing_the_ratio_changes_the_model_and_the_page(client, personas, monkeypatch):
    monkeypatch.setattr(models, "GRADE_A_RATIO", Decimal("0.95"))
    ini = initiative("2.1")
    ind = _set_values(ini)
    client.force_login(personas.viewer)
    assert ind.values.get(fiscal_year=2023).grade == "A"
    assert _badges(client, ini)["令和5年度 (2023年度)"] == "A"


def test_a_missing_actual_is_ungraded_through_31_march_and_d_from_1_april(personas):
    """The edge of the fiscal year: FY2026 runs to 2027-03-31 (未評価 that day, in Japan) and
    has ended on 2027-04-01 (D 評価できない), on the model and through indicator_grade alike."""
    from datetime import date

    from initiatives.selectors import indicator_grade

    indicator = make_indicator(initiative("2.1"), name="件数")
    value = indicator.values.create(fiscal_year=2026, target=10)
    assert value.grade_on(date(2027, 3, 31)) == models.UNGRADED
    assert value.grade_on(date(2027, 4, 1)) == models.Grade.D
    assert indicator_grade(indicator, 2025, date(2026, 3, 31)) == models.UNGRADED  # no row
    assert indicator_grade(indicator, 2025, date(2026, 4, 1)) == models.Grade.D
