"""WGs created, renamed, merged and dissolved from a date on screens (no /admin/): written into
every plan the date reaches; records before the date keep the WG as it was."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from plans.models import Plan, PlanStatus
from tests.factory import make_membership, make_progress, make_user
from workgroups import services
from workgroups.models import (
    Headquarters,
    Secretariat,
    Section,
    WorkingGroup,
    WorkingGroupMembership,
    WorkingGroupName,
)

pytestmark = pytest.mark.django_db
URL = "workgroups:working_groups"


@pytest.fixture(autouse=True)
def _december():
    with time_machine.travel(datetime(2026, 12, 7, 10, tzinfo=ZoneInfo("Asia/Tokyo"))):
        yield


@pytest.fixture
def r9(plan, personas):
    """The next plan, drafted: its bodies continued from the plan in force."""
    from reporting.services.versions import plan_create_next

    return plan_create_next(
        actor=personas.secretariat,
        source=plan,
        code="r9",
        name="第2期計画",
        theme="",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )


def _post(client, user, data, plan_code=None):
    client.force_login(user)
    if plan_code:
        data = {**data, "plan": plan_code}
    return client.post(reverse(URL), data)


def test_create_a_wg_from_a_date_reaches_the_next_plan_too(client, plan, personas, r9):
    soumu = Section.objects.get(name="総務課")
    response = _post(
        client,
        personas.secretariat,
        {
            "kind": "create",
            "create-name": "防災DXWG",
            "create-lead_section": soumu.pk,
            "create-sections": [Section.objects.get(name="情報推進課").pk],
            "create-effective": "令和８年１２月１０日",
        },
        plan.code,
    )
    assert response.status_code == 302
    wgs = WorkingGroup.objects.filter(name="防災DXWG")
    assert {wg.plan for wg in wgs} == {plan, r9}
    assert len({wg.key for wg in wgs}) == 1
    wg = wgs.get(plan=plan)
    assert set(wg.sections.values_list("name", flat=True)) == {"総務課", "情報推進課"}
    assert wg.history.first().history_user == personas.secretariat
    page = client.get(reverse(URL), {"plan": plan.code}).content.decode()
    assert "防災DXWG" in page and "WG長がいません" in page


def test_rename_mid_plan_keeps_the_old_name_for_records_before_the_date(client, plan, personas, r9):
    ini = personas.wg.initiatives.first()
    before = make_progress(ini, entry_date=date(2026, 10, 1))
    old = personas.wg.name
    response = _post(
        client,
        personas.secretariat,
        {
            "kind": "rename",
            "rename-working_group": personas.wg.pk,
            "rename-new_name": "デジタル推進課WG",
            "rename-effective": "R8.12.1",
        },
        plan.code,
    )
    assert response.status_code == 302
    personas.wg.refresh_from_db()
    assert personas.wg.name == "デジタル推進課WG"
    assert personas.wg.name_as_of(before.entry_date) == old
    assert personas.wg.name_as_of(date(2026, 12, 1)) == "デジタル推進課WG"
    # the next plan's row simply carries the new name
    nxt = WorkingGroup.objects.get(plan=r9, key=personas.wg.key)
    assert nxt.name == "デジタル推進課WG" and not nxt.names.exists()
    page = client.get(reverse(URL), {"plan": plan.code}).content.decode()
    assert f"令和8年12月1日(火)から改称（旧: {old}）" in page


def test_rename_from_april_changes_the_next_plan_only(personas, plan, r9):
    services.wg_rename(
        actor=personas.secretariat,
        working_group=personas.wg,
        new_name="デジタル推進課WG",
        effective=date(2027, 4, 1),
    )
    personas.wg.refresh_from_db()
    assert personas.wg.name == "情報推進課WG"
    assert WorkingGroup.objects.get(plan=r9, key=personas.wg.key).name == "デジタル推進課WG"
    assert not WorkingGroupName.objects.exists()


def test_rename_from_april_without_a_next_plan_is_refused(client, plan, personas):
    response = _post(
        client,
        personas.secretariat,
        {
            "kind": "rename",
            "rename-working_group": personas.wg.pk,
            "rename-new_name": "デジタル推進課WG",
            "rename-effective": "令和9年4月1日",
        },
        plan.code,
    )
    assert response.status_code == 400
    assert "2027年4月1日以降に続く計画がありません" in response.content.decode()
    personas.wg.refresh_from_db()
    assert personas.wg.name == "情報推進課WG"


def test_merge_moves_initiatives_and_members_and_ends_the_wg(client, plan, personas, r9):
    a, b = personas.other_wg, personas.wg
    a_initiatives = set(a.initiatives.values_list("pk", flat=True))
    assert a_initiatives
    response = _post(
        client,
        personas.secretariat,
        {
            "kind": "merge",
            "merge-source": a.pk,
            "merge-target": b.pk,
            "merge-effective": "令和8年12月1日",
        },
        plan.code,
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.dissolved_on == date(2026, 12, 1)
    assert not a.initiatives.exists()
    assert a_initiatives <= set(b.initiatives.values_list("pk", flat=True))
    joined = WorkingGroupMembership.objects.get(working_group=b, user=personas.other_member)
    assert joined.role == WorkingGroupMembership.Role.MEMBER
    assert not WorkingGroupMembership.objects.filter(working_group=a).exists()
    # in the next plan the merged WG is gone and its member is in the target
    assert not WorkingGroup.objects.filter(plan=r9, key=a.key).exists()
    assert WorkingGroupMembership.objects.filter(
        working_group__plan=r9, working_group__key=b.key, user=personas.other_member
    ).exists()


def test_dissolve_only_without_initiatives_or_with_them_reassigned(personas, plan):
    with pytest.raises(services.ValidationError, match="移し先のWGを選んでください"):
        services.wg_dissolve(
            actor=personas.secretariat, working_group=personas.other_wg, effective=date(2026, 12, 1)
        )
    assert personas.other_wg.initiatives.exists()
    services.wg_dissolve(
        actor=personas.secretariat,
        working_group=personas.other_wg,
        effective=date(2026, 12, 1),
        reassign_to=personas.wg,
    )
    personas.other_wg.refresh_from_db()
    assert personas.other_wg.dissolved_on == date(2026, 12, 1)
    assert not personas.other_wg.initiatives.exists()
    assert not personas.other_wg.memberships.exists()


def test_effective_date_out_of_range_and_bad_text_are_refused(client, plan, personas):
    for text, message in (
        ("令和3年4月1日", "適用日は今年度か来年度の日付にしてください。"),
        ("あした", "日付として解釈できません"),
    ):
        response = _post(
            client,
            personas.secretariat,
            {
                "kind": "rename",
                "rename-working_group": personas.wg.pk,
                "rename-new_name": "X",
                "rename-effective": text,
            },
            plan.code,
        )
        assert response.status_code == 400 and message in response.content.decode()


def test_warnings_two_leaders_and_a_leader_from_outside(client, plan, personas):
    outsider = make_user("outsider", section="市民生活課")
    make_membership(outsider, personas.wg, leader=True)
    client.force_login(personas.secretariat)
    page = client.get(reverse(URL), {"plan": plan.code}).content.decode()
    assert "WG長が2人います" in page
    assert "WG長outsiderさんはWGの構成課の職員ではありません" in page


def test_wg_screen_is_the_secretariats(client, plan, personas):
    assert client.get(reverse(URL)).status_code == 302  # anonymous → login
    for who in ("hq", "leader", "viewer"):
        client.force_login(getattr(personas, who))
        assert client.get(reverse(URL)).status_code == 403
        assert client.post(reverse(URL), {"kind": "create"}).status_code == 403
    client.force_login(personas.secretariat)
    assert client.put(reverse(URL)).status_code == 405


def test_a_successor_without_bodies_gets_them_from_the_screen(client, plan, personas):
    nxt = Plan.objects.create(
        code="r9x",
        name="第2期",
        start_fy=2027,
        end_fy=2031,
        predecessor=plan,
        status=PlanStatus.DRAFT,
    )
    client.force_login(personas.secretariat)
    page = client.get(reverse(URL), {"plan": "r9x"}).content.decode()
    assert "から組織と人を引き継ぐ" in page
    response = client.post(reverse(URL), {"kind": "continue", "plan": "r9x"})
    assert response.status_code == 302
    assert (
        WorkingGroup.objects.filter(plan=nxt).count()
        == WorkingGroup.objects.filter(plan=plan).count()
    )
    assert Secretariat.objects.filter(plan=nxt).exists()


def test_organisation_page_creates_secretariat_and_hq_for_a_plan(client, plan, personas):
    Plan.objects.create(code="r9x", name="第2期", start_fy=2027, end_fy=2031)
    client.force_login(personas.secretariat)
    url = reverse("workgroups:organisation")
    assert "まだありません" in client.get(url, {"plan": "r9x"}).content.decode()
    section = Section.objects.get(name="情報推進課")
    response = client.post(
        url, {"plan": "r9x", "secretariat_section": section.pk, "hq_name": "かほく市DX推進本部"}
    )
    assert response.status_code == 302
    assert Secretariat.objects.get(plan__code="r9x").section == section
    hq = Headquarters.objects.get(plan__code="r9x")
    assert hq.name == "かほく市DX推進本部"
    assert hq.history.first().history_user == personas.secretariat
    bad = client.post(url, {"plan": "r9x", "secretariat_section": section.pk, "hq_name": ""})
    assert bad.status_code == 400
    client.force_login(personas.member)
    assert client.get(url).status_code == 403


def test_add_a_section_on_the_sections_screen(client, personas):
    client.force_login(personas.secretariat)
    url = reverse("workgroups:sections")
    response = client.post(
        url,
        {"kind": "create", "create-name": "市長公室", "create-department": "", "create-order": "5"},
        follow=True,
    )
    assert "「市長公室」を追加しました。" in response.content.decode()
    section = Section.objects.get(name="市長公室")
    assert section.history.first().history_user == personas.secretariat
    again = client.post(url, {"kind": "create", "create-name": "市長公室", "create-order": "5"})
    assert "課名「市長公室」はすでに使われています。" in again.content.decode()


def test_section_rename_takes_a_date_and_shows_it_in_wareki(client, personas):
    client.force_login(personas.secretariat)
    section = Section.objects.get(name="長寿介護課")
    response = client.post(
        reverse("workgroups:sections"),
        {
            "kind": "rename",
            "rename-section": section.pk,
            "rename-new_name": "介護福祉課",
            "rename-effective": "2027/4/1",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "令和9年4月1日" in body and "「長寿介護課」を「介護福祉課」に改称します" in body
    assert section.names.get().valid_from_fy == 2027


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_creates_of_one_wg_write_once_and_refuse_the_rest(plan):
    from django.utils import timezone

    from tests.security.test_lockout_guard import RACERS, race

    plan = Plan.objects.get(pk=plan.pk)
    lead = Section.objects.get(name="総務課")
    actor = make_user("jimu", section="情報推進課")
    refused, failures = race(
        lambda i: services.wg_create(
            actor=actor, name="同時WG", lead_section=lead, effective=timezone.localdate()
        )
    )
    assert failures == []
    assert WorkingGroup.objects.filter(name="同時WG").count() == 1
    assert len(refused) == RACERS - 1
    assert all("WG名「同時WG」はすでにあります" in r for r in refused)


def test_section_merge_reaches_the_plans_from_its_date_and_never_an_ended_plan(personas, plan, r9):
    kaigo = Section.objects.get(name="長寿介護課")
    kenko = Section.objects.get(name="健康福祉課")
    old_plan = Plan.objects.create(
        code="r0", name="前の計画", start_fy=2016, end_fy=2020, status=PlanStatus.ENDED
    )
    old_wg = WorkingGroup.objects.create(plan=old_plan, name="介護WG", lead_section=kaigo)
    now_wg = WorkingGroup.objects.create(plan=plan, name="介護WG", lead_section=kaigo)
    next_wg = WorkingGroup.objects.create(plan=r9, name="介護WG", lead_section=kaigo)
    personas.viewer.profile.section = kaigo
    personas.viewer.profile.save()
    # from next April: only the next plan's WG moves now; staff move when the year comes
    services.section_merge(
        actor=personas.secretariat,
        sources=[kaigo, kenko],
        target_name="健康福祉課",
        effective_fy=2027,
        today_fy=2026,
    )
    for wg in (old_wg, now_wg, next_wg):
        wg.refresh_from_db()
    personas.viewer.profile.refresh_from_db()
    assert (old_wg.lead_section, now_wg.lead_section, next_wg.lead_section) == (kaigo, kaigo, kenko)
    assert personas.viewer.profile.section == kaigo


def test_section_merge_this_year_moves_current_plans_but_not_an_ended_one(personas, plan, r9):
    kaigo = Section.objects.get(name="長寿介護課")
    kenko = Section.objects.get(name="健康福祉課")
    old_plan = Plan.objects.create(
        code="r0", name="前の計画", start_fy=2016, end_fy=2020, status=PlanStatus.ENDED
    )
    old_wg = WorkingGroup.objects.create(plan=old_plan, name="介護WG", lead_section=kaigo)
    now_wg = WorkingGroup.objects.create(plan=plan, name="介護WG", lead_section=kaigo)
    next_wg = WorkingGroup.objects.create(plan=r9, name="介護WG", lead_section=kaigo)
    services.section_merge(
        actor=personas.secretariat,
        sources=[kaigo, kenko],
        target_name="健康福祉課",
        effective_fy=2026,
        today_fy=2026,
    )
    for wg in (old_wg, now_wg, next_wg):
        wg.refresh_from_db()
    assert (old_wg.lead_section, now_wg.lead_section, next_wg.lead_section) == (kaigo, kenko, kenko)
