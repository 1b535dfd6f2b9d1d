"""Admin import/export (django-import-export) uses natural keys and the same safe files."""

import io
from datetime import date

import openpyxl
from django.urls import reverse

from initiatives.models import ProgressEntry
from initiatives.resources import ProgressEntryResource, SafeCSV, SafeXLSX
from kahoku_dx.spreadsheets import NOT_SPREADSHEET
from tests.factory import initiative, make_progress, upload


def test_admin_export_is_keyed_by_natural_keys_and_keeps_formulas_as_text(plan):
    make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), done_text='=HYPERLINK("x")')
    dataset = ProgressEntryResource().export(queryset=ProgressEntry.objects.all())
    ws = openpyxl.load_workbook(io.BytesIO(SafeXLSX().export_data(dataset))).active
    assert [c.value for c in ws[1]][:3] == ["取り組み番号", "日付", "状況"]
    assert ws["A2"].value == "2.1"
    assert ws["C2"].value == "順調"
    assert ws["E2"].value == '=HYPERLINK("x")' and ws["E2"].data_type == "s"
    assert SafeCSV().export_data(dataset).startswith("\ufeff取り組み番号,日付,状況")


def test_admin_import_roundtrip_and_bad_file(admin_client, plan):
    entry = make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), percent=10)
    dataset = ProgressEntryResource().export(queryset=ProgressEntry.objects.all())
    ws_bytes = SafeXLSX().export_data(dataset)
    wb = openpyxl.load_workbook(io.BytesIO(ws_bytes))
    wb.active["D2"] = 60
    buf = io.BytesIO()
    wb.save(buf)
    url = reverse("admin:initiatives_progressentry_import")
    response = admin_client.post(url, {"format": 0, "import_file": upload(buf.getvalue())})
    assert response.status_code == 200
    confirm = response.context["confirm_form"]
    response = admin_client.post(
        reverse("admin:initiatives_progressentry_process_import"), confirm.initial
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.percent == 60
    assert ProgressEntry.objects.count() == 1  # matched by (取り組み番号, 日付), not by id

    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    response = admin_client.post(url, {"format": 0, "import_file": upload(png, "p.xlsx")})
    assert NOT_SPREADSHEET in response.content.decode()
