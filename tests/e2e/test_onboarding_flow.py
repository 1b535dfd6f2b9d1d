"""Browser: the secretariat onboards a WG leader and a member without /admin/, and the new
leader logs in with the password set for them and submits the year's review."""

from __future__ import annotations

from django.utils import timezone
from playwright.sync_api import expect

from initiatives.models import Review
from portal_lib import era
from tests.e2e.helpers import axe_check, e2e_login
from tests.factory import initiative
from workgroups.models import WorkingGroupMembership

NEW_PASSWORD = "Kahoku-Onboard-2026!"


def _add_person(page, live_server, *, username, name, email, role_in_wg, wg_name):
    page.goto(f"{live_server.url}/organisation/staff/")
    page.get_by_role("link", name="職員を追加").click()
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("氏名").fill(name)
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("所属課").select_option(label="情報推進課")
    page.get_by_label(wg_name).select_option(label=role_in_wg)
    page.get_by_role("button", name="保存").click()


def test_secretariat_onboards_a_leader_and_member_then_the_leader_submits(
    page, live_server, personas
):
    page.on("dialog", lambda dialog: dialog.accept())
    wg_name = personas.wg.name
    e2e_login(page, live_server, personas.secretariat)

    _add_person(
        page,
        live_server,
        username="k.nishi",
        name="西 健太",
        email="k.nishi@city.kahoku.example",
        role_in_wg="WG長",
        wg_name=wg_name,
    )
    # After adding, the secretariat lands on the password page of the new person.
    expect(page.locator("h1")).to_contain_text("パスワードの設定：k.nishi")
    axe_check(page)
    page.locator("#id_password1").fill(NEW_PASSWORD)
    page.locator("#id_password2").fill(NEW_PASSWORD)
    page.get_by_role("button", name="設定する").click()
    expect(page.locator(".messages")).to_contain_text("パスワードを設定しました")

    _add_person(
        page,
        live_server,
        username="y.higashi",
        name="東 由美",
        email="y.higashi@city.kahoku.example",
        role_in_wg="WGメンバー",
        wg_name=wg_name,
    )
    page.goto(f"{live_server.url}/organisation/staff/")
    row = page.locator("tr", has_text="西 健太")
    expect(row).to_contain_text(f"{wg_name}（WG長）")
    expect(page.locator("tr", has_text="東 由美")).to_contain_text(f"{wg_name}（WGメンバー）")
    axe_check(page)
    roles = dict(
        WorkingGroupMembership.objects.filter(working_group=personas.wg).values_list(
            "user__username", "role"
        )
    )
    assert roles["k.nishi"] == "leader" and roles["y.higashi"] == "member"
    page.get_by_role("button", name="ログアウト").click()

    # The new leader logs in with the password the secretariat set, and submits a review.
    from django.contrib.auth import get_user_model

    e2e_login(
        page, live_server, get_user_model().objects.get(username="k.nishi"), password=NEW_PASSWORD
    )
    ini = initiative("2.1")
    assert ini.working_group == personas.wg
    fy = era.current_fiscal_year(timezone.localdate())
    page.goto(f"{live_server.url}/initiatives/{ini.pk}/reviews/{fy}/edit/")
    page.get_by_label("Plan(計画)").fill("27手続のオンライン化")
    page.get_by_label("Do(実行)").fill("子育て関係15手続を公開")
    page.get_by_label("Check(評価)").fill("介護関係が未了")
    page.get_by_label("Act(改善)").fill("介護関係を次年度に公開")
    page.get_by_label("自己評価").select_option("B")
    page.get_by_role("button", name="保存").click()
    page.get_by_role("button", name="提出する").click()
    expect(page.locator(".messages")).to_be_visible()
    review = Review.objects.get(initiative=ini, fiscal_year=fy)
    assert review.state == Review.State.SUBMITTED
    assert review.history.first().history_user.username == "k.nishi"
