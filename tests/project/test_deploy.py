"""Production settings pass Django's deployment checklist and harden cookies."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile

import pytest
from django.conf import settings
from django.db import OperationalError
from django.http import HttpResponse

from tests.servers import exchange, throwaway_database

PRODUCTION_ENV = {
    **{
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECURE_HSTS_PRELOAD", "DATABASE_URL"}
    },
    # Checks that need a database get an empty SQLite file (the PostgreSQL run's own
    # database exists only as test_<name>); the full site below uses PostgreSQL when set.
    "SQLITE_PATH": os.path.join(tempfile.mkdtemp(prefix="kahoku-deploy-"), "check.sqlite3"),
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "dx-portal.city.kahoku.example",
    "PORTAL_BASE_URL": "https://dx-portal.city.kahoku.example",
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
def test_healthz_needs_no_login_and_reports_the_database(client, settings):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["upload_folder_free_mb"] >= settings.UPLOAD_MIN_FREE_MB
    assert body == {
        "status": "ok",
        "checks": {"database": "ok", "upload_folder": "ok"},
        "upload_folder_free_mb": body["upload_folder_free_mb"],
    }
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
    body = response.json()
    assert body["status"] == "unavailable" and body["failing"] == ["database"]
    assert body["checks"] == {"database": "unavailable", "upload_folder": "ok"}


@pytest.mark.django_db
def test_healthz_checks_redis_when_configured(client, settings):
    """The local Redis (127.0.0.1:6379) as the shared cache."""
    from kahoku_dx.settings import redis_cache

    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    settings.CACHES = {"default": redis_cache(settings.REDIS_URL)}
    response = client.get("/healthz")
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "upload_folder": "ok"}
    settings.CACHES = {"default": redis_cache("redis://127.0.0.1:1/0")}  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "unavailable",
        "upload_folder": "ok",
    }
    assert response.json()["failing"] == ["cache"]


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


# --- the production way to run it, run once for real ----------------------------------------


class _Http:
    """A tiny cookie-keeping client for a server behind the (simulated) TLS proxy."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, port: int | None = None):
        import http.client
        from urllib.parse import urlencode

        port = port or self.port
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {
            "Host": f"127.0.0.1:{port}",
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{port}"
            headers["Referer"] = f"https://127.0.0.1:{port}{path}"
        return exchange(conn, method, path, data, headers, self.cookies)

    def login(self, username: str, password: str, port: int | None = None):
        _, page = self.request("GET", "/accounts/login/", port=port)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        return self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password},
            port=port,
        )


def _free_ports(count: int) -> list[int]:
    import socket

    ports = []
    for port in range(8061, 8070):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                ports.append(port)
        if len(ports) == count:
            return ports
    raise AssertionError("ポート 8061-8069 に空きがありません。")


def _wait_healthy(port: int, proc: subprocess.Popen) -> None:
    import time
    import urllib.request

    for _ in range(100):
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn が終了しました: {proc.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gunicorn :{port} が起動しません。")


@pytest.fixture
def production_site(tmp_path):
    """The README's production steps on a throwaway database: migrate, load_plan,
    collectstatic, create_secretariat, then two separate gunicorn processes."""
    env = {
        **PRODUCTION_ENV,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(tmp_path / "static"),
        "SECRETARIAT_PASSWORD": "Kahoku-Deploy-Test-2026!",
        "AXES_FAILURE_LIMIT": "5",
        "WEB_CONCURRENCY": "1",
    }
    with throwaway_database(env, tmp_path, "deploy") as pg:
        for args in (
            ["migrate", "--noinput"],
            ["load_plan"],
            ["collectstatic", "--noinput"],
            ["create_secretariat", "--username", "jimu1", "--display-name", "情報推進課 事務局"],
        ):
            result = _manage(*args, env=env)
            assert result.returncode == 0, f"{args}: {result.stderr}"
        assert "事務局アカウント「jimu1」を作成しました。" in result.stdout

        procs = []
        ports = _free_ports(2)
        try:
            for port in ports:
                proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "-c",
                        "deploy/gunicorn.conf.py",
                        "--bind",
                        f"127.0.0.1:{port}",
                    ],
                    env=env,
                    cwd=settings.BASE_DIR,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                procs.append(proc)
                _wait_healthy(port, proc)
            yield {"ports": ports, "procs": procs, "env": env, "pg": pg}
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()


@pytest.mark.slow
def test_production_site_two_processes_behave_as_one(production_site):
    a, b = production_site["ports"]
    password = production_site["env"]["SECRETARIAT_PASSWORD"]
    http = _Http(a)

    # Log in on process A; the session works on process B.
    response, _ = http.login("jimu1", password)
    assert response.status == 302, response.status
    assert "sessionid" in http.cookies
    response, page = http.request("GET", "/", port=b)
    assert response.status == 200
    assert "情報推進課 事務局" in page
    # Directive order varies between processes (django-csp builds it from a dict): parse it.
    csp = dict(
        part.strip().split(" ", 1)
        for part in response.getheader("Content-Security-Policy").split(";")
        if part.strip()
    )
    assert csp["script-src"] == "'self'"
    assert response.getheader("Strict-Transport-Security") == (
        "max-age=31536000; includeSubDomains; preload"
    )

    # Static files from whitenoise, under their hashed (cacheable forever) names.
    hashed = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page)[1]
    response, css = http.request("GET", hashed, port=b)
    assert response.status == 200 and ".card-grid" in css
    assert "max-age=315360000" in response.getheader("Cache-Control")

    # The lockout counter is shared: 3 failures on A + 2 on B lock the account on both.
    other = _Http(a)
    for port in (a, a, a, b):
        response, page = other.login("jimu1", "wrong-password", port=port)
        assert response.status == 200
        assert "正しいユーザー名とパスワードを入力してください" in page
    response, page = other.login("jimu1", "wrong-password", port=b)
    assert response.status == 429
    response, page = other.login("jimu1", password, port=a)
    assert response.status == 429
    assert "安全のためログインを一時的に止めています。" in page

    # Plain HTTP (no proxy header) is sent to HTTPS; /healthz is not.
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{b}/healthz") as r:
        health = json.loads(r.read())
        assert health["checks"] == {"database": "ok", "upload_folder": "ok"}

    if production_site["pg"] is not None:
        # PostgreSQL restarts under the app: every server connection is cut. The next
        # request reconnects by itself (CONN_HEALTH_CHECKS), without a 503.
        import psycopg

        pg = production_site["pg"]
        name = production_site["env"]["DATABASE_URL"].rsplit("/", 1)[1]
        with psycopg.connect(
            host=pg["HOST"], port=pg["PORT"], user=pg["USER"], dbname="postgres", autocommit=True
        ) as conn:
            killed = conn.execute(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s) t",
                [name],
            ).fetchone()[0]
        assert killed >= 2  # one persistent connection per process
        for port in (a, b):
            response, page = http.request("GET", "/", port=port)
            assert response.status == 200, page[:300]

    # Structured logs: one JSON line per request, with the request id.
    for proc in production_site["procs"]:
        proc.terminate()
    lines = []
    for proc in production_site["procs"]:
        _, err = proc.communicate(timeout=20)
        assert [x for x in err.splitlines() if x.strip() and not x.startswith("{")] == []
        lines += [json.loads(x) for x in err.splitlines() if x.strip()]
    access = [x for x in lines if x["logger"] == "kahoku_dx.request"]
    home = [x for x in access if x["path"] == "/" and x["status"] == 200]
    assert home and home[0]["user"] == "jimu1"
    assert all(re.fullmatch(r"[0-9a-f]{32}", x["request_id"]) for x in access)
    assert {x["status"] for x in access} >= {200, 302, 429}
    assert any(x["logger"] == "gunicorn.error" and "Booting worker" in x["message"] for x in lines)


# --- create_secretariat ---------------------------------------------------------------------


@pytest.mark.django_db
def test_create_secretariat_reads_the_password_from_the_environment(plan, monkeypatch):
    from django.contrib.auth import authenticate
    from django.core.management import call_command
    from django.test import RequestFactory

    from workgroups.access import roles_for

    monkeypatch.setenv("SECRETARIAT_PASSWORD", "Kahoku-First-Admin-2026!")
    call_command("create_secretariat", "--username", "yamada", "--display-name", "山田")
    user = authenticate(
        RequestFactory().post("/accounts/login/"),
        username="yamada",
        password="Kahoku-First-Admin-2026!",
    )
    assert user is not None and user.is_staff and not user.is_superuser
    assert roles_for(user).secretariat
    assert user.profile.section.name == "情報推進課"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "このパスワードは短すぎます。最低 8 文字以上必要です。"),
        ("12345678901", "このパスワードは数字しか使われていません。"),
    ],
)
def test_create_secretariat_refuses_a_weak_password(plan, monkeypatch, password, message):
    from django.contrib.auth import get_user_model
    from django.core.management import CommandError, call_command

    monkeypatch.setenv("SECRETARIAT_PASSWORD", password)
    with pytest.raises(CommandError, match=message):
        call_command("create_secretariat", "--username", "yamada")
    assert not get_user_model().objects.filter(username="yamada").exists()


@pytest.mark.django_db
def test_create_secretariat_refuses_an_existing_name_and_a_missing_password(plan, monkeypatch):
    from django.core.management import CommandError, call_command

    from tests.factory import make_user

    make_user("yamada")
    monkeypatch.setenv("SECRETARIAT_PASSWORD", "Kahoku-First-Admin-2026!")
    with pytest.raises(CommandError, match="ユーザー名「yamada」は既に使われています。"):
        call_command("create_secretariat", "--username", "yamada")
    monkeypatch.delenv("SECRETARIAT_PASSWORD")
    with pytest.raises(CommandError, match="環境変数 SECRETARIAT_PASSWORD で渡すか"):
        call_command("create_secretariat", "--username", "suzuki")


@pytest.mark.django_db
def test_create_secretariat_prompts_for_the_password_twice(plan, monkeypatch):
    from django.contrib.auth import get_user_model
    from django.core.management import CommandError, call_command

    from workgroups.management.commands import create_secretariat

    monkeypatch.delenv("SECRETARIAT_PASSWORD", raising=False)
    monkeypatch.setattr(create_secretariat.sys.stdin, "isatty", lambda: True)
    answers = iter(["Kahoku-Typed-2026!", "Kahoku-Typo-2026!"])
    monkeypatch.setattr(create_secretariat.getpass, "getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="確認用のパスワードが一致しません。"):
        call_command("create_secretariat", "--username", "sato")

    answers = iter(["Kahoku-Typed-2026!", "Kahoku-Typed-2026!"])
    call_command("create_secretariat", "--username", "sato")
    assert get_user_model().objects.get(username="sato").check_password("Kahoku-Typed-2026!")
