"""Issue 15 item 2: a previewed import is written once, however many confirms race for it.

Six threads POST the same confirm token at the same moment (a barrier), each through its
own test client carrying the same session cookie, each on its own database connection
(transactional test, so all of them see the preview's data). Exactly one writes; the other
five are told 「この取り込みはすでに実行されました。」.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from initiatives.models import Initiative, ProgressEntry
from plans.models import ScheduleCell, ScheduleRow
from portal_lib import upload_stash
from reporting.exchange import sheets
from tests.excel.test_table41 import edited_export
from tests.factory import upload, xlsx_bytes

CONFIRMS = 6
ALREADY = "この取り込みはすでに実行されました。"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(upload_stash, "UPLOAD_DIR", tmp_path / "imports")
    return tmp_path / "imports"


def race(client: Client, url: str, token: str) -> list[str]:
    """POST ``token`` to ``url`` from CONFIRMS threads at once; the pages they end on."""
    barrier = threading.Barrier(CONFIRMS)
    pages: list[str] = []
    failures: list[BaseException] = []

    def confirm() -> None:
        try:
            c = Client()
            c.cookies = client.cookies
            barrier.wait(timeout=30)
            response = c.post(url, {"token": token}, follow=True)
            pages.append(response.content.decode())
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(CONFIRMS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    assert len(pages) == CONFIRMS
    return pages


def progress_file(plan, rows: int = 300) -> bytes:
    codes = sorted(i.code for i in Initiative.objects.filter(policy__plan=plan))
    body = [
        [codes[i % len(codes)], date(2026, 4, 1) + timedelta(days=i // len(codes)), "順調", i % 100]
        for i in range(rows)
    ]
    return xlsx_bytes([sheets.PROGRESS.header(), *body])


def test_six_concurrent_progress_confirms_write_300_rows_once(plan, personas):
    client = Client()
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("excel:bulk_import", args=["progress"]), {"file": upload(progress_file(plan))}
    )
    assert response.context["counts"] == {"added": 300, "changed": 0, "unchanged": 0}
    before = ProgressEntry.objects.count(), ProgressEntry.history.count()

    pages = race(
        client, reverse("excel:bulk_confirm", args=["progress"]), response.context["token"]
    )

    assert ProgressEntry.objects.count() == before[0] + 300
    assert ProgressEntry.history.count() == before[1] + 300
    assert sum("進捗記録を取り込みました(追加 300件、変更 0件)。" in p for p in pages) == 1
    assert sum(ALREADY in p for p in pages) == CONFIRMS - 1


def test_six_concurrent_table41_confirms_apply_once(plan, personas):
    client = Client()
    client.force_login(personas.secretariat)
    response = client.post(reverse("excel:schedule_import"), {"file": upload(edited_export(plan))})
    assert "追加 2件、変更 2件、削除 1件" in response.content.decode()
    cell = ScheduleCell.objects.get(row__item__title="オンライン申請", fiscal_year=2022)
    cell_history = cell.history.count()

    pages = race(client, reverse("excel:schedule_confirm"), response.context["token"])

    assert ScheduleRow.objects.filter(sub_title="庁内ネットワーク機器賃貸借").count() == 1
    assert ScheduleRow.history.filter(sub_title="庁内ネットワーク機器賃貸借").count() == 1
    assert cell.history.count() == cell_history + 1
    cell.refresh_from_db()
    assert cell.text == "年度末迄に30申請のオンライン化完了"
    assert sum("表4-1を更新しました(追加 2件、変更 2件、削除 1件)。" in p for p in pages) == 1
    assert sum(ALREADY in p for p in pages) == CONFIRMS - 1


def test_a_confirm_that_fails_unexpectedly_gives_its_claim_back(plan, personas, monkeypatch):
    from reporting.exchange import writer

    client = Client()
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("excel:bulk_import", args=["progress"]), {"file": upload(progress_file(plan, 3))}
    )
    token = response.context["token"]
    real = writer.bulk_import

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(writer, "bulk_import", broken)
    with pytest.raises(RuntimeError):
        client.post(reverse("excel:bulk_confirm", args=["progress"]), {"token": token})
    monkeypatch.setattr(writer, "bulk_import", real)
    response = client.post(
        reverse("excel:bulk_confirm", args=["progress"]), {"token": token}, follow=True
    )
    assert "進捗記録を取り込みました(追加 3件、変更 0件)。" in response.content.decode()
    assert ProgressEntry.objects.count() == 3
