"""Production settings pass Django's deployment checklist and harden cookies."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from django.conf import settings

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
