"""Anti-automation (issue 19, item 14): the login and the password-reset mail are throttled.

Before: 16 failed logins over 8 names from one address and 12 addresses against one user
all went through (the lockout was per user and address only), and ten reset mails went to
one address in 0.1 s.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.factory import PASSWORD, make_user

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"
OFFICE = "10.1.2.3"


def _login(client, username, password, ip):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


# --- login: one address across user names ---------------------------------------------------


def test_sixteen_failures_over_eight_names_from_one_address_throttle_the_address(client, plan):
    make_user("tanaka", section="総務課")
    statuses = [
        _login(client, f"name{n % 8}", "wrong-password", ATTACKER).status_code for n in range(16)
    ]
    # No name failed 5 times, but the address reached LOGIN_IP_FAILURE_LIMIT (15).
    assert statuses == [200] * 14 + [429, 429]
    response = _login(client, "tanaka", PASSWORD, ATTACKER)
    assert response.status_code == 429
    body = response.content.decode()
    assert "この端末（アドレス）から、さまざまなユーザー名でのログインに15回失敗したため" in body
    assert "約15分たつと、もう一度ログインできるようになります。" in body
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    assert _login(client, "tanaka", PASSWORD, OFFICE).status_code == 302


def test_the_address_limit_lifts_after_the_cool_off(client, plan):
    make_user("tanaka", section="総務課")
    for n in range(15):
        _login(client, f"name{n}", "wrong-password", ATTACKER)
    assert _login(client, "tanaka", PASSWORD, ATTACKER).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert _login(client, "tanaka", PASSWORD, ATTACKER).status_code == 302


def test_a_valid_account_does_not_wipe_the_addresss_failures_against_other_names(client, plan):
    make_user("tanaka", section="総務課")
    for n in range(14):
        _login(client, f"name{n}", "wrong-password", ATTACKER)
    # The attacker logs in with the one account it holds: only its own failures reset.
    assert _login(client, "tanaka", PASSWORD, ATTACKER).status_code == 302
    client.logout()
    assert _login(client, "name99", "wrong-password", ATTACKER).status_code == 429


def test_the_address_limit_is_configurable(client, plan, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 8
    statuses = [_login(client, f"n{n}", "x", ATTACKER).status_code for n in range(8)]
    assert statuses == [200] * 7 + [429]


# --- login: one user name across addresses ----------------------------------------------------


def test_twelve_addresses_against_one_user_lock_the_user_for_the_cool_off(client, plan):
    make_user("tanaka", section="総務課")
    statuses = [
        _login(client, "tanaka", "wrong-password", f"198.51.100.{n}").status_code for n in range(12)
    ]
    # No address failed 5 times, but the name reached LOGIN_USERNAME_FAILURE_LIMIT (10).
    assert statuses == [200] * 9 + [429, 429, 429]
    response = _login(client, "tanaka", PASSWORD, OFFICE)
    assert response.status_code == 429
    assert "このユーザー名へのログインに、複数の端末から合わせて10回失敗したため" in (
        response.content.decode()
    )
    # Other names from the office are not affected; the user is back after the cool-off.
    make_user("suzuki", section="総務課")
    assert _login(client, "suzuki", PASSWORD, OFFICE).status_code == 302
    client.logout()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert _login(client, "tanaka", PASSWORD, OFFICE).status_code == 302


def test_the_user_and_address_lockout_keeps_its_own_message(client, plan):
    make_user("tanaka", section="総務課")
    for _ in range(5):
        response = _login(client, "tanaka", "wrong-password", OFFICE)
    assert response.status_code == 429
    body = response.content.decode()
    assert "このユーザー名で、この端末からのログインに続けて5回失敗したため" in body
    assert "ほかの職員や、ほかの端末からのログインには影響しません。" in body


# --- password reset -----------------------------------------------------------------------


def _reset(client, email, ip=OFFICE):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)


def test_ten_reset_requests_for_one_address_send_three_mails(client, plan, caplog):
    user = make_user("tanaka", section="総務課")
    caplog.set_level("WARNING", logger="kahoku_dx.security")
    responses = [_reset(client, user.email, ip=f"192.0.2.{n}") for n in range(10)]
    # The same answer every time: nothing tells the caller that mails stopped.
    assert {(r.status_code, r["Location"]) for r in responses} == {
        (302, reverse("password_reset_done"))
    }
    assert len(mail.outbox) == 3
    refused = [r for r in caplog.records if r.name == "kahoku_dx.security"]
    assert len(refused) == 7
    assert refused[0].reason == "per_email" and refused[0].client_ip == "192.0.2.3"
    assert user.email not in refused[0].getMessage()  # the log does not hold the address

    # An hour later the address may ask again.
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert _reset(client, user.email).status_code == 302
    assert len(mail.outbox) == 4


def test_one_client_address_gets_at_most_ten_reset_mails_an_hour(client, plan, caplog):
    users = [make_user(f"user{n}", section="総務課") for n in range(12)]
    caplog.set_level("WARNING", logger="kahoku_dx.security")
    for user in users:
        assert _reset(client, user.email, ip=ATTACKER).status_code == 302
    assert len(mail.outbox) == 10
    refused = [r for r in caplog.records if r.name == "kahoku_dx.security"]
    assert [r.reason for r in refused] == ["per_client", "per_client"]
    assert {r.client_ip for r in refused} == {ATTACKER}
    # Another client address is not affected.
    _reset(client, users[11].email, ip=OFFICE)
    assert len(mail.outbox) == 11


def test_unknown_addresses_count_against_the_client_too(client, plan):
    """Probing for accounts with unknown addresses uses up the client's budget as well."""
    user = make_user("tanaka", section="総務課")
    for n in range(10):
        _reset(client, f"nobody{n}@example.com", ip=ATTACKER)
    assert _reset(client, user.email, ip=ATTACKER).status_code == 302
    assert mail.outbox == []


def test_the_reset_limits_come_from_the_settings(client, plan, settings):
    settings.PASSWORD_RESET_PER_EMAIL_PER_HOUR = 1
    user = make_user("tanaka", section="総務課")
    _reset(client, user.email)
    _reset(client, user.email.upper())  # the same address, however it is typed
    assert len(mail.outbox) == 1
