"""Writes of a table 4-1 import (parsed and compared in reporting/table41.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models, transaction

from plans.models import (
    Lease,
    Plan,
    ScheduleCell,
    ScheduleItem,
    ScheduleRow,
)
from portal_lib.history import delete_with_user, save_with_user
from reporting import table41
from reporting.table41 import linked_to_row

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

# --------------------------------------------------------------------------------------------
# Table 4-1 import (issue 4). The file is parsed and compared in reporting/table41.py; this writes.
# --------------------------------------------------------------------------------------------


class ScheduleChangedError(Exception):
    """The data changed between the preview and the confirmation."""


def schedule_import_apply(
    *,
    plan: Plan,
    data: bytes,
    filename: str,
    user: PortalUser,
    expected_fingerprint: str | None = None,
) -> table41.ScheduleDiff:
    """Apply an uploaded table 4-1 file: everything or nothing, history naming ``user``.

    The file is parsed and compared again inside the transaction (never trusting what the
    browser re-posts); if the changes differ from the preview the user saw
    (``expected_fingerprint``), nothing is written and ScheduleChangedError is raised.
    """
    with transaction.atomic():
        # Lock the plan row so two confirmations cannot interleave.
        Plan.objects.select_for_update().filter(pk=plan.pk).first()
        diff = table41.preview_schedule(plan, data, filename)
        if expected_fingerprint is not None and diff.fingerprint != expected_fingerprint:
            raise ScheduleChangedError(
                "プレビューの後に表4-1が変更されました。もう一度ファイルを読み込んで確認してください。"
            )
        if not diff.changes:
            return diff

        for gone_item in diff.removed_items:
            for gone_row in gone_item.rows.all():
                _delete_row(gone_row, user)
            delete_with_user(gone_item, user)
        for ip in diff.items:
            for gone_row in ip.removed_rows:
                _delete_row(gone_row, user)

        # Orders and line numbers are unique; park the moving ones out of the way first
        # (a plain UPDATE: the parked value is never a real state, so it is not history).
        moving_items = [ip.item for ip in diff.items if ip.item and ip.item.order != ip.order]
        if moving_items:
            ScheduleItem.objects.filter(pk__in=[i.pk for i in moving_items]).update(
                order=models.F("order") + 10000
            )
        for ip in diff.items:
            moving_rows = [rp.row for rp in ip.rows if rp.row and rp.row.line != rp.line]
            if moving_rows:
                ScheduleRow.objects.filter(pk__in=[r.pk for r in moving_rows]).update(
                    line=models.F("line") + 10000
                )

        for ip in diff.items:
            item = ip.item
            if item is None:
                item = ScheduleItem(plan=plan, order=ip.order, title=ip.parsed.title)
                save_with_user(item, user)
            elif item.order != ip.order:
                item.order = ip.order
                save_with_user(item, user)
            for rp in ip.rows:
                row = rp.row
                if row is None:
                    row = ScheduleRow(item=item, line=rp.line, sub_title=rp.parsed.sub_title)
                    save_with_user(row, user)
                    if rp.is_lease:
                        save_with_user(
                            Lease(plan=plan, name=rp.parsed.sub_title, schedule_row=row), user
                        )
                elif row.line != rp.line or row.sub_title != rp.parsed.sub_title:
                    row.line = rp.line
                    old_sub = row.sub_title
                    row.sub_title = rp.parsed.sub_title
                    save_with_user(row, user)
                    lease = Lease.objects.filter(schedule_row=row, name=old_sub).first()
                    if lease and old_sub != row.sub_title:
                        lease.name = row.sub_title
                        save_with_user(lease, user)
                old_cells = {c.fiscal_year: c for c in row.cells.all()} if rp.row else {}
                for fy, pc in rp.parsed.cells.items():
                    kind = table41.cell_kind(pc.text, is_lease=rp.is_lease)
                    cell = old_cells.get(fy)
                    if cell is None:
                        cell = ScheduleCell(row=row, fiscal_year=fy)
                    elif (cell.text, cell.kind, cell.col_span, cell.row_span) == (
                        pc.text,
                        kind,
                        pc.col_span,
                        pc.row_span,
                    ):
                        continue
                    cell.text, cell.kind = pc.text, kind
                    cell.col_span, cell.row_span = pc.col_span, pc.row_span
                    save_with_user(cell, user)
                for fy, cell in old_cells.items():
                    if fy not in rp.parsed.cells:
                        delete_with_user(cell, user)
    return diff


def _delete_row(row: ScheduleRow, user: PortalUser) -> None:
    # SET_NULL would unlink these with a plain UPDATE and no history; do it visibly.
    for obj in linked_to_row(row):
        obj.schedule_row = None
        save_with_user(obj, user)
    for cell in row.cells.all():
        delete_with_user(cell, user)
    lease = Lease.objects.filter(schedule_row=row).first()
    if lease is not None:
        delete_with_user(lease, user)
    delete_with_user(row, user)
