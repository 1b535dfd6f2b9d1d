"""portal_lib.office: the one way a document becomes PDF on the server (LibreOffice headless)."""

import io
import os
import stat
import subprocess

import pytest
from docx import Document

from portal_lib import office

pytestmark = pytest.mark.slow


def _docx(text: str) -> bytes:
    document = Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_docx_becomes_a_pdf_with_its_text(tmp_path):
    pdf = office.convert_to_pdf(_docx("かほく市DX推進計画 変換テスト"), suffix=".docx")
    assert pdf.startswith(b"%PDF-")
    target = tmp_path / "out.pdf"
    target.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(target), "-"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "かほく市DX推進計画" in "".join(text.split())


def test_missing_libreoffice_gives_a_japanese_message(settings):
    settings.OFFICE_SOFFICE = "/nonexistent/soffice"
    with pytest.raises(office.OfficeError, match="LibreOffice がありません"):
        office.convert_to_pdf(_docx("x"), suffix=".docx")


def test_a_hanging_converter_is_stopped_at_the_bound(settings, tmp_path):
    script = tmp_path / "slow-soffice"
    marker = tmp_path / "child.pid"
    # A launcher that starts a child and hangs, as soffice starts soffice.bin.
    script.write_text(f"#!/bin/sh\nsleep 60 &\necho $! > {marker}\nwait\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    settings.OFFICE_SOFFICE = str(script)
    with pytest.raises(office.OfficeError, match="時間内に終わりませんでした"):
        office.convert_to_pdf(_docx("x"), suffix=".docx", timeout=1)
    child = int(marker.read_text())
    # The whole process group was ended, not only the launcher.
    for _ in range(50):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        subprocess.run(["sleep", "0.1"], check=True)
    else:
        pytest.fail("the converter's child process survived the timeout")


def test_only_documents_are_converted():
    with pytest.raises(ValueError):
        office.convert_to_pdf(b"x", suffix=".exe")
