"""Who oversees (Roles.oversees) and who may change an account (workgroups.access): one
predicate each, asked by the screens, the services, the roster, the admin and the API alike."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from reporting.api.accounts import service_account_create
from tests.factory import login_verified, make_user
from workgroups import access, services
from workgroups.access import Roles

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/summary/"


def _dashboard_and_api(client, user) -> tuple[int, int]:
    client.force_login(user)
    api = APIClient()
    api.force_login(user)
    return client.get(reverse("reporting:dashboard")).status_code, api.get(SUMMARY).status_code


# --- Roles.oversees: the dashboard and the API summary ----------------------------------------


@pytest.mark.parametrize(
    "persona, expected",
    [("secretariat", 200), ("hq", 200), ("leader", 403), ("member", 403), ("viewer", 403)],
)
def test_dashboard_and_api_summary_agree(client, personas, persona, expected):
    assert _dashboard_and_api(client, getattr(personas, persona)) == (expected, expected)


def test_changing_oversees_reaches_the_api_summary_too(client, personas, monkeypatch):
    """Were WG leaders to oversee, the one property is all there is to change: the API too."""
    assert _dashboard_and_api(client, personas.leader) == (403, 403)
    monkeypatch.setattr(
        Roles, "oversees", property(lambda r: r.secretariat or r.headquarters or bool(r.led_wg_ids))
    )
    assert _dashboard_and_api(client, personas.leader) == (200, 200)
    assert _dashboard_and_api(client, personas.member) == (403, 403)


# --- only a superuser changes a superuser -----------------------------------------------------


def _superuser(username: str = "root"):
    user = make_user(username)
    user.is_superuser = user.is_staff = True
    user.save()
    return user


@pytest.fixture
def root(personas):
    return _superuser()


def test_secretariat_cannot_change_a_superuser_anywhere(client, personas, root):
    secretariat = personas.secretariat
    assert not access.may_change_account(secretariat, root)
    # The staff screen: the form and the password page.
    client.force_login(secretariat)
    assert client.get(reverse("workgroups:staff_edit", args=[root.pk])).status_code == 403
    assert client.get(reverse("workgroups:staff_password", args=[root.pk])).status_code == 403
    # The service.
    with pytest.raises(PermissionDenied):
        services.staff_set_password(actor=secretariat, user=root, password="Kahoku-2026-dx!")
    # The admin (secretariat members are admin staff): the change is refused, and so is the
    # password page.
    admin_post = client.post(reverse("admin:auth_user_change", args=[root.pk]), {"username": "x"})
    assert admin_post.status_code == 403
    admin_password = reverse("admin:auth_user_password_change", args=[root.pk])
    assert client.get(admin_password).status_code == 403
    root.refresh_from_db()
    assert not root.check_password("Kahoku-2026-dx!")


# --- service accounts are API-only ------------------------------------------------------------


@pytest.fixture
def service_account(personas):
    account, key = service_account_create(
        actor=personas.secretariat, username="bi-all", display_name="BIツール", working_group=None
    )
    account.email = "bi@example.jp"
    account.save()
    return account


def test_service_account_gets_no_password_on_the_staff_screen(client, personas, service_account):
    client.force_login(personas.secretariat)
    url = reverse("workgroups:staff_password", args=[service_account.pk])
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {"action": "set", "password1": "Kahoku-2026-dx!", "password2": "Kahoku-2026-dx!"},
    )
    assert response.status_code == 403
    service_account.refresh_from_db()
    assert not service_account.has_usable_password()


def test_service_account_gets_no_password_from_the_services(personas, service_account):
    with pytest.raises(ValidationError) as exc:
        services.staff_set_password(
            actor=personas.secretariat, user=service_account, password="Kahoku-2026-dx!"
        )
    assert "APIサービスアカウントはAPI専用です" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        services.staff_send_password_link(actor=personas.secretariat, user=service_account)
    # The bulk sending (the roster's new accounts) leaves it out with a reason, and mails none.
    for dry_run in (True, False):
        sent, problems = services.staff_password_links_send(
            actor=personas.secretariat, users=[service_account], dry_run=dry_run
        )
        assert sent == [] and "bi-all" in problems[0] and "API専用" in problems[0]
    assert mail.outbox == []
    service_account.refresh_from_db()
    assert not service_account.has_usable_password()


def test_service_account_gets_no_password_in_the_admin(client, service_account):
    login_verified(client, _superuser())
    url = reverse("admin:auth_user_password_change", args=[service_account.pk])
    assert client.get(url).status_code == 403


def test_service_account_with_a_password_cannot_log_in_to_the_screens(client, service_account):
    # An account given a password before the rule (or by hand) still gets no screen.
    service_account.set_password("Kahoku-2026-dx!")
    service_account.save()
    response = client.post(reverse("login"), {"username": "bi-all", "password": "Kahoku-2026-dx!"})
    assert response.status_code == 200
    assert "APIサービスアカウントのため、画面にはログインできません" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Its token still reads the API.
    assert access.is_service_account(service_account)


def test_service_account_holding_a_session_gets_no_screen(client, service_account, personas):
    client.force_login(service_account)
    response = client.get(reverse("initiatives:list"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session
    follow = client.get(response["Location"]).content.decode()
    assert "APIサービスアカウントのため、画面にはログインできません" in follow
    # On the API it reads what its scope gives, as before.
    api = APIClient()
    api.force_login(service_account)
    assert api.get(SUMMARY).status_code == 200
