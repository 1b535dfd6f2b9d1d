"""API fixtures: a frozen "today" in FY2026, service accounts and token clients."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from reporting.api.accounts import service_account_create

TODAY = date(2026, 11, 24)  # 令和8年度, the plan's last year


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def hq_account(personas):
    """A service account reading everything (推進本部 level) and its token."""
    return service_account_create(
        actor=personas.secretariat, username="bi-all", display_name="BIツール", working_group=None
    )


@pytest.fixture
def wg_account(personas):
    """A service account reading only 情報推進課WG, and its token."""
    return service_account_create(
        actor=personas.secretariat,
        username="bi-joho",
        display_name="情報推進課WGの集計",
        working_group=personas.wg,
    )
