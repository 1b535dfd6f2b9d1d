"""One display name for a person (portal_lib.people.display_name): the header, the staff and WG
lists, the meeting reports, the progress timeline and the API accounts screen all show the
same name, whichever fallback the person needs."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from portal_lib.people import display_name
from reporting.api.accounts import service_account_create
from reporting.services.meeting_reports import report_snapshot_create
from tests.factory import initiative, make_membership, make_progress, make_user
from workgroups.models import StaffProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def hanako(personas):
    """The profile's 表示名 differs from the account's name (changed in the admin)."""
    user = make_user("hanako", role=StaffProfile.Role.SECRETARIAT, display_name="表示 花子")
    user.last_name = "旧姓 花子"
    user.save()
    make_membership(user, personas.other_wg, leader=True)
    return user


def test_the_rule_and_its_fallbacks(hanako, personas):
    account, _ = service_account_create(
        actor=personas.secretariat, username="bi-all", display_name="BIツール", working_group=None
    )
    bare = make_user("bare")
    StaffProfile.objects.filter(user=bare).update(display_name="")
    bare.last_name = ""
    bare.save()
    bare.refresh_from_db()
    assert [display_name(u) for u in (hanako, account, bare, None)] == [
        "表示 花子",  # the profile's 表示名 first
        "BIツール",  # no profile (a service account): the account's name
        "bare",  # neither: the login name
        "",
    ]


def test_every_screen_shows_the_one_name(client, hanako, personas):
    report_snapshot_create(
        plan=personas.wg.plan,
        fiscal_year=2026,
        title="令和8年度 第1回DX推進本部会議",
        today=date(2026, 10, 1),
        user=hanako,
    )
    make_progress(initiative("2.1"), author=hanako, entry_date=date(2026, 5, 1))
    client.force_login(hanako)
    pages = {
        "header": reverse("home"),
        "staff list": reverse("workgroups:staff_list") + "?q=hanako",
        "WG list": reverse("workgroups:working_groups"),
        "meeting reports": reverse("reporting:report_list"),
        "progress timeline": reverse("initiatives:detail", args=[initiative("2.1").pk])
        + "?fy=2026",
    }
    shown = {}
    for where, url in pages.items():
        page = client.get(url).content.decode()
        shown[where] = ("表示 花子" in page, "旧姓 花子" in page)
    assert shown == {where: (True, False) for where in pages}
    # The history page names the person by the rule (its rows show the account's fields).
    history = client.get(reverse("workgroups:staff_history", args=[hanako.pk])).content.decode()
    assert "変更の履歴：表示 花子</h1>" in history


def test_the_api_accounts_screen_shows_a_service_accounts_name(client, personas):
    account, _ = service_account_create(
        actor=personas.secretariat, username="bi-all", display_name="BIツール", working_group=None
    )
    client.force_login(personas.secretariat)
    page = client.get("/api-accounts/").content.decode()
    assert "<td>BIツール</td>" in page
    # The secretariat member who made it is named in the audit trail by the same rule.
    assert display_name(personas.secretariat) in page
