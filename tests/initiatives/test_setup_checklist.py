"""The secretariat's set-up checklist: what is missing to run the year, each item fixable."""

from __future__ import annotations

import pytest
from django.urls import reverse

from initiatives.models import Confirmation, Initiative, OnlineProcedure, StandardSystem
from initiatives.selectors import setup_checklist
from tests.factory import initiative, make_membership, make_review
from workgroups.models import Section, StaffProfile, WorkingGroup, WorkingGroupMembership

pytestmark = pytest.mark.django_db
FY = 2026


def _items():
    return {item.key: item.count for item in setup_checklist(FY)}


def test_items_appear_and_disappear_as_fixed(personas):
    items = _items()
    plan_wgs = WorkingGroup.objects.filter(plan=personas.wg.plan)
    # a fresh install: nothing confirmed or published, reviews not opened
    assert items["procedures"] == OnlineProcedure.objects.count() > 0
    assert items["published"] == 1
    assert items["reviews"] > 0
    assert items["wg_leaders"] == plan_wgs.count() - 1  # only 情報推進課WG has a leader
    assert items["systems"] == StandardSystem.objects.count() > 0  # 主管課 not loaded
    assert "staff_section" not in items  # the mayor (本部長) has no section by design
    assert "ended_sections" not in items and "initiative_wg" not in items

    OnlineProcedure.objects.update(confirmation=Confirmation.CONFIRMED)
    StandardSystem.objects.update(section=Section.objects.get(name="情報推進課"))
    ini = initiative("1.1")
    Initiative.objects.filter(pk=ini.pk).update(is_public=True)
    for wg in plan_wgs.exclude(pk=personas.wg.pk):
        WorkingGroupMembership.objects.update_or_create(
            working_group=wg, user=personas.other_member, defaults={"role": "leader"}
        )
    items = _items()
    # 総務課's person leads every other WG: each has a leader now, from outside its sections
    assert set(items) == {"reviews", "wg_outside_leader"}
    assert items["wg_outside_leader"] == plan_wgs.exclude(name="総務課WG").count() - 1

    # a leader who is deactivated no longer counts
    personas.leader.is_active = False
    personas.leader.save()
    assert _items()["wg_leaders"] == 1

    # staff without a section, initiatives without a WG, systems without 主管課
    StaffProfile.objects.filter(user=personas.viewer).update(section=None)
    Initiative.objects.filter(pk=ini.pk).update(working_group=None)
    StandardSystem.objects.filter(pk=StandardSystem.objects.first().pk).update(section=None)
    items = _items()
    assert items["staff_section"] == 1 and items["initiative_wg"] == 1
    assert items["systems"] == 1

    # a section ended but still holding staff
    section = Section.objects.get(name="市民生活課")
    StaffProfile.objects.filter(user=personas.member).update(section=section)
    Section.objects.filter(pk=section.pk).update(ended_fy=FY - 1)
    assert _items()["ended_sections"] == 1

    # opening the year's reviews clears that item
    before = _items()["reviews"]
    make_review(initiative("1.2"), fiscal_year=FY)
    assert _items()["reviews"] == before - 1


def test_checklist_on_the_secretariat_home_only_with_links(
    client, personas, django_assert_max_num_queries
):
    client.force_login(personas.secretariat)
    with django_assert_max_num_queries(40):
        page = client.get(reverse("home")).content.decode()
    assert "年度の準備で足りないもの" in page
    assert f'href="{reverse("initiatives:procedures")}?confirmed=0">未確認' in page
    # a yes/no item says 「なし」, not a count
    assert (
        f'href="{reverse("reporting:publication")}">公開ページに載せた取り組み</a> '
        '<span class="badge badge-draft">なし</span>'
    ) in page
    client.force_login(personas.leader)
    assert "年度の準備で足りないもの" not in client.get(reverse("home")).content.decode()


def test_checklist_query_count_does_not_grow(personas, django_assert_max_num_queries):
    with django_assert_max_num_queries(11):  # 10 items and the plan in force
        setup_checklist(FY)


def test_two_leaders_and_a_leader_from_outside_are_listed_with_the_wg_screen(client, personas):
    """The checklist asks the roster preview's rule (workgroups.selectors): a WG led by two
    people, and a WG led by someone from outside its lead section and sections."""
    assert "wg_two_leaders" not in _items() and "wg_outside_leader" not in _items()
    mine = WorkingGroupMembership.objects.filter(working_group=personas.wg)
    mine.filter(user=personas.member).update(role="leader")  # 情報推進課: a second leader
    make_membership(personas.other_member, personas.wg, leader=False)
    items = _items()
    assert items["wg_two_leaders"] == 1 and "wg_outside_leader" not in items
    WorkingGroupMembership.objects.filter(
        user=personas.other_member, working_group=personas.wg
    ).update(role="leader")
    WorkingGroupMembership.objects.filter(user=personas.member, working_group=personas.wg).update(
        role="member"
    )
    items = _items()
    assert items["wg_two_leaders"] == 1 and items["wg_outside_leader"] == 1
    client.force_login(personas.secretariat)
    page = client.get(reverse("home")).content.decode()
    assert reverse("workgroups:working_groups") in page
