"""Table 4-1 on paper: the exported workbook printed by LibreOffice (as a city office would).

LibreOffice writes a clipped or overflowing cell's text into the PDF all the same, so finding
the text is not enough: every cell's words must also end above the next row's words, and no
two words may overlap. Needs soffice and pdftotext/pdfinfo (`make browser` installs them); a
missing tool fails the test, never skips it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from reporting.workbooks import table41

pytestmark = pytest.mark.slow

TODAY = date(2026, 10, 1)
A4_LANDSCAPE = (841.89, 595.28)  # points
TOLERANCE = 2.0  # pt: glyph boxes of one cell's successive lines touch by ~1 pt


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(
            f"{name} がありません: `make browser` (libreoffice-calc-nogui, poppler-utils) が必要です。",
            pytrace=False,
        )
    return path


def print_with_libreoffice(xlsx: Path) -> Path:
    # A profile of its own: several soffice runs at once would otherwise share (and lock) one.
    profile = (xlsx.parent / "lo-profile").as_uri()
    subprocess.run(
        [
            _tool("soffice"),
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(xlsx.parent),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = xlsx.with_suffix(".pdf")
    assert pdf.exists(), "LibreOffice did not write the PDF"
    return pdf


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    out = subprocess.run(
        [_tool("pdfinfo"), "-f", "1", "-l", "99", str(pdf)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [
        (float(w), float(h))
        for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out)
    ]


def pdf_words(pdf: Path) -> list[Word]:
    xml = subprocess.run(
        [_tool("pdftotext"), "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", xml).replace(' xmlns="', ' x="'))
    words = []
    for number, page in enumerate(root.iter("page"), start=1):
        for w in page.iter("word"):
            words.append(
                Word(
                    number,
                    w.text or "",
                    *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")),
                )
            )
    return words


def runs_of(words: list[Word], text: str) -> list[list[Word]]:
    """Every run of words that spells ``text`` (spaces and line breaks dropped).

    A cell's lines come out in drawing order, where a neighbouring cell's word may sit
    between two of them: a few such words are stepped over.
    """
    target = re.sub(r"\s+", "", text)
    found = []
    for start, first in enumerate(words):
        if not first.text or not target.startswith(first.text):
            continue
        run, spelled, skipped = [first], first.text, 0
        for word in words[start + 1 :]:
            if spelled == target or skipped > 3:
                break
            if word.text and target.startswith(spelled + word.text):
                run.append(word)
                spelled += word.text
                skipped = 0
            else:
                skipped += 1
        if spelled == target:
            found.append(run)
    return found


def cells_with_text(ws) -> dict[str, tuple[int, int]]:
    """Text of each cell whose text is unique in the sheet -> (first row, last row) it covers."""
    last_row = {(m.min_row, m.min_col): m.max_row for m in ws.merged_cells.ranges}
    seen: dict[str, list[tuple[int, int]]] = {}
    for row in ws.iter_rows(min_row=table41.HEADER_ROW + 1):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.strip():
                r = cell.row
                seen.setdefault(cell.value, []).append((r, last_row.get((r, cell.column), r)))
    return {text: rows[0] for text, rows in seen.items() if len(rows) == 1}


def test_table41_prints_whole_on_a4_landscape(plan, tmp_path):
    xlsx = tmp_path / "table41.xlsx"
    xlsx.write_bytes(table41.export_schedule(plan, today=TODAY))
    ws = openpyxl.load_workbook(xlsx).active
    pdf = print_with_libreoffice(xlsx)

    sizes = page_sizes(pdf)
    assert sizes, "pdfinfo found no pages"
    for width, height in sizes:
        assert abs(width - A4_LANDSCAPE[0]) < 1 and abs(height - A4_LANDSCAPE[1]) < 1, sizes

    words = pdf_words(pdf)
    # The whole header, R8 included, is printed on the page: no year column falls off.
    header = [c.value for c in ws[table41.HEADER_ROW]]
    for text in header:
        assert runs_of(words, text), f"header {text!r} is not printed"

    # Footer: page number of page count, and the day it was printed.
    text = subprocess.run(
        [_tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert re.search(rf"\b1\s*/\s*{len(sizes)}\b", text), "no page number in the footer"
    assert "印刷日" in text

    cells = cells_with_text(ws)
    long_texts = [
        "年度末迄に27申請のオンライン化完了",
        "R7年度末までに標準化・共通化システム(ガバメント・クラウド)への移行完了",
    ]
    assert set(long_texts) <= set(cells)
    assert any(t.startswith("①住民基本台帳システム") for t in cells)

    # Where each row's text starts on paper (from the cells whose text is unique).
    boxes: dict[str, list[Word]] = {}
    row_top: dict[int, tuple[int, float]] = {}
    for text, (first, _last) in cells.items():
        runs = runs_of(words, text)
        assert len(runs) == 1, f"{text!r} is not printed whole (found {len(runs)} times)"
        run = boxes[text] = runs[0]
        top = (run[0].page, min(w.y0 for w in run))
        row_top[first] = min(row_top.get(first, top), top)

    # Each cell's text ends above the next row's text: a row tall enough for what it holds.
    for text, (_first, last) in cells.items():
        run = boxes[text]
        below = [row_top[r] for r in sorted(row_top) if r > last]
        if not below or below[0][0] != run[-1].page:
            continue
        bottom = max(w.y1 for w in run)
        assert bottom <= below[0][1] + TOLERANCE, (
            f"{text!r} runs into the row below ({bottom:.1f} > {below[0][1]:.1f} pt): cut on paper"
        )

    # And no two printed words overlap anywhere.
    for i, a in enumerate(words):
        for b in words[i + 1 :]:
            overlap = (
                a.page == b.page
                and min(a.x1, b.x1) - max(a.x0, b.x0) > TOLERANCE
                and min(a.y1, b.y1) - max(a.y0, b.y0) > TOLERANCE
            )
            assert not overlap, f"{a.text!r} and {b.text!r} overlap on page {a.page}"
