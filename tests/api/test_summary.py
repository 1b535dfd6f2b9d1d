"""GET /api/v1/summary/: the dashboard's figures as JSON numbers, on partial data."""

from __future__ import annotations

from datetime import date

import pytest

from initiatives.models import IndicatorValue, Initiative
from initiatives.selectors import ROLLUP_RULE_TEXT, procedures_overview, systems_overview
from tests.api.conftest import TODAY, session_client, token_client
from tests.factory import (
    PLAN_CODE,
    initiative,
    make_indicator,
    make_online_procedure,
    make_progress,
    set_system_phase,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/summary/"


def summary(user, **params):
    response = session_client(user).get(URL, params)
    assert response.status_code == 200, response.content.decode()
    return response.json()


def test_nothing_reported_gives_null_not_zero(personas):
    body = summary(personas.hq, fiscal_year="2026")
    assert body["initiatives"] == 13
    assert (body["reported"], body["unreported"]) == (0, 13)
    assert body["progress_percent"] is None
    assert body["progress_rule"] == ROLLUP_RULE_TEXT
    assert all(p["progress_percent"] is None and p["reported"] == 0 for p in body["policies"])


def test_one_of_thirteen_reported_at_sixty_percent(personas):
    make_progress(initiative("2.1"), status="on_track", percent=60, entry_date=date(2026, 10, 1))
    body = summary(personas.secretariat, fiscal_year="2026")
    assert body["fiscal_year"] == 2026
    assert body["fiscal_year_label"] == "令和8年度 (2026年度)"
    assert (body["initiatives"], body["reported"], body["unreported"]) == (13, 1, 12)
    assert body["progress_percent"] == 60.0 and isinstance(body["progress_percent"], float)
    policy2 = next(p for p in body["policies"] if p["number"] == 2)
    assert policy2["title"] == "行政サービスの利便性向上"
    assert (policy2["reported"], policy2["progress_percent"]) == (1, 60.0)
    assert (
        policy2["initiatives"]
        == Initiative.objects.filter(policy__plan__code=PLAN_CODE, policy__number=2).count()
    )
    wg = next(w for w in body["working_groups"] if w["id"] == initiative("2.1").working_group_id)
    assert (wg["reported"], wg["progress_percent"]) == (1, 60.0)
    others = [w for w in body["working_groups"] if w["id"] != wg["id"]]
    assert all(w["progress_percent"] is None for w in others)
    assert body["statuses"]["on_track"] == 1 and body["statuses"]["none"] == 12


def test_all_reported(personas):
    inis = list(Initiative.objects.filter(policy__plan__code=PLAN_CODE))
    for i, ini in enumerate(inis):
        # Percents 0, 10, 20 … : the plain average is over every initiative.
        make_progress(ini, status="on_track", percent=i * 10 % 101, entry_date=date(2026, 9, 1))
    body = summary(personas.hq, fiscal_year="R8")
    expected = round(sum(i * 10 % 101 for i in range(len(inis))) / len(inis), 1)
    assert (body["reported"], body["unreported"]) == (13, 0)
    assert body["progress_percent"] == expected


def test_an_entry_of_another_year_does_not_count(personas):
    make_progress(initiative("2.1"), status="on_track", percent=90, entry_date=date(2026, 3, 31))
    body = summary(personas.hq, fiscal_year="2026")
    assert body["reported"] == 0 and body["progress_percent"] is None
    assert summary(personas.hq, fiscal_year="2025")["progress_percent"] == 90.0


@pytest.mark.parametrize(
    "value", ["R8", "令和8年度", "2026", "FY2026", "ｒ８", "令和8年度 (2026年度)"]
)
def test_fiscal_year_accepts_what_the_screens_accept(personas, value):
    assert summary(personas.hq, fiscal_year=value)["fiscal_year"] == 2026


def test_fiscal_year_defaults_to_this_year(personas):
    assert summary(personas.hq)["fiscal_year"] == 2026


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("令和8年", "「令和8年」は暦年を表しており、年度ではありません。"),
        ("R8年4月", "「R8年4月」は年月を表しており、年度ではありません。"),
        ("abc", "「abc」は年度として解釈できません。"),
        ("R8 (2025)", "R8は2026年度ですが、2025年度と併記されています"),
    ],
)
def test_bad_fiscal_year_is_a_400_in_japanese(personas, value, message):
    response = session_client(personas.hq).get(URL, {"fiscal_year": value})
    assert response.status_code == 400
    assert message in response.json()["fiscal_year"][0]


def test_year_outside_every_plan_is_a_404(personas):
    response = session_client(personas.hq).get(URL, {"fiscal_year": "2035"})
    assert response.status_code == 404
    assert response.json()["detail"] == "令和17年度 (2035年度)を含む計画がありません。"


def test_countable_targets_equal_the_screens(personas):
    make_online_procedure(1, online_on=date(2022, 6, 1))
    make_online_procedure(2, online_on=date(2023, 5, 1))  # after R4年度末
    make_online_procedure(3)
    set_system_phase(1, "done", migrated_on=date(2025, 12, 1))
    set_system_phase(2, "done", migrated_on=date(2026, 6, 1))  # 期限後移行
    set_system_phase(9, "fit_gap")
    body = summary(personas.hq, fiscal_year="2026")
    procs = procedures_overview(status=None, today=TODAY)
    summary_ = procs["summary"]
    assert body["procedures"] == {
        "target": 27,
        "registered": 27,  # the national list ships with the plan
        "online": summary_.done,
        "online_by_deadline": procs["online_by_deadline"],
        "confirmed": 3,
        "unconfirmed": 24,
        "overdue": summary_.overdue,
        "deadline": "2023-03-31",
        "days_left": summary_.days_left,
    }
    assert summary_.overdue == 1  # procedure 3: confirmed, not online, past R4年度末
    assert body["procedures"]["online"] == 2 and body["procedures"]["online_by_deadline"] == 1
    systems = systems_overview(group=None, phase=None, overdue=False, today=TODAY)
    assert body["systems"]["target"] == 20
    assert body["systems"]["registered"] == 20
    assert body["systems"]["migrated"] == systems["summary"].done == 2
    # only ⑨ (fit_gap) is confirmed and unfinished; unconfirmed systems raise no alarm
    assert body["systems"]["overdue"] == systems["overdue_count"] == 1
    assert body["systems"]["confirmed"] == 3 and body["systems"]["difficult"] == 0
    assert body["systems"]["migrated_late"] == 1
    assert body["systems"]["deadline"] == "2026-03-31"
    assert body["systems"]["phases"]["done"] == 2 and body["systems"]["phases"]["fit_gap"] == 1


def test_grades_follow_the_indicator_rule(personas):
    ind = make_indicator(initiative("2.1"))
    low = make_indicator(initiative("2.2"), name="処理日数", direction="lower")
    nothing = make_indicator(initiative("3.1"), name="未入力の指標")
    IndicatorValue.objects.create(indicator=ind, fiscal_year=2026, target=27, actual=30)  # A
    # 10 ÷ 10.5 = 95%: B
    IndicatorValue.objects.create(indicator=low, fiscal_year=2026, target=10, actual="10.5")
    # no actual while FY2026 runs (TODAY): 未評価, counted as ungraded
    IndicatorValue.objects.create(indicator=nothing, fiscal_year=2026, target=5)
    IndicatorValue.objects.create(indicator=ind, fiscal_year=2025, target=27, actual=1)  # 2025
    body = summary(personas.hq, fiscal_year="2026")
    assert body["grades"] == {"A": 1, "B": 1, "C": 0, "D": 0, "ungraded": 1}
    assert sum(body["grades"].values()) == 3  # every indicator once
    assert "A: 100%以上(目標達成)" in body["grade_rule"]
    # FY2025 has ended: the two indicators without a FY2025 row cannot be assessed (D).
    body = summary(personas.hq, fiscal_year="2025")
    assert body["grades"] == {"A": 0, "B": 0, "C": 1, "D": 2, "ungraded": 0}


def test_a_linked_indicator_is_graded_on_the_count_of_its_rows(personas):
    """Like on every page (IndicatorValue.shown_actual): the typed actual 0 is not graded."""
    from initiatives.models import CountableTarget

    target = CountableTarget.objects.get(code="online-procedures")
    ind = make_indicator(initiative("2.1"), countable_target=target)
    IndicatorValue.objects.create(indicator=ind, fiscal_year=2026, target=3, actual=0)
    for n in (1, 2, 3):
        make_online_procedure(n, online_on=date(2022, 6, n))
    body = summary(personas.hq, fiscal_year="2026")
    assert body["grades"] == {"A": 1, "B": 0, "C": 0, "D": 0, "ungraded": 0}  # 3 of 3: A
    dashboard = session_client(personas.hq).get(
        "/plan/dashboard/", {"plan": PLAN_CODE, "fy": "2026"}
    )
    assert {k: n for k, _, n in dashboard.context["dashboard"].grades}["A"] == 1


def test_numbers_are_json_numbers(personas, hq_account):
    make_progress(initiative("2.1"), status="on_track", percent=55, entry_date=date(2026, 10, 1))
    body = token_client(hq_account[1]).get(URL).json()

    def walk(value, path="$"):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, str):
            assert not value.replace(".", "").isdigit(), f"{path} is a number in a string"

    walk(body)
    assert isinstance(body["initiatives"], int) and isinstance(
        body["plan"]["period"]["end_fiscal_year"], int
    )
