"""Rule: the review state machine lives in initiatives.workflow.MOVES only (issue 21).

Which reviews wait for whom, whether the text may be written, which state is "sent back"
and its reason, and how a state and a move are named: every caller reads them off the
table. Each test walks the same reviews through at least two callers (homes, the review
page, the edit page, the services, the API) and compares them with what the table says.
"""

from datetime import date

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from initiatives import services, workflow
from initiatives.models import Review
from tests.factory import REVIEW_COMPLETE, initiative, make_review

pytestmark = pytest.mark.django_db

State = Review.State

# One review of FY2026 in each state, on initiatives of the leader's WG (情報推進課WG).
ONE_IN_EACH_STATE = {
    State.DRAFT: "2.1",
    State.SUBMITTED: "2.2",
    State.RETURNED: "3.1",
    State.CHECKED: "3.3",
    State.APPROVED: "4.1",
}


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr("initiatives.views._today", lambda: date(2026, 11, 20))


@pytest.fixture
def reviews(personas):
    return {
        state: make_review(initiative(code), state=state, **REVIEW_COMPLETE)
        for state, code in ONE_IN_EACH_STATE.items()
    }


def _move_urls_on_page(client, review):
    body = client.get(reverse("initiatives:review", args=[review.pk])).content.decode()
    return {m.name for m in workflow.MOVES if reverse(m.url_name, args=[review.pk]) in body}


def _codes(states):
    return sorted(ONE_IN_EACH_STATE[s] for s in states)


@pytest.mark.parametrize(
    ("persona", "key", "listed"),
    [
        ("secretariat", workflow.BY_SECRETARIAT, "to_check"),
        ("hq", workflow.BY_HEADQUARTERS, "to_approve"),
    ],
)
def test_what_waits_for_a_role_is_where_the_table_gives_it_a_move(
    client, personas, reviews, persona, key, listed
):
    waiting = workflow.states_acted_on_by(key)
    assert waiting  # the table gives each oversight role a move
    client.force_login(getattr(personas, persona))
    # caller 1: the home lists exactly the reviews in those states
    home = client.get(reverse("home")).context
    assert sorted(r.initiative.code for r in home[listed]) == _codes(waiting)
    # caller 2: the review page offers that role's moves exactly there
    for state, review in reviews.items():
        expected = {m.name for m in workflow.MOVES if m.by == key and state in m.sources}
        assert (
            _move_urls_on_page(client, review) & {m.name for m in workflow.MOVES if m.by == key}
            == expected
        ), state
        assert bool(expected) == (state in waiting)


def test_the_leaders_todo_is_the_managers_states_sent_back_apart(client, personas, reviews):
    managing = workflow.states_acted_on_by(workflow.BY_MANAGER)
    assert set(managing) == set(workflow.EDITABLE_STATES)
    client.force_login(personas.leader)
    home = client.get(reverse("home")).context
    returned = [i.code for i in home["reviews_returned"]]
    due = [i.code for i in home["reviews_due"] if i.review_state is not None]
    assert returned == _codes(s for s in managing if workflow.is_sent_back(s)) == ["3.1"]
    assert due == _codes(s for s in managing if not workflow.is_sent_back(s))
    # the review page gives the leader the submit move in the same states, and only there
    for state, review in reviews.items():
        offered = _move_urls_on_page(client, review)
        assert offered == ({"submit"} if state in managing else set()), state


def test_text_editable_is_one_predicate_for_the_page_the_edit_page_and_the_service(
    client, personas, reviews
):
    client.force_login(personas.leader)
    for state, review in reviews.items():
        editable = workflow.text_editable(review)
        edit_url = reverse("initiatives:review_edit", args=[review.initiative_id, 2026])
        # caller 1: the review page's edit link
        page = client.get(reverse("initiatives:review", args=[review.pk])).content.decode()
        assert (edit_url in page) == editable, state
        # caller 2: the edit page itself (a form, a redirect or the locked page)
        response = client.get(edit_url)
        assert (response.status_code == 200) == editable, state
        # caller 3: the service
        try:
            services.review_save(
                actor=personas.leader,
                initiative=review.initiative,
                fiscal_year=2026,
                version=review.version,
                due_date=review.due_date,
                **REVIEW_COMPLETE,
            )
            saved = True
        except ValidationError:
            saved = False
        assert saved == editable, state
    assert [s for s in ONE_IN_EACH_STATE if workflow.state_flags(s).editable] == list(
        workflow.EDITABLE_STATES
    )
    # locked is where the table has no move left, which is what Review.is_locked says
    for state, review in reviews.items():
        assert workflow.state_flags(state).locked == review.is_locked, state


def test_the_return_comment_and_the_sent_back_notice(client, personas, reviews):
    review = reviews[State.SUBMITTED]
    services.review_move(actor=personas.secretariat, review=review, move="return", comment="一回目")
    review.refresh_from_db()
    services.review_move(actor=personas.leader, review=review, move="submit")
    review.refresh_from_db()
    services.review_move(actor=personas.secretariat, review=review, move="return", comment="二回目")
    review.refresh_from_db()
    assert workflow.is_sent_back(review.state)
    assert workflow.return_comment(review.events.all()) == "二回目"
    client.force_login(personas.leader)
    # caller 1: the review page quotes the last reason, and offers a *re*submission
    body = client.get(reverse("initiatives:review", args=[review.pk])).content.decode()
    assert (
        "差戻しの理由：</strong>二回目" in body and "一回目</div>" not in body.split("操作履歴")[0]
    )
    assert "再提出する" in body
    # caller 2: the edit page says it was sent back
    body = client.get(reverse("initiatives:review_edit", args=[review.initiative_id, 2026]))
    assert "事務局から差し戻されています" in body.content.decode()
    # a review never sent back says neither
    draft = reviews[State.DRAFT]
    body = client.get(reverse("initiatives:review", args=[draft.pk])).content.decode()
    assert "差戻しの理由" not in body and "再提出する" not in body


def test_the_api_and_the_homes_agree_on_the_sent_back_reviews(client, personas, reviews):
    client.force_login(personas.leader)
    home_returned = [i.code for i in client.get(reverse("home")).context["reviews_returned"]]
    api = APIClient()
    api.force_login(personas.leader)
    response = api.get("/api/v1/initiatives/", {"fiscal_year": 2026, "review": workflow.SENT_BACK})
    assert response.status_code == 200
    items = response.json()["results"]
    assert [i["code"] for i in items] == home_returned == ["3.1"]
    assert items[0]["review_state_label"] == str(State(workflow.SENT_BACK).label)


def test_the_state_returned_and_the_move_return_are_named_apart(client, personas, reviews):
    """「差戻し」 the state reads "Returned", the secretariat's move reads "Return"."""
    client.force_login(personas.secretariat)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        assert str(State(workflow.SENT_BACK).label) == "Returned"
        assert str(workflow.move_named("return").title) == "Return"
    returned = reviews[State.RETURNED]
    submitted = reviews[State.SUBMITTED]
    page = client.get(reverse("initiatives:review", args=[returned.pk])).content.decode()
    assert ">Returned</span>" in page
    page = client.get(reverse("initiatives:review", args=[submitted.pk])).content.decode()
    assert "<h2>Return</h2>" in page
