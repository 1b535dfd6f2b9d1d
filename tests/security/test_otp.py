"""The second factor (issue 19, item 15): TOTP required for superusers, offered to the
secretariat, with single-use recovery codes. Codes are made from the device's own key
(django_otp.oath.totp), as the user's authenticator app makes them: nothing is mocked.

Before: the password alone signed anyone in, superusers included.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factory import PASSWORD, make_totp_device, totp_code

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def root(plan):
    return User.objects.create_superuser("root", "root@city.kahoku.example", PASSWORD)


def _password(client, user, next_url=""):
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- superusers must enrol ------------------------------------------------------------------


def test_a_superuser_without_a_device_reaches_nothing_but_enrolment(client, root):
    assert _password(client, root).status_code == 302
    for url in (reverse("home"), reverse("admin:index"), reverse("workgroups:staff_list")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("otp_setup")), url
    # A POST elsewhere is not served either.
    assert client.post(reverse("workgroups:staff_create"), {})["Location"].startswith(
        reverse("otp_setup")
    )
    page = client.get(reverse("otp_setup")).content.decode()
    assert "<h1>2段階認証の設定</h1>" in page
    assert "管理者のアカウントは2段階認証が必須です。" in page
    # The QR code is made here, as an SVG data URI: nothing is fetched from anywhere.
    qr = re.search(r'<img class="otp-qr" src="([^"]+)"', page).group(1)
    assert qr.startswith("data:image/svg+xml;base64,")


def test_enrolment_with_a_real_code_opens_the_portal_and_shows_ten_recovery_codes(client, root):
    _password(client, root)
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=root, confirmed=False)

    wrong = client.post(reverse("otp_setup"), {"code": "000000"})
    assert wrong.status_code == 400
    assert "コードが正しくありません。" in wrong.content.decode()
    assert client.get(reverse("home")).status_code == 302

    device.refresh_from_db()
    device.throttle_reset()
    response = client.post(reverse("otp_setup"), {"code": totp_code(device)})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    page = response.content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "この画面でしか表示されません" in page
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("home")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_superuser_with_a_device_gives_the_code_after_the_password(client, root):
    device = make_totp_device(root)
    response = _password(client, root, next_url=reverse("workgroups:staff_list"))
    assert response["Location"] == reverse("otp_login")
    assert not _logged_in(client)  # the password alone logs nobody in
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))

    page = client.get(reverse("otp_login")).content.decode()
    assert "<h1>確認コードの入力</h1>" in page
    response = client.post(reverse("otp_login"), {"code": totp_code(device)})
    assert response["Location"] == reverse("workgroups:staff_list")
    assert _logged_in(client)
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_code_cannot_be_used_twice(client, root):
    device = make_totp_device(root)
    code = totp_code(device)
    _password(client, root)
    assert client.post(reverse("otp_login"), {"code": code}).status_code == 302
    client.logout()
    _password(client, root)
    response = client.post(reverse("otp_login"), {"code": code})
    assert response.status_code == 400 and not _logged_in(client)


def test_wrong_codes_are_throttled(client, root):
    device = make_totp_device(root)
    _password(client, root)
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    with time_machine.travel(timezone.now(), tick=False):
        response = client.post(reverse("otp_login"), {"code": wrong})
        assert "コードが正しくありません。" in response.content.decode()
        # django-otp's throttle: after a failure, even the right code waits a growing delay.
        response = client.post(reverse("otp_login"), {"code": totp_code(device)})
    assert response.status_code == 400
    assert "コードを続けて間違えたため、しばらく入力できません。" in response.content.decode()
    assert not _logged_in(client)
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_the_pending_password_step_expires(client, root):
    device = make_totp_device(root)
    _password(client, root)
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.post(reverse("otp_login"), {"code": totp_code(device, at=time.time())})
    assert response["Location"] == reverse("login") and not _logged_in(client)


def test_full_width_digits_are_accepted(client, root):
    device = make_totp_device(root)
    _password(client, root)
    code = totp_code(device).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert client.post(reverse("otp_login"), {"code": code}).status_code == 302
    assert _logged_in(client)


def test_an_admin_login_without_the_code_is_sent_to_the_code_page(client, root):
    """The admin's own login form checks only the password: the session then owes the code."""
    device = make_totp_device(root)
    response = client.post(
        reverse("admin:login"), {"username": "root", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302 and _logged_in(client)
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("otp_login"))
    response = client.post(
        f"{reverse('otp_login')}?next=/admin/", {"code": totp_code(device), "next": "/admin/"}
    )
    assert response["Location"] == "/admin/"
    assert client.get(reverse("admin:index")).status_code == 200


# --- recovery codes -----------------------------------------------------------------------


def _enrol(client, user):
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    client.get(reverse("otp_setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.post(reverse("otp_setup"), {"code": totp_code(device)}).content.decode()
    return device, re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)


def test_a_recovery_code_signs_in_once(client, root):
    _, codes = _enrol(client, root)
    client.logout()
    _password(client, root)
    response = client.post(reverse("otp_login"), {"code": codes[0].upper()}, follow=True)
    assert _logged_in(client)
    assert "回復コードでログインしました（残り9個）。" in response.content.decode()
    client.logout()
    _password(client, root)
    assert client.post(reverse("otp_login"), {"code": codes[0]}).status_code == 400
    assert not _logged_in(client)
    assert StaticToken.objects.filter(device__user=root).count() == 9


def test_new_recovery_codes_replace_the_old_ones(client, root):
    _, old = _enrol(client, root)
    response = client.post(reverse("recovery_codes_regenerate"))
    new = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=root).values_list("token", flat=True)) == (
        set(new)
    )


def test_a_superuser_cannot_drop_the_second_factor(client, root):
    _enrol(client, root)
    response = client.post(reverse("otp_disable"), follow=True)
    assert "管理者は2段階認証をやめることはできません。" in response.content.decode()
    assert TOTPDevice.objects.filter(user=root, confirmed=True).exists()


# --- offered to the secretariat -------------------------------------------------------------


def test_the_secretariat_may_enrol_and_then_signs_in_with_the_code(client, personas):
    secretariat = personas.secretariat
    _password(client, secretariat)
    page = client.get(reverse("home")).content.decode()
    assert reverse("account_security") in page  # offered from the user menu
    page = client.get(reverse("account_security")).content.decode()
    assert "2段階認証を設定する" in page

    device, codes = _enrol(client, secretariat)
    assert len(codes) == 10
    client.logout()
    assert _password(client, secretariat)["Location"] == reverse("otp_login")
    assert not _logged_in(client)
    device.refresh_from_db()
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        client.post(reverse("otp_login"), {"code": totp_code(device, at=time.time())})
    assert _logged_in(client)

    # The secretariat may stop again; then the password alone signs in.
    response = client.post(reverse("otp_disable"), follow=True)
    assert "2段階認証をやめました。" in response.content.decode()
    client.logout()
    assert _password(client, secretariat)["Location"] == reverse("home")


def test_the_secretariat_without_a_device_signs_in_with_the_password_alone(client, personas):
    assert _password(client, personas.secretariat)["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200


def test_other_staff_are_not_offered_enrolment(client, personas):
    client.force_login(personas.member)
    assert reverse("account_security") not in client.get(reverse("home")).content.decode()
    assert client.get(reverse("account_security")).status_code == 403
    assert client.get(reverse("otp_setup")).status_code == 403


def test_the_sign_in_security_pages_speak_english_with_the_switch(client, personas, settings):
    import html as html_lib

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(personas.secretariat)
    japanese = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff00-\uffef]+")
    for name in ("account_security", "otp_setup", "reauthenticate"):
        page = client.get(reverse(name)).content.decode()
        body = re.sub(r"<script.*?</script>|<option[^>]*>日本語</option>", "", page, flags=re.S)
        text = html_lib.unescape(re.sub(r"<[^>]+>", " ", body.split("<main", 1)[1]))
        assert not japanese.findall(text), (name, japanese.findall(text))
