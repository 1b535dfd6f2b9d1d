"""The admin's CSV import reads what /excel/ reads: UTF-8 with or without BOM, Shift_JIS."""

from datetime import date

import pytest
from django.urls import reverse

from initiatives.models import ProgressEntry
from initiatives.resources import ProgressEntryResource, SafeCSV
from tests.factory import initiative, make_progress, upload

pytestmark = pytest.mark.django_db

CSV_FORMAT = 1  # index of SafeCSV in ADMIN_FORMATS


@pytest.fixture(autouse=True)
def admin_upload_dir(tmp_path, monkeypatch):
    from portal_lib import upload_stash

    monkeypatch.setattr(upload_stash, "UPLOAD_DIR", tmp_path / "admin_imports")


def _csv_text(entry: ProgressEntry) -> str:
    """Our own export, with the percent and the text changed as a person would in Excel."""
    dataset = ProgressEntryResource().export(queryset=ProgressEntry.objects.filter(pk=entry.pk))
    text = SafeCSV().export_data(dataset).removeprefix("\ufeff")
    header, row = text.rstrip("\r\n").split("\r\n")
    cells = row.split(",")
    cells[3] = "70"  # 進捗率(%)
    cells[4] = "説明会を開催(高松・宇ノ気・七塚)"  # 実施内容
    return header + "\r\n" + ",".join(cells) + "\r\n"


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda t: t.encode("shift_jis"), id="shift_jis"),
        pytest.param(lambda t: t.encode("cp932"), id="cp932"),
        pytest.param(lambda t: t.encode("utf-8"), id="utf-8"),
        pytest.param(lambda t: "\ufeff".encode() + t.encode("utf-8"), id="utf-8-bom"),
    ],
)
def test_admin_csv_import_reads_shift_jis_and_utf8(client, personas, encode):
    entry = make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), percent=10)
    data = encode(_csv_text(entry))
    client.force_login(personas.secretariat)

    response = client.post(
        reverse("admin:initiatives_progressentry_import"),
        {"format": CSV_FORMAT, "import_file": upload(data, "進捗.csv")},
    )
    assert response.status_code == 200
    assert "confirm_form" in response.context, response.content.decode()[-3000:]
    response = client.post(
        reverse("admin:initiatives_progressentry_process_import"),
        response.context["confirm_form"].initial,
    )

    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.percent == 70
    assert entry.done_text == "説明会を開催(高松・宇ノ気・七塚)"
    assert entry.history.first().history_user == personas.secretariat


def test_admin_csv_in_neither_encoding_gets_the_shared_readers_message(client, personas):
    client.force_login(personas.secretariat)
    data = b"\x81\x7f,\xff\xfe\r\n"  # neither UTF-8 nor Shift_JIS/CP932

    response = client.post(
        reverse("admin:initiatives_progressentry_import"),
        {"format": CSV_FORMAT, "import_file": upload(data, "bad.csv")},
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "UnicodeDecodeError" not in body
    assert (
        "CSVファイルの文字コードを読み取れません。UTF-8 または Shift_JIS で保存してください。"
        in body
    )


def test_formula_looking_text_survives_a_csv_round_trip(client, personas):
    entry = make_progress(
        initiative("2.1"), entry_date=date(2026, 5, 1), percent=10, done_text="=1+1 は式ではない"
    )
    dataset = ProgressEntryResource().export(queryset=ProgressEntry.objects.filter(pk=entry.pk))
    text = SafeCSV().export_data(dataset)
    assert "'=1+1 は式ではない" in text  # written escaped for Excel (OWASP)
    text = text.replace(",10,", ",20,")
    client.force_login(personas.secretariat)

    response = client.post(
        reverse("admin:initiatives_progressentry_import"),
        {"format": CSV_FORMAT, "import_file": upload(text.encode("utf-8"), "p.csv")},
    )
    client.post(
        reverse("admin:initiatives_progressentry_process_import"),
        response.context["confirm_form"].initial,
    )

    entry.refresh_from_db()
    assert entry.percent == 20
    assert entry.done_text == "=1+1 は式ではない"  # read back without the apostrophe
