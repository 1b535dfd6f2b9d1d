"""Probe 6: the Host header must not choose where mailed links point; no wildcard host.

Before: production accepted ALLOWED_HOSTS='*', and POST /accounts/password_reset/ with
``Host: attacker.example`` mailed ``http://attacker.example/accounts/reset/…/<token>/``, a
link valid for Django's default 3 days. Now production refuses '*', every mailed link is
built from PORTAL_BASE_URL (portal_lib.accounts.portal_url), a reset link lives 3 hours and
the secretariat's set-password link 72 hours.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from tests.factory import make_user

PORTAL = "https://dx-portal.city.kahoku.example"
ATTACKER = "attacker.example"
LINK_RE = re.compile(r"\S+/accounts/reset/[^/\s]+/[^/\s]+/")
EXPIRED = "このリンクは使えません"


def _reset_link(client: Client, email: str, host: str = ATTACKER) -> str:
    mail.outbox.clear()
    response = client.post(reverse("password_reset"), {"email": email}, HTTP_HOST=host)
    assert response.status_code == 302
    (message,) = mail.outbox
    assert ATTACKER not in message.subject + message.body
    return LINK_RE.search(message.body).group(0)


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["testserver", ATTACKER], PORTAL_BASE_URL=PORTAL)
def test_a_reset_asked_for_with_a_forged_host_mails_a_link_to_the_portal():
    user = make_user("tanaka")
    link = _reset_link(Client(), user.email)
    assert link.startswith(f"{PORTAL}/accounts/reset/")
    message = mail.outbox[0]
    assert message.subject == "【かほく市DX推進ポータル】パスワードの再設定"
    assert "ユーザー名「tanaka」" in message.body
    assert "このリンクは一度だけ、3時間以内に使えます。" in message.body

    # The link works (on the portal's own host).
    page = Client().get(link.removeprefix(PORTAL), follow=True).content.decode()
    assert 'name="new_password1"' in page


@pytest.mark.django_db
@override_settings(ALLOWED_HOSTS=["testserver", ATTACKER], PORTAL_BASE_URL=PORTAL)
def test_the_secretariats_set_password_mail_links_to_the_portal(personas):
    client = Client()
    client.force_login(personas.secretariat)
    url = reverse("workgroups:staff_password", args=[personas.viewer.pk])
    response = client.post(url, {"action": "link"}, HTTP_HOST=ATTACKER)
    assert response.status_code == 302
    (message,) = mail.outbox
    link = LINK_RE.search(message.body).group(0)
    assert link.startswith(f"{PORTAL}/accounts/reset/")
    assert "このリンクは一度だけ、72時間以内に使えます。" in message.body


def _later(monkeypatch, hours: float) -> None:
    now = PasswordResetTokenGenerator._now
    monkeypatch.setattr(
        PasswordResetTokenGenerator, "_now", lambda self: now(self) + timedelta(hours=hours)
    )


def _opens(link: str) -> bool:
    page = Client().get(link.removeprefix(PORTAL), follow=True).content.decode()
    if 'name="new_password1"' in page:
        return True
    assert EXPIRED in page
    return False


@pytest.mark.django_db
@override_settings(PORTAL_BASE_URL=PORTAL)
@pytest.mark.parametrize(("hours", "opens"), [(2.9, True), (3.1, False)])
def test_a_reset_link_lives_three_hours(monkeypatch, hours, opens):
    user = make_user("tanaka")
    link = _reset_link(Client(), user.email, host="testserver")
    _later(monkeypatch, hours)
    assert _opens(link) is opens


@pytest.mark.django_db
@override_settings(PORTAL_BASE_URL=PORTAL)
@pytest.mark.parametrize(("hours", "opens"), [(3.1, True), (71.9, True), (72.1, False)])
def test_a_set_password_link_lives_72_hours(monkeypatch, hours, opens):
    from workgroups.services import staff_password_link

    user = make_user("tanaka")
    link = staff_password_link(user=user)
    _later(monkeypatch, hours)
    assert _opens(link) is opens


# --- production settings ------------------------------------------------------------------

BASE_ENV = {
    **{
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "PORTAL_BASE_URL"}
    },
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k" * 60,
}


def _load_settings(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import kahoku_dx.settings as s; print(s.ALLOWED_HOSTS)"],
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )


@pytest.mark.parametrize("hosts", ["*", "dx-portal.city.kahoku.example,*", "*.example"])
def test_production_refuses_a_wildcard_host(hosts):
    result = _load_settings(ALLOWED_HOSTS=hosts, PORTAL_BASE_URL=PORTAL)
    assert result.returncode != 0
    assert "本番環境の ALLOWED_HOSTS に「*」は使えません。" in result.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "環境変数 PORTAL_BASE_URL が設定されていません。"),
        ("http://dx-portal.city.kahoku.example", "本番環境の PORTAL_BASE_URL は https://"),
        ("https://dx-portal.city.kahoku.example/portal", "パスなし"),
        ("dx-portal.city.kahoku.example", "パスなし"),
    ],
)
def test_production_needs_a_portal_base_url(url, message):
    env = {"ALLOWED_HOSTS": "dx-portal.city.kahoku.example"}
    if url is not None:
        env["PORTAL_BASE_URL"] = url
    result = _load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_loads_with_a_named_host_and_portal_url():
    result = _load_settings(ALLOWED_HOSTS="dx-portal.city.kahoku.example", PORTAL_BASE_URL=PORTAL)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['dx-portal.city.kahoku.example']"
