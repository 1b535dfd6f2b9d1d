"""Every admin page the secretariat uses answers 200 with Japanese labels."""

import pytest
from django.contrib import admin
from django.urls import reverse

from initiatives.models import Indicator, IndicatorValue, OnlineProcedure, ReviewEvent
from reporting.models import ReportSnapshot
from tests.factory import initiative, make_progress, make_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(personas):
    ini = initiative("2.1")
    make_progress(ini, author=personas.member, status="on_track", percent=40, done_text="説明会")
    review = make_review(ini)
    ReviewEvent.objects.create(review=review, to_state="draft", actor=personas.leader)
    indicator = Indicator.objects.create(initiative=ini, name="オンライン化手続数", unit="件")
    IndicatorValue.objects.create(indicator=indicator, fiscal_year=2022, target=27, actual=20)
    # The national 27 come with the plan; a procedure the city added itself follows them.
    OnlineProcedure.objects.create(target=ini.countable_targets.get(), number=28, name="転出届")
    ReportSnapshot.objects.create(plan=ini.policy.plan, fiscal_year=2026, title="第1回本部会議")
    from workgroups.models import ExternalAdvisor

    ExternalAdvisor.objects.create(plan=ini.policy.plan, name="石川DX支援センター")
    return personas


def _admin_models():
    # Groups and permissions stay with the superuser; everything else is the secretariat's.
    apps = {"plans", "workgroups", "initiatives"}
    return [
        m for m in admin.site._registry if m._meta.app_label in apps or m._meta.label == "auth.User"
    ]


def test_every_changelist_change_form_and_history_page(client, populated):
    client.force_login(populated.secretariat)
    checked = 0
    for model in _admin_models():
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}"
        response = client.get(reverse(f"{base}_changelist"))
        assert response.status_code == 200, (opts.label, "changelist")
        assert str(opts.verbose_name_plural) in response.content.decode(), opts.label
        obj = model._default_manager.first()
        assert obj is not None, f"{opts.label} has no row to open"
        response = client.get(reverse(f"{base}_change", args=[obj.pk]))
        assert response.status_code == 200, (opts.label, "change")
        if opts.model_name != "reviewevent":
            response = client.get(reverse(f"{base}_history", args=[obj.pk]))
            assert response.status_code == 200, (opts.label, "history")
            assert "変更履歴" in response.content.decode()
        checked += 1
    assert checked >= 25


def test_changelist_filters_and_search_in_japanese(client, populated):
    client.force_login(populated.secretariat)
    response = client.get(reverse("admin:initiatives_initiative_changelist"), {"q": "オンライン"})
    body = response.content.decode()
    assert "行政サービスのオンライン化" in body
    assert "マイナンバーカード" not in body
    assert "絞り込み" in body  # the list filter sidebar
    assert "担当WG" in body


def test_admin_edit_is_recorded_in_history_with_the_user(client, populated):
    client.force_login(populated.secretariat)
    section = initiative("2.1").lead_section
    url = reverse("admin:workgroups_section_change", args=[section.pk])
    response = client.post(
        url, {"name": section.name, "department": "総務部", "order": 3, "is_active": "on"}
    )
    assert response.status_code == 302
    section.refresh_from_db()
    assert section.department == "総務部"
    latest = section.history.first()
    assert latest.history_user == populated.secretariat
    assert latest.prev_record.department == ""


def test_admin_is_closed_to_non_staff(client, populated):
    client.force_login(populated.member)
    response = client.get(reverse("admin:initiatives_initiative_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_cannot_move_a_review_state_or_edit_an_approved_review(client, populated):
    from initiatives.models import Review

    client.force_login(populated.secretariat)
    review = Review.objects.get()
    url = reverse("admin:initiatives_review_change", args=[review.pk])
    form = {
        "initiative": review.initiative_id,
        "fiscal_year": 2026,
        "plan_text": "管理画面で編集",
        "state": "approved",
        "version": review.version,  # the hidden optimistic-lock field of the change form
        "events-TOTAL_FORMS": 1,
        "events-INITIAL_FORMS": 1,
        "events-MIN_NUM_FORMS": 0,
        "events-MAX_NUM_FORMS": 1000,
        "events-0-id": review.events.get().pk,
        "events-0-review": review.pk,
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    review.refresh_from_db()
    assert review.plan_text == "管理画面で編集"
    assert review.state == "draft"  # the state field is read-only in the admin
    assert review.version == 2

    Review.objects.filter(pk=review.pk).update(state="approved")
    body = client.get(url).content.decode()
    assert 'name="plan_text"' not in body  # locked: shown, not editable
    assert (
        client.post(
            reverse("admin:initiatives_review_delete", args=[review.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Review.objects.filter(pk=review.pk).exists()
