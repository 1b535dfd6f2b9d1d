"""The city's bodies continue into the next plan with their people (domain.md §7)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from plans.models import Plan, PlanStatus
from reporting.services.versions import plan_create_next
from tests.factory import make_membership, make_user
from workgroups import services
from workgroups.access import roles_for
from workgroups.models import (
    ExternalAdvisor,
    Headquarters,
    HeadquartersMember,
    Secretariat,
    WorkingGroup,
    WorkingGroupMembership,
)

pytestmark = pytest.mark.django_db


def _next(plan, actor):
    return plan_create_next(
        actor=actor,
        source=plan,
        code="kahoku-dx-r9-r13",
        name="第2期かほく市DX推進計画",
        theme="",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )


def _wg_shape(plan):
    return sorted(
        (
            wg.key,
            wg.name,
            wg.lead_section_id,
            tuple(sorted(s.pk for s in wg.sections.all())),
            tuple(sorted((m.user_id, m.role) for m in wg.memberships.all())),
        )
        for wg in WorkingGroup.objects.filter(plan=plan)
    )


def _hq_shape(plan):
    hq = Headquarters.objects.get(plan=plan)
    return hq.name, sorted(
        (m.title, m.user_id or 0, m.section_id or 0, m.role, m.order) for m in hq.members.all()
    )


def test_next_plan_starts_with_the_same_bodies_and_people(plan, personas):
    ExternalAdvisor.objects.create(plan=plan, name="終わった顧問", end_date=date(2027, 3, 31))
    ExternalAdvisor.objects.create(
        plan=plan, name="続く顧問", end_date=date(2028, 3, 31), working_group=personas.wg
    )
    nxt = _next(plan, personas.secretariat)
    assert _wg_shape(nxt) == _wg_shape(plan)
    assert WorkingGroup.objects.filter(plan=nxt).count() > 1
    assert _hq_shape(nxt) == _hq_shape(plan)
    assert Secretariat.objects.get(plan=nxt).section == Secretariat.objects.get(plan=plan).section
    (advisor,) = ExternalAdvisor.objects.filter(plan=nxt)
    assert advisor.name == "続く顧問"
    assert advisor.working_group.plan == nxt and advisor.working_group.key == personas.wg.key
    copied = WorkingGroup.objects.get(plan=nxt, key=personas.wg.key)
    assert copied.history.first().history_user == personas.secretariat
    # a second run creates nothing twice
    before = (WorkingGroupMembership.objects.count(), HeadquartersMember.objects.count())
    counts = services.bodies_continue(actor=None, source=plan, target=nxt)
    assert set(counts.values()) == {0}
    assert (WorkingGroupMembership.objects.count(), HeadquartersMember.objects.count()) == before


def test_leader_roles_cover_the_new_plans_wg(plan, personas):
    nxt = _next(plan, personas.secretariat)
    new_wg = WorkingGroup.objects.get(plan=nxt, name=personas.wg.name)
    assert roles_for(personas.leader).leads_wg(new_wg.pk)


def test_staff_form_of_the_new_plan_lists_its_wgs(client, plan, personas):
    nxt = _next(plan, personas.secretariat)
    nxt.status = PlanStatus.IN_FORCE
    nxt.save()
    plan.status = PlanStatus.ENDED
    plan.save()
    with time_machine.travel(date(2027, 4, 5)):
        client.force_login(personas.secretariat)
        body = client.get(reverse("workgroups:staff_edit", args=[personas.leader.pk])).content
    body = body.decode()
    new_wg = WorkingGroup.objects.get(plan=nxt, name=personas.wg.name)
    assert f'name="wg_{new_wg.pk}"' in body
    assert "この計画にはWGがありません" not in body


def test_deactivated_people_and_dissolved_wgs_do_not_continue(plan, personas):
    gone = make_user("gone", section="総務課")
    make_membership(gone, personas.other_wg)
    services.staff_set_active(actor=personas.secretariat, user=gone, active=False)
    personas.other_wg.dissolved_on = date(2026, 10, 1)
    personas.other_wg.save()
    nxt = _next(plan, personas.secretariat)
    assert not WorkingGroup.objects.filter(plan=nxt, key=personas.other_wg.key).exists()
    assert not WorkingGroupMembership.objects.filter(working_group__plan=nxt, user=gone).exists()


def test_bodies_ensure_fills_a_successor_made_before_and_touches_nothing_it_has(plan, personas):
    nxt = Plan.objects.create(code="r9", name="第2期", start_fy=2027, end_fy=2031, predecessor=plan)
    counts = services.bodies_ensure(nxt)
    assert counts["working_groups"] == WorkingGroup.objects.filter(plan=plan).count()
    assert counts["secretariat"] == 1 and counts["headquarters"] == 1
    # someone taken out of the new plan stays out when it runs again
    WorkingGroupMembership.objects.filter(working_group__plan=nxt, user=personas.member).delete()
    assert services.bodies_ensure(nxt) == {}
    assert not WorkingGroupMembership.objects.filter(
        working_group__plan=nxt, user=personas.member
    ).exists()


def test_bodies_ensure_command(plan, personas, capsys):
    nxt = Plan.objects.create(code="r9", name="第2期", start_fy=2027, end_fy=2031, predecessor=plan)
    call_command("bodies_ensure", "--plan", "r9")
    out = capsys.readouterr().out
    assert "WG" in out
    assert WorkingGroup.objects.filter(plan=nxt).exists()
