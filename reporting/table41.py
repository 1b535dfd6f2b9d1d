"""Table 4-1 (スケジュール予定) read back and compared with the plan: a spec on the import
framework (portal_lib.importing). The workbook itself is `reporting.workbooks.table41`.

Reading accepts what Excel or LibreOffice save after a person edited the export: any title
rows above the header (the header is the row whose cell reads 項目), years in any form
`era.parse_fiscal_year` accepts, merged cells, an empty 項目 cell continuing the item above,
trailing empty rows and columns.

Writes live in `reporting.services.schedule.schedule_import_apply`; this module only reads and compares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from initiatives.models import CountableTarget, SystemGroup
from plans.models import LEASE_STATUSES, MARKERS, Plan, ScheduleCell, ScheduleItem, ScheduleRow
from portal_lib import era
from portal_lib.importing import ErrorLog, Fingerprint, Heading, find_header, merged_spans
from portal_lib.sheet_reading import (
    FullSheet,
    ImportLimits,
    SpreadsheetError,
    display_value,
    read_full_sheets,
)
from reporting.workbooks.table41 import ITEM_HEADER, SUB_HEADER, schedule_items

TABLE41_LIMITS = ImportLimits(max_rows=2000, max_cells=100_000, max_text_bytes=8 * 1024 * 1024)
HEADER_SEARCH_ROWS = 30  # the header is within a sheet's first rows, under any title rows
MAX_KEPT_ERRORS = 200  # problems kept with their cells; the rest are only counted
HEADINGS = [Heading("item", ITEM_HEADER, required=True), Heading("sub", SUB_HEADER)]


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass
class ParsedCell:
    fiscal_year: int
    text: str
    col_span: int = 1
    row_span: int = 1
    sheet_row: int = 0
    sheet_col: int = 0


@dataclass
class ParsedRow:
    sub_title: str
    sheet_row: int
    cells: dict[int, ParsedCell] = field(default_factory=dict)


@dataclass
class ParsedItem:
    title: str
    sheet_row: int
    rows: list[ParsedRow] = field(default_factory=list)


@dataclass
class ParsedSchedule:
    sheet: str
    years: list[int]
    header_labels: dict[int, str]
    items: list[ParsedItem]
    sub_col: int = 2


_text = display_value


def _sheet_rows(ws: FullSheet) -> Any:
    """Every row of a sheet from the top, empty ones too (the header search counts rows)."""
    return ((ws.title, r, ws.row(r)) for r in range(1, ws.max_row + 1))


def read_schedule(data: bytes, filename: str, plan: Plan) -> ParsedSchedule:
    """Parse an uploaded table 4-1 workbook. Raises SpreadsheetError with every problem."""
    # The full (not read-only) openpyxl load keeps every cell as an object: table 4-1 is a
    # one-page table, so its bounds are far below the bulk sheets'.
    # Read in the bounded reader process; the checks count merged ranges cell by cell.
    sheets = read_full_sheets(data, filename, TABLE41_LIMITS)
    errors = ErrorLog(MAX_KEPT_ERRORS, per_column=False)
    found = next(
        (
            (candidate, match)
            for candidate in sheets
            if (
                match := find_header(
                    _sheet_rows(candidate), HEADINGS, search_rows=HEADER_SEARCH_ROWS
                )
            )
        ),
        None,
    )
    if found is None:
        raise SpreadsheetError(
            f"見出し行(「{ITEM_HEADER}」「{SUB_HEADER}」と年度の列)が見つかりません。"
            "表4-1のエクスポートファイルを編集して使ってください。"
        )
    ws, match = found
    sheet, header_row = ws.title, match.number
    header = [_text(v) for v in ws.row(header_row)]
    item_col = match.first["item"] + 1
    if "sub" not in match.first:
        errors.add_cell(
            sheet,
            header_row,
            item_col + 1,
            "",
            header[item_col] if len(header) > item_col else "",
            f"「{SUB_HEADER}」の列が見つかりません。",
        )
        raise errors.error()
    sub_col = match.first["sub"] + 1
    year_cols: dict[int, int] = {}
    labels: dict[int, str] = {}
    for col in range(sub_col + 1, len(header) + 1):
        label = header[col - 1]
        if not label:
            continue  # trailing empty columns
        try:
            fy = era.parse_fiscal_year(label)
        except era.EraError as exc:
            errors.add_cell(sheet, header_row, col, "見出し", label, str(exc))
            continue
        if not plan.covers(fy):
            errors.add_cell(
                sheet,
                header_row,
                col,
                "見出し",
                label,
                f"計画期間({plan.period_label})外の年度です。",
            )
            continue
        if fy in year_cols.values():
            errors.add_cell(sheet, header_row, col, "見出し", label, "年度が重複しています。")
            continue
        year_cols[col] = fy
        labels[fy] = label
    missing = [fy for fy in plan.fiscal_years if fy not in year_cols.values()]
    if missing and not errors:
        errors.add(
            f"シート「{sheet}」{header_row}行目: 年度の列が足りません"
            f"({'、'.join(era.short_header(fy) for fy in missing)})。"
        )
    errors.raise_if_any()

    anchors, covered = merged_spans(ws.merged)
    last_year_col = max(year_cols)
    items: list[ParsedItem] = []
    for r in range(header_row + 1, ws.max_row + 1):
        item_value = _text(ws.value(r, item_col))
        sub_value = _text(ws.value(r, sub_col))
        item_covered = (r, item_col) in covered
        cells: dict[int, ParsedCell] = {}
        for col, fy in year_cols.items():
            if (r, col) in covered:
                continue
            text = _text(ws.value(r, col))
            if not text:
                continue
            row_span, col_span = anchors.get((r, col), (1, 1))
            if col_span > 1:
                # only year columns count; a merge reaching beyond the table is clipped
                col_span = sum(
                    1 for c in range(col, min(col + col_span, last_year_col + 1)) if c in year_cols
                )
            cells[fy] = ParsedCell(fy, text, col_span, row_span, r, col)
        if not item_value and not sub_value and not cells:
            # An empty line (cleared by hand, or trailing rows Excel keeps formatted), even
            # inside the merged 項目 cell, carries nothing: it is not a schedule line.
            continue
        if item_value and not item_covered:
            items.append(ParsedItem(item_value, r))
        elif not items:
            errors.add_cell(
                sheet,
                r,
                item_col,
                ITEM_HEADER,
                item_value,
                "最初の行の項目が空です。項目名を入力してください。",
            )
            continue
        items[-1].rows.append(ParsedRow(sub_value, r, cells))
    errors.raise_if_any()
    if not items:
        raise SpreadsheetError(f"シート「{sheet}」にスケジュールの行がありません。")
    return ParsedSchedule(sheet, list(year_cols.values()), labels, items, sub_col)


# --------------------------------------------------------------------------------------------
# Comparing with the database
# --------------------------------------------------------------------------------------------


@dataclass
class Change:
    action: str  # "added" | "changed" | "removed"
    target: str
    field: str = ""
    old: str = ""
    new: str = ""

    @property
    def action_label(self) -> str:
        return {"added": "追加", "changed": "変更", "removed": "削除"}[self.action]


@dataclass
class RowPlan:
    """What to do with one spreadsheet row (matched to `row` if it exists)."""

    parsed: ParsedRow
    row: ScheduleRow | None
    line: int
    is_lease: bool


@dataclass
class ItemPlan:
    parsed: ParsedItem
    item: ScheduleItem | None
    order: int
    rows: list[RowPlan] = field(default_factory=list)
    removed_rows: list[ScheduleRow] = field(default_factory=list)


@dataclass
class ScheduleDiff:
    items: list[ItemPlan]
    removed_items: list[ScheduleItem]
    changes: list[Change]

    @property
    def fingerprint(self) -> str:
        raw = json.dumps([c.__dict__ for c in self.changes], ensure_ascii=False, sort_keys=True)
        return Fingerprint(raw).hexdigest()

    def counts(self) -> dict[str, int]:
        out = {"added": 0, "changed": 0, "removed": 0}
        for c in self.changes:
            out[c.action] += 1
        return out


def cell_kind(text: str, *, is_lease: bool) -> str:
    if text in MARKERS:
        return ScheduleCell.Kind.MARKER
    if is_lease:
        return ScheduleCell.Kind.STATUS
    return ScheduleCell.Kind.TEXT


def _match_rows(old: list[ScheduleRow], new: list[ParsedRow]) -> list[ScheduleRow | None]:
    """Pair file lines with stored lines: a 副項目 that is unique on both sides pairs by
    name (so a removed or inserted lease line does not shift the others); lines without a
    副項目 (or with a repeated one) pair by position; what is left over is added or removed."""
    old_subs = [o.sub_title for o in old]
    new_subs = [n.sub_title for n in new]
    unique = {s for s in new_subs if s and new_subs.count(s) == 1 and old_subs.count(s) == 1}
    result: list[ScheduleRow | None] = [
        old[old_subs.index(n.sub_title)] if n.sub_title in unique else None for n in new
    ]
    # A 副項目 found on one side only is a line added or removed, never a rename.
    rest = [
        o for o in old if o.sub_title not in unique and (not o.sub_title or o.sub_title in new_subs)
    ]
    for i, n in enumerate(new):
        if n.sub_title in unique or (n.sub_title and n.sub_title not in old_subs):
            continue
        if rest:
            result[i] = rest.pop(0)
    return result


def _cell_label(fy: int) -> str:
    return era.short_header(fy)


def _span_text(col_span: int, row_span: int) -> str:
    parts = []
    if col_span > 1:
        parts.append(f"横{col_span}年度")
    if row_span > 1:
        parts.append(f"縦{row_span}行")
    return "・".join(parts) + "結合" if parts else "結合なし"


def diff_schedule(plan: Plan, parsed: ParsedSchedule) -> ScheduleDiff:
    """Compare a parsed file with the database; raises SpreadsheetError on invalid content."""
    old_items = schedule_items(plan)
    by_title: dict[str, list[ScheduleItem]] = {}
    for it in old_items:
        by_title.setdefault(it.title, []).append(it)
    plans: list[ItemPlan] = []
    changes: list[Change] = []
    errors = ErrorLog(MAX_KEPT_ERRORS, per_column=False)
    matched_ids: set[int] = set()
    year_col_label = parsed.header_labels

    for order, p_item in enumerate(parsed.items, start=1):
        candidates = by_title.get(p_item.title, [])
        item = candidates.pop(0) if candidates else None
        ip = ItemPlan(p_item, item, order)
        plans.append(ip)
        if item is None:
            changes.append(Change("added", f"項目「{p_item.title}」", "項目", "", p_item.title))
            old_rows: list[ScheduleRow] = []
        else:
            matched_ids.add(item.pk)
            old_rows = sorted(item.rows.all(), key=lambda x: x.line)
        lease_item = any(hasattr(r, "lease") for r in old_rows) if old_rows else False
        matches = _match_rows(old_rows, p_item.rows)
        matched_rows = {m.pk for m in matches if m is not None}
        for line, (p_row, row) in enumerate(zip(p_item.rows, matches, strict=True), start=1):
            is_lease = lease_item or (row is not None and hasattr(row, "lease"))
            ip.rows.append(RowPlan(p_row, row, line, is_lease))
            target = f"「{p_item.title}」{line}行目"
            if is_lease and not p_row.sub_title:
                errors.add_cell(
                    parsed.sheet,
                    p_row.sheet_row,
                    parsed.sub_col,
                    SUB_HEADER,
                    "",
                    "リースの行には副項目(リース名)を入力してください。",
                )
            if row is None:
                changes.append(Change("added", target, "行", "", p_row.sub_title or "(副項目なし)"))
                old_cells: dict[int, ScheduleCell] = {}
            else:
                if row.sub_title != p_row.sub_title:
                    changes.append(
                        Change("changed", target, SUB_HEADER, row.sub_title, p_row.sub_title)
                    )
                old_cells = {c.fiscal_year: c for c in row.cells.all()}
            for fy, pc in p_row.cells.items():
                kind = cell_kind(pc.text, is_lease=is_lease)
                probe = ScheduleCell(
                    fiscal_year=fy,
                    kind=kind,
                    text=pc.text,
                    col_span=pc.col_span,
                    row_span=pc.row_span,
                )
                try:
                    probe.full_clean(
                        exclude=["row"], validate_unique=False, validate_constraints=False
                    )
                except ValidationError as exc:
                    for messages in exc.message_dict.values():
                        for m in messages:
                            if (
                                is_lease
                                and kind == ScheduleCell.Kind.STATUS
                                and pc.text not in LEASE_STATUSES
                            ):
                                m = f"リースの状況は {'、'.join(LEASE_STATUSES)} のいずれかを入力してください。"
                            errors.add_cell(
                                parsed.sheet,
                                pc.sheet_row,
                                pc.sheet_col,
                                year_col_label.get(fy, ""),
                                pc.text,
                                m,
                            )
                    continue
                cell_target = f"{target} {_cell_label(fy)}"
                old = old_cells.get(fy)
                if old is None:
                    changes.append(Change("added", cell_target, "セル", "", pc.text))
                    continue
                if old.text != pc.text:
                    changes.append(Change("changed", cell_target, "内容", old.text, pc.text))
                if (old.col_span, old.row_span) != (pc.col_span, pc.row_span):
                    changes.append(
                        Change(
                            "changed",
                            cell_target,
                            "結合",
                            _span_text(old.col_span, old.row_span),
                            _span_text(pc.col_span, pc.row_span),
                        )
                    )
            for fy, old in sorted(old_cells.items()):
                if fy not in p_row.cells:
                    changes.append(
                        Change("removed", f"{target} {_cell_label(fy)}", "セル", old.text, "")
                    )
        if row_line_changes := [
            (m, line) for line, m in enumerate(matches, start=1) if m is not None and m.line != line
        ]:
            for m, line in row_line_changes:
                changes.append(
                    Change(
                        "changed",
                        f"「{p_item.title}」{m.line}行目",
                        "行番号",
                        str(m.line),
                        str(line),
                    )
                )
        for old_row in old_rows:
            if old_row.pk not in matched_rows:
                ip.removed_rows.append(old_row)
                changes.append(
                    Change(
                        "removed",
                        f"「{p_item.title}」{old_row.line}行目",
                        "行",
                        old_row.sub_title or "(副項目なし)",
                        "",
                    )
                )
        if item is not None and item.order != order:
            changes.append(
                Change("changed", f"項目「{p_item.title}」", "表示順", str(item.order), str(order))
            )
    removed_items = [it for it in old_items if it.pk not in matched_ids]
    for it in removed_items:
        changes.append(Change("removed", f"項目「{it.title}」", "項目", it.title, ""))
        for row in sorted(it.rows.all(), key=lambda x: x.line):
            changes.append(
                Change(
                    "removed",
                    f"「{it.title}」{row.line}行目",
                    "行",
                    row.sub_title or "(副項目なし)",
                    "",
                )
            )
    removed_rows = [r for ip in plans for r in ip.removed_rows]
    removed_rows += [r for it in removed_items for r in it.rows.all()]
    for row in removed_rows:
        for obj in linked_to_row(row):
            changes.append(
                Change(
                    "changed", f"{obj._meta.verbose_name}「{obj}」", "表4-1の行", str(row), "(なし)"
                )
            )
    errors.raise_if_any()
    return ScheduleDiff(plans, removed_items, changes)


def linked_to_row(row: ScheduleRow) -> list[Any]:
    """Countable targets and system groups pointing at a schedule line (unlinked on removal)."""
    return [
        *CountableTarget.objects.filter(schedule_row=row).order_by("pk"),
        *SystemGroup.objects.filter(schedule_row=row).order_by("pk"),
    ]


def preview_schedule(plan: Plan, data: bytes, filename: str) -> ScheduleDiff:
    """Read and compare; raises SpreadsheetError listing every problem in the file."""
    return diff_schedule(plan, read_schedule(data, filename, plan))
