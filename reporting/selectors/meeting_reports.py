"""Headquarters meeting reports, read: the snapshot's data as it is frozen, and a stored
snapshot as the screen and the workbook read it, whatever its schema.

The snapshot stores plain JSON (labels included), so the report reads exactly as it did on
the day it was taken, whatever happens to the data, the labels or the roll-up afterwards.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import translation

from initiatives import workflow
from initiatives.models import GRADE_RULE_TEXT, Grade, ProgressStatus, Review, grade_label
from initiatives.selectors import (
    ROLLUP_RULE_TEXT,
    Rollup,
    grade_distribution,
    indicator_grade,
    indicators_for_initiatives,
    progress_percent,
    value_of_year,
)
from plans.models import Plan
from portal_lib import era
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
