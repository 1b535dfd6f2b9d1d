"""The close-out report of a plan (計画期間の総括) as a workbook.

Written from the ``PlanSummary`` (reporting.selectors.summary) the screen and the document
(reporting.documents.closing) show, through portal_lib.sheet_writing.set_cell and laid out
by portal_lib.xlsx_layout: fitted to the page width (never to one page), text wrapped,
figures as numeric cells.
"""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from initiatives.selectors import rollup_figure, rollup_figure_kind
from portal_lib import era, xlsx_layout
from portal_lib.sheet_writing import set_cell
from reporting.selectors.summary import (
    PDCA,
    TITLE,
    PlanSummary,
    as_of_text,
    decision_total,
    number_value,
)


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
    set_cell(ws, 2, 1, f"基準日 {as_of_text(summary)}・取り組み {len(summary.initiatives)}件")
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
