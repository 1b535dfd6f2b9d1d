"""One rule for "confirmed" (initiatives.models.Confirmation): a procedure or system is
confirmed only when the secretariat says so, with the 確認 button or the Excel sheet's
確認済み column; saving a row or importing a status never confirms it. The checklist, the
lists, the dashboard, the API and the Excel export count it the same."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from initiatives.models import OnlineProcedure, StandardSystem
from initiatives.selectors import setup_checklist
from reporting.exchange import export, sheets, writer

pytestmark = pytest.mark.django_db
FY = 2026


def _procedure_counts(client, secretariat) -> dict[str, int]:
    """How many procedures each caller says are confirmed (and the checklist: unconfirmed)."""
    client.force_login(secretariat)
    total = OnlineProcedure.objects.count()
    checklist = {i.key: i.count for i in setup_checklist(FY)}
    page = client.get(reverse("initiatives:procedures"))
    listed = re.search(r"(\d+)件中 確認済み(\d+)件", page.content.decode())
    unconfirmed_rows = client.get(reverse("initiatives:procedures"), {"confirmed": "0"})
    board = client.get(reverse("reporting:dashboard")).content.decode()
    on_board = re.search(r'id="online-confirmed">(\d+)件中 確認済み(\d+)件', board)
    api = APIClient()
    api.force_login(secretariat)
    summary = api.get("/api/v1/summary/").json()["procedures"]
    rows = api.get("/api/v1/procedures/", {"page_size": 200}).json()["results"]
    return {
        "checklist": total - checklist.get("procedures", 0),
        "list": int(listed[2]),
        "list_filter": total - len(unconfirmed_rows.context["procedures"]),
        "dashboard": int(on_board[2]),
        "api_summary": summary["confirmed"],
        "api_unconfirmed": total - summary["unconfirmed"],
        "api_rows": sum(1 for r in rows if r["confirmed"]),
        "excel": _excel_confirmed(sheets.PROCEDURES),
    }


def _excel_confirmed(spec) -> int:
    ws = openpyxl.load_workbook(io.BytesIO(export.export_xlsx(spec, _plan()))).worksheets[0]
    col = spec.header().index("確認済み") + 1
    return sum(1 for row in range(2, ws.max_row + 1) if ws.cell(row, col).value == "○")


def _plan():
    return OnlineProcedure.objects.select_related("target__plan").first().target.plan


def _all_say(counts: dict[str, int], n: int) -> None:
    assert counts == dict.fromkeys(counts, n)


def _export_edit_import(spec, user, edit) -> writer.ImportResult:
    """The secretariat's round trip: export the sheet, change cells, import it back."""
    wb = openpyxl.load_workbook(io.BytesIO(export.export_xlsx(spec, _plan())))
    ws = wb.worksheets[0]
    header = spec.header()
    for row in range(2, ws.max_row + 1):
        number = ws.cell(row, 1).value
        for name, value in edit(number).items():
            ws.cell(row, header.index(name) + 1).value = value
    out = io.BytesIO()
    wb.save(out)
    return writer.bulk_import(
        slug=spec.slug, plan=_plan(), data=out.getvalue(), filename="s.xlsx", user=user
    )


def test_procedures_confirmed_only_explicitly_and_counted_the_same_everywhere(client, personas):
    secretariat = personas.secretariat
    _all_say(_procedure_counts(client, secretariat), 0)  # the national list, as loaded

    # An import that moves two procedures off 未着手 states where they are; it confirms
    # nothing while its 確認済み column says ×.
    _export_edit_import(
        sheets.PROCEDURES, secretariat, lambda n: {"状況": "準備中"} if n in (1, 2) else {}
    )
    assert OnlineProcedure.objects.filter(status="preparing").count() == 2
    _all_say(_procedure_counts(client, secretariat), 0)

    # Saving a row on the screen does not confirm it either.
    proc = OnlineProcedure.objects.get(number=1)
    client.force_login(personas.member)  # 情報推進課WG runs the linked initiative
    response = client.post(
        reverse("initiatives:procedure_edit", args=[proc.pk]),
        {"name": proc.name, "status": "preparing", "version": str(proc.version)},
    )
    assert response.status_code == 302
    _all_say(_procedure_counts(client, secretariat), 0)

    # The 確認 button is the secretariat's: a WG member is refused.
    proc.refresh_from_db()
    confirm = reverse("initiatives:procedure_confirm", args=[proc.pk])
    client.force_login(personas.member)
    response = client.post(confirm, {"confirmed": "1", "version": str(proc.version)})
    assert response.status_code == 403
    client.force_login(secretariat)
    response = client.post(
        confirm, {"confirmed": "1", "version": str(proc.version), "next": "?status=preparing"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("initiatives:procedures") + "?status=preparing"
    proc.refresh_from_db()
    assert (proc.confirmation, proc.confirmed_by) == ("confirmed", secretariat)
    assert proc.confirmed_at is not None
    _all_say(_procedure_counts(client, secretariat), 1)
    # The list names who confirmed it.
    page = client.get(reverse("initiatives:procedures"), {"confirmed": "1"}).content.decode()
    assert "（secretariat " in page
    # A button pressed on a stale list (the row changed since) is refused, nothing changes.
    response = client.post(confirm, {"confirmed": "0", "version": str(proc.version - 1)})
    assert response.status_code == 302
    _all_say(_procedure_counts(client, secretariat), 1)

    # The Excel column confirms: ○ on 2 and 3, stamped with the importer.
    _export_edit_import(
        sheets.PROCEDURES, secretariat, lambda n: {"確認済み": "○"} if n in (2, 3) else {}
    )
    _all_say(_procedure_counts(client, secretariat), 3)
    third = OnlineProcedure.objects.get(number=3)
    assert (third.confirmation, third.confirmed_by) == ("confirmed", secretariat)
    first = OnlineProcedure.objects.get(number=1)
    assert first.confirmed_at == proc.confirmed_at  # unchanged rows keep their stamp

    # The exported sheet imports back unchanged; × takes a confirmation back.
    result = _export_edit_import(sheets.PROCEDURES, secretariat, lambda n: {})
    assert result.tally["changed"] == 0 and result.tally["added"] == 0
    _export_edit_import(
        sheets.PROCEDURES, secretariat, lambda n: {"確認済み": "×"} if n == 1 else {}
    )
    first.refresh_from_db()
    assert (first.confirmation, first.confirmed_by, first.confirmed_at) == (
        "unconfirmed",
        None,
        None,
    )
    _all_say(_procedure_counts(client, secretariat), 2)


def _system_counts(client, secretariat) -> dict[str, int]:
    client.force_login(secretariat)
    page = client.get(reverse("initiatives:systems")).content.decode()
    board = client.get(reverse("reporting:dashboard")).content.decode()
    total = StandardSystem.objects.count()
    unconfirmed = client.get(reverse("initiatives:systems"), {"confirmed": "0"})
    api = APIClient()
    api.force_login(secretariat)
    rows = api.get("/api/v1/systems/", {"page_size": 200}).json()["results"]
    return {
        "list": int(re.search(r"(\d+)件中 確認済み(\d+)件", page)[2]),
        "list_filter": total - len(unconfirmed.context["systems"]),
        "dashboard": int(re.search(rf"{total}件中 確認済み(\d+)件。", board)[1]),
        "api_summary": api.get("/api/v1/summary/").json()["systems"]["confirmed"],
        "api_rows": sum(1 for r in rows if r["confirmed"]),
        "excel": _excel_confirmed(sheets.SYSTEMS),
    }


def test_systems_confirmed_only_explicitly_and_counted_the_same_everywhere(client, personas):
    secretariat = personas.secretariat
    _all_say(_system_counts(client, secretariat), 0)
    system = StandardSystem.objects.get(number=5)
    client.force_login(secretariat)
    response = client.post(
        reverse("initiatives:system_edit", args=[system.pk]),
        {"phase": "fit_gap", "version": str(system.version)},
    )
    assert response.status_code == 302
    _all_say(_system_counts(client, secretariat), 0)  # saving is not confirming

    system.refresh_from_db()
    client.post(
        reverse("initiatives:system_confirm", args=[system.pk]),
        {"confirmed": "1", "version": str(system.version)},
    )
    _all_say(_system_counts(client, secretariat), 1)
    _export_edit_import(
        sheets.SYSTEMS, secretariat, lambda n: {"確認済み": "○"} if n in (1, 2) else {}
    )
    _all_say(_system_counts(client, secretariat), 3)
    assert StandardSystem.objects.get(number=2).confirmed_by == secretariat
