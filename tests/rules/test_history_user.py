"""Who made a change (the history user) is named only through portal_lib.history: the staff
services, the admin import, the API's service accounts and the plan loader all use it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import tablib

from initiatives.models import ProgressEntry
from initiatives.resources import ProgressEntryResource
from reporting.api.accounts import service_account_create, service_account_token_revoke
from workgroups import services

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
APPS = ("kahoku_dx", "plans", "workgroups", "initiatives", "reporting")


def test_only_kahoku_dx_history_sets_the_history_user():
    setters = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path == ROOT / "kahoku_dx" / "history.py":
                continue
            if re.search(
                r"\._history_user\s*=(?!=)|\._change_reason\s*=(?!=)", path.read_text("utf-8")
            ):
                setters.append(str(path.relative_to(ROOT)))
    assert setters == []


def test_staff_screen_service_names_the_actor(personas):
    services.staff_update(
        actor=personas.secretariat,
        user=personas.viewer,
        display_name="閲覧 太郎",
        email="viewer@city.kahoku.example",
        section=None,
        role="staff",
    )
    assert personas.viewer.history.latest().history_user == personas.secretariat
    assert personas.viewer.profile.history.latest().history_user == personas.secretariat


def test_api_service_accounts_name_the_actor_and_the_reason(personas):
    account, _ = service_account_create(
        actor=personas.secretariat, username="bi-all", display_name="BIツール", working_group=None
    )
    service_account_token_revoke(actor=personas.hq, account=account)
    rows = list(account.history.order_by("history_date", "history_id"))
    assert [(r.history_user, r.history_change_reason) for r in (rows[0], rows[-1])] == [
        (personas.secretariat, "APIサービスアカウントを作成しトークンを発行"),
        (personas.hq, "APIトークンを失効"),
    ]


def test_admin_import_names_the_importing_user(plan, personas):
    dataset = tablib.Dataset(headers=["取り組み番号", "日付", "状況", "進捗率(%)"])
    dataset.append(["2.1", date(2026, 5, 1).isoformat(), "順調", 10])
    ProgressEntryResource().import_data(
        dataset, dry_run=False, raise_errors=True, user=personas.secretariat
    )
    entry = ProgressEntry.objects.get()
    assert entry.history.latest().history_user == personas.secretariat
