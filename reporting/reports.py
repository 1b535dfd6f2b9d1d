"""Headquarters meeting reports: a frozen snapshot of progress and reviews, and its Excel.

The snapshot stores plain JSON (labels included), so the report reads exactly as it did on
the day it was taken, whatever happens to the data, the labels or the roll-up afterwards.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from initiatives.models import ProgressStatus, ReportSnapshot, Review
from initiatives.selectors import ROLLUP_RULE_TEXT, Rollup, progress_percent
from kahoku_dx import era
from kahoku_dx.spreadsheets import set_cell
from plans.models import Plan
from reporting.selectors.dashboard import dashboard_for

SNAPSHOT_SCHEMA = 1


def _rollup(r: Rollup) -> dict[str, Any]:
    return {
        "percent": None if r.percent is None else str(r.percent),
        "counted": r.counted,
        "total": r.total,
    }


def snapshot_data(*, plan: Plan, fiscal_year: int, today: date) -> dict[str, Any]:
    # The record is kept in the portal's language (Japanese) whoever takes it; the report
    # page translates the stored labels when shown in English.
    with translation.override(settings.LANGUAGE_CODE):
        return _snapshot_data(plan=plan, fiscal_year=fiscal_year, today=today)


def _snapshot_data(*, plan: Plan, fiscal_year: int, today: date) -> dict[str, Any]:
    d = dashboard_for(plan=plan, fiscal_year=fiscal_year, today=today, changes_limit=0)
    reviews = {
        r.initiative_id: r
        for r in Review.objects.filter(initiative__policy__plan=plan, fiscal_year=fiscal_year)
    }
    from reporting.selectors.dashboard import dashboard_initiatives

    initiatives = []
    for ini in dashboard_initiatives(plan, fiscal_year):
        review = reviews.get(ini.pk)
        status = ini.latest_status
        initiatives.append(
            {
                "code": ini.code,
                "title": ini.title,
                "policy": ini.policy.number,
                "working_group": ini.working_group.name if ini.working_group else "",
                "status": status or "",
                "status_label": str(ProgressStatus(status).label) if status else "未記録",
                "percent": progress_percent(status, ini.latest_percent),
                "latest_date": ini.latest_date.isoformat() if ini.latest_date else None,
                "review_state": review.state if review else "",
                "review_state_label": review.get_state_display() if review else "未作成",
                "self_grade": review.self_grade if review else "",
                "carry_over": review.get_carry_over_display() if review else "",
                "check_text": review.check_text if review else "",
            }
        )
    b, s = d.burnup, d.systems
    return {
        "schema": SNAPSHOT_SCHEMA,
        "plan": {"code": plan.code, "name": plan.name},
        "fiscal_year": fiscal_year,
        "fiscal_year_label": era.format_fiscal_year(fiscal_year),
        "taken_on": today.isoformat(),
        "rollup_rule": ROLLUP_RULE_TEXT,
        "overall": _rollup(d.overall),
        "policies": [{"label": g.label, **_rollup(g.rollup)} for g in d.policies],
        "working_groups": [{"label": g.label, **_rollup(g.rollup)} for g in d.working_groups],
        "status_counts": [{"label": label, "count": n} for _, label, n in d.status_counts],
        "review_counts": [{"label": label, "count": n} for _, label, n in d.review_counts],
        "online": {
            "target": b.target_count,
            "online": b.online,
            "by_deadline": b.online_by_deadline,
            "deadline": b.deadline.isoformat() if b.deadline else None,
        },
        "systems": {
            "total": s.total,
            "done": s.done,
            "deadline": s.deadline.isoformat() if s.deadline else None,
            "days_left": s.days_left,
            "overdue": [str(x) for x in s.overdue],
        },
        "delayed": [f"{i.code} {i.title}" for i in d.delayed],
        "initiatives": initiatives,
    }


def report_snapshot_create(
    *, plan: Plan, fiscal_year: int, title: str, today: date, user: Any
) -> ReportSnapshot:
    with transaction.atomic():
        snapshot = ReportSnapshot(
            plan=plan,
            fiscal_year=fiscal_year,
            title=title.strip(),
            taken_on=today,
            taken_by=user,
            data=snapshot_data(plan=plan, fiscal_year=fiscal_year, today=today),
        )
        snapshot.full_clean()
        snapshot.save()
    return snapshot


# --------------------------------------------------------------------------------------------
# Excel
# --------------------------------------------------------------------------------------------


class _Rows:
    """Appends rows to a worksheet, every cell through set_cell()."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.row = 0

    def append(self, values: list[Any]) -> None:
        self.row += 1
        for column, value in enumerate(values, start=1):
            set_cell(self.ws, self.row, column, value)


def snapshot_workbook(snapshot: ReportSnapshot) -> bytes:
    data = snapshot.data
    wb = Workbook()
    ws = wb.active
    ws.title = "概要"
    out = _Rows(ws)
    out.append([snapshot.title])
    ws["A1"].font = Font(bold=True, size=14)
    out.append(["計画", data["plan"]["name"]])
    out.append(["年度", data["fiscal_year_label"]])
    out.append(["基準日", data["taken_on"]])
    out.append(["集計方法", data["rollup_rule"]])
    ws["B5"].alignment = Alignment(wrap_text=True)
    out.append([])
    out.append(["区分", "進捗率(%)", "集計対象", "取り組み数"])
    out.append(
        [
            "計画全体",
            data["overall"]["percent"],
            data["overall"]["counted"],
            data["overall"]["total"],
        ],
    )
    for row in data["policies"] + data["working_groups"]:
        out.append([row["label"], row["percent"], row["counted"], row["total"]])
    out.append([])
    out.append(["進捗状況", "件数"])
    for row in data["status_counts"]:
        out.append([row["label"], row["count"]])
    out.append([])
    out.append(["PDCA振り返り", "件数"])
    for row in data["review_counts"]:
        out.append([row["label"], row["count"]])
    out.append([])
    online, systems = data["online"], data["systems"]
    out.append(["オンライン化済の手続", f"{online['online']} / {online['target']}"])
    out.append(["標準化システム移行完了", f"{systems['done']} / {systems['total']}"])
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 60

    ws2 = wb.create_sheet("取り組み別")
    out2 = _Rows(ws2)
    headers = [
        "番号",
        "取り組み",
        "担当WG",
        "状況",
        "進捗率(%)",
        "最終記録日",
        "振り返り",
        "自己評価",
        "方針",
        "評価(Check)",
    ]
    out2.append(headers)
    for cell in ws2[1]:
        cell.font = Font(bold=True)
    for i in data["initiatives"]:
        out2.append(
            [
                i["code"],
                i["title"],
                i["working_group"],
                i["status_label"],
                i["percent"],
                i["latest_date"],
                i["review_state_label"],
                i["self_grade"],
                i["carry_over"],
                i["check_text"],
            ],
        )
    ws2.column_dimensions["B"].width = 40
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
