"""Security behaviour a user or an attacker would notice: headers, error pages that leak
nothing, disabled users, upload limit, CSRF, and no demo account."""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.db import OperationalError
from django.http import HttpResponse
from django.test import Client
from django.urls import include, path

from kahoku_dx.urls import urlpatterns as project_urlpatterns
from tests.factory import PASSWORD, make_user
from workgroups.models import StaffProfile

SECRET_TEXT = "secret-detail-7f3a password=hunter2 host=db.internal"


def _boom(request):
    raise RuntimeError(SECRET_TEXT)


def _db_down(request):
    raise OperationalError(f'connection to server at "127.0.0.1" failed: {SECRET_TEXT}')


def _forbidden(request):
    raise PermissionDenied(SECRET_TEXT)


def _suspicious(request):
    raise SuspiciousOperation(SECRET_TEXT)


def _ok(request):
    return HttpResponse("ok")


# This module doubles as a URLconf: the project's routes plus views that fail on purpose.
urlpatterns = [
    path("test-boom/", _boom),
    path("test-db-down/", _db_down),
    path("test-forbidden/", _forbidden),
    path("test-suspicious/", _suspicious),
    path("test-ok/", _ok),
    path("", include(project_urlpatterns)),
]
handler400 = "kahoku_dx.views.bad_request"
handler403 = "kahoku_dx.views.permission_denied"
handler404 = "kahoku_dx.views.page_not_found"
handler500 = "kahoku_dx.views.server_error"

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.security.test_security")]


@pytest.fixture
def quiet_client():
    return Client(raise_request_exception=False)


def _assert_no_leak(body: str) -> None:
    for needle in ("secret-detail-7f3a", "hunter2", "db.internal", "Traceback", "RuntimeError"):
        assert needle not in body


def test_security_headers_on_the_login_page(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    csp = {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    }
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' data:"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert response.cookies["csrftoken"]["httponly"] is True
    assert response.cookies["csrftoken"]["samesite"] == "Lax"


def test_session_cookie_is_httponly_and_samesite(client):
    make_user("cookie-user")
    response = client.post(
        "/accounts/login/",
        {"username": "cookie-user", "password": PASSWORD},
        REMOTE_ADDR="10.1.1.1",
    )
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_templates_hold_no_inline_script_or_style():
    """The CSP forbids them; a page that needs one would silently break in the browser."""
    from django.conf import settings

    offenders = []
    dirs = [settings.BASE_DIR / "templates"] + [
        p / "templates" for p in settings.BASE_DIR.iterdir() if (p / "templates").is_dir()
    ]
    for directory in dirs:
        for template in directory.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text):
                offenders.append(f"{template}: inline <script>")
            if re.search(r"\sstyle\s*=", text) or "<style" in text:
                offenders.append(f"{template}: inline style")
            if re.search(r"\son[a-z]+\s*=", text):
                offenders.append(f"{template}: inline event handler")
    assert offenders == []


def test_500_page_is_japanese_and_leaks_nothing(quiet_client, settings):
    assert settings.DEBUG is False
    response = quiet_client.get("/test-boom/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "ただいまシステムで問題が発生しています。" in body
    _assert_no_leak(body)


def test_404_page_does_not_echo_the_path(client):
    response = client.get("/no-such-page-<script>alert(1)</script>/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "ページが見つかりません。" in body
    # The path appears only URL-escaped, in the language switcher's `next` field.
    assert "<script>alert(1)" not in body
    assert "Resolver404" not in body and "tried" not in body


def test_403_page_hides_the_internal_reason(client):
    response = client.get("/test-forbidden/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "この操作を行う権限がありません。" in body
    _assert_no_leak(body)


def test_400_page_hides_the_internal_reason(quiet_client):
    response = quiet_client.get("/test-suspicious/")
    assert response.status_code == 400
    body = response.content.decode()
    assert "リクエストを処理できませんでした。" in body
    _assert_no_leak(body)


def test_unknown_host_gets_the_400_page(quiet_client):
    response = quiet_client.get("/accounts/login/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "リクエストを処理できませんでした。" in response.content.decode()


def test_database_error_in_a_view_is_a_japanese_503_that_leaks_nothing(quiet_client, caplog):
    with caplog.at_level(logging.ERROR, logger="kahoku_dx.db"):
        response = quiet_client.get("/test-db-down/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "ただいまデータベースに接続できません。しばらくしてから再度お試しください。" in body
    _assert_no_leak(body)
    records = [r for r in caplog.records if r.name == "kahoku_dx.db"]
    assert [r.getMessage() for r in records] == ["database unavailable: OperationalError"]
    assert records[0].path == "/test-db-down/"


def test_database_error_outside_the_view_is_a_503_too(quiet_client, monkeypatch):
    """The session is read by middleware, before any view: the outage page still appears."""
    from django.contrib.sessions.backends.db import SessionStore

    quiet_client.cookies["sessionid"] = "x" * 32

    def down(self):
        raise OperationalError(SECRET_TEXT)

    monkeypatch.setattr(SessionStore, "load", down)
    response = quiet_client.get("/test-ok/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "ただいまデータベースに接続できません。" in body
    _assert_no_leak(body)


def test_csrf_failure_page_is_japanese():
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post("/accounts/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403
    assert "送信を受け付けできませんでした。" in response.content.decode()


def test_disabled_user_is_logged_out_on_the_next_request(client):
    member = make_user("member")
    client.force_login(member)
    assert client.get("/").status_code == 200
    session_key = client.session.session_key
    member.is_active = False
    member.save()

    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Session.objects.filter(session_key=session_key).exists()
    # Re-enabling the account does not revive the old session.
    member.is_active = True
    member.save()
    client.cookies["sessionid"] = session_key
    assert client.get("/").status_code == 302


def test_deleted_user_is_logged_out_on_the_next_request(client):
    viewer = make_user("viewer")
    client.force_login(viewer)
    session_key = client.session.session_key
    viewer.delete()
    assert client.get("/").status_code == 302
    assert not Session.objects.filter(session_key=session_key).exists()


def test_active_user_keeps_the_session(client):
    client.force_login(make_user("member"))
    session_key = client.session.session_key
    assert client.get("/").status_code == 200
    assert client.get("/").status_code == 200
    assert Session.objects.filter(session_key=session_key).exists()


def test_oversized_upload_is_refused_before_parsing(client, settings):
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    client.force_login(make_user("jimu", role=StaffProfile.Role.SECRETARIAT))
    too_big = 1024 * 1024 + 256 * 1024 + 1
    response = client.generic(
        "POST",
        "/admin/initiatives/initiative/",
        b"x" * too_big,
        content_type="multipart/form-data; boundary=zzz",
    )
    assert response.status_code == 413
    body = response.content.decode()
    assert "送信されたファイルが大きすぎます。" in body
    assert "アップロードできるファイルは1MBまでです。" in body


def test_upload_within_the_limit_reaches_the_view(client, settings):
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    response = client.post("/test-ok/", {"note": "x" * 1000})
    assert response.status_code == 200


def test_no_account_exists_after_migrate_and_load_plan(plan):
    """Production starts with no user at all: the first one is made by create_secretariat."""
    assert get_user_model().objects.count() == 0


def test_repeated_wrong_passwords_lock_the_account_with_a_japanese_page(client, settings):
    make_user("target")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/accounts/login/", {"username": "target", "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "target", "password": "wrong"})
    assert response.status_code == 429
    response = client.post("/accounts/login/", {"username": "target", "password": PASSWORD})
    assert response.status_code == 429
    body = response.content.decode()
    assert "安全のためログインを一時的に止めています。" in body
    assert "_auth_user_id" not in client.session
