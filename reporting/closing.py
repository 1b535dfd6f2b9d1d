"""The close-out report of a plan (計画期間の総括) as files: Word (.docx), PDF and Excel.

All three are written from one ``PlanSummary`` (reporting.selectors.summary), the same the
screen shows: a one-page summary (the figures with what they rest on, the 27 procedures and
20 systems at the end, the indicators' grades, the final decisions), then per basic policy
and initiative each year's progress, the indicators' targets and actuals with their grades,
and the approved PDCA reviews. A review that is not approved appears as 「未承認」 only.

Word is built from reporting.docx_parts (A4 landscape, page numbers), PDF from that .docx by
portal_lib.office.convert_to_pdf, Excel through portal_lib.sheet_writing.set_cell and laid out
by portal_lib.xlsx_layout: fitted to the page width (never to one page), text wrapped,
figures as numeric cells.
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl.utils import get_column_letter

from initiatives.selectors import rollup_figure, rollup_figure_kind
from portal_lib import era, xlsx_layout
from portal_lib.office import convert_to_pdf
from portal_lib.sheet_writing import set_cell
from reporting import docx_parts
from reporting.selectors.summary import (
    InitiativeSummary,
    PlanSummary,
    ReviewCell,
    number_value,
)

TITLE = "計画期間の総括"
PDCA = (
    ("Plan(計画)", "plan_text"),
    ("Do(実行)", "do_text"),
    ("Check(評価)", "check_text"),
    ("Act(改善)", "act_text"),
)


def filename(summary: PlanSummary, suffix: str) -> str:
    return f"{summary.plan.name} {TITLE}.{suffix}"


def rollup_text(r: Any) -> str:
    """A roll-up in one line: its figure by the one rule (rollup_figure) and its basis."""
    return f"{rollup_figure(r)}(報告 {r.reported}/{r.total}件)"


def _as_of_text(summary: PlanSummary) -> str:
    return era.format_date(summary.as_of) if summary.as_of else ""


def decision_total(summary: PlanSummary) -> int:
    """The decisions table's 「計」: every initiative counted once, in one of its rows."""
    return sum(n for _key, _label, n in summary.decisions)


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


# --------------------------------------------------------------------------------------------
# Word (.docx) and PDF
# --------------------------------------------------------------------------------------------


MARGIN_MM = 15  # narrower than docx_parts.MARGIN: the year columns need the room
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
        cell.text = docx_parts.text(label)
        for run in cell.paragraphs[0].runs:
            run.bold = True
        docx_parts.shade(cell)
    docx_parts.repeat_header(table.rows[0])
    for r, values in enumerate(rows, start=1):
        docx_parts.cant_split(table.rows[r])
        for col, value in enumerate(values):
            table.rows[r].cells[col].text = docx_parts.text(value)
    docx_parts.table_font_size(table, size)
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
    p = container.add_paragraph(docx_parts.text(text))
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
    run = p.add_run(docx_parts.text(text))
    run.bold = True
    run.font.size = Pt(10)


def _labelled(document: Any, label: str, text: str) -> None:
    p = document.add_paragraph()
    p.paragraph_format.space_after = Pt(2)
    p.add_run(f"{label}:").bold = True
    p.add_run(docx_parts.text(text or "—"))


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
        f"基準日 {_as_of_text(summary)}・取り組み {len(summary.initiatives)}件",
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
    document = docx_parts.new_document(landscape=True, font_size=10)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(document.sections[0], side, Mm(MARGIN_MM))
    docx_parts.page_number_footer(document.sections[0], f"{summary.plan.name} {TITLE}")
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
    return docx_parts.docx_bytes(document)


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
        p.add_run(docx_parts.text(_review_heading(cell))).bold = True
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


# --------------------------------------------------------------------------------------------
# Excel (.xlsx): readable on A4 (fitted to the width), figures as numbers
# --------------------------------------------------------------------------------------------


def _box(ws: Any, top: int, bottom: int, left: int, right: int) -> None:
    """Borders and wrapping on a table's body; the header row above it styled."""
    xlsx_layout.style_header(ws, row=top, first_column=left, last_column=right)
    for row in ws.iter_rows(min_row=top + 1, max_row=bottom, min_col=left, max_col=right):
        for cell in row:
            cell.border = xlsx_layout.BORDER
            cell.alignment = xlsx_layout.WRAP_TOP


def _percent_cell(ws: Any, row: int, col: int, r: Any) -> None:
    """The roll-up's figure: a % number cell, or 「未報告」 / "—" as the one rule says."""
    if rollup_figure_kind(r) == "percent":
        set_cell(
            ws, row, col, float(r.percent) / 100
        ).number_format = xlsx_layout.PERCENT_1DP_FORMAT
    else:
        set_cell(ws, row, col, rollup_figure(r))


# The summary sheet prints on one A4 landscape page in two blocks side by side: the figures
# (A–H) over the 27 / 20, a gap column, then the grades (J–Q) over the decisions; the rules
# under both. Widths in Excel's units; the sheet is fitted to the page width only.
RIGHT = 10  # column J
SUMMARY_WIDTHS = {1: 18.0, 2: 17.0, RIGHT - 1: 2.0, RIGHT: 17.0}


def _caption_cell(ws: Any, row: int, first: int, last: int, text: str) -> None:
    """A table's caption in bold, merged over the table's width (one line, never wrapped)."""
    set_cell(ws, row, first, text).font = xlsx_layout.HEADER_FONT
    ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)


def _summary_sheet(ws: Any, summary: PlanSummary) -> None:
    years = summary.years
    n = len(years)
    left_last = 2 + n  # 対象, 項目, the years
    right_last = RIGHT + n + 1  # 評価, the years, 最終評価
    plan = summary.plan
    set_cell(ws, 1, 1, f"{plan.name} {TITLE}({plan.period_label})").font = xlsx_layout.HEADER_FONT
    set_cell(ws, 2, 1, f"基準日 {_as_of_text(summary)}・取り組み {len(summary.initiatives)}件")
    for r in (1, 2):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=right_last)

    # left: the figures, three rows a group (numbers as numbers), then the 27 / 20
    row = 3
    _caption_cell(ws, row, 1, left_last, "年度ごとの進捗率")
    row += 1
    for col, text in enumerate(["対象", "項目", *summary.year_labels], start=1):
        set_cell(ws, row, col, text)
    top = row
    for g in [summary.overall, *summary.policies]:
        first = row + 1
        for label, getter in (
            ("進捗率", None),
            ("報告した取り組み", lambda r: r.reported),
            ("取り組み数", lambda r: r.total),
        ):
            row += 1
            set_cell(ws, row, 2, label)
            for i, r in enumerate(g.rollups):
                if getter is None:
                    _percent_cell(ws, row, 3 + i, r)
                else:
                    set_cell(ws, row, 3 + i, getter(r))
        set_cell(ws, first, 1, g.label)
        ws.merge_cells(start_row=first, start_column=1, end_row=row, end_column=1)
    _box(ws, top, row, 1, left_last)
    if summary.countables:
        row += 2
        _caption_cell(ws, row, 1, left_last, "数値目標(計画期間の終わりの状況)")
        row += 1
        top = row
        header = [
            "数値目標",
            "期限",
            "目標数",
            "完了",
            "うち期限内",
            "期限後",
            "確認済み",
            "登録数",
        ]
        for col, text in enumerate(header, start=1):
            set_cell(ws, row, col, text)
        for c in summary.countables:
            row += 1
            values = [
                c.target.name,
                c.deadline_label,
                c.target_count,
                c.done,
                c.done_by_deadline,
                c.late,
                c.confirmed,
                c.registered,
            ]
            for col, value in enumerate(values, start=1):
                set_cell(ws, row, col, value)
        _box(ws, top, row, 1, len(header))
    left_end = row

    # right: the grades, then the decisions with their total
    row = 3
    _caption_cell(ws, row, RIGHT, right_last, f"指標の評価(指標 {summary.indicator_count}件)")
    row += 1
    top = row
    for col, text in enumerate(["評価", *summary.year_labels, "最終評価"], start=RIGHT):
        set_cell(ws, row, col, text)
    for g in summary.grades:
        row += 1
        set_cell(ws, row, RIGHT, g.label)
        for i, count in enumerate(g.counts):
            set_cell(ws, row, RIGHT + 1 + i, count)
        set_cell(ws, row, right_last, g.final)
    _box(ws, top, row, RIGHT, right_last)
    row += 2
    _caption_cell(ws, row, RIGHT, right_last, "最終年度の振り返りによる方針")
    row += 1
    top = row
    label_end = RIGHT + 3  # the label merged over J–M, the count in N
    set_cell(ws, row, RIGHT, "方針")
    set_cell(ws, row, label_end + 1, "取り組み数")
    lines = [(label, count) for _key, label, count in summary.decisions]
    for label, count in [*lines, ("計", decision_total(summary))]:
        row += 1
        set_cell(ws, row, RIGHT, label)
        set_cell(ws, row, label_end + 1, count)
    for r in range(top, row + 1):
        ws.merge_cells(start_row=r, start_column=RIGHT, end_row=r, end_column=label_end)
    _box(ws, top, row, RIGHT, label_end + 1)
    ws.cell(row, RIGHT).font = xlsx_layout.HEADER_FONT  # 計
    ws.cell(row, label_end + 1).font = xlsx_layout.HEADER_FONT

    # under both: how the figures and the grades are made
    row = max(left_end, row) + 2
    for text in (
        f"集計の方法:{summary.rule_text}",
        f"評価の基準:{summary.grade_rule} {summary.final_grade_rule}",
    ):
        set_cell(ws, row, 1, text).alignment = xlsx_layout.WRAP_TOP
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=right_last)
        row += 1

    widths = {c: 9.5 for c in range(1, right_last + 1)}
    widths.update(SUMMARY_WIDTHS)
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = width
    xlsx_layout.fit_row_heights(ws, first_row=1)
    xlsx_layout.print_setup(ws, landscape=True, header_rows=None, title=TITLE)


def _table_sheet(
    wb: Any,
    name: str,
    header: list[str],
    rows: list[list[Any]],
    *,
    title: str,
    fixed: dict[int, float],
    formats: dict[int, str] | None = None,
) -> Any:
    ws = wb.create_sheet(name)
    for col, text in enumerate(header, start=1):
        set_cell(ws, 1, col, text)
    for r, values in enumerate(rows, start=2):
        for col, value in enumerate(values, start=1):
            set_cell(ws, r, col, value)
    xlsx_layout.layout_table(
        ws,
        header_row=1,
        landscape=True,
        title=title,
        fixed_widths=fixed,
        number_formats=formats,
    )
    return ws


def closing_workbook(summary: PlanSummary) -> bytes:
    """The close-out as an office prints it: the summary, then one sheet per view."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "総括"
    _summary_sheet(ws, summary)

    progress = []
    for s in summary.initiatives:
        ini = s.initiative
        for y in s.years:
            progress.append(
                [
                    ini.code,
                    ini.title,
                    ini.working_group.name if ini.working_group else "",
                    era.short_header(y.fiscal_year),
                    y.status_label,
                    y.percent / 100 if y.percent is not None else None,
                    y.date,
                ]
            )
    _table_sheet(
        wb,
        "進捗",
        ["番号", "取り組み", "WG", "年度", "状況", "進捗率", "最終記録日"],
        progress,
        title="取り組みごとの進捗",
        fixed={2: 36, 3: 18, 7: 18},
        formats={6: xlsx_layout.PERCENT_FORMAT, 7: xlsx_layout.WAREKI_DATE_FORMAT},
    )

    indicators = []
    for s in summary.initiatives:
        for row in s.indicators:
            for c in row.year_cells:
                indicators.append(
                    [
                        s.initiative.code,
                        row.indicator.name,
                        row.indicator.unit,
                        era.short_header(c.fiscal_year),
                        number_value(c.target),
                        number_value(c.actual),
                        c.grade_text,
                        row.final_grade_text if c.fiscal_year == row.final_year else "",
                    ]
                )
    ws = _table_sheet(
        wb,
        "指標",
        ["番号", "指標", "単位", "年度", "目標", "実績", "評価", "最終評価"],
        indicators,
        title="指標と評価",
        fixed={2: 36, 7: 16, 8: 16},
    )
    _rule_under(ws, f"評価の基準:{summary.grade_rule} {summary.final_grade_rule}")

    reviews = []
    for s in summary.initiatives:
        for cell in s.review_cells:
            if cell.review is None and not cell.unapproved:
                continue
            review = cell.review
            reviews.append(
                [
                    s.initiative.code,
                    s.initiative.title,
                    era.short_header(cell.fiscal_year),
                    cell.state_text,
                    review.get_self_grade_display() if review else "",
                    *((getattr(review, attr) if review else "") for _, attr in PDCA),
                ]
            )
    _table_sheet(
        wb,
        "振り返り",
        ["番号", "取り組み", "年度", "状態", "自己評価", *(label for label, _ in PDCA)],
        reviews,
        title="PDCAの振り返り(承認済みのもの)",
        fixed={2: 20, 5: 12, 6: 27, 7: 27, 8: 27, 9: 27},
    )

    decisions = []
    for s in summary.initiatives:
        review = s.final.review if s.final is not None else None
        decisions.append(
            [
                s.initiative.code,
                s.initiative.title,
                s.initiative.working_group.name if s.initiative.working_group else "",
                s.decision_label,
                review.act_text if review else "",
                review.carry_over_note if review else "",
            ]
        )
    _table_sheet(
        wb,
        "最終年度の方針",
        ["番号", "取り組み", "WG", "方針", "Act(改善)", "方針の説明"],
        decisions,
        title=f"{era.short_header(summary.final_year)}の振り返りによる方針",
        fixed={2: 30, 3: 18, 4: 16, 5: 45, 6: 40},
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rule_under(ws: Any, text: str) -> None:
    """A note under a table, merged across it, with the height its wrapped text needs."""
    row = ws.max_row + 2
    set_cell(ws, row, 1, text).alignment = xlsx_layout.WRAP_TOP
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=ws.max_column)
    xlsx_layout.fit_row_heights(ws, first_row=row, last_row=row)
