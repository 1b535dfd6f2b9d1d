"""The plan as the document the city publishes, written as .docx with python-docx.

Structure of the published plan: a cover (name, version, date), contents (a Word table of
contents field, filled when the reader updates fields), chapters 1–5 from the version's
editable text, chapter 4 with table 4-1 as a real table (merged cells kept), chapter 5
with the basic policies, and chapter 6 with each initiative's 概要, 取り組み and
既に取り組んでいる事業等. It renders a content dict (reporting.plan_content), so a frozen
version prints exactly as it was adopted.
"""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from kahoku_dx import era
from reporting.chapter_facts import fill
from reporting.docx_parts import FONT, HEADING_FONT
from reporting.docx_parts import repeat_header as _repeat_header
from reporting.docx_parts import set_east_asian_font as _set_east_asian_font
from reporting.docx_parts import shade as _shade
from reporting.docx_parts import text as _text

TABLE_41 = "表4-1 スケジュール予定"
CHAPTER_TITLES = {
    1: "かほく市DX推進計画の背景と目的",
    2: "かほく市DX推進計画の位置付け",
    3: "かほく市DX推進計画の推進体制",
    4: "計画期間",
    5: "基本方針",
    6: "取組内容について",
}


def _toc(document: Any, entries: list[str]) -> None:
    """A real TOC field (Word and LibreOffice rebuild it with page numbers: F9 / 目次の更新),
    pre-filled with the chapter titles so that it reads right before any update."""
    paragraph = document.add_paragraph()
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = 'TOC \\o "1-2" \\h \\z \\u'
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, instr, separate):
        run._r.append(element)
    for i, entry in enumerate(entries):
        if i:
            run._r.append(OxmlElement("w:br"))
        text = OxmlElement("w:t")
        text.set(qn("xml:space"), "preserve")
        text.text = entry
        run._r.append(text)
    run._r.append(end)
    # Ask the reader to refresh fields on opening, so the contents are filled in.
    settings = document.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def _body(document: Any, body: str) -> None:
    for chunk in body.split("\n\n"):
        for line in chunk.splitlines():
            text = line.strip()
            if not text:
                continue
            if text.startswith("### "):
                document.add_heading(_text(text[4:]), level=2)
            elif text.startswith("- "):
                document.add_paragraph(_text(text[2:]), style="List Bullet")
            else:
                document.add_paragraph(_text(text))


def _schedule_table(document: Any, schedule: dict[str, Any]) -> Any:
    """Table 4-1 as a real table: 項目 merged down its rows, cells merged across years."""
    years: list[int] = schedule["years"]
    rows = [(item, row) for item in schedule["items"] for row in item["rows"]]
    table = document.add_table(rows=1 + len(rows), cols=2 + len(years))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header = table.rows[0]
    for col, label in enumerate(["項目", "副項目"] + [era.short_header(fy) for fy in years]):
        cell = header.cells[col]
        cell.text = label
        cell.paragraphs[0].runs[0].bold = True
        _shade(cell)
    _repeat_header(header)
    year_col = {fy: 2 + i for i, fy in enumerate(years)}
    merges: list[tuple[int, int, int, int]] = []
    r = 0
    for item in schedule["items"]:
        first = r + 1
        for row in item["rows"]:
            r += 1
            table.cell(r, 1).text = _text(row["sub_title"])
            for c in row["cells"]:
                col = year_col.get(c["fiscal_year"])
                if col is None:
                    continue
                table.cell(r, col).text = _text(c["text"])
                if c["kind"] == "marker":
                    table.cell(r, col).paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
                end_col = min(col + c["col_span"] - 1, 1 + len(years))
                if c["col_span"] > 1 or c["row_span"] > 1:
                    merges.append((r, col, r + c["row_span"] - 1, end_col))
        if item["rows"]:
            table.cell(first, 0).text = _text(item["title"])
            if r > first:
                merges.append((first, 0, r, 0))
    covered: set[tuple[int, int]] = set()
    for r1, c1, r2, c2 in merges:
        r2 = min(r2, r)
        area = {(rr, cc) for rr in range(r1, r2 + 1) for cc in range(c1, c2 + 1)}
        if area & covered:
            continue  # overlapping spans in the data: leave the later one unmerged
        covered |= area
        text = table.cell(r1, c1).text
        merged = table.cell(r1, c1).merge(table.cell(r2, c2))
        merged.text = text
    widths = [Mm(32), Mm(22)] + [Mm(112 / len(years))] * len(years)
    for row in table.rows:
        for col, cell in enumerate(row.cells):
            cell.width = widths[col]
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)
    return table


def plan_document(content: dict[str, Any]) -> bytes:
    """The .docx bytes of a plan version's content."""
    document = Document()
    section = document.sections[0]
    section.page_height, section.page_width = Mm(297), Mm(210)
    section.orientation = WD_ORIENT.PORTRAIT
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Mm(22))
    _set_east_asian_font(document.styles["Normal"], FONT)
    document.styles["Normal"].font.size = Pt(10.5)
    for level in (1, 2):
        _set_east_asian_font(document.styles[f"Heading {level}"], HEADING_FONT)
    _set_east_asian_font(document.styles["Title"], HEADING_FONT)

    plan = content["plan"]
    version = content.get("version") or {}
    # Cover
    for _ in range(6):
        document.add_paragraph()
    cover = document.add_paragraph(_text(plan["name"]), style="Title")
    cover.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if version:
        label = document.add_paragraph(f"【{version['label']}】")
        label.alignment = WD_ALIGN_PARAGRAPH.CENTER
        label.runs[0].font.size = Pt(20)
    for text in (version.get("issued", ""), "かほく市"):
        if text:
            p = document.add_paragraph(_text(text))
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.runs[0].font.size = Pt(16)
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # Placeholders ({計画期間} …) as the content states them (a no-op on filled text).
    chapters = {
        c["number"]: {**c, "title": fill(c["title"], content), "body": fill(c["body"], content)}
        for c in content.get("chapters", [])
    }
    titles = {
        n: chapters.get(n, {}).get("title") or default for n, default in CHAPTER_TITLES.items()
    }
    document.add_heading("目次", level=1)
    _toc(document, [f"{n}. {_text(t)}" for n, t in titles.items()])
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    for number in range(1, 6):
        chapter = chapters.get(number, {"title": titles[number], "body": ""})
        document.add_heading(f"{number}. {_text(chapter['title'])}", level=1)
        _body(document, chapter.get("body", ""))
        if number == 4:
            document.add_paragraph(f"計画期間:{_text(plan['period'])}", style="Intense Quote")
            caption = document.add_paragraph(TABLE_41)
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
            _schedule_table(document, content["schedule"])
        if number == 5:
            document.add_heading("基本方針の分類", level=2)
            for policy in content["policies"]:
                document.add_paragraph(
                    f"{policy['number']}. {_text(policy['title'])}", style="List Number"
                )
                if policy["classification"]:
                    document.add_paragraph(_text(policy["classification"]))

    document.add_heading(f"6. {CHAPTER_TITLES[6]}", level=1)
    for policy in content["policies"]:
        document.add_heading(
            f"基本方針{policy['number']} {_text(policy['heading'] or policy['title'])}", level=2
        )
        if policy["summary"]:
            p = document.add_paragraph()
            p.add_run("概要:").bold = True
            p.add_run(_text(policy["summary"]))
        for ini in policy["initiatives"]:
            p = document.add_paragraph()
            p.add_run(f"取り組み{ini['code']} {_text(ini['title'])}").bold = True
            if ini["flag"]:
                p.add_run(f"({_text(ini['flag'])})")
            if ini["description"]:
                document.add_paragraph(_text(ini["description"]))
            if ini["projects"]:
                document.add_paragraph("既に取り組んでいる事業等")
                for project in ini["projects"]:
                    document.add_paragraph(
                        f"{project['era_label']} {_text(project['name'])}:"
                        f"{_text(project['section'])}",
                        style="List Bullet",
                    )
    footer = section.footer.paragraphs[0]
    footer.text = f"{_text(plan['name'])} {version.get('label', '')}".strip()
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def document_filename(content: dict[str, Any]) -> str:
    version = content.get("version") or {}
    label = version.get("label", "")
    return f"{content['plan']['name']}{('【' + label + '】') if label else ''}.docx"
