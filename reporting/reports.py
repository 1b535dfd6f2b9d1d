"""Headquarters meeting reports: a frozen snapshot of progress and reviews, and its Excel.

The snapshot stores plain JSON (labels included), so the report reads exactly as it did on
the day it was taken, whatever happens to the data, the labels or the roll-up afterwards.
"""

from __future__ import annotations

import json
from collections import Counter
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
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from initiatives import workflow
from initiatives.models import GRADE_RULE_TEXT, UNGRADED, Grade, ProgressStatus, Review, grade_label
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
from plans.models import Plan
from portal_lib import era
from portal_lib import xlsx_layout as xl
from portal_lib.sheet_writing import set_cell
from reporting.models import ReportSnapshot
from reporting.selectors.dashboard import dashboard_for, dashboard_initiatives

# 2: rollups carry reported/unreported and grades; initiatives carry indicators and the
# review's PDCA texts; the countable targets carry confirmed/overdue.
# 3: only a review that was reported (submitted, checked, approved) is frozen with its texts;
# a draft is its state alone. The reviews waiting for headquarters, the self grades and each
# review count's state key are stored.
SNAPSHOT_SCHEMA = 3


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


def is_frozen_state(state: str | None) -> bool:
    """Whether a review in ``state`` is frozen into a meeting report with its texts.

    Only what its writer has handed in (submitted, checked, approved): a review whose text
    may still be written (a draft, or one sent back and being rewritten; initiatives.workflow
    EDITABLE_STATES through ``state_flags``) is frozen as its state alone, so a WG leader's
    unsubmitted notes never reach a meeting paper.
    """
    return bool(state) and not workflow.state_flags(state).editable


def _reviews_of_year(plan: Plan, fiscal_year: int) -> dict[int, dict[str, Any]]:
    """Each initiative's review for the year, as the meeting may read it.

    A reported review (``is_frozen_state``) brings its texts, self grade and decision; one
    sent back after approval is shown as it was approved (from its history), so the meeting
    reads what headquarters approved. Any other review (a draft) is its state only: none of
    its texts are read into the snapshot.
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
        state = {"state": review.state, "state_label": review.get_state_display()}
        if source is review and not is_frozen_state(review.state):
            out[initiative_id] = {**state, "frozen": False}
            continue
        out[initiative_id] = {
            **state,
            "frozen": True,
            "approved_version": source is not review,
            "self_grade": source.self_grade,
            "carry_over": source.get_carry_over_display(),
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
        found = reviews.get(ini.pk)
        review = found if found and found["frozen"] else None  # a draft: its state only
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
                "review_state": found["state"] if found else "",
                "review_state_label": found["state_label"] if found else "未作成",
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
        "review_counts": [
            {"key": key, "label": label, "count": n} for key, label, n in d.review_counts
        ],
        "approvals_waiting": _approvals_waiting(rows, reviews),
        "self_grades": _self_grades(initiatives),
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


def _approvals_waiting(rows: list[Any], reviews: dict[int, dict[str, Any]]) -> list[str]:
    """「2.1 行政サービスのオンライン化」 for each review waiting for headquarters' move
    (the states initiatives.workflow gives BY_HEADQUARTERS), in the plan's order."""
    waiting = workflow.states_acted_on_by(workflow.BY_HEADQUARTERS)
    return [
        f"{ini.code} {ini.title}"
        for ini in rows
        if ini.pk in reviews and reviews[ini.pk]["state"] in waiting
    ]


def _self_grades(initiatives: list[dict[str, Any]]) -> list[list[Any]]:
    """[grade, count] of the self grades of the reviews frozen with their texts."""
    counts = Counter(i["self_grade"] for i in initiatives if i["review"] and i["self_grade"])
    return [[grade, counts.get(grade, 0)] for grade in Grade.values]


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
        initiatives.append(_reported_review_only(row))
    out["initiatives"] = initiatives
    out.setdefault("approvals_waiting", None)  # not stored before schema 3: unknown
    out.setdefault("self_grades", [])
    return out


PDCA_BLOCKS = (
    ("plan_text", "Plan(計画)"),
    ("do_text", "Do(実行)"),
    ("check_text", "Check(評価)"),
    ("act_text", "Act(改善)"),
)


def _reported_review_only(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the screen and the workbook read it: a review that was a draft when frozen
    (in a report taken before schema 3 and not cleaned by migration 0013, e.g. restored from
    an older backup) shows its state only; a frozen review carries its non-empty
    Plan/Do/Check/Act blocks, in that order (an empty block is neither shown nor printed)."""
    review = row["review"]
    state = (review or {}).get("state") or row.get("review_state") or ""
    draft = not is_frozen_state(state) and not (review or {}).get("approved_version")
    if draft:
        row.update(review=None, check_text="", self_grade="", carry_over="")
        return row
    if review is not None:
        review = dict(review)
        review["blocks"] = [
            (label, review[key]) for key, label in PDCA_BLOCKS if (review.get(key) or "").strip()
        ]
        row["review"] = review
    return row


def _plain_json(data: dict[str, Any]) -> dict[str, Any]:
    """A snapshot stores plain JSON text, in Japanese: labels that are lazy translations are
    rendered once, now, so the stored report never changes with the reader's language."""
    with translation.override("ja"):
        return json.loads(json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False))


def report_snapshot_create(
    *,
    plan: Plan,
    fiscal_year: int,
    title: str,
    today: date,
    user: Any,
    document_number: str = "",
) -> ReportSnapshot:
    with transaction.atomic():
        snapshot = ReportSnapshot(
            plan=plan,
            fiscal_year=fiscal_year,
            title=title.strip(),
            document_number=document_number.strip(),
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
    if snapshot.document_number:  # 「資料2」 at the top right of every printed page
        right = ws.oddHeader.right
        right.text, right.size, right.font = snapshot.document_number, 14, "-,Bold"


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
    """進捗率 / 備考 / 報告 / 取り組み / 未報告: the percentage is a number or nothing; what
    the screens show in its place (「未報告」 when nobody reported, never 0 %; "—") is in the
    備考 column beside it."""
    # The figure by the one rule (initiatives.selectors.rollup_figure_kind).
    if rollup_figure_kind(row) == FIGURE_PERCENT:
        figure: list[Any] = [_percent(row.get("percent")), None]
    else:
        figure = [None, rollup_figure(row)]
    return [*figure, row.get("reported"), row.get("total"), row.get("unreported")]


DATE_WIDTH = xl.text_width("令和00年00月00日") + 2  # a 和暦 date cell that never prints ###


def _date_span(ws: Any, row: int, column: int) -> None:
    """Merge a date cell rightwards until it is wide enough for a 和暦 date."""

    def width_of(col: int) -> float:
        return float(ws.column_dimensions[get_column_letter(col)].width or 8.43)

    last, width = column, width_of(column)
    while width < DATE_WIDTH and last < max(ws.max_column, column + 3):
        last += 1
        width += width_of(last)
    if last > column:
        ws.merge_cells(start_row=row, start_column=column, end_row=row, end_column=last)
    ws.cell(row=row, column=column).alignment = Alignment(horizontal="left")


def _block(ws: Any, top: int, rows: list[list[Any]], *, header_rows: tuple[int, ...]) -> int:
    """A small bordered table below the main one: its label rows styled as a header, every
    other cell wrapped and top-aligned; returns the row after it."""
    for offset, values in enumerate(rows):
        for column, value in enumerate(values, start=1):
            set_cell(ws, top + offset, column, value)
        if offset in header_rows:
            xl.style_header(ws, row=top + offset, last_column=len(values))
        else:
            for column in range(1, len(values) + 1):
                cell = ws.cell(row=top + offset, column=column)
                cell.border, cell.alignment = xl.BORDER, xl.WRAP_TOP
    return top + len(rows)


def _text_rows(ws: Any, top: int, rows: list[tuple[str, str]], last_column: int) -> int:
    """Label | text merged over the rest of the table's width, wrapped (row heights are fitted
    once the widths are known); returns the row after them."""
    for offset, (label, text) in enumerate(rows):
        r = top + offset
        set_cell(ws, r, 1, label)
        set_cell(ws, r, 2, text)
        for column in range(1, last_column + 1):
            cell = ws.cell(row=r, column=column)
            cell.border, cell.alignment = xl.BORDER, xl.WRAP_TOP
        ws.cell(row=r, column=1).font = xl.HEADER_FONT
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=last_column)
    return top + len(rows)


def _summary_sheet(ws: Any, snapshot: ReportSnapshot, data: dict[str, Any]) -> None:
    """概要: the groups' table, then the two countable targets, the reviews (how many in each
    state, those waiting for headquarters, the self grades) and the rules, each figure in a
    cell of its own under its label, on A4 landscape."""
    _title_block(ws, snapshot, data, _("概要"))
    header = [
        *(_("区分"), _("進捗率"), _("備考"), _("報告"), _("取り組み"), _("未報告")),
        *("A", "B", "C", "D", _("未評価")),
    ]
    width = len(header)
    rows: list[list[Any]] = [header]
    overall = {**data["overall"], "grades": data["grades"]}
    rows.append([_("計画全体"), *_rollup_cells(overall), *_grade_counts(overall)])
    for g in data["policies"] + data["working_groups"]:
        rows.append([g["label"], *_rollup_cells(g), *_grade_counts(g)])
    _table(ws, rows)
    xl.layout_table(
        ws,
        header_row=TITLE_ROWS + 1,
        landscape=True,
        title=snapshot.title,
        number_formats={2: xl.PERCENT_1DP_FORMAT},
    )

    online, systems = data["online"], data["systems"]
    sep = pgettext("punctuation", "、")
    top = TITLE_ROWS + len(rows) + 2
    top = _block(
        ws,
        top,
        [
            [_("数値目標"), _("完了"), _("目標・対象"), _("登録"), _("確認済み"), _("期限超過")],
            [
                _("オンライン化済の手続"),
                online["online"],
                online["target"],
                online["registered"],
                online["confirmed"],
                online["overdue"],
            ],
            [
                _("標準化システム移行完了"),
                systems["done"],
                systems["total"],
                systems["total"],
                systems["confirmed"],
                len(systems["overdue"]),
            ],
        ],
        header_rows=(0,),
    )
    top = _text_rows(
        ws,
        top,
        [
            (_("期限後移行"), sep.join(systems["late"]) or _("なし")),
            (_("移行困難システム"), sep.join(systems["difficult"]) or _("なし")),
        ],
        width,
    )

    counts = data["review_counts"]
    top = _block(
        ws,
        top + 1,
        [
            [_("PDCA振り返り"), *(_(c["label"]) for c in counts)],
            [_("件数"), *(c["count"] for c in counts)],
        ],
        header_rows=(0,),
    )
    waiting = data["approvals_waiting"]
    if waiting is not None:
        top = _block(ws, top, [[_("推進本部の承認待ち"), len(waiting)]], header_rows=())
        ws.cell(row=top - 1, column=1).font = xl.HEADER_FONT
        if waiting:
            top = _text_rows(ws, top, [(_("承認待ちの取り組み"), "\n".join(waiting))], width)
    if data["self_grades"]:
        grades = data["self_grades"]
        top = _block(
            ws,
            top + 1,
            [
                [_("自己評価(提出・確認・承認済)"), *(g for g, _n in grades)],
                [_("件数"), *(n for _g, n in grades)],
            ],
            header_rows=(0,),
        )
    _text_rows(
        ws,
        top + 1,
        [
            (_("集計方法"), _(data["rollup_rule"]) if data["rollup_rule"] else ""),
            (_("指標の評価"), _(data["grade_rule"]) if data["grade_rule"] else ""),
        ],
        width,
    )
    # Widths from every label and figure (merged texts wrap in their span instead).
    xl.fit_columns(ws, header_row=TITLE_ROWS + 1)
    _merge_title(ws)
    _date_span(ws, 3, 2)
    xl.fit_row_heights(ws, first_row=1)
    # The summary is one sheet of paper: its rows are bounded by the plan's policies and WGs,
    # so fitting its height to one page only scales it a little.
    ws.page_setup.fitToHeight = 1


def snapshot_workbook(snapshot: ReportSnapshot) -> bytes:
    """The report as a workbook in the requester's language: headings through gettext, the
    labels the snapshot stored (in Japanese) translated as they are written."""
    data = snapshot_view_data(snapshot.data)
    wb = Workbook()
    ws = wb.active
    ws.title = _("概要")
    _summary_sheet(ws, snapshot, data)

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
        _("自己評価"),
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
                i["self_grade"] or None,
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
        fixed_widths={2: 36, 11: 30, 12: 40},
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
        + [_("Check(評価)"), _("Act(改善)"), _("自己評価")]
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
                review.get("self_grade") or None,
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
