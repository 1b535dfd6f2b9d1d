"""Reads for the table 4-1 screen (the schedule matrix)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Prefetch

from initiatives.models import (
    CountableTarget,
    SystemGroup,
)
from plans.models import (
    Plan,
    ScheduleCell,
    ScheduleRow,
)

# --------------------------------------------------------------------------------------------
# Schedule (table 4-1)
# --------------------------------------------------------------------------------------------


@dataclass
class MatrixCell:
    fiscal_year: int
    cell: ScheduleCell | None
    col_span: int = 1
    row_span: int = 1
    current: bool = False


@dataclass
class Period:
    """A planned span of one line read as a list (the public page on a phone): its first and
    last fiscal year and the cell's text, a merged cell from the lines above included."""

    first: int
    last: int
    text: str
    current: bool = False


@dataclass
class MatrixRow:
    row: ScheduleRow
    item_rowspan: int  # 0 = the 項目 cell above spans this line
    cells: list[MatrixCell]
    targets: list[CountableTarget]
    system_groups: list[SystemGroup]
    periods: list[Period] = field(default_factory=list)


def schedule_matrix(plan: Plan, current_fy: int) -> tuple[list[int], list[MatrixRow]]:
    """Table 4-1 as rows × fiscal years, with merged cells resolved into rowspan/colspan.

    A merged cell covers later lines in table order even across 項目 (the R7 migration
    milestone spans the three group rows); covered positions get no <td> at all.
    """
    years = plan.fiscal_years
    rows = list(
        ScheduleRow.objects.filter(item__plan=plan)
        .select_related("item", "initiative__policy")
        .prefetch_related(
            "cells",
            Prefetch("countable_targets", queryset=CountableTarget.objects.order_by("code")),
            Prefetch("system_groups", queryset=SystemGroup.objects.order_by("number")),
        )
        .order_by("item__order", "line")
    )
    item_sizes = Counter(r.item_id for r in rows)
    covered: set[tuple[int, int]] = set()  # (row index, fiscal year)
    result: list[MatrixRow] = []
    seen_items: set[int] = set()
    periods: dict[int, list[Period]] = {}
    for index, row in enumerate(rows):
        by_year = {c.fiscal_year: c for c in row.cells.all()}
        cells: list[MatrixCell] = []
        for fy in years:
            if (index, fy) in covered:
                continue
            cell = by_year.get(fy)
            if cell is None:
                cells.append(MatrixCell(fy, None, current=fy == current_fy))
                continue
            col_span = max(1, min(cell.col_span, years[-1] - fy + 1))
            row_span = max(1, min(cell.row_span, len(rows) - index))
            span_years = range(fy, fy + col_span)
            for r in range(index, index + row_span):
                for y in span_years:
                    if (r, y) != (index, fy):
                        covered.add((r, y))
            cells.append(MatrixCell(fy, cell, col_span, row_span, current=current_fy in span_years))
            for r in range(index, index + row_span):
                periods.setdefault(r, []).append(
                    Period(fy, fy + col_span - 1, cell.text, current_fy in span_years)
                )
        item_rowspan = 0
        if row.item_id not in seen_items:
            seen_items.add(row.item_id)
            item_rowspan = item_sizes[row.item_id]
        result.append(
            MatrixRow(
                row=row,
                item_rowspan=item_rowspan,
                cells=cells,
                targets=list(row.countable_targets.all()),
                system_groups=list(row.system_groups.all()),
            )
        )
    for index, matrix_row in enumerate(result):
        matrix_row.periods = _joined(sorted(periods.get(index, []), key=lambda p: p.first))
    return years, result


def _joined(periods: list[Period]) -> list[Period]:
    """Years in a row with the same text read as one span (○ every year: 令和3〜8年度)."""
    out: list[Period] = []
    for p in periods:
        if out and out[-1].text == p.text and out[-1].last + 1 == p.first:
            out[-1] = Period(out[-1].first, p.last, p.text, out[-1].current or p.current)
        else:
            out.append(p)
    return out
