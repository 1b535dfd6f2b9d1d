"""Plan versions with their own content: freeze, lifecycle, comparison from frozen content."""

from __future__ import annotations

import copy
from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError

from initiatives.models import Initiative
from plans.models import BasicPolicy, Plan, PlanStatus, PlanVersion
from plans.selectors import current_plan, plan_in_force_on
from plans.services import plan_put_in_force
from reporting.content_diff import ADDED, CHANGED, REMOVED, content_differences
from reporting.selectors.plan_content import plan_content, version_content
from reporting.services.versions import plan_adopt, plan_create_next

pytestmark = pytest.mark.django_db


def _v10(plan):
    return PlanVersion.objects.get(plan=plan, number="1.0")


def test_loaded_1_0_is_frozen_and_later_edits_do_not_change_it(plan, personas):
    version = _v10(plan)
    frozen = version_content(version)
    ini = Initiative.objects.get(policy__plan=plan, policy__number=2, number=1)
    ini.title = "書き換えた題名"
    ini.save()
    assert version_content(_v10(plan)) == frozen
    assert content_differences(frozen, plan_content(plan)) != []
    (diff,) = [d for d in content_differences(frozen, plan_content(plan)) if d.area == "取り組み"]
    assert (diff.kind, diff.key, diff.changes[0].after) == (CHANGED, "2.1", "書き換えた題名")


def test_0_5_has_no_content_of_its_own(plan):
    assert PlanVersion.objects.get(plan=plan, number="0.5").content is None


def test_one_changed_one_added_one_abolished_shows_exactly_those_three(plan):
    before = version_content(_v10(plan))
    after = copy.deepcopy(before)
    policy2 = next(p for p in after["policies"] if p["number"] == 2)
    changed = next(i for i in policy2["initiatives"] if i["number"] == 2)
    old_text = changed["description"]
    changed["description"] = old_text.replace("オンライン", "デジタル", 1) + "(拡充)"
    removed = policy2["initiatives"].pop(-1)
    policy2["initiatives"].append(
        {**copy.deepcopy(changed), "number": 9, "title": "生成AIの活用", "projects": []}
    )
    diffs = content_differences(before, after)
    assert [(d.kind, d.area, d.key) for d in diffs] == [
        (CHANGED, "取り組み", "2.2"),
        (REMOVED, "取り組み", f"2.{removed['number']}"),
        (ADDED, "取り組み", "2.9"),
    ] + [
        (REMOVED, "既に取り組んでいる事業", f"2.{removed['number']} {p['name']}")
        for p in removed["projects"]
    ] + [(REMOVED, "指標", f"2.{removed['number']} {i['name']}") for i in removed["indicators"]]
    (change,) = diffs[0].changes
    assert change.label == "内容"
    ops = change.ops
    assert ("insert", "(拡充)") in ops
    assert "".join(t for op, t in ops if op != "insert") == old_text
    assert "".join(t for op, t in ops if op != "delete") == changed["description"]


def test_next_plan_lifecycle_draft_adopted_in_force(plan, personas):
    nxt = plan_create_next(
        actor=personas.secretariat,
        source=plan,
        code="kahoku-dx-r9-r13",
        name="第2期かほく市DX推進計画",
        theme="新しい理念",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )
    assert (nxt.status, nxt.predecessor, nxt.period_label) == (
        PlanStatus.DRAFT,
        plan,
        "令和9年度 (2027年度)〜令和13年度 (2031年度)",
    )
    with pytest.raises(ValidationError, match="基本方針がひとつもない計画は決定できません"):
        plan_adopt(actor=personas.secretariat, plan=nxt, adopted_on=date(2027, 2, 20))
    BasicPolicy.objects.create(plan=nxt, number=1, title="市民サービスのデジタル化")
    with pytest.raises(ValidationError, match="今日以前"):  # today is 2026-12-…: not yet
        plan_adopt(actor=personas.secretariat, plan=nxt, adopted_on=date(2027, 2, 20))
    traveller = time_machine.travel(date(2027, 2, 20), tick=False)
    traveller.start()
    with pytest.raises(ValidationError, match="施行日は計画の初年度"):
        plan_adopt(
            actor=personas.secretariat,
            plan=nxt,
            adopted_on=date(2027, 2, 20),
            in_force_from=date(2028, 4, 1),
        )
    version = plan_adopt(actor=personas.secretariat, plan=nxt, adopted_on=date(2027, 2, 20))
    nxt.refresh_from_db()
    assert nxt.status == PlanStatus.ADOPTED and nxt.adopted_on == date(2027, 2, 20)
    assert nxt.in_force_from == date(2027, 4, 1)
    assert version.issued_label == "令和9年2月20日"
    assert version.frozen_at is not None and version.issued_fy == 2026
    assert version.content["policies"][0]["title"] == "市民サービスのデジタル化"
    assert version.history.first().history_user == personas.secretariat
    with pytest.raises(ValidationError, match="策定中ではありません"):
        plan_adopt(actor=personas.secretariat, plan=nxt, adopted_on=date(2027, 3, 1))
    with pytest.raises(ValidationError, match="施行日は2027-04-01です"):
        plan_put_in_force(actor=personas.secretariat, plan=nxt)
    assert current_plan() == plan and plan_in_force_on(date(2027, 3, 31)) == plan
    traveller.stop()
    # On the date the adopted plan is in force without anyone pressing a button...
    assert plan_in_force_on(date(2027, 4, 1)) == nxt
    with time_machine.travel(date(2027, 4, 2), tick=False):
        assert current_plan() == nxt
        # ... and recording it ends the predecessor.
        plan_put_in_force(actor=personas.secretariat, plan=nxt)
    plan.refresh_from_db()
    nxt.refresh_from_db()
    assert (nxt.status, plan.status) == (PlanStatus.IN_FORCE, PlanStatus.ENDED)


@pytest.mark.parametrize(
    "start,message",
    [(2026, "次期計画は令和9年度 (2027年度)以降から始めてください")],
)
def test_next_plan_must_follow_this_one(plan, personas, start, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_create_next(
            actor=personas.secretariat,
            source=plan,
            code="x",
            name="x",
            theme="",
            start_fy=start,
            end_fy=2031,
            version_number="2.0",
        )
    assert Plan.objects.count() == 1


def test_a_version_without_content_is_never_shown_as_today_s_data(client, plan, personas):
    """第0.5版 predates the portal: no document, print view or comparison pretends to be it."""
    from reporting.selectors.plan_content import NoContentError

    v05 = PlanVersion.objects.get(plan=plan, number="0.5")
    with pytest.raises(NoContentError):
        version_content(v05)
    client.force_login(personas.secretariat)
    from django.urls import reverse

    assert client.get(reverse("reporting:version_document", args=[v05.pk])).status_code == 404
    assert client.get(reverse("reporting:version_print", args=[v05.pk])).status_code == 404
    page = client.get(reverse("reporting:version_compare")).content.decode()
    assert f'value="v{v05.pk}"' not in page
    bad = client.get(
        reverse("reporting:version_compare"), {"a": f"v{v05.pk}", "b": "pkahoku-dx-r3-r8"}
    )
    assert bad.status_code == 200 and "<ins>" not in bad.content.decode()
