from datetime import date

import pytest
from django.urls import reverse

from initiatives.models import Review
from tests.factory import initiative, make_progress, make_review

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr("initiatives.views._today", lambda: date(2026, 11, 20))


def test_leader_sees_own_initiatives_reviews_due_and_returned(client, personas):
    make_progress(initiative("2.1"), entry_date=date(2026, 11, 1), percent=40)
    make_review(initiative("2.1"), due_date=date(2026, 12, 15))  # draft
    make_review(initiative("2.2"), state=Review.State.RETURNED)
    make_review(initiative("3.1"), state=Review.State.SUBMITTED)
    make_review(initiative("3.3"), fiscal_year=2025, state=Review.State.RETURNED)  # last year
    client.force_login(personas.leader)
    response = client.get(reverse("home"))
    ctx = response.context
    assert [i.code for i in ctx["my_initiatives"]] == ["2.1", "2.2", "3.1", "3.3", "4.1"]
    assert [i.code for i in ctx["reviews_due"]] == ["2.1", "3.3", "4.1"]  # draft or not started
    assert [i.code for i in ctx["reviews_returned"]] == ["2.2"]
    body = response.content.decode()
    assert "令和8年度 (2026年度)のあなたの担当・対応事項です。" in body
    assert "提出期限 令和8年12月15日(火)" in body
    assert reverse("initiatives:review_edit", args=[initiative("4.1").pk, 2026]) in body


def test_member_sees_initiatives_but_no_review_duties(client, personas):
    make_review(initiative("2.2"), state=Review.State.RETURNED)
    client.force_login(personas.member)
    ctx = client.get(reverse("home")).context
    assert len(ctx["my_initiatives"]) == 5
    assert ctx["reviews_due"] == [] and ctx["reviews_returned"] == []


def test_viewer_and_hq(client, personas):
    make_review(initiative("3.2"), state=Review.State.CHECKED)
    client.force_login(personas.viewer)
    response = client.get(reverse("home"))
    assert "担当しているWGの取り組みはありません。" in response.content.decode()
    assert response.context["to_approve"] == []
    client.force_login(personas.hq)
    response = client.get(reverse("home"))
    assert [r.initiative.code for r in response.context["to_approve"]] == ["3.2"]
    assert "承認待ちの振り返り（推進本部）" in response.content.decode()
