"""Plan comparison between versions (history as of two moments) and carry-over."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from initiatives.models import Initiative
from plans.models import BasicPolicy, Plan, PlanVersion, ScheduleCell
from reporting.services.carry_over import plan_carry_over
from tests.factory import initiative, make_review

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def history_since_2022(personas):
    """Pretend the plan was entered when 第1.0版 came out (history starts 2022-02-10)."""
    loaded = datetime(2022, 2, 10, 9, 0, tzinfo=JST)
    for model in (BasicPolicy, Initiative, ScheduleCell):
        model.history.update(history_date=loaded)
    from plans.models import ScheduleItem, ScheduleRow

    ScheduleItem.history.update(history_date=loaded)
    ScheduleRow.history.update(history_date=loaded)
    return personas


def test_changes_since_a_version(client, history_since_2022):
    personas = history_since_2022
    i22 = initiative("2.2")
    i22.title = "情報発信の充実・強化(SNS活用)"
    i22.save()
    Initiative.objects.create(policy=i22.policy, number=5, title="窓口のキャッシュレス化")
    ScheduleCell.objects.get(text="DX推進本部設置").delete()
    client.force_login(personas.secretariat)
    v10 = PlanVersion.objects.get(number="1.0")
    response = client.get(reverse("reporting:compare"), {"version_from": v10.pk})
    assert response.status_code == 200
    diffs = {(d.kind, d.model, d.key): d for d in response.context["differences"]}
    changed = diffs[("変更", "取り組み", "2.2")]
    assert changed.before == "情報発信の充実・強化"
    assert changed.after == "情報発信の充実・強化(SNS活用)"
    assert changed.fields == ["取り組み"]
    assert ("追加", "取り組み", "2.5") in diffs
    removed = [d for d in diffs.values() if d.kind == "削除"]
    assert [d.before for d in removed] == ["DX推進本部設置"]
    assert len(diffs) == 3
    html = response.content.decode()
    assert "窓口のキャッシュレス化" in html
    assert "2022-02-10 から残っています" in html


def test_no_changes_between_two_early_dates(client, history_since_2022):
    client.force_login(history_since_2022.hq)
    response = client.get(
        reverse("reporting:compare"), {"start": "2022-03-01", "end": "2022-04-01"}
    )
    assert response.context["differences"] == []
    assert "この期間に変更はありません。" in response.content.decode()


def test_bad_dates_are_explained(client, personas):
    client.force_login(personas.secretariat)
    html = client.get(reverse("reporting:compare"), {"start": "2022/13/01"}).content.decode()
    assert "日付は 2022-02-28 の形で入力してください。" in html
    html = client.get(
        reverse("reporting:compare"), {"start": "2023-01-01", "end": "2022-01-01"}
    ).content.decode()
    assert "比較先の日付は比較元の日付以降にしてください。" in html


@pytest.fixture
def next_plan(personas):
    current = personas.wg.plan
    nxt = Plan.objects.create(
        code="kahoku-dx-r9-r13",
        name="第2期かほく市DX推進計画",
        start_fy=2027,
        end_fy=2031,
        predecessor=current,
    )
    make_review(initiative("2.1"), fiscal_year=2026, carry_over="continue", state="approved")
    make_review(initiative("2.2"), fiscal_year=2025, carry_over="next_plan")
    make_review(initiative("2.2"), fiscal_year=2026, carry_over="abolish")  # latest wins
    make_review(initiative("3.1"), fiscal_year=2026, carry_over="complete")
    make_review(initiative("3.2"), fiscal_year=2026, carry_over="expand")
    return current, nxt


def test_preview_then_carry_over(client, personas, next_plan):
    current, nxt = next_plan
    client.force_login(personas.secretariat)
    url = reverse("reporting:carry_over")
    params = {"source": current.code, "target": nxt.code}
    response = client.get(url, params)
    assert response.status_code == 200
    actions = {line.initiative.code: line.action for line in response.context["lines"]}
    assert actions["2.1"] == "create" and actions["3.2"] == "create"
    assert actions["2.2"] == "skip" and actions["3.1"] == "skip" and actions["4.1"] == "skip"
    assert "方針が「廃止」のため引き継ぎません" in response.content.decode()
    assert not Initiative.objects.filter(policy__plan=nxt).exists()  # preview writes nothing

    response = client.post(url, params)
    assert response.status_code == 302
    created = Initiative.objects.filter(policy__plan=nxt).order_by("policy__number")
    assert [(i.code, i.title, i.carried_from.code) for i in created] == [
        ("2.1", "行政サービスのオンライン化", "2.1"),
        ("3.2", initiative("3.2").title, "3.2"),
    ]
    assert created[0].history.first().history_user == personas.secretariat
    assert list(BasicPolicy.objects.filter(plan=nxt).values_list("number", flat=True)) == [2, 3]
    # twice changes nothing
    client.post(url, params)
    assert Initiative.objects.filter(policy__plan=nxt).count() == 2
    response = client.get(url, params)
    assert {line.initiative.code: line.action for line in response.context["lines"]}["2.1"] == (
        "exists"
    )


def test_carry_over_refuses_a_plan_that_is_not_later(client, personas, next_plan):
    current, nxt = next_plan
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("reporting:carry_over"), {"source": nxt.code, "target": current.code}
    )
    assert response.status_code == 400
    assert "令和13年度 (2031年度)より後に始まる計画を選んでください。" in response.content.decode()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        plan_carry_over(source_plan=current, target_plan=current, user=None)


@pytest.mark.parametrize("role", ["hq", "leader", "viewer"])
def test_carry_over_is_secretariat_only(client, personas, next_plan, role):
    current, nxt = next_plan
    client.force_login(getattr(personas, role))
    response = client.post(
        reverse("reporting:carry_over"), {"source": current.code, "target": nxt.code}
    )
    assert response.status_code == 403
    assert not Initiative.objects.filter(policy__plan=nxt).exists()


def test_compare_permissions(client, personas):
    client.force_login(personas.viewer)
    assert client.get(reverse("reporting:compare")).status_code == 403
    client.logout()
    response = client.get(reverse("reporting:compare"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
