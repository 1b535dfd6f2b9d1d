""" "Progress not logged for N days" (initiatives.selectors stale_filter / is_stale): the
dashboard's count, the initiative list it links to and the reminder mails agree."""

from datetime import date

import pytest
from django.urls import reverse

from initiatives import selectors
from initiatives.services import reminder_mails
from tests.factory import initiative, make_progress

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 20)


@pytest.fixture
def progress(personas, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)
    monkeypatch.setattr("initiatives.views._today", lambda: TODAY)
    make_progress(initiative("2.1"), entry_date=date(2026, 11, 1))  # 19 days ago
    make_progress(initiative("2.2"), entry_date=date(2026, 10, 21))  # 30 days ago
    make_progress(initiative("2.3"), entry_date=date(2026, 10, 20))  # 31 days ago
    make_progress(initiative("3.1"), entry_date=date(2025, 11, 25))  # last year only
    return personas


def _dashboard_and_list(client, user, days: int) -> tuple[set[str], set[str]]:
    client.force_login(user)
    response = client.get(reverse("reporting:dashboard"), {"stale_days": days, "fy": "R8"})
    on_dashboard = {i.code for i in response.context["dashboard"].stale}
    response = client.get(reverse("initiatives:list"), {"fy": "R8", "stale_days": days})
    listed = {i.code for i in response.context["initiatives"]}
    return on_dashboard, listed


@pytest.mark.parametrize("days", [10, 20, 30, 31, 400])
def test_dashboard_count_and_linked_list_agree(client, progress, days):
    on_dashboard, listed = _dashboard_and_list(client, progress.secretariat, days)
    assert on_dashboard == listed
    assert ("2.2" in listed) == (days < 30)
    assert ("2.3" in listed) == (days < 31)
    assert ("3.1" in listed) == (days < 360)  # last logged in the previous fiscal year
    assert "2.4" in listed  # nothing logged at all


def test_reminders_name_the_same_stale_initiatives(client, progress):
    _, listed = _dashboard_and_list(client, progress.secretariat, 30)
    mails = reminder_mails(today=TODAY, days=30, base_url="https://portal.example")
    body = next(m.body for m in mails if m.to == progress.member.email)
    mine = {code for code in listed if initiative(code).working_group_id == progress.wg.pk}
    named = {code for code in mine if f"・{initiative(code)}(最終記録日" in body}
    assert named == mine and "2.1" not in mine


def test_changing_the_rule_changes_dashboard_and_list(client, progress, monkeypatch):
    """Were the cutoff a day later, 2.2 (30 days) would count on both at once."""
    real = selectors.stale_cutoff
    monkeypatch.setattr(selectors, "stale_cutoff", lambda today, days: real(today, days - 1))
    on_dashboard, listed = _dashboard_and_list(client, progress.secretariat, 30)
    assert "2.2" in on_dashboard and "2.2" in listed
