"""The set-up checklist's items link to lists filtered to exactly the rows they count: the
checklist and the list ask the same rule (workgroups.selectors, initiatives.models), so the
count on the home page is the number of rows the link shows. People with no section by
design (本部長, 副本部長, external advisors with an account) are not 「所属課のない職員」."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from initiatives.models import Initiative, OnlineProcedure, StandardSystem
from initiatives.selectors import setup_checklist
from tests.factory import initiative, make_membership, make_review, make_user
from workgroups.models import (
    ExternalAdvisor,
    HeadquartersMember,
    Section,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
)

pytestmark = pytest.mark.django_db
FY = 2026


def _shown(client, item) -> set:
    """The rows the item's link lists (every page), as primary keys."""
    response = client.get(reverse(item.url_name) + item.query)
    assert response.status_code == 200
    ctx = response.context
    if "procedures" in ctx:
        return {p.pk for p in ctx["procedures"]}
    if "systems" in ctx:
        return {s.pk for s in ctx["systems"]}
    if "rows" in ctx:
        return {row.wg.pk for row in ctx["rows"]}
    if "sections" in ctx:
        return {section.pk for section in ctx["sections"]}
    page = ctx["page_obj"]
    assert page.paginator.num_pages == 1
    return {obj.pk for obj in page.object_list}


def _arrange(personas) -> dict[str, set]:
    """Something to fix for every item, and the rows each should list."""
    plan = personas.wg.plan
    OnlineProcedure.objects.filter(number__in=[1, 2]).update(confirmation="confirmed")
    StandardSystem.objects.filter(number__gt=3).update(section=personas.wg.lead_section)
    # 情報推進課WG: two leaders; 総務課WG: led from outside its sections
    WorkingGroupMembership.objects.filter(user=personas.member, working_group=personas.wg).update(
        role="leader"
    )
    make_membership(personas.leader, personas.other_wg, leader=True)
    # 所属課のない職員: a real one, the mayor (本部長), a deputy and an advisor by design
    lost = make_user("lost")
    deputy = make_user("deputy", role=StaffProfile.Role.HEADQUARTERS)
    HeadquartersMember.objects.create(
        headquarters=plan.headquarters, role="deputy", title="副市長", user=deputy
    )
    advisor = make_user("advisor")
    ExternalAdvisor.objects.create(plan=plan, name="DXアドバイザー", user=advisor)
    make_user("gone").__class__.objects.filter(username="gone").update(is_active=False)
    make_review(initiative("1.1"), fiscal_year=FY)
    # 担当WGが決まっていない取り組み: 3.3 loses its WG
    Initiative.objects.filter(pk=initiative("3.3").pk).update(working_group=None)
    # 廃止されたのに職員・WGが残っている課: one abolished with a person still in it, one
    # abolished and empty (not listed), one abolished whose only person has left (not listed)
    Section.objects.create(name="旧企画課", ended_fy=FY - 1)
    make_user("still_there", section="旧企画課")
    Section.objects.create(name="旧広報課", ended_fy=FY - 1)
    Section.objects.create(name="旧税務課", ended_fy=FY - 1)
    make_user("retired", section="旧税務課").__class__.objects.filter(username="retired").update(
        is_active=False
    )
    return {
        "procedures": set(
            OnlineProcedure.objects.exclude(number__in=[1, 2]).values_list("pk", flat=True)
        ),
        "systems": set(StandardSystem.objects.filter(number__lte=3).values_list("pk", flat=True)),
        "wg_leaders": set(
            WorkingGroup.objects.filter(plan=plan)
            .exclude(pk__in=[personas.wg.pk, personas.other_wg.pk])
            .values_list("pk", flat=True)
        ),
        "wg_two_leaders": {personas.wg.pk},
        "wg_outside_leader": {personas.other_wg.pk},
        "staff_section": {lost.pk},
        "initiative_wg": {initiative("3.3").pk},
        "ended_sections": {Section.objects.get(name="旧企画課").pk},
        "reviews": set(
            Initiative.objects.filter(policy__plan=plan)
            .exclude(pk=initiative("1.1").pk)
            .values_list("pk", flat=True)
        ),
    }


def test_each_item_links_to_exactly_its_rows(client, personas):
    expected = _arrange(personas)
    items = {i.key: i for i in setup_checklist(FY)}
    client.force_login(personas.secretariat)
    home = client.get(reverse("home")).content.decode()
    for key, rows in expected.items():
        item = items[key]
        assert item.count == len(rows), key
        assert _shown(client, item) == rows, key
        # the home page shows the same count beside the same link
        href = (reverse(item.url_name) + item.query).replace("&", "&amp;")
        shown = re.search(
            rf'<li data-item="{key}"><a href="{re.escape(href)}">[^<]+</a> '
            r'<span class="badge badge-draft">(\d+)</span>',
            home,
        )
        assert shown and int(shown[1]) == len(rows), key


def test_no_section_by_design_is_not_missing_a_section(client, personas):
    """本部長 (the mayor) and an advisor with an account have no section by design; once
    the advisor's account is unlinked they are listed, on the checklist and the staff list."""
    assert "staff_section" not in {i.key for i in setup_checklist(FY)}  # the mayor alone
    advisor = make_user("advisor")
    link = ExternalAdvisor.objects.create(plan=personas.wg.plan, name="顧問", user=advisor)
    assert "staff_section" not in {i.key for i in setup_checklist(FY)}
    link.user = None
    link.save()
    item = next(i for i in setup_checklist(FY) if i.key == "staff_section")
    client.force_login(personas.secretariat)
    assert item.count == 1 and _shown(client, item) == {advisor.pk}
    # the mayor leaving the 本部長 seat makes a missing section a thing to fix
    HeadquartersMember.objects.filter(user=personas.hq).update(user=None)
    item = next(i for i in setup_checklist(FY) if i.key == "staff_section")
    assert item.count == 2 and _shown(client, item) == {advisor.pk, personas.hq.pk}


def test_a_yes_no_item_shows_yes_no_not_a_count(client, personas):
    client.force_login(personas.secretariat)
    item = next(i for i in setup_checklist(FY) if i.key == "published")
    assert item.yes_no
    home = client.get(reverse("home")).content.decode()
    assert re.search(
        r'<li data-item="published"><a href="[^"]+">公開ページに載せた取り組み</a> '
        r'<span class="badge badge-draft">なし</span>',
        home,
    )
    Initiative.objects.filter(pk=initiative("1.1").pk).update(is_public=True)
    assert "published" not in {i.key for i in setup_checklist(FY)}
