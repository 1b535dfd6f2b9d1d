"""Probe 10: a full disk.

Before: with a 2 MB tmpfs as the upload folder, a preview that did not fit answered 500
(ENOSPC) and left a partial file that filled the folder until the 24-hour sweep; the xlsx
export answered 500; /healthz still said ok. Now the stash writes a temporary file and
renames it into place (removed on failure), a full disk answers the Japanese 503 page,
and /healthz reports the upload folder's free space.

A real 2 MB tmpfs is mounted for each test (the suite runs as root in CI and here).
"""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest
from django.test import Client
from django.urls import reverse

from initiatives.models import ProgressEntry
from portal_lib import upload_stash
from tests.factory import upload
from tests.security.test_double_confirm import progress_file

pytestmark = pytest.mark.django_db

FULL_DISK = "サーバーの保存領域が不足しているため、処理できませんでした。"


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk, *, leave: int) -> None:
    """Fill ``disk`` until only about ``leave`` bytes are free (whole pages on tmpfs)."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(disk / "filler", "wb") as out:
        out.write(b"\0" * (free - leave))


def files_in(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def secretariat_client(personas):
    client = Client()
    client.force_login(personas.secretariat)
    return client


def test_a_preview_on_a_full_disk_answers_503_and_leaves_no_partial_file(
    plan, secretariat_client, small_disk, monkeypatch
):
    stash_dir = small_disk / "imports"
    monkeypatch.setattr(upload_stash, "UPLOAD_DIR", stash_dir)
    data = progress_file(plan)
    assert len(data) > 2 * 4096
    fill(small_disk, leave=4096)

    url = reverse("excel:bulk_import", args=["progress"])
    response = secretariat_client.post(url, {"file": upload(data)})
    assert response.status_code == 503
    page = response.content.decode()
    assert FULL_DISK in page
    assert "取り込みもダウンロードも行われず、データは変わっていません。" in page
    assert response["Retry-After"] == "300"
    assert files_in(stash_dir) == []  # no partial file (nor its temporary name)
    assert not ProgressEntry.objects.exists()

    # Space freed: the same file previews and confirms as usual.
    (small_disk / "filler").unlink()
    response = secretariat_client.post(url, {"file": upload(data)})
    assert response.status_code == 200
    token = response.context["token"]
    assert files_in(stash_dir) == [token]
    assert (stash_dir / token).read_bytes() == data
    secretariat_client.post(reverse("excel:bulk_confirm", args=["progress"]), {"token": token})
    assert ProgressEntry.objects.count() == 300


def test_the_xlsx_export_on_a_full_disk_answers_503(
    plan, secretariat_client, small_disk, monkeypatch
):
    monkeypatch.setattr(tempfile, "tempdir", str(small_disk))
    fill(small_disk, leave=0)

    url = reverse("excel:bulk_export", args=["initiatives", "xlsx"])
    response = secretariat_client.get(url)
    assert response.status_code == 503
    assert FULL_DISK in response.content.decode()
    assert files_in(small_disk) == ["filler"]  # the temporary files are gone

    (small_disk / "filler").unlink()
    response = secretariat_client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"PK"
    response.close()


def test_healthz_reports_the_upload_folder_free_space(client, small_disk, monkeypatch, settings):
    monkeypatch.setattr(upload_stash, "UPLOAD_DIR", small_disk / "imports")
    settings.UPLOAD_MIN_FREE_MB = 1

    body = client.get("/healthz").json()
    assert body["checks"]["upload_folder"] == "ok"
    assert body["upload_folder_free_mb"] == 2

    fill(small_disk, leave=512 * 1024)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["upload_folder"]
    assert body["checks"] == {"database": "ok", "upload_folder": "low_space"}
    assert body["upload_folder_free_mb"] == 0

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    body = client.get("/healthz").json()
    assert body["checks"]["upload_folder"] == "unwritable"
    assert body["upload_folder_free_mb"] is None
