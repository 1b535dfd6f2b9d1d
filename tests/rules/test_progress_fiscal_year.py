"""The fiscal year of a progress entry has one home (ProgressEntry.fiscal_year_for): the
service behind the progress form, the Excel import and the admin import all ask it."""

from __future__ import annotations

from datetime import date

import pytest
import tablib

from initiatives import services
from initiatives.models import ProgressEntry
from initiatives.resources import ProgressEntryResource
from reporting.exchange import writer
from tests.excel.test_typed_input import typed_workbook
from tests.factory import initiative

pytestmark = pytest.mark.django_db

# 15 January 2026 is in fiscal year 2025 (令和7年度); a calendar-year rule would say 2026.
DAYS = {"form": date(2026, 1, 15), "excel": date(2026, 1, 16), "admin": date(2026, 1, 17)}


def _save_through_every_caller(plan, personas) -> dict[str, int]:
    services.progress_entry_create(
        actor=personas.secretariat,
        initiative=initiative("2.1"),
        entry_date=DAYS["form"],
        status="on_track",
    )
    writer.bulk_import(
        slug="progress",
        plan=plan,
        data=typed_workbook([["2.1", "令和8年1月16日", "順調", 10]]),
        filename="typed.xlsx",
        user=personas.secretariat,
    )
    dataset = tablib.Dataset(headers=["取り組み番号", "日付", "状況", "進捗率(%)"])
    dataset.append(["2.1", DAYS["admin"].isoformat(), "順調", 10])
    result = ProgressEntryResource().import_data(dataset, dry_run=False, raise_errors=True)
    assert not result.has_validation_errors()
    stored = dict(ProgressEntry.objects.values_list("entry_date", "fiscal_year"))
    return {caller: stored[day] for caller, day in DAYS.items()}


def test_every_caller_files_a_january_entry_under_the_fiscal_year(plan, personas):
    assert _save_through_every_caller(plan, personas) == {
        "form": 2025,
        "excel": 2025,
        "admin": 2025,
    }


def test_changing_the_rule_changes_every_caller(plan, personas, monkeypatch):
    """Were entries filed by calendar year, the one method is all there is to change."""
    monkeypatch.setattr(ProgressEntry, "fiscal_year_for", staticmethod(lambda day: day.year))
    assert _save_through_every_caller(plan, personas) == {
        "form": 2026,
        "excel": 2026,
        "admin": 2026,
    }
