"""Admin import/export (django-import-export) uses natural keys and the same safe files."""

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.contrib import admin
from django.urls import reverse

from initiatives.admin import MSG_IMPORT_FILE_GONE
from initiatives.models import (
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProjectUnderWay,
    StandardSystem,
)
from initiatives.resources import ProgressEntryResource, SafeCSV, SafeXLSX
from portal_lib.sheet_reading import NOT_SPREADSHEET
from tests.factory import (
    initiative,
    make_indicator,
    make_procedure,
    make_progress,
    upload,
)


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


# --- every resource registered in the admin (issue 9) ----------------------------------------


@pytest.fixture(autouse=True)
def admin_upload_dir(tmp_path, monkeypatch):
    """Files between the admin's preview and confirm steps go to a per-test directory."""
    from portal_lib import upload_stash

    monkeypatch.setattr(upload_stash, "UPLOAD_DIR", tmp_path / "admin_imports")
    return tmp_path / "admin_imports"


def _progress():
    return make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), percent=10)


def _initiative():
    return initiative("2.1")


def _project():
    return initiative("2.1").projects.order_by("order").first()


def _indicator_value():
    indicator = make_indicator(initiative("2.1"), unit="件")
    return IndicatorValue.objects.create(
        indicator=indicator, fiscal_year=2022, target=27, actual=20
    )


def _procedure():
    return make_procedure(1)


def _system():
    return StandardSystem.objects.get(number=1)


@dataclass
class Case:
    """One admin resource: a row to export, one change to import, one row the model refuses."""

    model: type
    make: Callable[[], Any]
    column: str  # the column changed through the admin import
    new_value: Any
    attribute: str
    expected: Any
    bad: dict[str, Any]  # column -> value that the portal's own validation refuses
    bad_message: str


CASES = {
    "progress": Case(
        ProgressEntry,
        _progress,
        "進捗率(%)",
        60,
        "percent",
        60,
        {"状況": "完了", "進捗率(%)": 50},
        "状況が「完了」の場合、進捗率は100%にしてください。",
    ),
    "initiative": Case(
        Initiative,
        _initiative,
        "取り組み",
        "行政手続のオンライン化(管理画面から変更)",
        "title",
        "行政手続のオンライン化(管理画面から変更)",
        {"担当WG": "存在しないWG"},
        "「存在しないWG」というWGはありません。",
    ),
    "project": Case(
        ProjectUnderWay,
        _project,
        "表示順",
        9,
        "order",
        9,
        {"年(和暦)": "H30", "年度": "R3"},
        "年度が和暦表記と一致しません。",
    ),
    "indicator_value": Case(
        IndicatorValue,
        _indicator_value,
        "実績値",
        25,
        "actual",
        Decimal("25"),
        {"指標名": "存在しない指標"},
        "「存在しない指標」という指標はありません。",
    ),
    "procedure": Case(
        OnlineProcedure,
        _procedure,
        "備考",
        "担当課で確認済",
        "note",
        "担当課で確認済",
        {"状況": "オンライン化済", "オンライン化日": None},
        "オンライン化済の場合はオンライン化日を入力してください。",
    ),
    "system": Case(
        StandardSystem,
        _system,
        "備考",
        "ガバメントクラウド移行済",
        "note",
        "ガバメントクラウド移行済",
        {"移行フェーズ": "移行完了(稼働)", "移行完了日": None},
        "移行完了の場合は移行完了日を入力してください。",
    ),
}


def test_every_admin_import_is_covered():
    """A resource added to an admin later must get a case above."""
    registered = {
        model
        for model, model_admin in admin.site._registry.items()
        if getattr(model_admin, "resource_classes", None)
    }
    assert registered == {case.model for case in CASES.values()}


def _resource(model):
    return admin.site._registry[model].get_import_resource_classes(None)[0]()


def _workbook(model, queryset, changes: dict[str, Any]) -> bytes:
    dataset = _resource(model).export(queryset=queryset)
    wb = openpyxl.load_workbook(io.BytesIO(SafeXLSX().export_data(dataset)))
    ws = wb.active
    header = [c.value for c in ws[1]]
    for column, value in changes.items():
        ws.cell(row=2, column=header.index(column) + 1, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", [0, 1], ids=["xlsx", "csv"])
@pytest.mark.parametrize("name", CASES)
def test_admin_export_imports_back_unchanged_by_natural_keys(client, personas, name, fmt):
    """The admin's own export button, then its import (dry run): no errors, nothing new."""
    from tests.security import _add_form

    case = CASES[name]
    case.make()
    opts = case.model._meta
    base = f"admin:{opts.app_label}_{opts.model_name}"
    client.force_login(personas.secretariat)
    export_form = client.get(reverse(f"{base}_export")).context["form"]
    data: dict[str, Any] = {}
    _add_form(data, export_form)  # every column ticked, as the page opens
    data["format"] = str(fmt)
    exported = client.post(reverse(f"{base}_export"), data)
    assert exported.status_code == 200
    headers = [SafeXLSX, SafeCSV][fmt]().create_dataset(exported.content).headers
    assert not {"id", "ID", "pk"} & set(headers)  # natural keys, never ids

    response = client.post(
        reverse(f"{base}_import"),
        {
            "format": fmt,
            "import_file": upload(exported.content, "export.xlsx" if fmt == 0 else "export.csv"),
        },
    )

    result = response.context["result"]
    assert not result.has_errors(), [r.errors for r in result.rows if r.errors]
    assert not result.has_validation_errors(), [
        (r.number, r.error_dict) for r in result.invalid_rows
    ]
    count = case.model._default_manager.count()
    assert result.totals["new"] == 0  # every row found its own object by its natural key
    assert result.totals["skip"] == count  # and nothing changed on the way
    assert "confirm_form" in response.context


@pytest.mark.parametrize("name", CASES)
def test_change_through_the_admin_import_views_is_saved_with_the_user(client, personas, name):
    case = CASES[name]
    obj = case.make()
    count = case.model._default_manager.count()
    before = getattr(obj, "version", None)
    data = _workbook(
        case.model, case.model._default_manager.filter(pk=obj.pk), {case.column: case.new_value}
    )
    opts = case.model._meta
    client.force_login(personas.secretariat)

    response = client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_import"),
        {"format": 0, "import_file": upload(data)},
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["update"] == 1
    response = client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_process_import"),
        response.context["confirm_form"].initial,
    )

    assert response.status_code == 302
    obj.refresh_from_db()
    assert getattr(obj, case.attribute) == case.expected
    assert case.model._default_manager.count() == count
    latest = obj.history.first()
    assert latest.history_user == personas.secretariat
    assert latest.history_type == "~"
    if before is not None:  # a portal form opened before the import now reports a conflict
        assert obj.version == before + 1


@pytest.mark.parametrize("name", CASES)
def test_admin_import_refuses_what_the_portal_refuses(client, personas, name):
    case = CASES[name]
    obj = case.make()
    history = obj.history.count()
    data = _workbook(case.model, case.model._default_manager.filter(pk=obj.pk), case.bad)
    opts = case.model._meta
    client.force_login(personas.secretariat)

    response = client.post(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_import"),
        {"format": 0, "import_file": upload(data)},
    )

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    result = response.context["result"]
    messages = [m for row in result.invalid_rows for ms in row.error_dict.values() for m in ms]
    messages += [str(e.error) for row in result.rows for e in row.errors]  # key columns
    assert case.bad_message in messages
    assert case.bad_message in response.content.decode()
    assert obj.history.count() == history  # nothing was written


# --- the confirm step trusts nothing the browser re-posts (issue 15) -------------------------


def _previewed(client, personas):
    """A progress file previewed by the secretariat: the confirm form's data."""
    entry = _progress()
    data = _workbook(ProgressEntry, ProgressEntry.objects.filter(pk=entry.pk), {"進捗率(%)": 30})
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("admin:initiatives_progressentry_import"),
        {"format": 0, "import_file": upload(data)},
    )
    return entry, dict(response.context["confirm_form"].initial)


@pytest.mark.parametrize(
    "field,value",
    [
        ("import_file_name", "victim.txt"),  # the old storage read and then deleted /tmp/<name>
        ("import_file_name", "../../etc/passwd"),
        ("import_file_name", "A" * 32),  # token-shaped, but never given to this session
        ("import_file_name", ""),
        ("format", "7"),
        ("format", "xlsx"),
        ("format", "1"),  # an xlsx previewed as xlsx, confirmed as CSV
        ("resource", "3"),
    ],
)
def test_tampered_confirm_is_a_clear_400_and_touches_nothing(client, personas, field, value):
    import tempfile
    from pathlib import Path

    victim = Path(tempfile.gettempdir()) / "victim.txt"
    victim.write_text("他人のファイル")
    try:
        entry, confirm = _previewed(client, personas)
        confirm[field] = value
        url = reverse("admin:initiatives_progressentry_process_import")

        response = client.post(url, confirm)

        assert response.status_code == 400
        body = response.content.decode()
        assert MSG_IMPORT_FILE_GONE in body
        assert victim.read_text() == "他人のファイル"
    finally:
        victim.unlink(missing_ok=True)
    entry.refresh_from_db()
    assert entry.percent == 10


def test_a_confirmed_file_cannot_be_imported_twice_or_by_another_session(client, personas):
    from django.test import Client

    entry, confirm = _previewed(client, personas)
    url = reverse("admin:initiatives_progressentry_process_import")
    other = Client()
    other.force_login(personas.secretariat)  # same user, another browser session
    assert other.post(url, confirm).status_code == 400

    assert client.post(url, confirm).status_code == 302
    entry.refresh_from_db()
    assert entry.percent == 30
    assert client.post(url, confirm).status_code == 400
    assert client.get(url).status_code == 405

    # a file previewed for one model cannot be confirmed into another
    data = _workbook(ProgressEntry, ProgressEntry.objects.filter(pk=entry.pk), {"進捗率(%)": 40})
    response = client.post(
        reverse("admin:initiatives_progressentry_import"),
        {"format": 0, "import_file": upload(data)},
    )
    confirm = response.context["confirm_form"].initial
    other_model = reverse("admin:initiatives_standardsystem_process_import")
    assert client.post(other_model, confirm).status_code == 400


def test_initiative_rows_are_matched_within_their_plan(plan):
    """With the next plan beside this one, 基本方針 2 and WG names exist twice: the 計画コード
    column picks the plan; a file without it gets a clear message instead of a guess."""
    from plans.models import BasicPolicy, Plan
    from workgroups.models import WorkingGroup

    nxt = Plan.objects.create(code="kahoku-dx-r9", name="第2期", start_fy=2027, end_fy=2031)
    BasicPolicy.objects.create(plan=nxt, number=2, title="行政サービスの利便性向上")
    ini = initiative("2.1")
    WorkingGroup.objects.create(
        plan=nxt, name=ini.working_group.name, lead_section=ini.working_group.lead_section
    )
    dataset = _resource(Initiative).export(queryset=Initiative.objects.filter(pk=ini.pk))
    assert dataset.dict[0]["計画コード"] == plan.code
    dataset.dict = [{**dataset.dict[0], "取り組み": "計画コードで特定"}]

    result = _resource(Initiative).import_data(dataset, dry_run=False, raise_errors=False)

    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["update"] == 1
    ini.refresh_from_db()
    assert ini.title == "計画コードで特定"

    del dataset["計画コード"]
    result = _resource(Initiative).import_data(dataset, dry_run=True, raise_errors=False)
    messages = [str(e.error) for row in result.rows for e in row.errors]
    messages += [m for row in result.invalid_rows for ms in row.error_dict.values() for m in ms]
    assert (
        "「2」という番号の基本方針が複数の計画にあります。「計画コード」列で計画を指定してください。"
        in messages
    )
