"""Production settings pass Django's deployment checklist and harden cookies."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import OperationalError
from django.http import HttpResponse

PRODUCTION_ENV = {
    **{k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECURE_HSTS_PRELOAD"}},
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "dx-portal.city.kahoku.example",
}


def _manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env or PRODUCTION_ENV,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_fails_in_development():
    """The check is real: the development defaults do not pass it."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_ENV"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


def test_production_cookies_and_headers():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE,"
        " s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS, s.X_FRAME_OPTIONS, s.LOG_FORMAT,"
        " s.STORAGES['staticfiles']['BACKEND'].rsplit('.', 1)[-1])"
    )
    result = _manage("shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "Lax",
        "True",
        "True",
        "True",
        "31536000",
        "DENY",
        "json",
        "CompressedManifestStaticFilesStorage",
    ]


def test_dev_login_command_refuses_in_production():
    result = _manage("create_dev_login")
    assert result.returncode != 0
    assert "本番環境では開発用ログインを作成できません。" in result.stderr


# --- /healthz and the database outage page ------------------------------------------------


@pytest.mark.django_db
def test_healthz_needs_no_login_and_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert "no-cache" in response["Cache-Control"]
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_down(client, monkeypatch):
    from django.db import connection

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", down)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}


@pytest.mark.django_db
def test_healthz_checks_redis_when_configured(client, settings):
    """The local Redis (127.0.0.1:6379) as the shared cache."""
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
        }
    }
    response = client.get("/healthz")
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "unavailable"}


def test_healthz_is_exempt_from_the_https_redirect():
    code = (
        "from django.test import Client;"
        "r = Client().get('/healthz', HTTP_HOST='dx-portal.city.kahoku.example');"
        "print(r.status_code, Client().get('/', HTTP_HOST='dx-portal.city.kahoku.example').status_code)"
    )
    result = _manage("shell", "--no-imports", "-c", code)
    assert result.returncode == 0, result.stderr
    # /healthz answers over plain HTTP; every other page is redirected to HTTPS.
    assert result.stdout.split()[-2:] == ["200", "301"]


# --- structured logs -----------------------------------------------------------------------


@pytest.mark.django_db
def test_access_log_is_one_json_object_with_request_id_user_path_status_duration(personas):
    import io
    import json
    import logging

    from django.test import Client

    from kahoku_dx.logging import JsonFormatter, RequestIdFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("kahoku_dx.request")
    logger.addHandler(handler)
    try:
        client = Client()
        client.force_login(personas.member)
        response = client.get("/?q=secret-token", HTTP_X_REQUEST_ID="req-123")
    finally:
        logger.removeHandler(handler)
    assert response["X-Request-ID"] == "req-123"
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["request_id"] == "req-123"
    assert line["user"] == "member"
    assert line["path"] == "/"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["logger"] == "kahoku_dx.request"
    assert "secret-token" not in stream.getvalue()  # query strings are not logged


def test_a_forged_request_id_is_replaced():
    from django.test import RequestFactory

    from kahoku_dx.middleware import RequestLogMiddleware

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID='x"\n{"level":"FAKE"}')
    response = RequestLogMiddleware(lambda r: HttpResponse("ok"))(request)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_json_formatter_includes_the_exception():
    import json
    import logging

    from kahoku_dx.logging import JsonFormatter

    try:
        raise ValueError("bad value")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, "f", 1, "failed %s", ("now",), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed now"
    assert line["exc_type"] == "ValueError"
    assert "bad value" in line["exc"]
