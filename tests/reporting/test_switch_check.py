"""1 April rehearsed: the plan switch check (service, screen, command), each check failing
then OK, with the clock on 2027-03-25 / 2027-03-31 / 2027-04-01 (issue 20)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone, translation

from initiatives.models import Indicator, Initiative
from plans.models import BasicPolicy, Plan, PlanStatus
from reporting.services.switch_check import ROW_LIMIT, default_day, default_plan, switch_check
from tests.factory import Personas, make_indicator, make_membership, make_review
from workgroups.models import (
    Headquarters,
    HeadquartersMember,
    Secretariat,
    Section,
    WorkingGroup,
    WorkingGroupMembership,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _japanese():
    """The checks' texts are read in Japanese, whatever an earlier test left active."""
    with translation.override("ja"):
        yield


TOKYO = ZoneInfo("Asia/Tokyo")
APRIL_1 = date(2027, 4, 1)
R9_CODE = "kahoku-dx-r9-r13"


def at(day: str) -> Any:
    return time_machine.travel(
        datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=TOKYO), tick=False
    )


@dataclass
class NextPlan:
    plan: Plan
    wg: WorkingGroup  # 情報推進課WG of R9, led by personas.leader
    other_wg: WorkingGroup  # 総務課WG of R9, led by personas.other_member
    ini: Initiative
    other_ini: Initiative
    hq: Headquarters


def make_next_plan(r8: Plan, p: Personas, *, status: str = PlanStatus.ADOPTED) -> NextPlan:
    """The R9 plan as the bodies-continue copy leaves it: its own WG rows with the people."""
    r9 = Plan.objects.create(
        code=R9_CODE,
        name="かほく市DX推進計画(第2期)",
        start_fy=2027,
        end_fy=2031,
        predecessor=r8,
        status=status,
    )
    info = Section.objects.get(name="情報推進課")
    Secretariat.objects.create(plan=r9, section=info)
    hq = Headquarters.objects.create(plan=r9)
    HeadquartersMember.objects.create(
        headquarters=hq, role=HeadquartersMember.Role.CHIEF, title="市長", user=p.hq
    )
    wg = WorkingGroup.objects.create(plan=r9, name="情報推進課WG", lead_section=info)
    other_wg = WorkingGroup.objects.create(
        plan=r9, name="総務課WG", lead_section=Section.objects.get(name="総務課")
    )
    make_membership(p.leader, wg, leader=True)
    make_membership(p.member, wg)
    make_membership(p.other_member, other_wg, leader=True)
    policy = BasicPolicy.objects.create(plan=r9, number=1, title="行政のデジタル化")
    ini = Initiative.objects.create(
        policy=policy, number=1, title="電子申請の拡充", working_group=wg
    )
    other_ini = Initiative.objects.create(
        policy=policy, number=2, title="文書管理の電子化", working_group=other_wg
    )
    make_indicator(ini, name="電子申請件数")
    make_indicator(other_ini, name="電子決裁率")
    return NextPlan(r9, wg, other_wg, ini, other_ini, hq)


@pytest.fixture
def nxt(plan, personas) -> NextPlan:
    return make_next_plan(plan, personas)


def statuses(plan: Plan, on: date = APRIL_1) -> dict[str, str]:
    return {c.key: c.status for c in switch_check(plan, on)}


def failing(plan: Plan, on: date = APRIL_1) -> set[str]:
    return {c.key for c in switch_check(plan, on) if not c.ok}


def check(plan: Plan, key: str, on: date = APRIL_1) -> Any:
    return next(c for c in switch_check(plan, on) if c.key == key)


# --- the service -----------------------------------------------------------------------------


@pytest.mark.parametrize("today", ["2027-03-25", "2027-03-31", "2027-04-01"])
def test_all_ok_for_a_ready_next_plan(nxt, today):
    with at(today):
        result = statuses(nxt.plan)
    assert set(result.values()) == {"OK"}, result
    assert list(result) == [
        "plan",
        "initiatives",
        "wg_no_leader",
        "wg_two_leaders",
        "headquarters",
        "secretariat",
        "logins",
        "no_indicator",
        "no_wg",
        "reviews",
        "reminders",
    ]


def test_initiatives_listed_with_their_wg_and_leader(nxt, personas):
    with at("2027-03-25"):
        rows = [r.name for r in check(nxt.plan, "initiatives").rows]
    assert rows == [
        "1.1 電子申請の拡充(情報推進課WG、WG長: leader)",
        "1.2 文書管理の電子化(総務課WG、WG長: other)",
    ]


def test_plan_not_in_force_on_the_day_then_ok(nxt, plan):
    with at("2027-03-25"):
        # the R8 plan is not in force on 1 April 2027; a day before, the R9 plan is not
        assert "plan" in failing(plan)
        assert "plan" in failing(nxt.plan, date(2027, 3, 31))
        Plan.objects.filter(pk=nxt.plan.pk).update(status=PlanStatus.DRAFT)
        nxt.plan.refresh_from_db()
        c = check(nxt.plan, "plan")
        assert not c.ok and any("まだ決定されていません" in r.name for r in c.rows)
        assert c.fix_command.startswith(f"python manage.py plan_adopt --plan {R9_CODE}")
        assert c.fix_command.endswith("--in-force-from 2027-04-01")
        Plan.objects.filter(pk=nxt.plan.pk).update(status=PlanStatus.ADOPTED)
        nxt.plan.refresh_from_db()
        assert check(nxt.plan, "plan").ok


def test_wg_without_leader_then_ok(nxt, personas):
    with at("2027-03-31"):
        WorkingGroupMembership.objects.filter(working_group=nxt.other_wg).update(role="member")
        assert failing(nxt.plan) == {"initiatives", "wg_no_leader"}
        assert [r.name for r in check(nxt.plan, "wg_no_leader").rows] == ["総務課WG"]
        # a deactivated leader leads nothing (and cannot log in)
        WorkingGroupMembership.objects.filter(working_group=nxt.other_wg).update(role="leader")
        assert not failing(nxt.plan)
        personas.other_member.is_active = False
        personas.other_member.save()
        assert failing(nxt.plan) == {"initiatives", "wg_no_leader", "logins"}


def test_wg_with_two_leaders_then_ok(nxt, personas):
    with at("2027-04-01"):
        WorkingGroupMembership.objects.filter(working_group=nxt.wg, user=personas.member).update(
            role="leader"
        )
        assert failing(nxt.plan) == {"initiatives", "wg_two_leaders"}
        assert [r.name for r in check(nxt.plan, "wg_two_leaders").rows] == [
            "情報推進課WG(WG長: leader、member)"
        ]
        WorkingGroupMembership.objects.filter(working_group=nxt.wg, user=personas.member).update(
            role="member"
        )
        assert not failing(nxt.plan)


def test_a_plan_without_wgs(plan, personas):
    with at("2027-03-25"):
        nxt = make_next_plan(plan, personas)
        WorkingGroup.objects.filter(plan=nxt.plan).delete()
        c = check(nxt.plan, "wg_no_leader")
        assert not c.ok and [r.name for r in c.rows] == ["この計画にはWGがありません"]
        assert "no_wg" in failing(nxt.plan)


def test_headquarters_without_chief_or_missing_then_ok(nxt, personas):
    with at("2027-03-25"):
        HeadquartersMember.objects.filter(headquarters=nxt.hq).update(role="member")
        assert failing(nxt.plan) == {"headquarters"}
        HeadquartersMember.objects.filter(headquarters=nxt.hq).update(role="chief")
        assert not failing(nxt.plan)
        nxt.hq.delete()
        c = check(nxt.plan, "headquarters")
        assert not c.ok and c.rows[0].name == "この計画にはDX推進本部がありません"


def test_secretariat_missing_then_ok(nxt):
    with at("2027-03-25"):
        Secretariat.objects.filter(plan=nxt.plan).delete()
        assert failing(nxt.plan) == {"secretariat"}
        Secretariat.objects.create(plan=nxt.plan, section=Section.objects.get(name="情報推進課"))
        assert not failing(nxt.plan)


def test_people_who_cannot_log_in_then_ok(nxt, personas):
    member = personas.member
    with at("2027-03-25"):
        member.set_unusable_password()
        member.save()
        c = check(nxt.plan, "logins")
        assert not c.ok
        assert [r.name for r in c.rows] == [
            "member(member): パスワード未設定 — 情報推進課WG WGメンバー"
        ]
        assert c.rows[0].url == reverse("workgroups:staff_edit", args=[member.pk])
        member.set_password("kahoku-Test-pass-2027")
        member.save()
        assert check(nxt.plan, "logins").ok

        # locked out by django-axes: five failures of this user name from one address
        attempt = AccessAttempt.objects.create(
            username="member",
            ip_address="192.0.2.1",
            user_agent="test",
            failures_since_start=5,
            get_data="",
            post_data="",
            http_accept="",
            path_info="/accounts/login/",
        )
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=timezone.now())
        assert "ログイン制限中" in check(nxt.plan, "logins").rows[0].name
        attempt.delete()
        assert check(nxt.plan, "logins").ok

        # the HQ chief deactivated: no usable login, and no 本部長 either
        personas.hq.is_active = False
        personas.hq.save()
        assert failing(nxt.plan) == {"logins", "headquarters"}
        assert "無効" in check(nxt.plan, "logins").rows[0].name


def test_initiatives_without_indicator_or_wg_then_ok(nxt):
    with at("2027-03-31"):
        Indicator.objects.filter(initiative=nxt.other_ini).delete()
        assert failing(nxt.plan) == {"no_indicator"}
        assert [r.name for r in check(nxt.plan, "no_indicator").rows] == ["1.2 文書管理の電子化"]
        make_indicator(nxt.other_ini, name="電子決裁率")
        Initiative.objects.filter(pk=nxt.ini.pk).update(working_group=None)
        assert failing(nxt.plan) == {"no_wg", "initiatives"}
        c = check(nxt.plan, "no_wg")
        assert (
            c.fix_command
            == f"python manage.py import_sheet initiatives 取り組み.xlsx --plan {R9_CODE}"
        )
        Initiative.objects.filter(pk=nxt.ini.pk).update(working_group=nxt.wg)
        assert not failing(nxt.plan)


def test_reviews_to_open_for_the_first_year(nxt):
    with at("2027-03-25"):
        c = check(nxt.plan, "reviews")
        assert c.ok and c.label == "令和9年度 (2027年度)に振り返りを開く取り組み"
        assert [r.name for r in c.rows] == ["1.1 電子申請の拡充", "1.2 文書管理の電子化"]
        make_review(nxt.ini, fiscal_year=2027)
        rows = [r.name for r in check(nxt.plan, "reviews").rows]
        assert rows == ["1.1 電子申請の拡充(開始済み)", "1.2 文書管理の電子化"]
        Initiative.objects.filter(policy__plan=nxt.plan).delete()
        assert not check(nxt.plan, "reviews").ok


def test_reminders_that_will_go_to_the_new_plans_people(nxt, personas):
    with at("2027-03-25"):
        c = check(nxt.plan, "reminders")
        # on 1 April nothing of R9 is logged yet: each member of an R9 WG is reminded of it
        assert c.ok and c.label == "2027-04-01に送られるリマインダー(3通)"
        assert [r.name for r in c.rows] == [
            "leader(leader@city.kahoku.example): 進捗未更新1件",
            "member(member@city.kahoku.example): 進捗未更新1件",
            "other(other@city.kahoku.example): 進捗未更新1件",
        ]
        personas.member.email = ""
        personas.member.save()
        c = check(nxt.plan, "reminders")
        assert not c.ok
        assert c.rows[-1].name == "member: メールアドレスがないためリマインダーが届きません"


def test_lists_are_bounded(nxt):
    policy = nxt.ini.policy
    Initiative.objects.bulk_create(
        Initiative(policy=policy, number=n, title=f"取り組み{n}", working_group=nxt.wg)
        for n in range(3, 3 + ROW_LIMIT + 5)
    )
    with at("2027-03-25"):
        c = check(nxt.plan, "no_indicator")
    assert len(c.rows) == ROW_LIMIT and c.total == ROW_LIMIT + 5 and c.more == 5


def test_defaults_next_plan_and_its_first_day(nxt, plan):
    with at("2027-03-25"):
        today = timezone.localdate()
        assert default_plan(today) == nxt.plan
        assert default_day(nxt.plan, today) == APRIL_1
    with at("2027-04-05"):
        today = timezone.localdate()
        assert default_plan(today) == nxt.plan  # in force, no successor
        assert default_day(nxt.plan, today) == date(2027, 4, 5)


# --- the screen ------------------------------------------------------------------------------

URL = reverse("reporting:plan_switch")


def test_screen_lines_and_fixes(client, nxt, personas):
    with at("2027-03-25"):
        client.force_login(personas.secretariat)
        page = client.get(URL).content.decode()  # defaults: R9, 2027-04-01
        assert "かほく市DX推進計画(第2期)：令和9年4月1日(木)" in page
        assert "すべてOKです。" in page and 'data-status="要対応"' not in page
        WorkingGroupMembership.objects.filter(working_group=nxt.other_wg).update(role="member")
        response = client.get(URL, {"plan": R9_CODE, "on": "R9.4.1"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "要対応 2件" in page
    assert '<li data-check="wg_no_leader" data-status="要対応">' in page
    assert f'<a href="{reverse("workgroups:staff_roster")}">職員名簿の取り込み</a>' in page
    assert f"import_staff 職員名簿.xlsx --plan {R9_CODE} --effective 2027-04-01" in page
    assert '<li data-check="headquarters" data-status="OK">' in page


def test_screen_bad_input_is_a_clear_message(client, nxt, personas):
    with at("2027-03-25"):
        client.force_login(personas.secretariat)
        response = client.get(URL, {"plan": R9_CODE, "on": "4月1日ごろ"})
        assert response.status_code == 400
        assert "「4月1日ごろ」は日付として解釈できません" in response.content.decode()
        response = client.get(URL, {"plan": "no-such-plan", "on": "2027-04-01"})
        assert response.status_code == 400
        assert "no-such-plan" in response.content.decode()


def test_screen_access(client, nxt, personas):
    with at("2027-03-25"):
        assert client.get(URL).status_code == 302  # anonymous → login
        client.force_login(personas.viewer)
        assert client.get(URL).status_code == 403
        client.force_login(personas.leader)
        assert client.get(URL).status_code == 403
        client.force_login(personas.hq)
        assert client.get(URL).status_code == 200
        client.force_login(personas.secretariat)
        assert client.post(URL).status_code == 405


def test_linked_from_the_versions_page(client, personas):
    client.force_login(personas.secretariat)
    assert f'href="{URL}"' in client.get(reverse("reporting:versions")).content.decode()


# --- the command -----------------------------------------------------------------------------


def run(*args: str) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("plan_switch_check", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def test_command_exit_status_follows_the_checks(nxt, personas):
    with at("2027-03-25"):
        code, out = run("--plan", R9_CODE, "--on", "2027-04-01")
        assert code == 0, out
        assert "【OK】施行中の計画" in out and "すべてOKです。" in out
        HeadquartersMember.objects.filter(headquarters=nxt.hq).update(role="member")
        code, out = run("--plan", R9_CODE, "--on", "2027-04-01")
        assert code == 1
        assert (
            f"【要対応】DX推進本部の本部長 → 画面: 職員名簿の取り込み {reverse('workgroups:staff_roster')}"
            in out
        )
        assert "要対応 1件。" in out
        HeadquartersMember.objects.filter(headquarters=nxt.hq).update(role="chief")
        assert run()[0] == 0  # defaults: the successor plan and its first day


def test_command_bad_arguments(nxt):
    with pytest.raises(CommandError, match="--plan「nope」という計画はありません") as exc:
        call_command("plan_switch_check", "--plan", "nope", "--on", "2027-04-01")
    assert exc.value.returncode == 2
    with pytest.raises(CommandError, match="「2027-13-01」は日付として解釈できません") as exc:
        call_command("plan_switch_check", "--plan", R9_CODE, "--on", "2027-13-01")
    assert exc.value.returncode == 2
