from datetime import date

import pytest
import time_machine
from django.urls import reverse

from initiatives.models import ProgressEntry, Review
from tests.factory import REVIEW_COMPLETE, initiative, make_progress

pytestmark = pytest.mark.django_db


def test_bad_progress_input_keeps_everything_typed(client, personas):
    ini = initiative("2.1")
    client.force_login(personas.member)
    response = client.post(
        reverse("initiatives:progress_create", args=[ini.pk]),
        {
            "entry_date": "2026-10-01",
            "status": "done",
            "percent": "80",
            "done_text": "長い報告文をここに書いた",
            "next_steps": "来月の予定",
            "issues_text": "予算",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "状況が「完了」の場合、進捗率は100%にしてください。" in body
    assert "長い報告文をここに書いた" in body and "来月の予定" in body
    assert not ProgressEntry.objects.exists()
    response = client.post(
        reverse("initiatives:progress_create", args=[ini.pk]),
        {"entry_date": "", "status": "on_track", "percent": "101"},
    )
    body = response.content.decode()
    assert "このフィールドは必須です。" in body
    assert "この値は 100 以下でなければなりません。" in body


@time_machine.travel(date(2027, 3, 31), tick=False)  # a progress entry is never after today
def test_entry_belongs_to_its_fiscal_year_and_shows_on_the_timeline(client, personas):
    ini = initiative("2.1")
    make_progress(ini, entry_date=date(2027, 3, 31), status="delayed", done_text="年度末の記録")
    client.force_login(personas.viewer)
    response = client.get(reverse("initiatives:detail", args=[ini.pk]))
    body = response.content.decode()
    assert ProgressEntry.objects.get().fiscal_year == 2026
    assert '<ol class="timeline"' in body
    assert "令和9年3月31日(水)（令和8年度 (2026年度)）" in body
    assert "年度末の記録" in body
    assert "進捗を記録する" not in body  # the viewer is read-only


def test_only_the_secretariat_sets_the_due_date(client, personas):
    ini = initiative("2.1")
    url = reverse("initiatives:review_edit", args=[ini.pk, 2026])
    client.force_login(personas.secretariat)
    client.post(url, {**REVIEW_COMPLETE, "due_date": "2027-01-31", "version": ""})
    review = Review.objects.get()
    assert review.due_date == date(2027, 1, 31)
    # The leader's form shows the date read-only; a forged value is ignored.
    client.force_login(personas.leader)
    response = client.get(url)
    assert response.context["form"].fields["due_date"].disabled
    client.post(url, {**REVIEW_COMPLETE, "due_date": "2027-12-31", "version": "1"})
    review.refresh_from_db()
    assert review.due_date == date(2027, 1, 31) and review.version == 2


def test_incomplete_review_cannot_be_submitted(client, personas):
    review = Review.objects.create(initiative=initiative("2.1"), fiscal_year=2026, plan_text="計画")
    client.force_login(personas.leader)
    response = client.post(reverse("initiatives:review_submit", args=[review.pk]), follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "提出する前に、次の項目を入力してください: Do(実行)、Check(評価)、Act(改善)、自己評価"
    ]
    review.refresh_from_db()
    assert review.state == "draft"
