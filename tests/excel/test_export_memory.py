"""Issue 13: the bulk exports stream to the browser. 100,000 rows stay within 60 MB of
peak RSS growth, measured in a forked child (the probe of tests/security/test_import_bounds.py)
while the response is read block by block, as a browser download would."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from python_calamine import CalamineWorkbook

from initiatives.models import Initiative, ProgressEntry
from tests.factory import initiative
from tests.security.test_import_bounds import probe

# Committed rows: the forked child opens its own connection on PostgreSQL.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROWS = 100_000
PEAK_MB = 60


def _many_entries(personas) -> None:
    base = initiative("2.1")
    inis = [
        Initiative(policy=base.policy, number=100 + n, title=f"取り組み{n}", lead_section=None)
        for n in range(100)
    ]
    Initiative.objects.bulk_create(inis)
    start = date(2021, 4, 1)
    batch = []
    for ini in Initiative.objects.filter(number__gte=100, policy=base.policy):
        for d in range(ROWS // 100):
            day = start + timedelta(days=d)
            batch.append(
                ProgressEntry(
                    initiative=ini,
                    entry_date=day,
                    fiscal_year=day.year if day.month >= 4 else day.year - 1,
                    status="on_track",
                    percent=d % 101,
                    done_text=f"実施内容 {d} 行目の記録",
                    author=personas.member,
                )
            )
        ProgressEntry.objects.bulk_create(batch)
        batch = []


def _download(user, fmt: str, path: str):
    def run() -> dict:
        client = Client()
        client.force_login(user)
        response = client.get(reverse("excel:bulk_export", args=["progress", fmt]))
        size = 0
        with open(path, "wb") as saved:  # the browser saves the download as it arrives
            for block in response.streaming_content:
                size += len(block)
                saved.write(block)
        response.close()
        return {"streaming": response.streaming, "size": size}

    return run


def _rows_in(path: str, fmt: str) -> int:
    if fmt == "csv":
        with open(path, encoding="utf-8-sig") as fh:
            return sum(1 for _ in fh) - 1
    return len(CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()) - 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_bulk_export_of_100000_rows_streams_within_60_mb(personas, fmt, tmp_path):
    _many_entries(personas)
    total = ProgressEntry.objects.count()
    assert total >= ROWS
    path = str(tmp_path / f"export.{fmt}")
    out = probe(_download(personas.secretariat, fmt, path), ceiling_mb=1024)
    assert "value" in out, out
    print(f"{fmt}: peak +{out['peak_mb']:.0f} MB, {out['wall_seconds']:.1f} s wall")
    assert out["value"]["streaming"] is True
    assert out["peak_mb"] <= PEAK_MB, out
    assert _rows_in(path, fmt) == total
    if fmt == "csv":
        with open(path, "rb") as fh:
            assert fh.read(3) == b"\xef\xbb\xbf"
