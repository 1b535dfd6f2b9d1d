"""The review state machine (initiatives/workflow.py MOVES) is asked by the page's buttons,
the access check and the service alike: whatever the page offers, the service accepts, and
nothing else. Changing one row of the table changes all of them."""

from dataclasses import replace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from initiatives import services, workflow
from initiatives.access import review_moves_for
from initiatives.models import Review
from tests.factory import REVIEW_COMPLETE, initiative, make_review
from workgroups.access import roles_for

pytestmark = pytest.mark.django_db

# Today's behaviour (tests/initiatives/test_review_workflow.py walks it through by hand):
# (state, persona) -> the moves offered, in page order; every other move is refused.
EXPECTED = {
    ("draft", "leader"): ["submit"],
    ("draft", "secretariat"): ["submit"],
    ("returned", "leader"): ["submit"],
    ("returned", "secretariat"): ["submit"],
    ("submitted", "secretariat"): ["check", "return"],
    ("checked", "hq"): ["approve"],
}
STATES = [s.value for s in Review.State]
PERSONAS = ["viewer", "member", "other_member", "leader", "secretariat", "hq"]


def _offered_on_page(client, user, review) -> list[str]:
    """The moves whose form (posting to the move's URL) the review page shows."""
    client.force_login(user)
    html = client.get(reverse("initiatives:review", args=[review.pk])).content.decode()
    return [
        m.name
        for m in workflow.MOVES
        if f'action="{reverse(m.url_name, args=[review.pk])}"' in html
    ]


def _service_accepts(user, review, move) -> bool:
    """Try the move through the service on a fresh copy of the review in ``state``."""
    try:
        moved = services.review_move(actor=user, review=review, move=move.name, comment="理由")
    except (PermissionDenied, ValidationError):
        review.refresh_from_db()
        return False
    assert moved.state == move.target
    assert list(moved.events.values_list("from_state", "to_state"))[-1][1] == move.target
    return True


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_page_access_and_service_agree_on_every_move(client, personas, state, persona):
    user = getattr(personas, persona)
    ini = initiative("2.1")  # 情報推進課WG: personas.leader leads it
    review = make_review(ini, state=state, **REVIEW_COMPLETE)

    offered = _offered_on_page(client, user, review)
    assert offered == EXPECTED.get((state, persona), [])
    assert [m.name for m in review_moves_for(roles_for(user), review)] == offered

    accepted = []
    for move in workflow.MOVES:
        Review.objects.filter(pk=review.pk).update(state=state)
        review.refresh_from_db()
        if _service_accepts(user, review, move):
            accepted.append(move.name)
    assert accepted == offered


def test_a_refused_move_says_why_from_the_table(personas):
    review = make_review(initiative("2.1"), state="submitted", **REVIEW_COMPLETE)
    approve = workflow.move_named("approve")
    with pytest.raises(ValidationError) as exc:
        services.review_approve(actor=personas.hq, review=review)
    assert exc.value.messages == [f"この振り返りは「提出済」のため、{approve.verb}できません。"]
    with pytest.raises(PermissionDenied) as denied:
        services.review_check(actor=personas.leader, review=review)
    assert str(denied.value) == workflow.move_named("check").denied


def test_changing_the_table_changes_the_buttons_the_access_check_and_the_service(
    client, personas, monkeypatch
):
    """If headquarters (not the secretariat) were to check reviews, one edit would do it."""
    moves = tuple(
        replace(m, by=workflow.BY_HEADQUARTERS, button="本部が確認する") if m.name == "check" else m
        for m in workflow.MOVES
    )
    monkeypatch.setattr(workflow, "MOVES", moves)
    monkeypatch.setattr(workflow, "MOVES_BY_NAME", {m.name: m for m in moves})
    review = make_review(initiative("2.1"), state="submitted", **REVIEW_COMPLETE)

    assert _offered_on_page(client, personas.hq, review) == ["check"]
    assert (
        "本部が確認する"
        in client.get(reverse("initiatives:review", args=[review.pk])).content.decode()
    )
    assert _offered_on_page(client, personas.secretariat, review) == ["return"]
    with pytest.raises(PermissionDenied):
        services.review_check(actor=personas.secretariat, review=review)
    assert services.review_check(actor=personas.hq, review=review).state == "checked"


def test_the_page_labels_a_resubmission(client, personas):
    review = make_review(initiative("2.1"), state="returned", **REVIEW_COMPLETE)
    client.force_login(personas.leader)
    html = client.get(reverse("initiatives:review", args=[review.pk])).content.decode()
    assert ">再提出する</button>" in html and ">提出する</button>" not in html
    review.state = "draft"
    review.save()
    html = client.get(reverse("initiatives:review", args=[review.pk])).content.decode()
    assert ">提出する</button>" in html and "再提出" not in html
