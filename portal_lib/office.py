"""Documents turned into PDF on the server, by LibreOffice headless (one home).

The portal writes .docx (python-docx) and .xlsx (openpyxl); the city publishes PDF. LibreOffice
is the maintained converter that reads both as Word and Excel lay them out, embeds the fonts
it uses, and is already the tests' real client. Each conversion runs in its own throw-away
profile (two soffice processes sharing one profile fail), is bounded in time
(``OFFICE_CONVERT_TIMEOUT``, seconds) and one at a time per process (``OFFICE_CONVERT_SLOTS``),
so ten clicks at once queue instead of starting ten office suites.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

PDF_CONTENT_TYPE = "application/pdf"
_SLOTS = threading.BoundedSemaphore(max(1, int(getattr(settings, "OFFICE_CONVERT_SLOTS", 1))))


class OfficeError(Exception):
    """The conversion could not be made; ``str()`` is a message for the user (Japanese)."""


def soffice_path() -> str | None:
    configured = getattr(settings, "OFFICE_SOFFICE", "") or ""
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_pdf(data: bytes, *, suffix: str, timeout: float | None = None) -> bytes:
    """Return ``data`` (a .docx or .xlsx file's bytes) converted to PDF.

    Raises OfficeError with a message for the user when LibreOffice is missing, takes longer
    than the bound or writes nothing.
    """
    if suffix not in (".docx", ".xlsx"):
        raise ValueError(f"unsupported suffix {suffix!r}")
    soffice = soffice_path()
    if not soffice:
        raise OfficeError(
            _(
                "PDF を作成できません: サーバーに LibreOffice がありません。"
                "Word / Excel のファイルをダウンロードしてください。"
            )
        )
    limit = float(timeout) if timeout else float(getattr(settings, "OFFICE_CONVERT_TIMEOUT", 120))
    if not _SLOTS.acquire(timeout=limit):
        raise OfficeError(
            _("PDF の作成が混み合っています。しばらくしてからもう一度お試しください。")
        )
    try:
        with tempfile.TemporaryDirectory(prefix="kahoku-office-") as tmp:
            work = Path(tmp)
            source = work / f"document{suffix}"
            source.write_bytes(data)
            command = [
                soffice,
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--headless",
                "--norestore",
                "--nolockcheck",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work),
                str(source),
            ]
            # Its own process group, so a timeout ends soffice.bin too, not only the launcher.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                process.wait(timeout=limit)
            except subprocess.TimeoutExpired as exc:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise OfficeError(
                    _(
                        "PDF の作成が時間内に終わりませんでした。Word / Excel のファイルをお使いください。"
                    )
                ) from exc
            target = work / "document.pdf"
            if not target.exists() or target.stat().st_size == 0:
                raise OfficeError(
                    _("PDF を作成できませんでした。Word / Excel のファイルをお使いください。")
                )
            return target.read_bytes()
    finally:
        _SLOTS.release()
