"""The secretariat's screen for API service accounts: tokens shown once, every action logged."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from reporting.api.accounts import (
    REASON_CREATED,
    REASON_REGENERATED,
    REASON_REVOKED,
    SERVICE_ACCOUNT_GROUP,
)
from reporting.api.models import ApiToken
from reporting.api.tokens import token_digest
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

User = get_user_model()
LIST = "/api-accounts/"
CREATE = "/api-accounts/new/"


def _token_on(response) -> str:
    match = re.search(
        r'id="api-token" type="text" readonly value="([0-9a-f]{40})"', response.content.decode()
    )
    assert match, "no token on the page"
    return match[1]


def _create(client, **data):
    return client.post(
        CREATE,
        {"username": "bi-zaisei", "display_name": "財政課BIツール", "scope": "all", **data},
    )


def test_secretariat_creates_an_account_and_sees_the_token_once(client, personas):
    client.force_login(personas.secretariat)
    response = _create(client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = _token_on(response)
    account = User.objects.get(username="bi-zaisei")
    assert account.groups.filter(name=SERVICE_ACCOUNT_GROUP).exists()
    assert account.get_full_name() == "財政課BIツール"
    assert not account.has_usable_password()
    assert token_client(key).get("/api/v1/summary/").status_code == 200
    # The list shows the account and its scope, never the token.
    page = client.get(LIST).content.decode()
    assert "bi-zaisei" in page and "全体(推進本部と同じ範囲)" in page and "有効" in page
    assert key not in page
    # The history names who did it and what.
    row = account.history.latest()
    assert (row.history_change_reason, row.history_user) == (REASON_CREATED, personas.secretariat)
    assert REASON_CREATED in page


def test_wg_scoped_account(client, personas):
    client.force_login(personas.secretariat)
    key = _token_on(_create(client, scope=str(personas.wg.pk)))
    assert "情報推進課WGのみ" in client.get(LIST).content.decode()
    api = token_client(key)
    assert api.get("/api/v1/initiatives/3.2/").status_code == 404  # 総務課WG
    assert api.get("/api/v1/initiatives/2.1/").status_code == 200


def test_invalid_form_says_why_and_creates_nothing(client, personas):
    client.force_login(personas.secretariat)
    response = _create(client, username="BI ツール", scope="999999")
    assert response.status_code == 400
    html = response.content.decode()
    assert "ユーザー名は半角英小文字・数字・ハイフンで3〜40文字にしてください。" in html
    assert "正しく選択してください" in html
    assert not User.objects.filter(groups__name=SERVICE_ACCOUNT_GROUP).exists()
    _create(client)
    response = _create(client, display_name="二つ目")
    assert response.status_code == 400
    assert "このユーザー名はすでに使われています。" in response.content.decode()


def test_regenerate_and_revoke(client, personas):
    client.force_login(personas.secretariat)
    old = _token_on(_create(client))
    account = User.objects.get(username="bi-zaisei")
    response = client.post(f"/api-accounts/{account.pk}/regenerate/")
    assert response.status_code == 200
    new = _token_on(response)
    assert new != old
    assert token_client(old).get("/api/v1/initiatives/").status_code == 401
    assert token_client(new).get("/api/v1/initiatives/").status_code == 200
    response = client.post(f"/api-accounts/{account.pk}/revoke/", follow=True)
    assert "「財政課BIツール」のトークンを失効させました。" in response.content.decode()
    assert not ApiToken.objects.filter(user=account, revoked_at__isnull=True).exists()
    assert token_client(new).get("/api/v1/initiatives/").status_code == 401
    assert "なし(失効済み)" in client.get(LIST).content.decode()
    reasons = list(
        account.history.order_by("history_id").values_list("history_change_reason", "history_user")
    )
    assert reasons == [
        (REASON_CREATED, personas.secretariat.pk),
        (REASON_REGENERATED, personas.secretariat.pk),
        (REASON_REVOKED, personas.secretariat.pk),
    ]


def test_only_service_accounts_can_be_regenerated(client, personas):
    client.force_login(personas.secretariat)
    response = client.post(f"/api-accounts/{personas.member.pk}/regenerate/")
    assert response.status_code == 404
    assert not ApiToken.objects.filter(user=personas.member).exists()


@pytest.mark.parametrize("persona", ["hq", "leader", "member", "other_member", "viewer"])
def test_other_staff_are_refused(client, personas, hq_account, persona):
    client.force_login(getattr(personas, persona))
    account, key = hq_account
    assert client.get(LIST).status_code == 403
    assert _create(client).status_code == 403
    assert client.post(f"/api-accounts/{account.pk}/regenerate/").status_code == 403
    assert client.post(f"/api-accounts/{account.pk}/revoke/").status_code == 403
    assert ApiToken.objects.get(user=account, revoked_at__isnull=True).digest == token_digest(key)


def test_anonymous_goes_to_login_and_writes_are_post_only(client, personas, hq_account):
    account, _ = hq_account
    for url in (LIST, CREATE, f"/api-accounts/{account.pk}/revoke/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(personas.secretariat)
    for url in (
        CREATE,
        f"/api-accounts/{account.pk}/regenerate/",
        f"/api-accounts/{account.pk}/revoke/",
    ):
        assert client.get(url).status_code == 405
    assert ApiToken.objects.filter(user=account, revoked_at__isnull=True).exists()


def test_nav_link_for_the_secretariat_only(client, personas):
    client.force_login(personas.secretariat)
    assert 'href="/api-accounts/"' in client.get("/").content.decode()
    client.force_login(personas.hq)
    assert 'href="/api-accounts/"' not in client.get("/").content.decode()
