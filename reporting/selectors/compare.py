"""Reads for plan comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from initiatives.models import (
    Initiative,
)
from kahoku_dx import era
from plans.models import (
    BasicPolicy,
    Plan,
    PlanVersion,
    ScheduleCell,
    ScheduleItem,
    ScheduleRow,
)

# --------------------------------------------------------------------------------------------
# Plan comparison (history as of two moments)
# --------------------------------------------------------------------------------------------


@dataclass
class Difference:
    kind: str  # 追加 / 変更 / 削除
    model: str
    key: str
    before: str = ""
    after: str = ""
    fields: list[str] = field(default_factory=list)


def _as_of(model: type, moment: datetime, **filters: Any) -> dict[int, Any]:
    """Latest historical row per object at ``moment``; deleted objects are dropped."""
    rows = (
        model.history.filter(history_date__lte=moment, **filters)
        .order_by("id", "-history_date", "-history_id")
        .iterator()
    )
    state: dict[int, Any] = {}
    for h in rows:
        if h.id not in state:
            state[h.id] = h
    return {pk: h for pk, h in state.items() if h.history_type != "-"}


def _fields_changed(a: Any, b: Any, names: list[str]) -> list[str]:
    return [n for n in names if getattr(a, n) != getattr(b, n)]


def plan_differences(plan: Plan, start: datetime, end: datetime) -> list[Difference]:
    """Policies, initiatives and table 4-1 cells added / changed / removed between two moments.

    Objects are matched by what staff call them (policy number, initiative code, schedule
    line and year), not by database id, so a deleted and re-created row reads as a change.
    """
    out: list[Difference] = []

    def compare(model, label, keyed_a, keyed_b, names, show):
        for key in sorted(set(keyed_a) | set(keyed_b)):
            a, b = keyed_a.get(key), keyed_b.get(key)
            if a is None:
                out.append(Difference(gettext_noop("追加"), label, key, "", show(b)))
            elif b is None:
                out.append(Difference(gettext_noop("削除"), label, key, show(a), ""))
            else:
                changed = _fields_changed(a, b, names)
                if changed:
                    out.append(
                        Difference(
                            gettext_noop("変更"),
                            label,
                            key,
                            show(a),
                            show(b),
                            [str(model._meta.get_field(n).verbose_name) for n in changed],
                        )
                    )

    states = {}
    for moment in (start, end):
        policies = _as_of(BasicPolicy, moment, plan_id=plan.pk)
        policy_numbers = {pk: h.number for pk, h in policies.items()}
        initiatives = _as_of(Initiative, moment, policy_id__in=list(policies))
        items = _as_of(ScheduleItem, moment, plan_id=plan.pk)
        rows = _as_of(ScheduleRow, moment, item_id__in=list(items))
        cells = _as_of(ScheduleCell, moment, row_id__in=list(rows))
        states[moment] = {
            "policies": {
                _("基本方針%(number)s") % {"number": h.number}: h for h in policies.values()
            },
            "initiatives": {
                f"{policy_numbers[h.policy_id]}.{h.number}": h for h in initiatives.values()
            },
            "cells": {
                _("%(item)s %(line)s行目 %(year)s")
                % {
                    "item": items[rows[h.row_id].item_id].title[:30],
                    "line": rows[h.row_id].line,
                    "year": era.era_label(h.fiscal_year),
                }: h
                for h in cells.values()
                if h.row_id in rows and rows[h.row_id].item_id in items
            },
        }
    a, b = states[start], states[end]
    compare(
        BasicPolicy,
        _("基本方針"),
        a["policies"],
        b["policies"],
        ["title", "summary", "heading"],
        lambda h: h.title,
    )
    compare(
        Initiative,
        _("取り組み"),
        a["initiatives"],
        b["initiatives"],
        ["title", "description", "flag", "working_group_id", "lead_section_id", "weight"],
        lambda h: h.title,
    )
    compare(
        ScheduleCell,
        _("表4-1のセル"),
        a["cells"],
        b["cells"],
        ["text", "col_span", "row_span"],
        lambda h: h.text,
    )
    return out


def earliest_history(plan: Plan) -> datetime | None:
    first = BasicPolicy.history.filter(plan_id=plan.pk).order_by("history_date").first()
    return first.history_date if first else None


def day_end(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, datetime.max.time()))


def version_moment(version: PlanVersion) -> datetime:
    """The moment a version stands for: the end of its 策定月, else the end of its 策定年度."""
    if version.issued_on:
        d = version.issued_on
        month_end = (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    else:
        month_end = era.fiscal_year_end(version.issued_fy)
    return day_end(month_end)
