"""Probe 7: API tokens were stored in plain text (authtoken_token.key), shown whole to
superusers in the admin and present in every backup; no expiry, no last-used record, no
rate limit (300 requests in 12.7 s all answered 200).

Now: only a SHA-256 digest and an 8-character prefix are stored, the secret is shown once,
tokens expire and can be revoked, the last use is recorded (at most once a minute), the
old plain tokens are converted by a migration, and calls are rate limited per token and
per client address (429 in Japanese, with Retry-After).
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from reporting.api.accounts import service_account_create
from reporting.api.models import ApiToken
from reporting.api.tokens import convert_plain_tokens
from tests.api.conftest import token_client
from tests.factory import login_verified

pytestmark = pytest.mark.django_db

User = get_user_model()
API = "/api/v1/procedures/"
ACCOUNTS = "/api-accounts/"


def _create_on_screen(client, **data) -> str:
    response = client.post(
        f"{ACCOUNTS}new/",
        {"username": "bi-zaisei", "display_name": "財政課BIツール", "scope": "all", **data},
    )
    assert response.status_code == 200
    match = re.search(
        r'id="api-token" type="text" readonly value="([0-9a-f]{40})"', response.content.decode()
    )
    assert match, "no token on the page"
    return match[1]


@pytest.fixture
def hq_account(personas):
    """A service account reading everything, and its token."""
    return service_account_create(
        actor=personas.secretariat, username="bi-all", display_name="BI", working_group=None
    )


def _all_stored_text() -> str:
    """Every row of every table, as the database has it (a backup holds the same)."""
    out = io.StringIO()
    call_command("dumpdata", "--exclude=contenttypes", "--exclude=auth.permission", stdout=out)
    return out.getvalue()


# --- stored as a digest, shown once -------------------------------------------------------------


def test_the_database_keeps_a_digest_and_a_prefix_never_the_secret(client, personas):
    client.force_login(personas.secretariat)
    secret = _create_on_screen(client)
    assert token_client(secret).get(API).status_code == 200
    account = User.objects.get(username="bi-zaisei")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prefix, digest FROM reporting_apitoken WHERE user_id = %s", [account.pk]
        )
        rows = cursor.fetchall()
    assert rows == [(secret[:8], hashlib.sha256(secret.encode()).hexdigest())]
    assert "authtoken_token" not in connection.introspection.table_names()
    # Nowhere in the database, so nowhere in a backup; the list page never shows it again.
    stored = _all_stored_text()
    assert secret not in stored and secret[8:] not in stored
    page = client.get(ACCOUNTS).content.decode()
    assert secret not in page and f"{secret[:8]}…" in page


def test_the_admin_shows_prefix_and_dates_never_the_secret(client, personas):
    _, secret = service_account_create(
        actor=personas.secretariat, username="bi-all", display_name="BI", working_group=None
    )
    token = ApiToken.objects.get()
    root = User.objects.create_superuser("root", "root@city.kahoku.example", "pw-root-2026!")
    login_verified(client, root)
    listing = client.get("/admin/reporting/apitoken/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert token.prefix in html and secret not in html and token.digest not in html
    detail = client.get(f"/admin/reporting/apitoken/{token.pk}/change/").content.decode()
    assert secret not in detail and token.digest not in detail
    for label in ("発行日時", "有効期限", "最終利用日時", "失効日時"):
        assert label in detail
    # No token can be made (or its secret seen) in the admin.
    assert client.get("/admin/reporting/apitoken/add/").status_code == 403


# --- expiry, revocation, last use ---------------------------------------------------------------


def test_expiry_is_set_at_issue_and_honoured(personas, settings):
    settings.API_TOKEN_LIFETIME_DAYS = 30
    before = timezone.now()
    _, secret = service_account_create(
        actor=personas.secretariat, username="bi-all", display_name="BI", working_group=None
    )
    token = ApiToken.objects.get()
    assert before + timedelta(days=30) <= token.expires_at <= timezone.now() + timedelta(days=30)
    client = token_client(secret)
    assert client.get(API).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(API)
    assert response.status_code == 401
    assert response.json()["detail"] == (
        "トークンの有効期限が切れています。事務局に再発行を依頼してください。"
    )


def test_the_secretariat_chooses_the_lifetime_on_the_screen(client, personas):
    client.force_login(personas.secretariat)
    _create_on_screen(client, lifetime_days="7")
    token = ApiToken.objects.get()
    assert token.expires_at - token.created_at == timedelta(days=7)
    response = client.post(
        f"{ACCOUNTS}new/",
        {"username": "bi-two", "display_name": "二つ目", "scope": "all", "lifetime_days": "0"},
    )
    assert response.status_code == 400 and ApiToken.objects.count() == 1


def test_revoked_on_the_screen_the_token_stops_and_its_row_stays(client, personas):
    client.force_login(personas.secretariat)
    secret = _create_on_screen(client)
    api = token_client(secret)
    assert api.get(API).status_code == 200
    account = User.objects.get(username="bi-zaisei")
    client.post(f"{ACCOUNTS}{account.pk}/revoke/")
    response = api.get(API)
    assert response.status_code == 401 and response.json()["detail"] == "不正なトークンです。"
    token = ApiToken.objects.get(user=account)
    assert token.revoked_at is not None and token.prefix == secret[:8]
    assert "なし(失効済み)" in client.get(ACCOUNTS).content.decode()


def test_bearer_is_accepted_like_token(hq_account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {hq_account[1]}")
    assert client.get(API).status_code == 200


def test_last_use_is_recorded_at_most_once_a_minute(hq_account):
    client = token_client(hq_account[1])
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    assert client.get(API).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=30)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(API).status_code == 200
    assert not [q for q in ctx.captured_queries if q["sql"].upper().startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    assert client.get(API).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=1)


# --- the data migration -------------------------------------------------------------------------


def _plain_token_table(user_id: int, key: str) -> None:
    """DRF's authtoken_token as the portal had it before, with one token in it."""
    created = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) NOT NULL PRIMARY KEY,"
            f" created {created} NOT NULL, user_id integer NOT NULL UNIQUE)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [
                key,
                connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(days=400)),
                user_id,
            ],
        )


def test_the_migration_converts_plain_tokens_and_drops_their_table(personas):
    account, _ = service_account_create(
        actor=personas.secretariat, username="bi-old", display_name="旧", working_group=None
    )
    ApiToken.objects.all().delete()  # as before: the account's only token is a plain one
    plain = "0123456789abcdef0123456789abcdef01234567"
    _plain_token_table(account.pk, plain)
    assert convert_plain_tokens(connection, ApiToken, lifetime_days=365) == 1
    assert "authtoken_token" not in connection.introspection.table_names()
    token = ApiToken.objects.get(user=account)
    assert token.digest == hashlib.sha256(plain.encode()).hexdigest()
    assert token.prefix == "01234567" and plain not in _all_stored_text()
    # Issued 400 days ago, it keeps working: a year from the conversion.
    assert token.created_at < timezone.now() - timedelta(days=399)
    assert token.expires_at > timezone.now() + timedelta(days=364)
    assert token_client(plain).get(API).status_code == 200
    # Nothing left to convert: running it again changes nothing.
    assert convert_plain_tokens(connection, ApiToken, lifetime_days=365) == 0
    assert ApiToken.objects.count() == 1


# --- rate limits --------------------------------------------------------------------------------


def test_300_quick_requests_with_one_token_meet_429(hq_account):
    client = token_client(hq_account[1])
    statuses = [client.get(API).status_code for _ in range(300)]
    # The shipped default: 120 a minute per token (API_THROTTLE_TOKEN_RATE).
    assert statuses[:120] == [200] * 120
    assert set(statuses[120:]) == {429}
    response = client.get(API)
    assert response.status_code == 429
    assert re.fullmatch(
        r"リクエストが多すぎます。[0-9]+秒後にもう一度お試しください。", response.json()["detail"]
    )
    assert 1 <= int(response["Retry-After"]) <= 60
    # Another token (from another address: this one has used its 300 a minute) has its own.
    other = service_account_create(
        actor=hq_account[0], username="bi-two", display_name="二", working_group=None
    )[1]
    elsewhere = _from("192.0.2.10")
    elsewhere.credentials(HTTP_AUTHORIZATION=f"Token {other}")
    assert elsewhere.get(API).status_code == 200


def _from(address: str, **extra) -> APIClient:
    return APIClient(REMOTE_ADDR=address, **extra)


def test_per_address_limit_counts_before_authentication(db, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": None, "api_address": "5/minute"},
    }
    client = _from("203.0.113.7")
    # Anonymous calls and wrong tokens count: five answers, then 429.
    assert [client.get(API).status_code for _ in range(3)] == [401] * 3
    client.credentials(HTTP_AUTHORIZATION="Token " + "f" * 40)
    assert [client.get(API).status_code for _ in range(2)] == [401] * 2
    response = client.get(API)
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert response.json()["detail"].startswith("リクエストが多すぎます。")
    # A forged X-Forwarded-For from an untrusted peer changes nothing.
    assert _from("203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1").get(API).status_code == 429
    # Another address has its own count.
    assert _from("203.0.113.8").get(API).status_code == 401


def test_per_address_limit_uses_the_address_behind_the_proxy(db, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": None, "api_address": "2/minute"},
    }

    def via_proxy(address: str) -> int:
        return _from("127.0.0.1", HTTP_X_FORWARDED_FOR=address).get(API).status_code

    assert [via_proxy("198.51.100.1") for _ in range(3)] == [401, 401, 429]
    assert via_proxy("198.51.100.2") == 401  # the proxy's other clients are not blocked


def test_rates_come_from_the_environment(monkeypatch):
    from kahoku_dx.settings import env_rate

    monkeypatch.setenv("API_THROTTLE_TOKEN_RATE", "30/hour")
    assert env_rate("API_THROTTLE_TOKEN_RATE", "120/minute") == "30/hour"
    monkeypatch.setenv("API_THROTTLE_TOKEN_RATE", "")
    assert env_rate("API_THROTTLE_TOKEN_RATE", "120/minute") is None
    monkeypatch.setenv("API_THROTTLE_TOKEN_RATE", "lots")
    with pytest.raises(ImproperlyConfigured, match="120/minute"):
        env_rate("API_THROTTLE_TOKEN_RATE", "120/minute")
