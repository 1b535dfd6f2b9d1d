"""Which review decisions carry an initiative into the next plan (Review.carries_over) and
which plan may take them (carry_over_refusal): the form, the preview, the page and the
carry-over itself all ask the same two definitions."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from initiatives.models import Initiative, Review
from plans.models import Plan, PlanStatus
from reporting.services.carry_over import plan_carry_over
from tests.factory import initiative, make_review

pytestmark = pytest.mark.django_db

# One initiative per decision ("" = 未定).
DECISIONS = {
    "2.1": "continue",
    "2.2": "expand",
    "2.3": "revise",
    "2.4": "continue",
    "3.1": "complete",
    "3.2": "abolish",
    "3.3": "",
}
CARRIED = {"2.1", "2.2", "2.3", "2.4"}  # today's rule: 継続・拡充・見直し


@pytest.fixture
def plans(personas):
    current = personas.wg.plan
    nxt = Plan.objects.create(
        code="kahoku-dx-r9-r13",
        name="第2期かほく市DX推進計画",
        start_fy=2027,
        end_fy=2031,
        predecessor=current,
        status=PlanStatus.DRAFT,
    )
    for code, decision in DECISIONS.items():
        make_review(initiative(code), fiscal_year=2026, carry_over=decision, state="approved")
    return current, nxt


def _page_and_service(client, personas, current, nxt) -> tuple[set[str], set[str], str]:
    client.force_login(personas.secretariat)
    params = {"source": current.code, "target": nxt.code}
    response = client.get(reverse("reporting:carry_over"), params)
    previewed = {
        line.initiative.code for line in response.context["lines"] if line.action == "create"
    }
    client.post(reverse("reporting:carry_over"), params)
    created = set(
        Initiative.objects.filter(policy__plan=nxt).values_list(
            "carried_from__policy__number", "carried_from__number"
        )
    )
    return previewed, {f"{p}.{n}" for p, n in created}, response.content.decode()


def test_preview_page_and_carry_over_follow_the_review_decision(client, personas, plans):
    current, nxt = plans
    assert {code for code in DECISIONS if Review(carry_over=DECISIONS[code]).carries_over} == (
        CARRIED
    )
    previewed, created, html = _page_and_service(client, personas, current, nxt)
    assert previewed == created == CARRIED
    # The page says which decisions carry over, in words; it must name exactly those.
    lead = html[html.index('<p class="lead">') : html.index("</p>", html.index('<p class="lead">'))]
    for value, label in Review.CarryOver.choices:
        if value:
            assert (f"「{label}」" in lead) == (value in Review.CARRYING_DECISIONS), label


def test_changing_the_decisions_changes_preview_and_carry_over(
    client, personas, plans, monkeypatch
):
    """Were 完了 also carried over (and 見直し not), one set is all there is to change."""
    monkeypatch.setattr(
        Review,
        "CARRYING_DECISIONS",
        frozenset({"continue", "expand", "complete"}),
    )
    current, nxt = plans
    previewed, created, _ = _page_and_service(client, personas, current, nxt)
    assert previewed == created == {"2.1", "2.2", "2.4", "3.1"}


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        (
            "next",
            "current",
            "引継ぎ先の計画は令和13年度 (2031年度)より後に始まる計画を選んでください。",
        ),
        ("current", "current", "引継ぎ先には引継ぎ元と別の計画を選んでください。"),
        (
            "current",
            "overlapping",
            "引継ぎ先の計画は令和8年度 (2026年度)より後に始まる計画を選んでください。",
        ),
    ],
)
def test_form_and_service_refuse_the_same_plans_with_the_same_words(
    client, personas, plans, source, target, message
):
    current, nxt = plans
    overlapping = Plan.objects.create(code="overlap", name="重複計画", start_fy=2026, end_fy=2030)
    by_name = {"current": current, "next": nxt, "overlapping": overlapping}
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("reporting:carry_over"),
        {"source": by_name[source].code, "target": by_name[target].code},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["target"] == [message]
    with pytest.raises(ValidationError) as exc:
        plan_carry_over(source_plan=by_name[source], target_plan=by_name[target], user=None)
    assert exc.value.messages == [message]
    assert not Initiative.objects.filter(carried_from__isnull=False).exists()


def test_a_wg_renamed_in_the_next_plan_still_takes_its_initiatives(personas, plans):
    """The next plan's WGs continue the old ones (bodies_continue); a WG renamed there is the
    same body (its key), so carry-over gives its initiatives to it, not to nobody."""
    from workgroups.models import WorkingGroup
    from workgroups.services import bodies_continue

    current, nxt = plans
    bodies_continue(actor=None, source=current, target=nxt)
    renamed = WorkingGroup.objects.get(plan=nxt, key=personas.wg.key)
    renamed.name = "デジタル推進WG"
    renamed.save()
    plan_carry_over(source_plan=current, target_plan=nxt, user=None)
    carried = Initiative.objects.get(policy__plan=nxt, carried_from=initiative("2.1"))
    assert initiative("2.1").working_group == personas.wg
    assert carried.working_group == renamed


def test_an_initiative_abolished_in_the_draft_is_not_carried_again(client, personas, plans):
    """Carry-over run twice: what the drafters abolished between the runs stays abolished."""
    from reporting.services.drafting import initiative_delete

    current, nxt = plans
    plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)
    dropped = Initiative.objects.get(policy__plan=nxt, carried_from=initiative("2.4"))
    initiative_delete(actor=personas.secretariat, initiative=dropped)
    again = plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)
    assert len(again) == 0
    carried = Initiative.objects.filter(policy__plan=nxt)
    assert carried.count() == len(CARRIED) - 1
    assert not carried.filter(carried_from=initiative("2.4")).exists()
    client.force_login(personas.secretariat)
    response = client.get(
        reverse("reporting:carry_over"), {"source": current.code, "target": nxt.code}
    )
    lines = {line.initiative.code: line.action for line in response.context["lines"]}
    assert lines["2.4"] == "dropped" and lines["2.1"] == "refresh"
    assert "廃止済み" in response.content.decode()
