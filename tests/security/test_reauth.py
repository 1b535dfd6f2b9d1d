"""Re-authentication before role changes, token issuance and imports (issue 19, item 15).

Before: a session opened hours ago (or left open on a shared PC) could change roles, issue
an API token or import the staff roster without anyone typing the password again.
A fresh login counts as recent (REAUTH_WINDOW_MINUTES, 10), so the rest of the suite
never meets the confirmation page.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from reporting.api.accounts import service_account_create
from tests.factory import PASSWORD, make_totp_device, totp_code, upload
from tests.workgroups.test_roster import BASE_ROWS, roster_xlsx
from workgroups.models import Section, StaffProfile, WorkingGroupMembership

pytestmark = pytest.mark.django_db

User = get_user_model()
STALE = timedelta(minutes=11)


@pytest.fixture
def start():
    return timezone.now()


@pytest.fixture
def secretariat_client(client, personas, start):
    with time_machine.travel(start, tick=False):
        response = client.post(
            reverse("login"), {"username": personas.secretariat.username, "password": PASSWORD}
        )
    assert response.status_code == 302
    return client


def _reauth_url(next_url):
    return f"{reverse('reauthenticate')}?{urlencode({'next': next_url})}"


def _staff_form(personas, person, **overrides):
    profile = person.profile
    data = {
        "display_name": profile.display_name,
        "email": person.email,
        "section": str(profile.section_id or ""),
        "role": profile.role,
        "hq_role": "",
        "hq_title": "",
        f"wg_{personas.wg.pk}": "member",  # the member's current role
        f"wg_{personas.other_wg.pk}": "",
        "version": str(profile.version),  # the staff record as the form was opened
    }
    data.update(overrides)
    return data


# --- role changes -------------------------------------------------------------------------


def test_a_role_change_in_an_old_session_asks_for_the_password_then_sends_the_same_form(
    secretariat_client, personas, start
):
    client = secretariat_client
    member = personas.member
    url = reverse("workgroups:staff_edit", args=[member.pk])
    data = _staff_form(personas, member, **{f"wg_{personas.wg.pk}": "leader"})
    with time_machine.travel(start + STALE, tick=False):
        assert client.get(url).status_code == 200  # looking needs no password
        response = client.post(url, data)
        assert response.status_code == 302
        assert response["Location"] == _reauth_url(url)
        assert WorkingGroupMembership.objects.get(user=member, working_group=personas.wg).role == (
            "member"
        )
        page = client.get(response["Location"]).content.decode()
        assert "<h1>パスワードの再確認</h1>" in page

        wrong = client.post(response["Location"], {"password": "wrong", "next": url})
        assert wrong.status_code == 400
        assert "パスワードが正しくありません。" in wrong.content.decode()

        confirmed = client.post(response["Location"], {"password": PASSWORD, "next": url})
        assert confirmed.status_code == 200
        page = confirmed.content.decode()
        # The form the person filled in is offered again, unchanged, to send with one button.
        form = re.search(rf'<form method="post" action="{url}".*?</form>', page, re.S).group(0)
        assert f'name="wg_{personas.wg.pk}" value="leader"' in form
        assert form.count('name="csrfmiddlewaretoken"') == 1  # a fresh one, not the old

        assert client.post(url, data).status_code == 302
    membership = WorkingGroupMembership.objects.get(user=member, working_group=personas.wg)
    assert membership.role == "leader"


def test_an_edit_without_a_role_change_needs_no_password(secretariat_client, personas, start):
    member = personas.member
    url = reverse("workgroups:staff_edit", args=[member.pk])
    with time_machine.travel(start + STALE, tick=False):
        response = secretariat_client.post(
            url, _staff_form(personas, member, display_name="新しい 名前")
        )
    assert response["Location"] == url
    assert StaffProfile.objects.get(user=member).display_name == "新しい 名前"


def test_new_staff_with_roles_ask_for_the_password(secretariat_client, personas, start):
    url = reverse("workgroups:staff_create")
    data = {
        "username": "h.yamada",
        "display_name": "山田 花子",
        "email": "h.yamada@city.kahoku.example",
        "section": str(Section.objects.get(name="総務課").pk),
        "role": "secretariat",
        "hq_role": "",
        "hq_title": "",
        f"wg_{personas.wg.pk}": "",
        f"wg_{personas.other_wg.pk}": "",
    }
    with time_machine.travel(start + STALE, tick=False):
        response = secretariat_client.post(url, data)
    assert response["Location"] == _reauth_url(url)
    assert not User.objects.filter(username="h.yamada").exists()


def test_within_the_window_nothing_is_asked(secretariat_client, personas, start):
    member = personas.member
    url = reverse("workgroups:staff_edit", args=[member.pk])
    data = _staff_form(personas, member, **{f"wg_{personas.wg.pk}": "leader"})
    with time_machine.travel(start + timedelta(minutes=9), tick=False):
        assert secretariat_client.post(url, data)["Location"] == url


def test_the_window_comes_from_the_settings(secretariat_client, personas, start, settings):
    settings.REAUTH_WINDOW_MINUTES = 2
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        response = secretariat_client.get(reverse("workgroups:staff_roster"))
    assert response["Location"] == _reauth_url(reverse("workgroups:staff_roster"))


# --- roster and plan imports --------------------------------------------------------------


def test_the_roster_screen_asks_first_and_comes_back(secretariat_client, personas, start):
    url = reverse("workgroups:staff_roster")
    with time_machine.travel(start + STALE, tick=False):
        response = secretariat_client.get(url)
        assert response["Location"] == _reauth_url(url)
        back = secretariat_client.post(response["Location"], {"password": PASSWORD, "next": url})
        assert back["Location"] == url
        assert secretariat_client.get(url).status_code == 200


def test_a_stashed_roster_preview_confirmed_late_is_kept_through_the_confirmation(
    secretariat_client, personas, start
):
    client = secretariat_client
    today = timezone.localdate()
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        response = client.post(
            reverse("workgroups:staff_roster"),
            {"file": upload(roster_xlsx(BASE_ROWS), "meibo.xlsx"), "effective": today.isoformat()},
        )
        token = response.context["token"]
    confirm = reverse("workgroups:staff_roster_confirm")
    with time_machine.travel(start + STALE + timedelta(minutes=1), tick=False):
        response = client.post(confirm, {"token": token})
        assert response["Location"] == _reauth_url(confirm)
        assert not StaffProfile.objects.filter(staff_number="1001").exists()
        page = client.post(
            response["Location"], {"password": PASSWORD, "next": confirm}
        ).content.decode()
        assert f'name="token" value="{token}"' in page
        done = client.post(confirm, {"token": token})
    assert done["Location"] == reverse("workgroups:staff_roster_done")
    assert StaffProfile.objects.filter(staff_number="1001").exists()


def test_an_upload_in_an_old_session_goes_back_to_its_page_with_a_message(
    secretariat_client, personas, start
):
    url = reverse("excel:bulk_import", args=["progress"])
    with time_machine.travel(start + STALE, tick=False):
        response = secretariat_client.post(
            url,
            {"file": upload(b"PK\x03\x04", "a.xlsx")},
            HTTP_REFERER=f"http://testserver{url}",
        )
        assert response["Location"] == _reauth_url(url)
        page = secretariat_client.get(response["Location"]).content.decode()
    assert "安全のため、この操作の前にパスワードの再確認が必要です。" in page


@pytest.mark.parametrize(
    "name,args",
    [
        ("excel:schedule_import", []),
        ("excel:bulk_import", ["progress"]),
        ("workgroups:staff_roster", []),
    ],
)
def test_every_import_screen_asks_in_an_old_session(
    secretariat_client, personas, start, name, args
):
    url = reverse(name, args=args)
    with time_machine.travel(start + STALE, tick=False):
        assert secretariat_client.get(url)["Location"] == _reauth_url(url)


@pytest.mark.parametrize(
    "name", ["excel:schedule_confirm", "excel:bulk_confirm", "workgroups:staff_roster_confirm"]
)
def test_every_import_confirm_asks_in_an_old_session(secretariat_client, personas, start, name):
    url = reverse(name, args=["progress"] if name == "excel:bulk_confirm" else [])
    with time_machine.travel(start + STALE, tick=False):
        response = secretariat_client.post(url, {"token": "x"})
    assert response["Location"] == _reauth_url(url)


# --- token issuance -----------------------------------------------------------------------


def test_issuing_an_api_token_in_an_old_session_asks_for_the_password(
    secretariat_client, personas, start
):
    url = reverse("api_accounts:create")
    data = {"username": "bi-tool", "display_name": "BIツール", "scope": ""}
    with time_machine.travel(start + STALE, tick=False):
        response = secretariat_client.post(url, data)
        assert response["Location"] == _reauth_url(url)
        assert not User.objects.filter(username="bi-tool").exists()
        assert secretariat_client.get(reverse("api_accounts:list")).status_code == 200


def test_regenerating_a_token_in_an_old_session_asks_for_the_password(
    secretariat_client, personas, start
):
    account, _ = service_account_create(
        actor=personas.secretariat, username="bi-tool", display_name="BI", working_group=None
    )
    url = reverse("api_accounts:regenerate", args=[account.pk])
    with time_machine.travel(start + STALE, tick=False):
        assert secretariat_client.post(url)["Location"] == _reauth_url(url)


# --- with the second factor -----------------------------------------------------------------


def test_the_authenticator_code_also_confirms(secretariat_client, personas, start):
    device = make_totp_device(personas.secretariat)
    url = reverse("workgroups:staff_roster")
    with time_machine.travel(start + STALE, tick=False):
        page = secretariat_client.get(_reauth_url(url)).content.decode()
        assert "または認証アプリの確認コード" in page
        response = secretariat_client.post(
            _reauth_url(url), {"password": "", "code": totp_code(device), "next": url}
        )
        assert response["Location"] == url
        assert secretariat_client.get(url).status_code == 200


def test_a_password_in_a_form_is_never_kept_for_sending_again(rf):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    from portal_lib.reauth import REPLAY_KEY, ask_to_reauthenticate

    url = "/organisation/staff/4/password/"
    request = rf.post(
        url, {"password1": "Secret-2026-x", "note": "a"}, HTTP_REFERER=f"http://testserver{url}"
    )
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    response = ask_to_reauthenticate(request)
    assert REPLAY_KEY not in request.session
    assert response["Location"] == _reauth_url(url)
