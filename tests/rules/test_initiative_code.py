"""One initiative-code parser (portal_lib.codes): the Excel import, the admin import and the
API read 2.1, ２．１, 2-1, 「2.1」 and spaced codes alike, and refuse the same non-codes."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

import pytest
import tablib
from rest_framework.test import APIClient

from initiatives.models import ProgressEntry
from initiatives.resources import ProgressEntryResource
from portal_lib.codes import parse_initiative_code
from portal_lib.sheet_reading import SpreadsheetError
from reporting.exchange import engine, sheets, writer
from tests.excel.test_typed_input import typed_workbook

pytestmark = pytest.mark.django_db

TODAY = date(2026, 10, 1)
SAME_AS_2_1 = [
    "2.1",
    "２．１",
    "2-1",
    "２－１",
    "「2.1」",
    "「２．１」",
    " 2 . 1 ",
    "　２．１　",
    "2ー1",
]
NOT_CODES = ["21", "2.1.1", "二.一", "2.", ".1", "2/1", "a.1", ""]


def test_the_parser_reads_every_form():
    assert {parse_initiative_code(text) for text in SAME_AS_2_1} == {(2, 1)}
    assert [parse_initiative_code(text) for text in NOT_CODES] == [None] * len(NOT_CODES)


def _admin_import(code: str) -> str:
    dataset = tablib.Dataset(headers=["取り組み番号", "日付", "状況", "進捗率(%)"])
    dataset.append([code, "2026-05-01", "順調", 10])
    result = ProgressEntryResource().import_data(dataset, dry_run=True, raise_errors=False)
    if result.has_errors() or result.has_validation_errors():
        return "error"
    return "ok"


def _api(code: str, user) -> tuple[int, str]:
    client = APIClient()
    client.force_login(user)
    response = client.get(f"/api/v1/initiatives/{quote(code)}/")
    return response.status_code, response.json().get(
        "code", ""
    ) if response.status_code == 200 else ""


def _excel_import(code: str, plan, user) -> str:
    """The Excel import (preview, then the write): the code the entry was stored under."""
    data = typed_workbook([[code, "令和8年5月1日", "順調", 10]])
    try:
        engine.parse_import(sheets.PROGRESS, data, "typed.xlsx", plan=plan, today=TODAY)
    except SpreadsheetError:
        return "error"
    writer.bulk_import(slug="progress", plan=plan, data=data, filename="typed.xlsx", user=user)
    (entry,) = ProgressEntry.objects.select_related("initiative__policy")
    return entry.initiative.code


@pytest.mark.parametrize("code", SAME_AS_2_1)
def test_excel_import_admin_import_and_api_accept_the_same_codes(plan, personas, code):
    assert _admin_import(code) == "ok"
    assert _api(code, personas.viewer) == _api("2.1", personas.viewer) == (200, "2.1")
    assert _excel_import(code, plan, personas.secretariat) == "2.1"


@pytest.mark.parametrize("code", ["2.1.1", "2/1", "a.1"])
def test_excel_import_admin_import_and_api_refuse_the_same_non_codes(plan, personas, code):
    assert _admin_import(code) == "error"
    assert _api(code, personas.viewer)[0] == 404
    assert _excel_import(code, plan, personas.secretariat) == "error"
    assert ProgressEntry.objects.count() == 0
