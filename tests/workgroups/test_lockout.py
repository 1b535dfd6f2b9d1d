"""Brute-force protection: a username is locked *from one address* only, then cools off."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from tests.factory import PASSWORD, make_user

pytestmark = pytest.mark.django_db

OFFICE = "10.1.2.3"
OTHER_PC = "10.1.2.99"


def _login(client, username, password, ip):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


@pytest.fixture
def staff(plan):
    return make_user("tanaka", section="総務課"), make_user("suzuki", section="総務課")


def _fail_five_times(client, username="tanaka", ip=OFFICE):
    for _ in range(5):
        response = _login(client, username, "wrong-password", ip)
    return response


def test_five_failures_lock_that_username_from_that_address(client, staff):
    for _ in range(4):
        response = _login(client, "tanaka", "wrong-password", OFFICE)
        assert response.status_code == 200  # the login form again, with its error
    response = _login(client, "tanaka", "wrong-password", OFFICE)
    assert response.status_code == 429
    body = response.content.decode()
    assert "ログインが一時的に制限されています" in body
    assert "約15分たつと、もう一度ログインできるようになります。" in body
    # Even the right password is refused now, from this address.
    response = _login(client, "tanaka", PASSWORD, OFFICE)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_same_user_from_another_address_and_another_user_from_same_address(client, staff):
    _fail_five_times(client)
    response = _login(client, "tanaka", PASSWORD, OTHER_PC)
    assert response.status_code == 302 and response.url == reverse("home")
    client.logout()
    response = _login(client, "suzuki", PASSWORD, OFFICE)
    assert response.status_code == 302 and response.url == reverse("home")


def test_cool_off_ends_the_lockout(client, staff, settings):
    _fail_five_times(client)
    assert _login(client, "tanaka", PASSWORD, OFFICE).status_code == 429
    # 16 minutes later (cool-off is 15 minutes)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    response = _login(client, "tanaka", PASSWORD, OFFICE)
    assert response.status_code == 302 and response.url == reverse("home")
