"""The plan as the document the city publishes: .docx (python-docx) and PDF (LibreOffice).

Structure, as the seed's: a cover (name, version, date of decision in 和暦), contents with
page numbers, chapters 1–6 in the plan's numbering. Chapter text comes from the version's
chapters; a caption line such as 「図2-1 DX推進計画の位置付け」 places that figure, drawn from
the data (reporting.documents.figures). Chapter 4 is followed by table 4-1 on an A4 landscape section
(a real table, merged cells kept), chapter 5 by the basic policies and chapter 6, after its
opening note, by each policy's 概要 and each initiative's 取り組み and 既に取り組んでいる事業等.
Pages are numbered in the footer (a PAGE field); the contents' numbers are PAGEREF fields to
bookmarks on the chapter headings, which LibreOffice computes when it lays the document out
(so the PDF is right in one conversion) and Word on updating fields (asked on opening).

It renders a content dict (reporting.selectors.plan_content), so a frozen version prints exactly as it
was adopted.
"""

from __future__ import annotations

import re
from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Mm, Pt

from portal_lib import era
from portal_lib.office import PDF_CONTENT_TYPE, convert_to_pdf
from reporting.chapter_facts import UNDECIDED, fill
from reporting.documents import figures
from reporting.documents.parts import (
    DOCX_CONTENT_TYPE,
    add_bookmark,
    add_field,
    add_svg_picture,
    cant_split,
    docx_bytes,
    landscape_section,
    new_document,
    page_number_footer,
    repeat_header,
    shade,
    table_font_size,
    text,
    title_page,
)

__all__ = [
    "DOCX_CONTENT_TYPE",
    "PDF_CONTENT_TYPE",
    "document_filename",
    "plan_document",
    "plan_pdf",
]

TABLE_41 = "表4-1 スケジュール予定"
CHAPTER_TITLES = {
    1: "かほく市DX推進計画の背景と目的",
    2: "かほく市DX推進計画の位置付け",
    3: "かほく市DX推進計画の推進体制",
    4: "計画期間",
    5: "基本方針",
    6: "取組内容について",
}
# A line of a chapter that is a figure's caption: 「図2-1 DX推進計画の位置付け」.
FIGURE_LINE = re.compile(r"^図\s*(\d+-\d+)\s+(\S.*)$")
TEXT_WIDTH = Mm(170)
LABEL_WIDTH = Mm(32)
LONG_ROW = 700  # characters: a 2-column row longer than this may break across pages


def chapter_bookmark(number: int) -> str:
    return f"_PlanChapter{number}"


def cover_date(content: dict[str, Any]) -> str:
    """The cover's date: the decision in 和暦 (令和4年2月), or 「（決定前）」 for a draft."""
    version = content.get("version") or {}
    return version.get("decided") or UNDECIDED


def as_of_label(content: dict[str, Any]) -> str:
    """The day figure 3-2 shows the bodies at, as the plan states its date."""
    version = content.get("version") or {}
    if version.get("decided"):
        return version["decided"]
    as_of = (content.get("organisation") or {}).get("as_of")
    if as_of:
        from datetime import date

        return era.format_date(date.fromisoformat(as_of), weekday=False)
    return ""


def _paragraph(document: Any, value: str, *, style: str | None = None) -> Any:
    return document.add_paragraph(text(value), style=style)


def _figure(document: Any, figure: figures.Figure, *, for_pdf: bool) -> None:
    picture = document.add_paragraph()
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.keep_with_next = True
    add_svg_picture(
        picture.add_run(),
        svg=figures.svg(figure).encode("utf-8"),
        # The PDF's picture is the SVG: the PNG only gives the size (drawn small, quickly).
        png=figures.png(figure, scale=0.25 if for_pdf else 2.5),
        width=TEXT_WIDTH,
        name=f"figure{figure.number.replace('-', '_')}_",
        svg_main=for_pdf,
    )
    caption = document.add_paragraph(text(f"図{figure.number} {figure.caption}"))
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    caption.runs[0].bold = True


def _body(document: Any, body: str, drawn: dict[str, figures.Figure], *, for_pdf: bool) -> None:
    for chunk in body.split("\n\n"):
        for line in chunk.splitlines():
            value = line.strip()
            if not value:
                continue
            figure_match = FIGURE_LINE.match(value)
            if value.startswith("### "):
                document.add_heading(text(value[4:].strip()), level=2)
            elif value.startswith("- "):
                _paragraph(document, value[2:].strip(), style="List Bullet")
            elif figure_match and figure_match.group(1) in drawn:
                figure = drawn[figure_match.group(1)]
                figure.caption = figure_match.group(2).strip()
                _figure(document, figure, for_pdf=for_pdf)
            else:
                _paragraph(document, value)


def _contents(document: Any, titles: dict[int, str]) -> None:
    """Each chapter with a dotted leader to its page number (a PAGEREF to its heading)."""
    document.add_heading("目次", level=1)
    for number, title in titles.items():
        p = document.add_paragraph()
        p.paragraph_format.tab_stops.add_tab_stop(
            TEXT_WIDTH, WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS
        )
        p.paragraph_format.space_after = Pt(8)
        p.add_run(f"{number}. {text(title)}\t")
        add_field(p, f"PAGEREF {chapter_bookmark(number)} \\h", "")
    # Word fills the numbers on opening (it asks to update fields); LibreOffice lays them out.
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    document.settings.element.append(update)


def _chapter_heading(document: Any, number: int, title: str) -> None:
    heading = document.add_heading(f"{number}. {text(title)}", level=1)
    heading.paragraph_format.page_break_before = True
    add_bookmark(heading, chapter_bookmark(number), number)


def _grid(table: Any, widths: list[Any]) -> None:
    """Fixed column widths, read alike by Word and LibreOffice (grid and every cell)."""
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths, strict=False):
        col.set(qn("w:w"), str(int(Emu(width).twips)))
    for row in table.rows:
        for col, cell in enumerate(row.cells):
            if col < len(widths):
                cell.width = Emu(widths[col])


def _schedule_table(document: Any, schedule: dict[str, Any], width: Any) -> Any:
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
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        shade(cell)
    repeat_header(header)
    year_col = {fy: 2 + i for i, fy in enumerate(years)}
    merges: list[tuple[int, int, int, int]] = []
    r = 0
    for item in schedule["items"]:
        first = r + 1
        for row in item["rows"]:
            r += 1
            table.cell(r, 1).text = text(row["sub_title"])
            for c in row["cells"]:
                col = year_col.get(c["fiscal_year"])
                if col is None:
                    continue
                table.cell(r, col).text = text(c["text"])
                if c["kind"] == "marker":
                    table.cell(r, col).paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
                end_col = min(col + c["col_span"] - 1, 1 + len(years))
                if c["col_span"] > 1 or c["row_span"] > 1:
                    merges.append((r, col, r + c["row_span"] - 1, end_col))
        if item["rows"]:
            table.cell(first, 0).text = text(item["title"])
            if r > first:
                merges.append((first, 0, r, 0))
    covered: set[tuple[int, int]] = set()
    for r1, c1, r2, c2 in merges:
        r2 = min(r2, r)
        area = {(rr, cc) for rr in range(r1, r2 + 1) for cc in range(c1, c2 + 1)}
        if area & covered:
            continue  # overlapping spans in the data: leave the later one unmerged
        covered |= area
        value = table.cell(r1, c1).text
        merged = table.cell(r1, c1).merge(table.cell(r2, c2))
        merged.text = value
    first_cols = [Mm(62), Mm(44)]
    rest = int(width) - sum(int(w) for w in first_cols)
    _grid(table, first_cols + [Emu(rest // max(len(years), 1))] * len(years))
    for row in table.rows[1:]:
        cant_split(row)
    table_font_size(table, 8.5)
    return table


def _label_row(table: Any, label: str) -> tuple[Any, Any]:
    row = table.add_row()
    left, right = row.cells
    left.text = label
    left.paragraphs[0].runs[0].bold = True
    shade(left, "F2F2F2")
    return row, right


def _policy_table(document: Any, policy: dict[str, Any]) -> None:
    """A policy as the plan lays it out: 概要, then each 取り組み with its text and
    【既に取り組んでいる事業等】, in a two-column table."""
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    size = 0
    if policy["summary"]:
        row, cell = _label_row(table, "概要")
        cell.text = text(policy["summary"])
        size = len(policy["summary"])
        if size < LONG_ROW:
            cant_split(row)
    for ini in policy["initiatives"]:
        row, cell = _label_row(table, f"取り組み{ini['code']}")
        title = cell.paragraphs[0]
        title.add_run(f"取り組み{ini['code']} {text(ini['title'])}").bold = True
        if ini["flag"]:
            cell.add_paragraph(f"▶ {text(ini['flag'])}")
        for line in (ini["description"] or "").splitlines():
            if line.strip():
                cell.add_paragraph(text(line.strip()))
        if len(ini["description"] or "") < LONG_ROW:
            cant_split(row)
        row, cell = _label_row(table, "【既に取り組んでいる事業等】")
        if ini["projects"]:
            for i, project in enumerate(ini["projects"]):
                p = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
                p.add_run(
                    f"{text(project['era_label'])} {text(project['name'])}:"
                    f"{text(project['section'])}"
                )
        else:
            cell.text = "—"
        cant_split(row)
    _grid(table, [LABEL_WIDTH, TEXT_WIDTH - LABEL_WIDTH])
    table_font_size(table, 10)
    document.add_paragraph()


def plan_document(content: dict[str, Any], *, for_pdf: bool = False) -> bytes:
    """The .docx bytes of a plan version's content.

    ``for_pdf`` writes the figures with their SVG as the picture itself (for LibreOffice,
    which makes the PDF: see parts.add_svg_picture); the download keeps Word's form.
    """
    document = new_document()
    first = document.sections[0]
    page_number_footer(first)
    title_page(first)

    plan = content["plan"]
    version = content.get("version") or {}
    # Cover
    for _ in range(6):
        document.add_paragraph()
    cover = document.add_paragraph(text(plan["name"]), style="Title")
    cover.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if version:
        label = document.add_paragraph(f"【{text(version['label'])}】")
        label.alignment = WD_ALIGN_PARAGRAPH.CENTER
        label.runs[0].font.size = Pt(20)
    for value in (cover_date(content), "かほく市"):
        p = document.add_paragraph(text(value))
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
    # Chapters the secretariat added after the seed's six (e.g. 「前計画の成果と課題」,
    # reporting.services.drafting) follow chapter 6 in their order.
    later = sorted(n for n in chapters if n > max(CHAPTER_TITLES))
    titles.update({n: chapters[n]["title"] for n in later})
    _contents(document, titles)
    drawn = figures.figures_for(content, as_of_label(content))

    for number in range(1, 7):
        chapter = chapters.get(number, {"title": titles[number], "body": ""})
        _chapter_heading(document, number, titles[number])
        _body(document, chapter.get("body", ""), drawn, for_pdf=for_pdf)
        if number == 4:
            p = document.add_paragraph()
            p.add_run(f"計画期間:{text(plan['period'])}").bold = True
            section = landscape_section(document)
            section.different_first_page_header_footer = False
            caption = document.add_paragraph(TABLE_41)
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
            caption.runs[0].bold = True
            caption.paragraph_format.keep_with_next = True
            usable = section.page_width - section.left_margin - section.right_margin
            _schedule_table(document, content["schedule"], usable)
            back = landscape_section(document, landscape=False)
            back.different_first_page_header_footer = False
        if number == 5:
            document.add_heading("基本方針の分類", level=2)
            for policy in content["policies"]:
                document.add_heading(f"{policy['number']}. {text(policy['title'])}", level=3)
                if policy["classification"]:
                    _paragraph(document, policy["classification"])
        if number == 6:
            for policy in content["policies"]:
                heading = text(policy["heading"] or policy["title"])
                document.add_heading(f"基本方針{policy['number']} {heading}", level=2)
                _policy_table(document, policy)
    for number in later:
        _chapter_heading(document, number, titles[number])
        _body(document, chapters[number].get("body", ""), drawn, for_pdf=for_pdf)
    return docx_bytes(document)


def plan_pdf(content: dict[str, Any]) -> bytes:
    """The PDF of a plan version (A4; fonts embedded by LibreOffice). Raises
    portal_lib.office.OfficeError with a message for the user."""
    return convert_to_pdf(plan_document(content, for_pdf=True), suffix=".docx")


def document_filename(content: dict[str, Any], suffix: str = ".docx") -> str:
    version = content.get("version") or {}
    label = version.get("label", "")
    return f"{content['plan']['name']}{('【' + label + '】') if label else ''}{suffix}"


def schedule_grid(schedule: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """Table 4-1 as rows of HTML cells with rowspan/colspan (the print view): 項目 spans its
    lines, a cell its row_span/col_span; the cells a span covers are left out. Overlapping
    spans keep the first, as the .docx does."""
    years: list[int] = schedule["years"]
    year_col = {fy: 2 + i for i, fy in enumerate(years)}
    lines = [(item, i, row) for item in schedule["items"] for i, row in enumerate(item["rows"])]
    width = 2 + len(years)
    grid: list[list[dict[str, Any] | None]] = [
        [{"text": "", "rowspan": 1, "colspan": 1, "kind": ""} for _ in range(width)] for _ in lines
    ]
    covered: set[tuple[int, int]] = set()

    def span(r: int, c: int, rows: int, cols: int) -> None:
        r2, c2 = min(r + rows - 1, len(lines) - 1), min(c + cols - 1, width - 1)
        area = {(rr, cc) for rr in range(r, r2 + 1) for cc in range(c, c2 + 1)}
        if area & covered:
            return
        covered.update(area)
        cell = grid[r][c]
        assert cell is not None
        cell["rowspan"], cell["colspan"] = r2 - r + 1, c2 - c + 1
        for rr, cc in area - {(r, c)}:
            grid[rr][cc] = None

    for r, (item, i, row) in enumerate(lines):
        if i == 0:
            first = grid[r][0]
            assert first is not None
            first.update(text=item["title"], kind="item")
            span(r, 0, len(item["rows"]), 1)
        sub = grid[r][1]
        if sub is not None:
            sub["text"] = row["sub_title"]
        for c in row["cells"]:
            col = year_col.get(c["fiscal_year"])
            target = grid[r][col] if col is not None else None
            if target is None or col is None:
                continue
            target.update(text=c["text"], kind=c["kind"])
            if c["col_span"] > 1 or c["row_span"] > 1:
                span(r, col, c["row_span"], c["col_span"])
    return [[cell for cell in row if cell is not None] for row in grid]
