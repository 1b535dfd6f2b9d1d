"""Headquarters meeting reports: a frozen snapshot of progress and reviews, and its Excel.

The snapshot stores plain JSON (labels included), so the report reads exactly as it did on
the day it was taken, whatever happens to the data, the labels or the roll-up afterwards.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from initiatives.models import (
    GRADE_RULE_TEXT,
    UNGRADED,
    Grade,
    ProgressStatus,
    ReportSnapshot,
    Review,
    grade_label,
)
from initiatives.selectors import (
    FIGURE_PERCENT,
    ROLLUP_RULE_TEXT,
    Rollup,
    grade_distribution,
    indicator_grade,
    indicators_for_initiatives,
    progress_percent,
    rollup_figure,
    rollup_figure_kind,
    value_of_year,
)
from kahoku_dx import era
from kahoku_dx import xlsx_layout as xl
from kahoku_dx.spreadsheets import set_cell
from plans.models import Plan
from reporting.selectors.dashboard import dashboard_for, dashboard_initiatives

# 2: rollups carry reported/unreported and grades; initiatives carry indicators and the
# review's PDCA texts; the countable targets carry confirmed/overdue.
SNAPSHOT_SCHEMA = 2


def _rollup(r: Rollup) -> dict[str, Any]:
    return {
        "percent": None if r.percent is None else str(r.percent),
        "counted": r.counted,
        "total": r.total,
        "reported": r.reported,
        "unreported": r.unreported,
    }


def _grades(rows: list[tuple[str, str, int]]) -> list[list[Any]]:
    """[key, label, count] lists: JSON keeps them, and templates unpack them like tuples."""
    return [[key, label, n] for key, label, n in rows]


def _number(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value.normalize(), "f")


def _reviews_of_year(plan: Plan, fiscal_year: int) -> dict[int, dict[str, Any]]:
    """Each initiative's review texts for the year: the approved version, else the latest.

    A review returned after approval is shown as it was approved (from its history), so the
    meeting reads what headquarters approved; any other review shows its current texts.
    """
    current = {
        r.initiative_id: r
        for r in Review.objects.filter(initiative__policy__plan=plan, fiscal_year=fiscal_year)
    }
    approved: dict[int, Any] = {}
    history = Review.history.filter(
        initiative__policy__plan=plan, fiscal_year=fiscal_year, state=Review.State.APPROVED
    ).order_by("-history_date", "-history_id")
    for h in history:
        approved.setdefault(h.initiative_id, h)
    out: dict[int, dict[str, Any]] = {}
    for initiative_id, review in current.items():
        source = review
        if review.state != Review.State.APPROVED and initiative_id in approved:
            source = approved[initiative_id]
        out[initiative_id] = {
            "state": review.state,
            "state_label": review.get_state_display(),
            "approved_version": source is not review,
            "self_grade": review.self_grade,
            "carry_over": review.get_carry_over_display(),
            "plan_text": source.plan_text,
            "do_text": source.do_text,
            "check_text": source.check_text,
            "act_text": source.act_text,
        }
    return out


def snapshot_data(*, plan: Plan, fiscal_year: int, today: date) -> dict[str, Any]:
    # The record is kept in the portal's language (Japanese) whoever takes it; the report
    # page translates the stored labels when shown in English.
    with translation.override(settings.LANGUAGE_CODE):
        return _snapshot_data(plan=plan, fiscal_year=fiscal_year, today=today)


def _snapshot_data(*, plan: Plan, fiscal_year: int, today: date) -> dict[str, Any]:
    d = dashboard_for(plan=plan, fiscal_year=fiscal_year, today=today, changes_limit=0)
    reviews = _reviews_of_year(plan, fiscal_year)
    rows = list(dashboard_initiatives(plan, fiscal_year))
    indicators = indicators_for_initiatives([i.pk for i in rows], fiscal_year)
    by_initiative: dict[int, list[Any]] = {}
    for ind in indicators:
        by_initiative.setdefault(ind.initiative_id, []).append(ind)

    initiatives = []
    for ini in rows:
        review = reviews.get(ini.pk)
        status = ini.latest_status
        ind_rows = []
        for ind in by_initiative.get(ini.pk, []):
            value = value_of_year(ind, fiscal_year)
            grade = indicator_grade(ind, fiscal_year, today)  # as on the day it is taken
            ind_rows.append(
                {
                    "name": ind.name,
                    "unit": ind.unit,
                    "target": _number(value.target) if value else None,
                    "actual": _number(value.shown_actual) if value else None,
                    "typed_actual": (
                        _number(value.actual) if value and value.actual_disagrees else None
                    ),
                    "grade": grade,
                    "grade_label": str(grade_label(grade)),
                }
            )
        initiatives.append(
            {
                "code": ini.code,
                "title": ini.title,
                "policy": ini.policy.number,
                "working_group": ini.working_group.name if ini.working_group else "",
                "status": status or "",
                "status_label": str(ProgressStatus(status).label) if status else "未記録",
                "reported": status is not None,
                "percent": progress_percent(status, ini.latest_percent),
                "latest_date": ini.latest_date.isoformat() if ini.latest_date else None,
                "review_state": review["state"] if review else "",
                "review_state_label": review["state_label"] if review else "未作成",
                "self_grade": review["self_grade"] if review else "",
                "carry_over": review["carry_over"] if review else "",
                "check_text": review["check_text"] if review else "",
                "review": review,
                "indicators": ind_rows,
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
        "grade_rule": GRADE_RULE_TEXT,
        "overall": _rollup(d.overall),
        "grades": _grades(grade_distribution(indicators, fiscal_year, today)),
        "policies": [
            {"label": g.label, "key": g.key, "grades": _grades(g.grades), **_rollup(g.rollup)}
            for g in d.policies
        ],
        "working_groups": [
            {"label": g.label, "key": g.key, "grades": _grades(g.grades), **_rollup(g.rollup)}
            for g in d.working_groups
        ],
        "status_counts": [{"label": label, "count": n} for _, label, n in d.status_counts],
        "review_counts": [{"label": label, "count": n} for _, label, n in d.review_counts],
        "online": {
            "target": b.target_count,
            "online": b.online,
            "by_deadline": b.online_by_deadline,
            "deadline": b.deadline.isoformat() if b.deadline else None,
            "registered": b.summary.registered if b.summary else 0,
            "confirmed": b.summary.confirmed if b.summary else 0,
            "overdue": b.summary.overdue if b.summary else 0,
        },
        "systems": {
            "total": s.total,
            "done": s.done,
            "deadline": s.deadline.isoformat() if s.deadline else None,
            "days_left": s.days_left,
            "overdue": [str(x) for x in s.overdue],
            "confirmed": s.summary.confirmed if s.summary else 0,
            "late": [str(x) for x in s.migrated_late],
            "difficult": [str(x) for x in s.difficult],
        },
        "delayed": [f"{i.code} {i.title}" for i in d.delayed],
        "initiatives": initiatives,
    }


def _legacy_rollup(row: dict[str, Any]) -> dict[str, Any]:
    """A rollup saved before schema 2 knew only counted/total: reported stays None."""
    row.setdefault("reported", None)
    row.setdefault("unreported", None)
    row.setdefault("grades", [])
    return row


def snapshot_view_data(data: dict[str, Any]) -> dict[str, Any]:
    """The snapshot's JSON with every key the screen and the Excel read, whatever its schema.

    Older snapshots stay as they were; what they never stored reads as unknown (None or
    empty), never as a made-up zero.
    """
    out = dict(data)
    out["overall"] = _legacy_rollup(dict(data.get("overall") or {"total": 0, "counted": 0}))
    out.setdefault("overall", {}).setdefault("percent", None)
    out["policies"] = [_legacy_rollup(dict(g)) for g in data.get("policies", [])]
    out["working_groups"] = [_legacy_rollup(dict(g)) for g in data.get("working_groups", [])]
    out.setdefault("grades", [])
    out.setdefault("grade_rule", "")
    out.setdefault("status_counts", [])
    out.setdefault("review_counts", [])
    online = {"registered": None, "confirmed": None, "overdue": None, **data.get("online", {})}
    systems = {"confirmed": None, "late": [], "difficult": [], **data.get("systems", {})}
    out["online"], out["systems"] = online, systems
    initiatives = []
    for row in data.get("initiatives", []):
        row = dict(row)
        row.setdefault("reported", bool(row.get("status")))
        row.setdefault("indicators", [])
        row.setdefault("review", None)
        initiatives.append(row)
    out["initiatives"] = initiatives
    return out


def _plain_json(data: dict[str, Any]) -> dict[str, Any]:
    """A snapshot stores plain JSON text, in Japanese: labels that are lazy translations are
    rendered once, now, so the stored report never changes with the reader's language."""
    with translation.override("ja"):
        return json.loads(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))


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
            data=_plain_json(snapshot_data(plan=plan, fiscal_year=fiscal_year, today=today)),
        )
        snapshot.full_clean()
        snapshot.save()
    return snapshot


# --------------------------------------------------------------------------------------------
# Excel: a report to print (issue 14), every cell through set_cell, real numbers and dates
# --------------------------------------------------------------------------------------------

TITLE_ROWS = 4  # title, plan and year, 基準日, blank; the table header is on row 5


def _percent(value: Any) -> float | None:
    """A percentage saved as "53.3" or 40 -> 0.533 / 0.4 for a % number format."""
    if value is None or value == "":
        return None
    return float(Decimal(str(value)) / 100)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _amount(value: str | None) -> float | int | None:
    if value is None or value == "":
        return None
    number = Decimal(value)
    return int(number) if number == number.to_integral() else float(number)


def _title_block(ws: Any, snapshot: ReportSnapshot, data: dict[str, Any], heading: str) -> None:
    set_cell(ws, 1, 1, f"{snapshot.title} {heading}")
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    fiscal_year = data.get("fiscal_year")
    year = era.format_fiscal_year(fiscal_year) if fiscal_year else data["fiscal_year_label"]
    set_cell(ws, 2, 1, f"{data['plan']['name']} {year}")
    set_cell(ws, 3, 1, _("基準日"))
    cell = set_cell(ws, 3, 2, _day(data["taken_on"]))
    cell.number_format = xl.WAREKI_DATE_FORMAT


def _merge_title(ws: Any) -> None:
    last = get_column_letter(max(ws.max_column, 2))
    for row in (1, 2):
        ws.merge_cells(f"A{row}:{last}{row}")


def _table(ws: Any, rows: list[list[Any]]) -> None:
    for r, values in enumerate(rows, start=TITLE_ROWS + 1):
        for c, value in enumerate(values, start=1):
            set_cell(ws, r, c, value)


def _grade_counts(row: dict[str, Any]) -> list[Any]:
    counts = {key: n for key, _, n in row.get("grades", [])}
    return [counts.get(key) for key in (*Grade.values, UNGRADED)]


def _grade_text(ind: dict[str, Any]) -> str:
    """A stored grade as initiatives.models.grade_text shows one: the label for D and 未評価."""
    # The label is stored in Japanese with the snapshot; it is written in the reader's language.
    return _(ind["grade_label"]) if ind["grade"] in (Grade.D, UNGRADED) else ind["grade"]


def _rollup_cells(row: dict[str, Any]) -> list[Any]:
    """進捗率 / 報告 / 取り組み / 未報告: an unreported group reads 「未報告」, never 0%."""
    # The figure by the one rule (initiatives.selectors.rollup_figure_kind); a percentage
    # stays a number for the cell's % format.
    if rollup_figure_kind(row) == FIGURE_PERCENT:
        percent: Any = _percent(row.get("percent"))
    else:
        percent = rollup_figure(row)
    return [percent, row.get("reported"), row.get("total"), row.get("unreported")]


def snapshot_workbook(snapshot: ReportSnapshot) -> bytes:
    """The report as a workbook in the requester's language: headings through gettext, the
    labels the snapshot stored (in Japanese) translated as they are written."""
    data = snapshot_view_data(snapshot.data)
    wb = Workbook()

    ws = wb.active
    ws.title = _("概要")
    _title_block(ws, snapshot, data, _("概要"))
    header = [
        *(_("区分"), _("進捗率"), _("報告"), _("取り組み"), _("未報告")),
        *("A", "B", "C", "D", _("未評価")),
    ]
    rows: list[list[Any]] = [header]
    overall = {**data["overall"], "grades": data["grades"]}
    rows.append([_("計画全体"), *_rollup_cells(overall), *_grade_counts(overall)])
    for g in data["policies"] + data["working_groups"]:
        rows.append([g["label"], *_rollup_cells(g), *_grade_counts(g)])
    _table(ws, rows)
    last = TITLE_ROWS + len(rows)
    xl.layout_table(
        ws,
        header_row=TITLE_ROWS + 1,
        landscape=True,
        title=snapshot.title,
        number_formats={2: xl.PERCENT_1DP_FORMAT},
    )
    online, systems = data["online"], data["systems"]
    notes = [
        [_("集計方法"), _(data["rollup_rule"]) if data["rollup_rule"] else ""],
        [_("指標の評価"), _(data["grade_rule"]) if data["grade_rule"] else ""],
        [_("オンライン化済の手続"), online["online"], _("目標"), online["target"]],
        ["  " + _("うち確認済みの手続"), online["confirmed"], _("登録"), online["registered"]],
        [_("標準化システム移行完了"), systems["done"], _("対象"), systems["total"]],
        ["  " + _("期限超過(確認済み・未完了)"), len(systems["overdue"])],
        ["  " + _("期限後移行"), pgettext("punctuation", "、").join(systems["late"]) or _("なし")],
        [
            "  " + _("移行困難システム"),
            pgettext("punctuation", "、").join(systems["difficult"]) or _("なし"),
        ],
    ]
    for offset, values in enumerate(notes, start=2):
        for c, value in enumerate(values, start=1):
            set_cell(ws, last + offset, c, value)
    for r in (last + 2, last + 3):
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=len(header))
    _merge_title(ws)
    xl.fit_row_heights(ws, first_row=1)

    ws2 = wb.create_sheet(_("取り組み別"))
    _title_block(ws2, snapshot, data, _("取り組み別"))
    header2 = [
        _("番号"),
        _("取り組み"),
        _("担当WG"),
        _("状況"),
        _("進捗率"),
        _("最終記録日"),
        _("報告"),
        _("振り返り"),
        _("方針"),
        _("指標の評価"),
        _("評価(Check)"),
    ]
    rows2: list[list[Any]] = [header2]
    for i in data["initiatives"]:
        grades = "\n".join(f"{ind['name']}: {_grade_text(ind)}" for ind in i["indicators"])
        rows2.append(
            [
                i["code"],
                i["title"],
                i["working_group"],
                _(i["status_label"]),
                _percent(i["percent"]),
                _day(i["latest_date"]),
                _("報告済") if i["reported"] else _("未報告"),
                _(i["review_state_label"]),
                _(i["carry_over"]) if i["carry_over"] else "",
                grades or _("指標なし"),
                i["check_text"],
            ]
        )
    _table(ws2, rows2)
    xl.layout_table(
        ws2,
        header_row=TITLE_ROWS + 1,
        landscape=True,
        title=snapshot.title,
        fixed_widths={2: 36, 10: 30, 11: 40},
        number_formats={5: xl.PERCENT_FORMAT, 6: xl.WAREKI_DATE_FORMAT},
    )
    _merge_title(ws2)
    xl.fit_row_heights(ws2, first_row=1)

    ws3 = wb.create_sheet(_("指標"))
    _title_block(ws3, snapshot, data, _("指標の評価"))
    rows3: list[list[Any]] = [
        [_("番号"), _("取り組み"), _("指標"), _("単位"), _("目標"), _("実績"), _("評価"), _("備考")]
    ]
    for i in data["initiatives"]:
        for ind in i["indicators"]:
            note = (
                _("手入力の実績 %(actual)s と不一致") % {"actual": ind["typed_actual"]}
                if ind.get("typed_actual")
                else ""
            )
            rows3.append(
                [
                    i["code"],
                    i["title"],
                    ind["name"],
                    ind["unit"],
                    _amount(ind["target"]),
                    _amount(ind["actual"]),
                    _(ind["grade_label"]),
                    note,
                ]
            )
    _table(ws3, rows3)
    xl.layout_table(
        ws3, header_row=TITLE_ROWS + 1, landscape=True, title=snapshot.title, fixed_widths={2: 36}
    )
    if data["grade_rule"]:  # the rule beside the grades (as on the report page)
        set_cell(ws3, TITLE_ROWS + len(rows3) + 2, 1, f"評価の基準:{data['grade_rule']}")
    _merge_title(ws3)
    xl.fit_row_heights(ws3, first_row=1)

    ws4 = wb.create_sheet(_("PDCA振り返り"))
    _title_block(ws4, snapshot, data, _("PDCA振り返り"))
    rows4: list[list[Any]] = [
        [_("番号"), _("取り組み"), _("状態"), _("Plan(計画)"), _("Do(実行)")]
        + [_("Check(評価)"), _("Act(改善)")]
    ]
    for i in data["initiatives"]:
        review = i["review"]
        if not review:
            continue
        state = _(review["state_label"])
        if review.get("approved_version"):
            state = _("%(state)s(承認時の内容)") % {"state": state}
        rows4.append(
            [
                i["code"],
                i["title"],
                state,
                review["plan_text"],
                review["do_text"],
                review["check_text"],
                review["act_text"],
            ]
        )
    _table(ws4, rows4)
    xl.layout_table(
        ws4,
        header_row=TITLE_ROWS + 1,
        landscape=True,
        title=snapshot.title,
        fixed_widths={2: 28, 4: 40, 5: 40, 6: 40, 7: 40},
    )
    _merge_title(ws4)
    xl.fit_row_heights(ws4, first_row=1)

    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
