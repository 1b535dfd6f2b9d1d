from datetime import date
from decimal import Decimal

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


# --- HQ's home (issue 21): approvals, the plan's figures, the 27/20 targets, since the report


def _snapshot(plan, *, percent, title="第2回本部会議"):
    from reporting.models import ReportSnapshot

    return ReportSnapshot.objects.create(
        plan=plan,
        fiscal_year=2026,
        title=title,
        taken_on=date(2026, 10, 15),
        data={"overall": {"percent": percent, "reported": 1, "total": 22}},
    )


def test_hq_home_says_none_waiting_and_shows_the_plan_with_coverage(client, personas):
    make_progress(initiative("2.1"), entry_date=date(2026, 11, 1), percent=40)
    client.force_login(personas.hq)
    response = client.get(reverse("home"))
    body = response.content.decode()
    ctx = response.context
    # approvals: an explicit "none waiting", not a missing section
    assert ctx["to_approve"] == [] and "承認待ちの振り返りはありません。" in body
    # the plan's figure says what it rests on: 1 initiative reported of all of them
    overall = ctx["hq"].progress.overall
    assert overall.reported == 1 and overall.total > 1
    assert f"報告 1 / {overall.total}件" in body
    assert f"未報告 {overall.total - 1}件" in body
    # the 27 procedures and 20 systems, counted by countable_summary
    assert [c.target_count for c in ctx["hq"].countables] == [27, 20]
    assert "27件中 確認済み" in body
    assert reverse("reporting:dashboard") in body
    assert "担当しているWGの取り組みはありません。" not in body
    # no meeting report yet: said so, with the way to make one
    assert ctx["hq"].since is None
    assert "この計画の本部会議資料はまだ作成されていません。" in body


def test_hq_home_lists_what_moved_since_the_last_meeting_report(client, personas):
    from initiatives import services
    from initiatives.models import Indicator, IndicatorValue

    plan = initiative("2.1").policy.plan
    _snapshot(plan, percent="12.5", title="第1回本部会議")
    snap = _snapshot(plan, percent="20.0")
    make_progress(initiative("2.1"), entry_date=date(2026, 11, 1), percent=40)
    make_progress(initiative("2.2"), entry_date=date(2026, 11, 2), percent=60)
    review = make_review(initiative("2.1"), state=Review.State.SUBMITTED)
    services.review_move(actor=personas.secretariat, review=review, move="return", comment="数字")
    review.refresh_from_db()
    services.review_move(
        actor=personas.secretariat,
        review=make_review(initiative("3.1"), state="submitted"),
        move="check",
    )
    indicator = Indicator.objects.create(initiative=initiative("2.1"), name="件数", unit="件")
    IndicatorValue.objects.create(indicator=indicator, fiscal_year=2026, target=10)
    client.force_login(personas.hq)
    response = client.get(reverse("home"))
    since = response.context["hq"].since
    assert since.snapshot_pk == snap.pk and since.percent_then == Decimal("20.0")
    assert since.progress_entries == 2
    assert {m.state: m.count for m in since.review_moves} == {
        "submitted": 0,
        "checked": 1,
        "returned": 1,
        "approved": 0,
    }
    assert since.indicator_values == 1
    body = response.content.decode()
    assert "前回の資料：第2回本部会議（基準日 令和8年10月15日(木)）" in body
    assert reverse("reporting:report_detail", args=[snap.pk]) in body
    # the checked review now waits for HQ's approval
    assert [r.initiative.code for r in response.context["to_approve"]] == ["3.1"]


def test_progress_before_the_report_is_not_counted_as_moved(client, personas):
    make_progress(initiative("2.1"), entry_date=date(2026, 10, 1), percent=10)
    _snapshot(initiative("2.1").policy.plan, percent=None)
    client.force_login(personas.hq)
    response = client.get(reverse("home"))
    since = response.context["hq"].since
    assert since.progress_entries == 0 and since.percent_then is None
    assert since.nothing
    assert "前回の資料の作成後、記録された動きはありません。" in response.content.decode()


def test_secretariat_home_has_no_hq_overview_but_says_none_to_check(client, personas):
    client.force_login(personas.secretariat)
    response = client.get(reverse("home"))
    assert response.context["hq"] is None
    assert "確認待ちの振り返りはありません。" in response.content.decode()
    client.force_login(personas.leader)
    response = client.get(reverse("home"))
    assert response.context["hq"] is None
    assert "確認待ちの振り返り" not in response.content.decode()
