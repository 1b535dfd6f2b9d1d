"""Directory login (issue 23): staff sign in with the city's directory, against a real slapd.

The people come from a roster import (workgroups.services.staff_roster_apply), without a
portal password; the directory (tests/ldap_server.py: OpenLDAP on a loopback port, users
with uid, employeeNumber, mail, ou) only checks the password, and the person is matched by
職員番号 or mail. Every login goes through the login page's real form.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factory import PASSWORD, make_totp_device, make_user, totp_code
from tests.ldap_server import (
    PEOPLE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    DirectoryUser,
    Slapd,
    free_port,
)
from tests.workgroups.test_roster import apply, person, roster_xlsx
from workgroups import directory, services
from workgroups.access import can_log_in
from workgroups.models import StaffProfile

User = get_user_model()
pytestmark = [pytest.mark.django_db, pytest.mark.slow]
OFFICE = "10.1.2.3"

DIRECTORY_USERS = [
    # 職員番号 matches; the directory's mail differs from the roster's on purpose.
    DirectoryUser(
        "tanaka", "tanaka-Dir-pass-1", "2001", "t.tanaka@ad.city.kahoku.example", "総務課"
    ),
    # No employeeNumber: matched by mail (the case differs).
    DirectoryUser("suzuki", "suzuki-Dir-pass-1", "", "Suzuki@City.Kahoku.example", "財政課"),
    # In the directory, not in the portal.
    DirectoryUser("sato", "sato-Dir-pass-1", "9999", "sato@city.kahoku.example", "総務課"),
    # Left the city: deactivated in the portal.
    DirectoryUser("yamada", "yamada-Dir-pass-1", "2003", "", "総務課"),
]
ROSTER = [
    person("2001", "総務課", "田中 一郎", メールアドレス="tanaka@city.kahoku.example"),
    person("2002", "総務課", "鈴木 花子", メールアドレス="suzuki@city.kahoku.example"),
    person("2003", "総務課", "山田 三郎"),
]


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    server = Slapd(tmp_path_factory.mktemp("slapd"), DIRECTORY_USERS).start()
    yield server
    server.stop()


def directory_settings(settings, uri: str) -> None:
    settings.AUTH_LDAP_SERVER_URI = uri
    settings.AUTH_LDAP_BIND_DN = SERVICE_DN
    settings.AUTH_LDAP_BIND_PASSWORD = SERVICE_PASSWORD
    settings.AUTH_LDAP_USER_SEARCH_BASE = PEOPLE
    settings.AUTH_LDAP_USER_SEARCH_FILTER = "(uid=%(user)s)"
    settings.DIRECTORY_DEPARTMENT_ATTR = "ou"
    settings.DIRECTORY_TIMEOUT_SECONDS = 2


@pytest.fixture
def on(settings, slapd):
    directory_settings(settings, slapd.uri)
    return settings


@pytest.fixture
def staff(plan):
    """The roster imported: three people with a 職員番号 and no portal password."""
    apply(roster_xlsx(ROSTER))
    return {p.staff_number: p.user for p in StaffProfile.objects.exclude(staff_number="")}


def login(client, username, password, ip=OFFICE):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def logged_in_as(client):
    return client.session.get("_auth_user_id")


def test_directory_user_logs_in_matched_by_staff_number(client, on, staff):
    tanaka = staff["2001"]
    assert not tanaka.has_usable_password()  # from the roster: no portal password
    users = User.objects.count()
    page = client.get(reverse("login"))
    assert "庁内のパソコンにサインインするときのユーザー名とパスワード" in page.content.decode()

    response = login(client, "tanaka", "tanaka-Dir-pass-1")

    assert response.status_code == 302 and response.url == reverse("home")
    assert logged_in_as(client) == str(tanaka.pk)
    assert client.get(reverse("home")).status_code == 200
    # Nothing was created or copied from the directory.
    assert User.objects.count() == users
    tanaka.refresh_from_db()
    assert (tanaka.username, tanaka.email, tanaka.has_usable_password()) == (
        "2001",
        "tanaka@city.kahoku.example",
        False,
    )


def test_wrong_directory_password_gets_the_ordinary_message(client, on, staff):
    response = login(client, "tanaka", "wrong-password")
    body = response.content.decode()
    assert response.status_code == 200
    assert "正しいユーザー名とパスワードを入力してください" in body
    assert not any(str(message) in body for message in directory.MESSAGES.values())
    assert logged_in_as(client) is None


def test_matched_by_mail_when_the_entry_has_no_staff_number(client, on, staff):
    response = login(client, "suzuki", "suzuki-Dir-pass-1")
    assert response.status_code == 302
    assert logged_in_as(client) == str(staff["2002"].pk)


def test_directory_account_without_a_person_is_refused_and_none_is_made(client, on, staff):
    users = User.objects.count()
    response = login(client, "sato", "sato-Dir-pass-1")
    assert response.status_code == 200
    assert "ポータルに対応する職員が登録されていません" in response.content.decode()
    assert logged_in_as(client) is None
    assert User.objects.count() == users


def test_inactive_person_is_refused(client, on, staff):
    services.staff_set_active(actor=None, user=staff["2003"], active=False)
    response = login(client, "yamada", "yamada-Dir-pass-1")
    assert response.status_code == 200
    assert "このアカウントは無効になっています" in response.content.decode()
    assert logged_in_as(client) is None


def test_lockout_after_five_failures_applies_to_a_directory_user(client, on, staff):
    for _ in range(4):
        assert login(client, "tanaka", "wrong-password").status_code == 200
    assert login(client, "tanaka", "wrong-password").status_code == 429
    # The right directory password is refused too now, from this address.
    response = login(client, "tanaka", "tanaka-Dir-pass-1")
    assert response.status_code == 429
    assert "ログインが一時的に制限されています" in response.content.decode()
    assert logged_in_as(client) is None


def test_person_with_a_second_factor_still_gets_the_code_step(client, on, staff):
    device = make_totp_device(staff["2001"])
    response = login(client, "tanaka", "tanaka-Dir-pass-1")
    assert response.status_code == 302 and response.url == reverse("otp_login")
    assert logged_in_as(client) is None  # the password alone does not log in
    response = client.post(reverse("otp_login"), {"code": totp_code(device)})
    assert response.status_code == 302 and response.url == reverse("home")
    assert logged_in_as(client) == str(staff["2001"].pk)


def test_reauthentication_asks_the_directory_password(client, on, staff):
    login(client, "tanaka", "tanaka-Dir-pass-1")
    target = reverse("workgroups:staff_list")
    url = f"{reverse('reauthenticate')}?next={target}"
    response = client.post(url, {"password": "wrong-password", "next": target})
    assert response.status_code == 400
    response = client.post(url, {"password": "tanaka-Dir-pass-1", "next": target})
    assert response.status_code == 302 and response.url == target


def test_directory_stopped_local_secretariat_works_and_directory_user_is_told(
    client, settings, staff, tmp_path
):
    server = Slapd(tmp_path / "slapd", DIRECTORY_USERS).start()
    directory_settings(settings, server.uri)
    make_user("jimu", role=StaffProfile.Role.SECRETARIAT)
    server.stop()

    started = time.monotonic()
    response = login(client, "tanaka", "tanaka-Dir-pass-1")
    assert time.monotonic() - started < 2
    assert response.status_code == 200
    assert "ディレクトリサーバーに接続できません" in response.content.decode()
    assert logged_in_as(client) is None

    response = login(client, "jimu", PASSWORD)
    assert response.status_code == 302 and response.url == reverse("home")


def test_a_directory_that_does_not_answer_is_given_up_after_the_timeout(client, settings, staff):
    """A server that accepts the connection and never answers (a hung DC): bounded."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        directory_settings(settings, f"ldap://127.0.0.1:{listener.getsockname()[1]}")
        settings.DIRECTORY_TIMEOUT_SECONDS = 1
        started = time.monotonic()
        response = login(client, "tanaka", "tanaka-Dir-pass-1")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        listener.close()
    assert 0.9 < elapsed < 3
    assert "ディレクトリサーバーに接続できません" in response.content.decode()


def test_local_passwords_for_secretariat_only_when_fallback(client, on, staff):
    on.LOCAL_PASSWORD_LOGIN = "fallback"
    make_user("jimu", role=StaffProfile.Role.SECRETARIAT)
    clerk = make_user("ippan", section="総務課")  # an ordinary person with a portal password

    response = login(client, "ippan", PASSWORD)
    assert response.status_code == 200
    assert "ポータルのパスワードでログインできるのは、事務局と管理者だけです" in (
        response.content.decode()
    )
    assert logged_in_as(client) is None
    assert login(client, "jimu", PASSWORD).status_code == 302
    # Who can log in (reminders and mails go to them): the clerk only through the directory,
    # and the clerk has no 職員番号 but a mail address, which the directory is matched by.
    assert can_log_in(clerk) is True
    on.DIRECTORY_EMAIL_ATTR = ""
    assert can_log_in(clerk) is False


def test_people_from_the_roster_can_log_in_only_with_the_directory_on(settings, on, staff):
    tanaka = staff["2001"]
    assert can_log_in(tanaka) is True
    settings.AUTH_LDAP_SERVER_URI = ""
    assert can_log_in(tanaka) is False


def test_directory_off_is_todays_behaviour(client, settings, slapd, staff):
    directory_settings(settings, slapd.uri)
    settings.AUTH_LDAP_SERVER_URI = ""
    response = login(client, "tanaka", "tanaka-Dir-pass-1")
    body = response.content.decode()
    assert response.status_code == 200
    assert "正しいユーザー名とパスワードを入力してください" in body
    assert 'id="directory-login-hint"' not in body


def test_directory_session_ends_when_directory_login_is_switched_off(client, on, staff):
    login(client, "tanaka", "tanaka-Dir-pass-1")
    assert client.get(reverse("home")).status_code == 200
    on.AUTH_LDAP_SERVER_URI = ""
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_department_value_of_an_entry(on):
    assert directory.directory_department({"ou": ["総務課"]}) == "総務課"
    on.DIRECTORY_DEPARTMENT_ATTR = ""
    assert directory.directory_department({"ou": ["総務課"]}) == ""


def test_fallback_password_reset_and_staff_screen_say_the_directory(client, on, staff):
    from django.core import mail

    on.LOCAL_PASSWORD_LOGIN = "fallback"
    jimu = make_user("jimu", role=StaffProfile.Role.SECRETARIAT)
    clerk = make_user("ippan", section="総務課")
    page = client.get(reverse("password_reset")).content.decode()
    assert "ここではなく庁内のパソコンのパスワードの手続きで変更してください" in page
    # No reset mail for a person whose portal password could not be used; the secretariat's
    # reset still goes out.
    client.post(reverse("password_reset"), {"email": clerk.email})
    assert mail.outbox == []
    client.post(reverse("password_reset"), {"email": jimu.email})
    assert [m.to for m in mail.outbox] == [[jimu.email]]

    client.post(reverse("login"), {"username": "jimu", "password": PASSWORD})
    page = client.get(reverse("workgroups:staff_password", args=[clerk.pk])).content.decode()
    assert 'id="directory-only"' in page
    page = client.get(reverse("workgroups:staff_password", args=[jimu.pk])).content.decode()
    assert 'id="directory-only"' not in page


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"LOCAL_PASSWORD_LOGIN": "fallback"},
            "LOCAL_PASSWORD_LOGIN=fallback は、ディレクトリログイン",
        ),
        ({"LOCAL_PASSWORD_LOGIN": "never"}, "LOCAL_PASSWORD_LOGIN='never' は all か fallback"),
        ({"AUTH_LDAP_SERVER_URI": "dc01.city.local"}, "ldap://ホスト名[:ポート]"),
        ({"AUTH_LDAP_SERVER_URI": "ldap://dc01"}, "AUTH_LDAP_USER_SEARCH_BASE"),
        (
            {
                "AUTH_LDAP_SERVER_URI": "ldap://dc01",
                "AUTH_LDAP_USER_SEARCH_BASE": "dc=city",
                "AUTH_LDAP_USER_SEARCH_FILTER": "(uid=tanaka)",
            },
            "%(user)s を含めてください",
        ),
        (
            {
                "DJANGO_ENV": "production",
                "SECRET_KEY": "x" * 60,
                "ALLOWED_HOSTS": "a.example",
                "AUTH_LDAP_SERVER_URI": "ldap://dc01",
                "AUTH_LDAP_USER_SEARCH_BASE": "dc=city",
            },
            "AUTH_LDAP_START_TLS=true にしてください",
        ),
    ],
)
def test_directory_settings_refuse_to_start_when_wrong(env, message):
    from tests.project.test_settings import _load_settings

    result = _load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr
