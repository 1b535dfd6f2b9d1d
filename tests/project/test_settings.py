"""Production mode fails loudly without its secrets; development has safe defaults."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from workgroups.services import dev_login_ensure

BASE_ENV = {
    **{k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}},
    "PORTAL_BASE_URL": "https://a.example",
}


def _load_settings(**env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import kahoku_dx.settings as s; print(s.DEBUG, s.LANGUAGE_CODE, s.TIME_ZONE)",
        ],
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )


def test_development_defaults():
    result = _load_settings(DJANGO_ENV="development")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "ja", "Asia/Tokyo"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "環境変数 SECRET_KEY が設定されていません。"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY は50文字以上のランダムな値にしてください。"),
        ({"SECRET_KEY": "x" * 60}, "本番環境では ALLOWED_HOSTS を設定してください。"),
        (
            {"SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "a.example", "DEBUG": "true"},
            "本番環境で DEBUG=true にはできません。",
        ),
        (
            {"SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "a.example", "DEBUG": "maybe"},
            "真偽値ではありません",
        ),
    ],
)
def test_production_without_its_settings_refuses_to_start(env, message):
    result = _load_settings(DJANGO_ENV="production", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_unknown_environment_name_is_refused():
    result = _load_settings(DJANGO_ENV="prod")
    assert result.returncode != 0
    assert "DJANGO_ENV='prod'" in result.stderr


def test_production_settings_load_when_complete():
    result = _load_settings(DJANGO_ENV="production", SECRET_KEY="k" * 60, ALLOWED_HOSTS="a.example")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"


@pytest.mark.django_db
def test_dev_login_is_refused_in_production(settings, plan):
    user, password = dev_login_ensure()
    assert user.check_password(password) and user.is_staff
    assert user.profile.role == "secretariat"
    settings.PRODUCTION = True
    with pytest.raises(ImproperlyConfigured, match="本番環境では開発用ログインを作成できません。"):
        dev_login_ensure()
