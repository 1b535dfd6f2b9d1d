""" "Secretariat or headquarters" (Roles.oversees) is asked by the nav, the management
screens' mixin and the meeting-report access check: they show, open and refuse together."""

from datetime import date

import pytest
from django.http import Http404
from django.urls import reverse

from reporting.access import get_snapshot_for_user
from reporting.services.meeting_reports import report_snapshot_create
from workgroups.access import Roles

pytestmark = pytest.mark.django_db

PERSONAS = ["viewer", "member", "other_member", "leader", "secretariat", "hq"]
MANAGEMENT = ["reporting:dashboard", "reporting:report_list", "reporting:version_compare"]


@pytest.fixture
def snapshot(personas):
    return report_snapshot_create(
        plan=personas.wg.plan,
        fiscal_year=2026,
        title="令和8年度 第1回DX推進本部会議",
        today=date(2026, 10, 1),
        user=personas.secretariat,
    )


def _what_the_user_gets(client, user, snapshot) -> tuple[list[str], list[int], int]:
    client.force_login(user)
    home = client.get(reverse("home")).content.decode()
    nav = home[home.index('<nav class="main-nav"') : home.index("</nav>")]
    in_nav = [name for name in MANAGEMENT if f'href="{reverse(name)}"' in nav]
    statuses = [client.get(reverse(name)).status_code for name in MANAGEMENT]
    try:
        get_snapshot_for_user(user, snapshot.pk)
    except Http404:
        report = 404
    else:
        report = 200
    return in_nav, statuses, report


@pytest.mark.parametrize("persona", PERSONAS)
def test_nav_screens_and_report_access_agree(client, personas, snapshot, persona):
    overseer = persona in ("secretariat", "hq")
    in_nav, statuses, report = _what_the_user_gets(client, getattr(personas, persona), snapshot)
    if overseer:
        assert (in_nav, statuses, report) == (MANAGEMENT, [200, 200, 200], 200)
    else:
        assert (in_nav, statuses, report) == ([], [403, 403, 403], 404)


def test_changing_the_predicate_changes_nav_screens_and_reports(
    client, personas, snapshot, monkeypatch
):
    """Were WG leaders to oversee too, the one property is all there is to change."""
    monkeypatch.setattr(
        Roles, "oversees", property(lambda r: r.secretariat or r.headquarters or bool(r.led_wg_ids))
    )
    assert _what_the_user_gets(client, personas.leader, snapshot) == (
        MANAGEMENT,
        [200, 200, 200],
        200,
    )
    assert _what_the_user_gets(client, personas.member, snapshot)[1:] == ([403, 403, 403], 404)
