"""Table 4-1 read as a list (the public page on a phone): each line's planned years, a cell
merged over years or over lines included, so that no line loses what the table shows."""

import pytest

from plans.models import ScheduleCell, ScheduleRow
from reporting.selectors.schedule import Period, schedule_matrix
from tests.factory import initiative

pytestmark = pytest.mark.django_db


def _periods(plan, current=2025):
    years, rows = schedule_matrix(plan, current)
    return {(r.row.item.title, r.row.sub_title): r.periods for r in rows}


def test_each_line_lists_its_years_merged_cells_included(personas):
    plan = initiative("2.1").policy.plan
    row = ScheduleRow.objects.get(item__plan=plan, item__title="かほく市総合計画")
    ScheduleCell.objects.filter(row=row).delete()
    ScheduleCell.objects.create(row=row, fiscal_year=2022, text="第3次総合計画策定", col_span=2)
    periods = _periods(plan)

    assert periods[("かほく市総合計画", row.sub_title)] == [
        Period(2022, 2023, "第3次総合計画策定", current=False)
    ]
    # The R7 migration cell spans the three group lines (three 項目): each line lists it,
    # marked as the current year's.
    migration = ScheduleCell.objects.get(row__item__plan=plan, row_span=3)
    text = migration.text
    covering = [key for key, ps in periods.items() if any(p.text == text for p in ps)]
    assert [sub for _, sub in covering] == ["第1グループ", "第2グループ", "第3グループ"]
    assert all(Period(2025, 2025, text, current=True) in periods[key] for key in covering)
    # Years in a row with the same text are one span (the plan itself: ○ every year).
    dx_plan = ScheduleRow.objects.get(item__plan=plan, item__title="かほく市DX推進計画")
    assert periods[("かほく市DX推進計画", dx_plan.sub_title)] == [
        Period(2021, 2026, "○", current=True)
    ]
    # Years in order on every line.
    assert all([p.first for p in ps] == sorted(p.first for p in ps) for ps in periods.values())
