"""The yearly PDCA cycle walked through by each role with the test client."""

from datetime import date

import pytest
from django.urls import reverse

from initiatives.models import ProgressEntry, Review
from tests.factory import initiative

pytestmark = pytest.mark.django_db

REVIEW_TEXT = {
    "plan_text": "電子申請の対象手続を10件追加する",
    "do_text": "8件を公開した",
    "check_text": "2件は様式の見直しが必要",
    "act_text": "様式の見直しを来年度前半に行う",
    "self_grade": "B",
    "carry_over": "continue",
    "carry_over_note": "",
}


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def test_full_role_walk_through(client, personas, monkeypatch):
    monkeypatch.setattr("initiatives.views._today", lambda: date(2026, 11, 20))
    p = personas
    ini = initiative("2.1")  # 情報推進課WG

    # 1. A WG member logs progress.
    client.force_login(p.member)
    response = client.post(
        reverse("initiatives:progress_create", args=[ini.pk]),
        {
            "entry_date": "2026-11-20",
            "status": "on_track",
            "percent": "60",
            "done_text": "ぴったりサービスで児童手当の申請を公開",
            "next_steps": "介護保険の申請を準備",
            "issues_text": "",
        },
        follow=True,
    )
    assert "令和8年11月20日(金)の進捗を記録しました。" in _messages(response)
    entry = ProgressEntry.objects.get(initiative=ini)
    assert (entry.status, entry.percent, entry.author, entry.fiscal_year) == (
        "on_track",
        60,
        p.member,
        2026,
    )
    assert "ぴったりサービスで児童手当の申請を公開" in response.content.decode()

    # The member may not write the review.
    edit_url = reverse("initiatives:review_edit", args=[ini.pk, 2026])
    assert client.get(edit_url).status_code == 403

    # 2. The leader writes and submits the review.
    client.force_login(p.leader)
    response = client.post(edit_url, {**REVIEW_TEXT, "version": ""}, follow=True)
    assert "振り返りを保存しました。" in _messages(response)
    review = Review.objects.get(initiative=ini, fiscal_year=2026)
    assert review.state == "draft" and review.do_text == "8件を公開した"
    response = client.post(reverse("initiatives:review_submit", args=[review.pk]), follow=True)
    assert "振り返りを提出しました。" in _messages(response)
    review.refresh_from_db()
    assert review.state == "submitted"
    # Submitted: the leader can no longer change the text.
    response = client.post(
        edit_url, {**REVIEW_TEXT, "do_text": "改ざん", "version": review.version}
    )
    assert "「提出済」のため編集できません" in response.content.decode()
    review.refresh_from_db()
    assert review.do_text == "8件を公開した"

    # 3. The secretariat returns it; a comment is required.
    client.force_login(p.secretariat)
    return_url = reverse("initiatives:review_return", args=[review.pk])
    response = client.post(return_url, {"comment": "  "}, follow=True)
    assert "差戻しの理由(コメント)を入力してください。" in _messages(response)
    review.refresh_from_db()
    assert review.state == "submitted"
    response = client.post(
        return_url, {"comment": "Checkに指標の実績を書いてください"}, follow=True
    )
    assert "振り返りを差し戻しました。" in _messages(response)
    review.refresh_from_db()
    assert review.state == "returned"

    # The leader sees it on the home page, fixes it and resubmits.
    client.force_login(p.leader)
    home = client.get(reverse("home"))
    assert [i.code for i in home.context["reviews_returned"]] == ["2.1"]
    assert "差し戻された振り返り" in home.content.decode()
    response = client.post(
        edit_url,
        {**REVIEW_TEXT, "check_text": "8/10件(80%)。2件は様式見直し", "version": review.version},
        follow=True,
    )
    assert "振り返りを保存しました。" in _messages(response)
    client.post(reverse("initiatives:review_submit", args=[review.pk]))
    review.refresh_from_db()
    assert (review.state, review.check_text) == ("submitted", "8/10件(80%)。2件は様式見直し")

    # HQ cannot approve before the secretariat has checked it.
    client.force_login(p.hq)
    response = client.post(reverse("initiatives:review_approve", args=[review.pk]), follow=True)
    assert "この振り返りは「提出済」のため、承認できません。" in _messages(response)
    review.refresh_from_db()
    assert review.state == "submitted"

    # 4. The secretariat checks it; HQ approves.
    client.force_login(p.secretariat)
    response = client.post(
        reverse("initiatives:review_check", args=[review.pk]),
        {"comment": "確認しました"},
        follow=True,
    )
    assert "振り返りを確認済にしました(推進本部の承認待ち)。" in _messages(response)
    client.force_login(p.hq)
    assert [r.pk for r in client.get(reverse("home")).context["to_approve"]] == [review.pk]
    response = client.post(reverse("initiatives:review_approve", args=[review.pk]), follow=True)
    assert "振り返りを承認しました。以後は変更できません。" in _messages(response)
    review.refresh_from_db()
    assert review.state == "approved"

    # Every move recorded who, when and why.
    events = list(review.events.values_list("from_state", "to_state", "actor__username", "comment"))
    assert events == [
        ("", "draft", "leader", "作成"),
        ("draft", "submitted", "leader", ""),
        ("submitted", "returned", "secretariat", "Checkに指標の実績を書いてください"),
        ("returned", "submitted", "leader", ""),
        ("submitted", "checked", "secretariat", "確認しました"),
        ("checked", "approved", "honbucho", ""),
    ]

    # 5. Locked: neither the leader nor the secretariat can edit or move it any more.
    for user in (p.leader, p.secretariat):
        client.force_login(user)
        response = client.get(edit_url)
        assert response.status_code == 403
        assert "承認済のためロックされています" in response.content.decode()
        response = client.post(
            edit_url, {**REVIEW_TEXT, "do_text": "変更", "version": review.version}
        )
        assert response.status_code == 403
    client.force_login(p.secretariat)
    response = client.post(return_url, {"comment": "もう一度"}, follow=True)
    assert "承認済のためロックされています" in _messages(response)[0]
    review.refresh_from_db()
    assert (review.state, review.do_text) == ("approved", "8件を公開した")
    detail = client.get(reverse("initiatives:review", args=[review.pk])).content.decode()
    assert "ロックされています" in detail and "内容を編集" not in detail


def test_secretariat_opens_the_year_with_a_due_date(client, personas):
    submitted = Review.objects.create(
        initiative=initiative("2.1"), fiscal_year=2026, state=Review.State.SUBMITTED
    )
    draft = Review.objects.create(initiative=initiative("2.2"), fiscal_year=2026)
    client.force_login(personas.secretariat)
    url = reverse("initiatives:reviews_open")
    response = client.post(url, {"fiscal_year": "R8", "due_date": "2026-03-01"}, follow=True)
    assert (
        "提出期限「令和8年3月1日(日)」は範囲外です。"
        "令和8年4月1日(水)から令和9年6月30日(水)までの日付にしてください。"
    ) in _messages(response)[0]
    assert Review.objects.count() == 2
    response = client.post(url, {"fiscal_year": "R8", "due_date": ""}, follow=True)
    assert "提出期限: このフィールドは必須です。" in _messages(response)
    response = client.post(url, {"fiscal_year": "R8", "due_date": "2027-01-31"}, follow=True)
    assert "令和8年度 (2026年度)の振り返りを11件作成し、1件の提出期限を更新しました。" in _messages(
        response
    )
    assert Review.objects.filter(fiscal_year=2026, due_date=date(2027, 1, 31)).count() == 12
    submitted.refresh_from_db()
    draft.refresh_from_db()
    assert submitted.due_date is None and submitted.state == "submitted"
    assert (draft.due_date, draft.version) == (date(2027, 1, 31), 2)
    new = Review.objects.get(initiative=initiative("4.1"))
    assert list(new.events.values_list("to_state", "comment")) == [
        ("draft", "一括作成(提出期限 2027-01-31)")
    ]
    # Stored with the ISO date (read back by shown_comment); shown as the portal shows dates.
    assert new.events.get().shown_comment == "一括作成(提出期限 令和9年1月31日(日))"
