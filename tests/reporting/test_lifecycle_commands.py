"""IT staff's lifecycle commands: plan_create, plan_adopt, carry_over call the screens'
services, print what they did in Japanese and exit non-zero listing every problem."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from initiatives.models import Initiative
from plans.models import BasicPolicy, Plan, PlanStatus
from tests.factory import initiative, make_review

pytestmark = pytest.mark.django_db

CREATE = [
    "plan_create",
    "--code",
    "kahoku-dx-r9-r13",
    "--name",
    "第2期かほく市DX推進計画",
    "--start",
    "2027",
    "--end",
    "R13",
    "--version",
    "2.0",
]


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_plan_create_makes_the_successor_of_the_plan_in_force(plan):
    out = _run(*CREATE, "--theme", "誰一人取り残さないデジタル化")
    nxt = Plan.objects.get(code="kahoku-dx-r9-r13")
    assert (nxt.predecessor, nxt.status, nxt.start_fy, nxt.end_fy) == (
        plan,
        PlanStatus.DRAFT,
        2027,
        2031,
    )
    assert nxt.theme == "誰一人取り残さないデジタル化"
    assert (
        "次期計画「第2期かほく市DX推進計画」" in out and "第2.0版の策定中として作成しました" in out
    )
    with pytest.raises(
        CommandError, match="次期計画「第2期かほく市DX推進計画」はすでに作成されています"
    ):
        _run(*CREATE[:2], "other", *CREATE[3:])


def test_plan_create_lists_every_problem(plan):
    with pytest.raises(CommandError) as exc:
        _run(*CREATE[:5], "--start", "来年", "--end", "R99x", "--version", "2.0")
    message = str(exc.value)
    assert message.startswith("2件の問題があります")
    assert "開始年度:" in message and "終了年度:" in message
    assert not Plan.objects.filter(code="kahoku-dx-r9-r13").exists()


def test_plan_adopt_with_era_dates_and_its_refusals(plan):
    _run(*CREATE)
    nxt = Plan.objects.get(code="kahoku-dx-r9-r13")
    BasicPolicy.objects.create(plan=nxt, number=1, title="市民サービスのデジタル化")
    with pytest.raises(CommandError) as exc:
        _run("plan_adopt", "--plan", "nope", "--decided-on", "2月30日", "--in-force-from", "x")
    assert str(exc.value).startswith("3件の問題があります")
    assert "計画コード「nope」の計画がありません" in str(exc.value)
    with pytest.raises(CommandError, match="施行日は計画の初年度"):
        _run(
            "plan_adopt",
            "--plan",
            nxt.code,
            "--decided-on",
            "2026-12-01",
            "--in-force-from",
            "2028-04-01",
        )
    out = _run(
        "plan_adopt",
        "--plan",
        nxt.code,
        "--decided-on",
        "令和8年12月1日",
        "--in-force-from",
        "R9.4.1",
    )
    nxt.refresh_from_db()
    assert (nxt.status, nxt.adopted_on, nxt.in_force_from) == (
        PlanStatus.ADOPTED,
        date(2026, 12, 1),
        date(2027, 4, 1),
    )
    assert "第2.0版を令和8年12月1日に決定" in out and "施行日は2027-04-01" in out
    with pytest.raises(CommandError, match="策定中ではありません"):
        _run(
            "plan_adopt",
            "--plan",
            nxt.code,
            "--decided-on",
            "2026-12-02",
            "--in-force-from",
            "2027-04-01",
        )


def test_carry_over_dry_run_then_run(plan, personas):
    _run(*CREATE)
    nxt = Plan.objects.get(code="kahoku-dx-r9-r13")
    make_review(initiative("2.1"), fiscal_year=2026, carry_over="continue", state="approved")
    make_review(initiative("2.2"), fiscal_year=2026, carry_over="continue", state="submitted")
    out = _run("carry_over", "--to", nxt.code, "--dry-run")
    assert "2.1 " in out and "引き継ぐ" in out and "未承認" in out
    assert "確認のみ(書き込みなし): 引き継ぐ 1件、更新する 0件、未承認 1件" in out
    assert not Initiative.objects.filter(policy__plan=nxt).exists()
    out = _run("carry_over", "--to", nxt.code)
    assert "1件を引き継ぎ、0件を更新しました" in out
    initiative("2.1").reviews.filter(fiscal_year=2026).update(act_text="R8の結果をふまえて")
    assert "0件を引き継ぎ、1件を更新しました" in _run("carry_over", "--to", nxt.code)
    assert Initiative.objects.filter(policy__plan=nxt).count() == 1
    with pytest.raises(CommandError, match="前計画がありません"):
        _run("carry_over", "--to", plan.code)
