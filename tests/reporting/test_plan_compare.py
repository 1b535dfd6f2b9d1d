"""Carry-over from the final-year reviews into the next plan, and the plan comparison
(frozen contents: 第1.0版 against the next plan as carry-over filled it)."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from initiatives.models import Indicator, IndicatorValue, Initiative, ProjectUnderWay
from plans.models import BasicPolicy, PlanVersion
from reporting.content_diff import ADDED, CHANGED, REMOVED
from reporting.services.carry_over import plan_carry_over, plan_carry_over_preview
from reporting.services.versions import plan_create_next
from tests.factory import initiative, make_indicator, make_review
from workgroups.models import WorkingGroup

pytestmark = pytest.mark.django_db

CHILD_AREAS = {"既に取り組んでいる事業", "指標"}


def _decide(plan, **decisions: str) -> None:
    """Final-year (R8) reviews for every initiative: 継続 unless ``decisions`` says otherwise
    (keys "2_1" for 2.1)."""
    for ini in Initiative.objects.filter(policy__plan=plan):
        decision = decisions.get(f"{ini.policy.number}_{ini.number}", "continue")
        make_review(
            ini,
            fiscal_year=plan.end_fy,
            carry_over=decision,
            act_text=f"{ini.code}の改善:窓口との連携を強める",
            state="approved",
        )


def _next_plan(personas, source):
    nxt = plan_create_next(
        actor=personas.secretariat,
        source=source,
        code="kahoku-dx-r9-r13",
        name="第2期かほく市DX推進計画",
        theme="誰一人取り残さないデジタル化",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )
    # the new plan's WGs, same names: the bodies continue (workgroups.services.bodies_continue)
    assert (
        WorkingGroup.objects.filter(plan=nxt).count()
        == WorkingGroup.objects.filter(plan=source).count()
    )
    return nxt


@pytest.fixture
def next_plan(personas):
    current = personas.wg.plan
    return current, _next_plan(personas, current)


def test_preview_then_carry_over(client, personas, next_plan):
    current, nxt = next_plan
    make_review(initiative("2.1"), fiscal_year=2026, carry_over="continue", state="approved")
    make_review(initiative("2.2"), fiscal_year=2025, carry_over="continue", state="approved")
    # the final year's decision wins
    make_review(initiative("2.2"), fiscal_year=2026, carry_over="abolish", state="approved")
    make_review(initiative("3.1"), fiscal_year=2026, carry_over="complete", state="approved")
    make_review(initiative("3.2"), fiscal_year=2026, carry_over="expand", state="approved")
    # a decision nobody approved: shown as 未承認, carries nothing
    make_review(initiative("3.3"), fiscal_year=2026, carry_over="continue", state="submitted")
    client.force_login(personas.secretariat)
    url = reverse("reporting:carry_over")
    params = {"source": current.code, "target": nxt.code}
    response = client.get(url, params)
    assert response.status_code == 200
    actions = {line.initiative.code: line.action for line in response.context["lines"]}
    assert actions["2.1"] == "create" and actions["3.2"] == "create"
    assert actions["2.2"] == "ended" and actions["3.1"] == "ended"
    assert actions["4.1"] == "skip" and actions["3.3"] == "unapproved"
    html = response.content.decode()
    assert "未承認(提出済)のため引き継ぎません" in html
    assert "方針が「廃止」のため引き継ぎません" in html
    rows = {
        line.initiative.code: html[html.index(f"<td>{line.initiative.code} ") :].split("</tr>")[0]
        for line in response.context["lines"]
    }
    assert "廃止した取り組み" in rows["2.2"] and "完了した取り組み" in rows["3.1"]
    assert "した取り組み" not in rows["2.1"] + rows["4.1"]
    assert not Initiative.objects.filter(policy__plan=nxt).exists()  # preview writes nothing

    response = client.post(url, params)
    assert response.status_code == 302
    created = Initiative.objects.filter(policy__plan=nxt).order_by("policy__number")
    assert [(i.code, i.title, i.carried_from.code, i.carried_decision) for i in created] == [
        ("2.1", "行政サービスのオンライン化", "2.1", "continue"),
        ("3.2", initiative("3.2").title, "3.2", "expand"),
    ]
    assert created[0].history.first().history_user == personas.secretariat
    assert list(BasicPolicy.objects.filter(plan=nxt).values_list("number", flat=True)) == [2, 3]
    # twice creates nothing new: what was carried is refreshed while the plan is a draft
    client.post(url, params)
    assert Initiative.objects.filter(policy__plan=nxt).count() == 2
    response = client.get(url, params)
    assert {line.initiative.code: line.action for line in response.context["lines"]}["2.1"] == (
        "refresh"
    )


def test_carry_over_copies_decision_act_projects_and_indicators_once(personas, next_plan):
    current, nxt = next_plan
    src = initiative("2.1")
    kpi = make_indicator(src, unit="件", baseline=Decimal("5"), baseline_fy=2021)
    for fy, target, actual in [(2024, 20, 10), (2025, 25, 12), (2026, 30, None)]:
        IndicatorValue.objects.create(indicator=kpi, fiscal_year=fy, target=target, actual=actual)
    never = make_indicator(src, "手続の満足度", baseline=Decimal("3.5"), baseline_fy=2022)
    IndicatorValue.objects.create(indicator=never, fiscal_year=2026, target=4)
    make_review(src, fiscal_year=2025, carry_over="revise", act_text="古いAct", state="approved")
    make_review(
        src,
        fiscal_year=2026,
        carry_over="expand",
        act_text="対象手続を50件に広げる",
        state="approved",
    )

    for _ in range(2):
        plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)

    (new,) = Initiative.objects.filter(policy__plan=nxt)
    assert (new.carried_from, new.carried_decision, new.carried_act_text) == (
        src,
        "expand",
        "対象手続を50件に広げる",
    )
    assert new.get_carried_decision_display() == "拡充"
    assert new.working_group.plan == nxt and new.working_group.name == src.working_group.name
    indicators = {
        i.name: (i.unit, i.baseline, i.baseline_fy, i.values.count())
        for i in Indicator.objects.filter(initiative=new)
    }
    assert indicators == {
        "オンライン申請件数": ("件", Decimal("12"), 2025, 0),  # last actual, its year
        "手続の満足度": ("", Decimal("3.5"), 2022, 0),  # no actual: the old baseline stays
    }
    assert sorted(ProjectUnderWay.objects.filter(initiative=new).values_list("name", "order")) == (
        sorted(src.projects.values_list("name", "order"))
    )
    assert ProjectUnderWay.objects.filter(initiative=new).count() > 0
    # The carried Act is what was decided: a later edit of the origin's review leaves it.
    src.reviews.filter(fiscal_year=2026).update(act_text="書き換え", carry_over="abolish")
    new.refresh_from_db()
    assert (new.carried_decision, new.carried_act_text) == ("expand", "対象手続を50件に広げる")


def test_carry_over_again_refreshes_until_adoption_then_changes_nothing(personas, next_plan):
    """R8's actuals entered after the first run reach the new plan's baselines; an approval
    given later carries then; after adoption nothing changes and the message says why."""
    current, nxt = next_plan
    src, late = initiative("2.1"), initiative("2.2")
    kpi = make_indicator(src, unit="件", baseline=Decimal("5"), baseline_fy=2021)
    value = IndicatorValue.objects.create(indicator=kpi, fiscal_year=2025, target=25, actual=12)
    review = make_review(
        src, fiscal_year=2026, carry_over="continue", act_text="最初のAct", state="approved"
    )
    draft = make_review(late, fiscal_year=2026, carry_over="continue", state="draft")
    first = plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)
    assert [i.carried_from for i in first] == [src]  # the draft decision carries nothing

    IndicatorValue.objects.create(indicator=kpi, fiscal_year=2026, target=30, actual=20)
    review.act_text, review.carry_over = "R8の実績をふまえたAct", "expand"
    review.save()
    draft.state = "approved"
    draft.save()
    again = plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)
    assert [i.carried_from for i in again.created] == [late]
    assert [i.carried_from for i in again.refreshed] == [src]
    new = Initiative.objects.get(policy__plan=nxt, carried_from=src)
    assert (new.carried_decision, new.carried_act_text) == ("expand", "R8の実績をふまえたAct")
    assert new.indicators.get().baseline == Decimal("20")
    assert new.indicators.get().baseline_fy == 2026
    assert Initiative.objects.filter(policy__plan=nxt).count() == 2

    nxt.status = "adopted"
    nxt.save()
    value.actual = 99
    value.save()
    with pytest.raises(ValidationError, match="決定のため、引継ぎは変更できません"):
        plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)
    assert new.indicators.get().baseline == Decimal("20")
    lines = plan_carry_over_preview(source_plan=current, target_plan=nxt)
    assert {line.action for line in lines if line.initiative in (src, late)} == {"exists"}


def test_carried_initiative_page_shows_origin_link_and_act(client, personas, next_plan):
    current, nxt = next_plan
    src = initiative("2.1")
    make_review(
        src,
        fiscal_year=2026,
        carry_over="continue",
        act_text="申請の添付書類を減らす",
        state="approved",
    )
    (new,) = plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)
    client.force_login(personas.member)
    html = client.get(reverse("initiatives:detail", args=[new.pk])).content.decode()
    section = html[
        html.index('id="carried-over"') : html.index("</section>", html.index('id="carried-over"'))
    ]
    assert "前計画から引継ぎ" in section
    assert f'href="{reverse("initiatives:detail", args=[src.pk])}"' in section
    assert "継続" in section and "申請の添付書類を減らす" in section
    origin = client.get(reverse("initiatives:detail", args=[src.pk])).content.decode()
    assert 'id="carried-over"' not in origin


def test_first_version_against_the_filled_draft_shows_exactly_the_changes(
    client, personas, next_plan
):
    """The issue's "done when": 第1.0版 against a draft 第2.0版 filled by carry-over, with one
    initiative changed, one added and one abolished, shows exactly those three (and the
    abolished one's projects), the changed text diffed character by character."""
    current, nxt = next_plan
    abolished = initiative("2.3")
    _decide(current, **{"2_3": "abolish"})
    plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)
    changed = Initiative.objects.get(policy__plan=nxt, policy__number=2, number=2)
    changed.description = changed.description + "(SNSも活用)"
    changed.save()
    policy2 = BasicPolicy.objects.get(plan=nxt, number=2)
    Initiative.objects.create(policy=policy2, number=9, title="生成AIの活用")

    client.force_login(personas.secretariat)
    v10 = PlanVersion.objects.get(plan=current, number="1.0")
    v20 = PlanVersion.objects.get(plan=nxt, number="2.0")
    response = client.get(
        reverse("reporting:version_compare"), {"a": f"v{v10.pk}", "b": f"v{v20.pk}"}
    )
    assert response.status_code == 200
    diffs = [
        d
        for d in response.context["differences"]
        if d.area in {"基本方針", "取り組み", *CHILD_AREAS}
    ]
    assert [(d.kind, str(d.area), d.key) for d in diffs] == [
        (CHANGED, "取り組み", "2.2"),
        (REMOVED, "取り組み", "2.3"),
        (ADDED, "取り組み", "2.9"),
    ] + [(REMOVED, "既に取り組んでいる事業", f"2.3 {p.name}") for p in abolished.projects.all()]
    (change,) = diffs[0].changes
    assert ("insert", "(SNSも活用)") in change.ops
    assert diffs[1].ending == "abolish" and diffs[1].ending_label == "廃止"
    assert [d.ending for d in diffs if d.ending] == ["abolish"]
    html = response.content.decode()
    assert "<ins>(SNSも活用)</ins>" in html
    assert 'data-ending="abolish">廃止</strong>' in html
    assert "最終年度の振り返りで「廃止」とされ、引き継がれていません。" in html


def test_completed_and_abolished_are_labelled_in_the_comparison(client, personas, next_plan):
    current, nxt = next_plan
    _decide(current, **{"3_1": "complete", "3_2": "abolish", "4_1": ""})
    plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)
    client.force_login(personas.hq)
    response = client.get(
        reverse("reporting:version_compare"), {"a": f"p{current.code}", "b": f"p{nxt.code}"}
    )
    removed = {
        d.key: d.ending
        for d in response.context["differences"]
        if d.area == "取り組み" and d.kind == REMOVED
    }
    # 未定 (4.1) is not carried either, but nothing ended it: no label.
    assert removed == {"3.1": "complete", "3.2": "abolish", "4.1": ""}
    response = client.get(
        reverse("reporting:version_compare"),
        {"a": f"p{current.code}", "b": f"p{nxt.code}", "format": "xlsx"},
    )
    assert response.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    kinds = {ws.cell(r, 3).value: ws.cell(r, 1).value for r in range(4, ws.max_row + 1)}
    assert kinds["3.1"] == "削除(完了)" and kinds["3.2"] == "削除(廃止)"
    assert kinds["4.1"] == "削除"


def test_old_address_opens_first_version_against_the_plan_now(client, personas):
    """The old history-based comparison got versions that predate the portal wrong; the old
    address now opens the frozen 第1.0版 against the plan as it stands."""
    plan = personas.wg.plan
    ini = initiative("2.2")
    ini.title = "情報発信の充実・強化(SNS活用)"
    ini.save()
    Initiative.objects.create(policy=ini.policy, number=5, title="窓口のキャッシュレス化")
    client.force_login(personas.secretariat)
    response = client.get(reverse("reporting:compare"))
    v10 = PlanVersion.objects.get(plan=plan, number="1.0")
    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('reporting:version_compare')}?a=v{v10.pk}&b=p{plan.code}"
    )
    for page in (
        client.get(response["Location"]),
        client.get(reverse("reporting:version_compare")),
    ):
        diffs = {(d.kind, str(d.area), d.key): d for d in page.context["differences"]}
        assert set(diffs) == {(CHANGED, "取り組み", "2.2"), (ADDED, "取り組み", "2.5")}
        (change,) = diffs[(CHANGED, "取り組み", "2.2")].changes
        assert (change.before, change.after) == ("情報発信の充実・強化", ini.title)
        assert page.context["plan"] == plan
    assert "次期計画への引継ぎ（事務局）" in page.content.decode()


def test_old_address_follows_the_chosen_plan(client, personas, next_plan):
    current, nxt = next_plan
    client.force_login(personas.hq)
    location = client.get(reverse("reporting:compare"), {"plan": nxt.code})["Location"]
    v20 = PlanVersion.objects.get(plan=nxt, number="2.0")
    assert location.endswith(f"?a=v{v20.pk}&b=p{nxt.code}")
    page = client.get(location)
    assert page.context["plan"] == nxt
    assert "次期計画への引継ぎ（事務局）" not in page.content.decode()  # HQ: no carry-over


def test_carry_over_refuses_a_plan_that_is_not_later(client, personas, next_plan):
    current, nxt = next_plan
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("reporting:carry_over"), {"source": nxt.code, "target": current.code}
    )
    assert response.status_code == 400
    assert "令和13年度 (2031年度)より後に始まる計画を選んでください。" in response.content.decode()
    with pytest.raises(ValidationError):
        plan_carry_over(source_plan=current, target_plan=current, user=None)


@pytest.mark.parametrize("role", ["hq", "leader", "viewer"])
def test_carry_over_is_secretariat_only(client, personas, next_plan, role):
    current, nxt = next_plan
    _decide(current)
    client.force_login(getattr(personas, role))
    response = client.post(
        reverse("reporting:carry_over"), {"source": current.code, "target": nxt.code}
    )
    assert response.status_code == 403
    assert not Initiative.objects.filter(policy__plan=nxt).exists()


def test_compare_permissions(client, personas):
    for name in ("reporting:compare", "reporting:version_compare"):
        client.force_login(personas.viewer)
        assert client.get(reverse(name)).status_code == 403
        client.logout()
        response = client.get(reverse(name))
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_preview_lists_the_decision_words(personas, next_plan):
    current, nxt = next_plan
    _decide(current, **{"2_1": "expand", "2_2": "revise", "3_1": "complete", "3_2": "abolish"})
    words = {
        line.initiative.code: line.decision
        for line in plan_carry_over_preview(source_plan=current, target_plan=nxt)
    }
    assert (words["2.1"], words["2.2"], words["2.3"], words["3.1"], words["3.2"]) == (
        "拡充",
        "見直し",
        "継続",
        "完了",
        "廃止",
    )


def test_the_period_change_shows_replaced_numbers_on_the_screen(client, personas, next_plan):
    """Compared by tokens, 令和8年度 (2026年度) → 令和13年度 (2031年度) replaces whole numbers
    (the character diff showed 「20<del>2</del>3<ins>1</ins>年度」)."""
    current, nxt = next_plan
    v10 = PlanVersion.objects.get(plan=current, number="1.0")
    client.force_login(personas.hq)
    response = client.get(
        reverse("reporting:version_compare"), {"a": f"v{v10.pk}", "b": f"p{nxt.code}"}
    )
    (plan_row,) = [d for d in response.context["differences"] if d.area == "計画"]
    (period,) = [c for c in plan_row.changes if c.label == "計画期間"]
    assert [t for op, t in period.ops if op == "insert"] == ["9", "2027", "13", "2031"]
    assert (
        "令和<del>3</del><ins>9</ins>年度 (<del>2021</del><ins>2027</ins>年度)〜"
        "令和<del>8</del><ins>13</ins>年度 (<del>2026</del><ins>2031</ins>年度)"
    ) in response.content.decode()


def test_read_in_english_the_unchanged_plan_shows_no_difference(client, personas, settings):
    """第1.0版 froze its facts (計画期間 …) in Japanese; the plan now is read in Japanese too,
    so a reader in English is not shown the period as changed."""
    plan = personas.wg.plan
    v10 = PlanVersion.objects.get(plan=plan, number="1.0")
    client.force_login(personas.hq)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(
        reverse("reporting:version_compare"), {"a": f"v{v10.pk}", "b": f"p{plan.code}"}
    )
    assert response.context["differences"] == []
    assert "Column order" in response.content.decode()
