"""The close-out report of a plan (計画期間の総括) as Word (.docx) and PDF.

Written from one ``PlanSummary`` (reporting.selectors.summary), the same the screen and the
workbook (reporting.workbooks.summary) show: a one-page summary (the figures with what they
rest on, the 27 procedures and 20 systems at the end, the indicators' grades, the final
decisions), then per basic policy and initiative each year's progress, the indicators'
targets and actuals with their grades, and the approved PDCA reviews. A review that is not
approved appears as 「未承認」 only.

Word is built from reporting.documents.parts (A4 landscape, page numbers), PDF from that
.docx by portal_lib.office.convert_to_pdf.
"""

from __future__ import annotations

from typing import Any

from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from initiatives.selectors import rollup_figure
from portal_lib import era
from portal_lib.office import convert_to_pdf
from reporting.documents import parts
from reporting.selectors.summary import (
    PDCA,
    TITLE,
    InitiativeSummary,
    PlanSummary,
    ReviewCell,
    as_of_text,
    decision_total,
    rollup_text,
)


def _review_heading(cell: ReviewCell) -> str:
    label = era.short_header(cell.fiscal_year)
    if cell.review is None:
        return f"{label} の振り返り:{cell.state_text}"
    grade = cell.review.get_self_grade_display() or "なし"
    return f"{label} の振り返り(承認済・自己評価 {grade})"


def _decision_lines(s: InitiativeSummary) -> list[tuple[str, str]]:
    """The final decision as (label, text) lines; Act and its note only when approved."""
    lines = [("最終年度の方針", s.decision_label)]
    if s.final is not None and s.final.review is not None:
        review = s.final.review
        lines.append(("Act(改善)", review.act_text or "—"))
        if review.carry_over_note:
            lines.append(("方針の説明", review.carry_over_note))
    return lines


MARGIN_MM = 15  # narrower than parts.MARGIN: the year columns need the room
PAGE_WIDTH_MM = 297 - 2 * MARGIN_MM  # A4 landscape less the margins


def _widths(count: int, widths: list[float] | None, first: float, total: float) -> list[float]:
    """Column widths in mm: ``widths`` as given, else ``first`` and the rest shared."""
    if widths is not None:
        return widths
    rest = (total - first) / max(count - 1, 1)
    return [first] + [rest] * (count - 1)


def _table(
    container: Any,
    header: list[str],
    rows: list[list[str]],
    *,
    size: float = 9,
    first: float = 45,
    widths: list[float] | None = None,
    tight: bool = False,
) -> Any:
    """A bordered table in ``container`` (the document or a cell): the columns ``widths``
    mm wide (or the first ``first`` mm and the others sharing the page's rest); the header
    shaded and repeated on every page. ``tight``: 1 mm cell margins (the summary page)."""
    table = container.add_table(rows=1 + len(rows), cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for i, w in enumerate(_widths(len(header), widths, first, PAGE_WIDTH_MM)):
        width = Mm(w)
        table.columns[i].width = width  # the grid LibreOffice reads
        for cell in table.columns[i].cells:
            cell.width = width  # the cells Word reads
    if tight:
        _cell_margins(table, Mm(1))
    for col, label in enumerate(header):
        cell = table.rows[0].cells[col]
        cell.text = parts.text(label)
        for run in cell.paragraphs[0].runs:
            run.bold = True
        parts.shade(cell)
    parts.repeat_header(table.rows[0])
    for r, values in enumerate(rows, start=1):
        parts.cant_split(table.rows[r])
        for col, value in enumerate(values):
            table.rows[r].cells[col].text = parts.text(value)
    parts.table_font_size(table, size)
    return table


def _cell_margins(table: Any, margin: Any) -> None:
    """The table's default cell margins (left and right; top and bottom none)."""
    tbl_pr = table._tbl.tblPr
    mar = OxmlElement("w:tblCellMar")
    for side, value in (("top", 0), ("left", margin), ("bottom", 0), ("right", margin)):
        element = OxmlElement(f"w:{side}")
        element.set(qn("w:w"), str(int(value.twips) if value else 0))
        element.set(qn("w:type"), "dxa")
        mar.append(element)
    look = tbl_pr.find(qn("w:tblLook"))  # the schema's order: tblCellMar before tblLook
    if look is not None:
        look.addprevious(mar)
    else:
        tbl_pr.append(mar)


def _note(container: Any, text: str, *, size: float = 8.5) -> None:
    p = container.add_paragraph(parts.text(text))
    p.paragraph_format.space_after = Pt(1)
    for run in p.runs:
        run.font.size = Pt(size)


def _caption(container: Any, text: str, *, first: bool = False) -> None:
    """A small bold heading above a table on the summary page."""
    # A cell ends with an empty paragraph after its last table: the caption takes it.
    last = container.paragraphs[-1] if hasattr(container, "_tc") else None
    p = last if last is not None and not last.text else container.add_paragraph()
    p.paragraph_format.space_before = Pt(0 if first else 6)
    p.paragraph_format.space_after = Pt(2)
    p.paragraph_format.keep_with_next = True
    run = p.add_run(parts.text(text))
    run.bold = True
    run.font.size = Pt(10)


def _labelled(document: Any, label: str, text: str) -> None:
    p = document.add_paragraph()
    p.paragraph_format.space_after = Pt(2)
    p.add_run(f"{label}:").bold = True
    p.add_run(parts.text(text or "—"))


# The summary page: two columns side by side (a borderless layout table), LEFT_MM and
# RIGHT_MM wide; the tables inside are 4 mm narrower than their column (its cell margins).
LEFT_MM, RIGHT_MM = 148.0, 119.0


def _summary_page(document: Any, summary: PlanSummary) -> None:
    """Page 1: the figures and the 27 / 20 on the left, the grades and the decisions on the
    right, the rules under both; every table 8 pt."""
    plan = summary.plan
    title = document.add_heading(f"{plan.name} {TITLE}({plan.period_label})", level=1)
    title.paragraph_format.space_before = Pt(0)
    _note(
        document,
        f"基準日 {as_of_text(summary)}・取り組み {len(summary.initiatives)}件",
    )
    layout = document.add_table(rows=1, cols=2)
    layout.autofit = False
    left, right = layout.rows[0].cells
    for i, width in enumerate((LEFT_MM, RIGHT_MM)):
        layout.columns[i].width = Mm(width)
        layout.rows[0].cells[i].width = Mm(width)
    labels = summary.year_labels
    inner = LEFT_MM - 4
    label_mm = 32.0
    _caption(left, "年度ごとの進捗率", first=True)
    _table(
        left,
        ["対象"] + labels,
        [
            [g.label] + [f"{rollup_figure(r)}\n報告 {r.reported}/{r.total}件" for r in g.rollups]
            for g in [summary.overall, *summary.policies]
        ],
        size=8,
        widths=[label_mm] + [(inner - label_mm) / len(labels)] * len(labels),
        tight=True,
    )
    if summary.countables:
        _caption(left, "数値目標(計画期間の終わりの状況)")
        _table(
            left,
            ["目標", "期限", "目標数", "完了", "うち期限内", "期限後", "確認済み"],
            [
                [
                    c.target.name,
                    c.deadline_label,
                    str(c.target_count),
                    str(c.done),
                    str(c.done_by_deadline),
                    str(c.late),
                    f"{c.confirmed} / {c.registered}",
                ]
                for c in summary.countables
            ],
            size=8,
            widths=[40, 28, 13, 13, 19, 13, inner - 126],
            tight=True,
        )
    inner = RIGHT_MM - 4
    label_mm = 24.0
    _caption(right, f"指標の評価(指標 {summary.indicator_count}件)", first=True)
    _table(
        right,
        ["評価"] + [label.replace(" ", "\n") for label in labels] + ["最終評価"],
        [[g.label] + [str(n) for n in g.counts] + [str(g.final)] for g in summary.grades],
        size=8,
        widths=[label_mm] + [(inner - label_mm) / (len(labels) + 1)] * (len(labels) + 1),
        tight=True,
    )
    _caption(right, "最終年度の振り返りによる方針")
    _table(
        right,
        ["方針", "取り組み数"],
        [[label, str(n)] for _key, label, n in summary.decisions]
        + [["計", str(decision_total(summary))]],
        size=8,
        widths=[inner - 25, 25],
        tight=True,
    )
    _note(document, f"集計の方法:{summary.rule_text}", size=8)
    _note(document, f"評価の基準:{summary.grade_rule} {summary.final_grade_rule}", size=8)


def closing_document(summary: PlanSummary) -> bytes:
    """The close-out report as Word: A4 landscape, the summary on the first page."""
    document = parts.new_document(landscape=True, font_size=10)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(document.sections[0], side, Mm(MARGIN_MM))
    parts.page_number_footer(document.sections[0], f"{summary.plan.name} {TITLE}")
    _summary_page(document, summary)
    labels = summary.year_labels
    for section in summary.sections:
        document.add_page_break()
        document.add_heading(str(section.policy), level=1)
        _table(
            document,
            ["進捗率"] + labels,
            [["基本方針"] + [rollup_text(r) for r in section.row.rollups]],
        )
        for s in section.initiatives:
            _initiative_docx(document, summary, s)
    return parts.docx_bytes(document)


def _initiative_docx(document: Any, summary: PlanSummary, s: InitiativeSummary) -> None:
    ini = s.initiative
    wg = f"({ini.working_group.name})" if ini.working_group else ""
    document.add_heading(f"{ini.code} {ini.title}{wg}", level=2)
    rows = [["進捗"] + [y.text for y in s.years] + [""]]
    for row in s.indicators:
        unit = f"({row.indicator.unit})" if row.indicator.unit else ""
        rows.append(
            [f"{row.indicator.name}{unit}"]
            + [
                f"目標 {c.target_text} / 実績 {c.actual_text} / {c.grade_text}"
                for c in row.year_cells
            ]
            + [f"{row.final_grade_text}({era.short_header(row.final_year)})"]
        )
    years = len(summary.year_labels)
    # The indicator's name gets the room; a year's 「目標 600 / 実績 660 / A」 takes two lines.
    name_mm, final_mm = 62.0, 22.0
    _table(
        document,
        ["項目"] + summary.year_labels + ["最終評価"],
        rows,
        size=8.5,
        widths=[name_mm] + [(PAGE_WIDTH_MM - name_mm - final_mm) / years] * years + [final_mm],
    )
    for cell in s.review_cells:
        if cell.review is None and not cell.unapproved:
            continue
        p = document.add_paragraph()
        p.paragraph_format.space_before = Pt(6)
        p.paragraph_format.space_after = Pt(2)
        p.paragraph_format.keep_with_next = cell.review is not None
        p.add_run(parts.text(_review_heading(cell))).bold = True
        if cell.review is not None:
            _table(
                document,
                [label for label, _ in PDCA],
                [[getattr(cell.review, attr) or "—" for _, attr in PDCA]],
                first=PAGE_WIDTH_MM / 4,
            )
    for label, text in _decision_lines(s):
        _labelled(document, label, text)


def closing_pdf(summary: PlanSummary) -> bytes:
    """The Word document as PDF (LibreOffice; OfficeError with a message when it cannot)."""
    return convert_to_pdf(closing_document(summary), suffix=".docx")
