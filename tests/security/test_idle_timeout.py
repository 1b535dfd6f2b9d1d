"""Sessions end after 30 idle minutes and 8 hours after the login (issue 19, item 15).

Before: only the 8-hour absolute lifetime existed (and it moved forward whenever the
session was saved); a session left open on a shared PC stayed usable all day.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from portal_lib.session_timeout import LAST_ACTIVITY_KEY
from tests.factory import PASSWORD

pytestmark = pytest.mark.django_db

IDLE_MESSAGE = (
    "一定時間操作がなかったため、安全のためログアウトしました。もう一度ログインしてください。"
)


def _log_in(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_thirty_idle_minutes_end_the_session_with_a_message_on_the_login_page(client, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, personas.member)
        assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = client.get(reverse("initiatives:list"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert IDLE_MESSAGE in page
    assert "<h1>ログイン</h1>" in page


def test_activity_keeps_the_session_alive(client, personas):
    start = timezone.now()
    for minutes in (0, 20, 40, 60, 80):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            if minutes == 0:
                _log_in(client, personas.member)
            assert client.get(reverse("home")).status_code == 200


def test_the_last_activity_is_written_at_most_once_a_minute(client, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, personas.member)
        first = client.session[LAST_ACTIVITY_KEY]
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        client.get(reverse("home"))
    assert client.session[LAST_ACTIVITY_KEY] == first
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get(reverse("home"))
    assert client.session[LAST_ACTIVITY_KEY] == first + 61


def test_the_idle_timeout_comes_from_the_settings(client, personas, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 5
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, personas.member)
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        assert client.get(reverse("home")).status_code == 302


def test_eight_hours_after_the_login_the_session_ends_however_busy(client, personas):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _log_in(client, personas.member)
    for minutes in range(20, 8 * 60, 20):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("home")).status_code == 200
    with time_machine.travel(start + timedelta(hours=8, minutes=5), tick=False):
        response = client.get(reverse("home"), follow=True)
    assert "ログインの有効時間が過ぎたため、ログアウトしました。" in response.content.decode()
    assert "_auth_user_id" not in client.session
