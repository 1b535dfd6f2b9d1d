"""Two people editing the same entry or review: the second save is refused, nothing is lost."""

from datetime import date

import pytest
from django.urls import reverse

from initiatives import services
from initiatives.models import ProgressEntry, Review
from tests.factory import REVIEW_COMPLETE, initiative, make_progress

pytestmark = pytest.mark.django_db

CONFLICT = "ほかの職員が先にこの{}を更新したため、保存しませんでした。"


def test_stale_progress_save_is_refused_and_both_texts_are_kept(client, personas):
    entry = make_progress(initiative("2.1"), author=personas.member, done_text="最初の記録")
    url = reverse("initiatives:progress_edit", args=[entry.initiative_id, entry.pk])
    form = {"entry_date": "2026-10-01", "status": "on_track", "percent": "30"}

    # The member and the leader both open the form at version 1.
    client.force_login(personas.leader)
    client.post(url, {**form, "done_text": "WG長が追記した内容", "version": "1"})
    entry.refresh_from_db()
    assert (entry.done_text, entry.version) == ("WG長が追記した内容", 2)

    client.force_login(personas.member)
    response = client.post(url, {**form, "done_text": "メンバーが書いた長い文章", "version": "1"})
    assert response.status_code == 200
    body = response.content.decode()
    assert CONFLICT.format("進捗記録") in body
    assert "メンバーが書いた長い文章" in body  # the user's text is still in the form
    assert "WG長が追記した内容" in body  # and the saved one is shown beside it
    entry.refresh_from_db()
    assert (entry.done_text, entry.version) == ("WG長が追記した内容", 2)
    # The form now carries the current version: a deliberate re-save wins.
    assert response.context["form"].data["version"] == "2"
    client.post(url, {**form, "done_text": "統合した内容", "version": "2"})
    entry.refresh_from_db()
    assert (entry.done_text, entry.version) == ("統合した内容", 3)
    # Every version stays in the history.
    texts = list(entry.history.order_by("history_id").values_list("done_text", flat=True))
    assert texts == ["最初の記録", "WG長が追記した内容", "統合した内容"]


def test_stale_review_save_is_refused(client, personas):
    ini = initiative("2.1")
    review = Review.objects.create(initiative=ini, fiscal_year=2026, plan_text="当初の計画")
    url = reverse("initiatives:review_edit", args=[ini.pk, 2026])
    client.force_login(personas.secretariat)
    client.post(url, {**REVIEW_COMPLETE, "plan_text": "事務局の修正", "version": "1"})
    client.force_login(personas.leader)
    response = client.post(url, {**REVIEW_COMPLETE, "plan_text": "WG長の計画", "version": "1"})
    body = response.content.decode()
    assert CONFLICT.format("振り返り") in body
    assert "WG長の計画" in body and "事務局の修正" in body
    review.refresh_from_db()
    assert review.plan_text == "事務局の修正"


def test_two_people_creating_the_same_review(client, personas):
    """Both start from an empty form; the second one must not overwrite the first."""
    ini = initiative("2.1")
    url = reverse("initiatives:review_edit", args=[ini.pk, 2026])
    client.force_login(personas.leader)
    client.post(url, {**REVIEW_COMPLETE, "plan_text": "WG長の案", "version": ""})
    client.force_login(personas.secretariat)
    response = client.post(url, {**REVIEW_COMPLETE, "plan_text": "事務局の案", "version": ""})
    assert CONFLICT.format("振り返り") in response.content.decode()
    assert Review.objects.get(initiative=ini).plan_text == "WG長の案"


def test_state_change_while_editing_is_a_conflict(personas):
    """The leader opened the draft; the secretariat submitted it meanwhile."""
    review = Review.objects.create(
        initiative=initiative("2.1"), fiscal_year=2026, **REVIEW_COMPLETE
    )
    services.review_submit(actor=personas.secretariat, review=review)
    with pytest.raises(services.EditConflict):
        services.review_save(
            actor=personas.leader,
            initiative=review.initiative,
            fiscal_year=2026,
            version=1,
            **{**REVIEW_COMPLETE, "plan_text": "古い画面からの保存"},
        )
    review.refresh_from_db()
    assert review.plan_text == "計画" and review.state == "submitted"


def test_service_enforces_roles_without_the_view(personas):
    entry = make_progress(initiative("2.1"), author=personas.member)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="担当WGのメンバーと事務局のみ記録できます"):
        services.progress_entry_update(
            actor=personas.other_member,
            entry=entry,
            version=1,
            entry_date=date(2026, 10, 2),
            status="delayed",
        )
    assert ProgressEntry.objects.get(pk=entry.pk).status == "on_track"
