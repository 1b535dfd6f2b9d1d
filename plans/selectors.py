"""Reads for the dashboard, the schedule view, meeting reports and the public page.

Every function here issues a fixed number of queries whatever the number of initiatives,
progress entries or history rows (pinned by the query-count tests in tests/plans/).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from initiatives.models import (
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    ProjectUnderWay,
    Review,
    StandardSystem,
    SystemGroup,
)
from initiatives.selectors import (
    NONE,
    ROLLUP_RULE_TEXT,
    Rollup,
    initiatives_with_latest_progress,
    initiatives_with_list_columns,
    progress_percent,
    rollup,
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
from workgroups.models import WorkingGroup

ONLINE_TARGET_CODE = "online-procedures"
SYSTEMS_TARGET_CODE = "standard-systems"
DEFAULT_STALE_DAYS = 60
RECENT_CHANGES_LIMIT = 15
NO_STATUS = NONE  # the initiative list's filter value for "nothing logged" / "no review"


# --------------------------------------------------------------------------------------------
# Plans and fiscal years
# --------------------------------------------------------------------------------------------


def plans_for_selection() -> list[Plan]:
    return list(Plan.objects.order_by("start_fy", "code"))


def default_plan(plans: list[Plan], fiscal_year: int) -> Plan | None:
    """The plan covering the fiscal year, else the latest plan."""
    for plan in plans:
        if plan.covers(fiscal_year):
            return plan
    return plans[-1] if plans else None


# --------------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------------


@dataclass
class Group:
    """A policy or a WG with its initiatives rolled up."""

    key: Any  # policy number / WG pk (the list filter value)
    label: str
    rollup: Rollup
    status_counts: dict[str, int]


@dataclass
class BurnUpPoint:
    day: date
    count: int


@dataclass
class BurnUp:
    target: CountableTarget | None
    total: int  # procedures registered
    online: int
    points: list[BurnUpPoint]
    online_by_deadline: int
    deadline: date | None
    days_left: int | None

    @property
    def target_count(self) -> int:
        return self.target.target_count if self.target else 0


@dataclass
class SystemsBoard:
    target: CountableTarget | None
    groups: list[SystemGroup]
    phases: list[tuple[str, str]]
    cells: dict[tuple[int, str], list[StandardSystem]]  # (group pk, phase) -> systems
    done: int
    total: int
    deadline: date | None
    days_left: int | None
    overdue: list[StandardSystem]  # not migrated, past R7年度末 or their own planned date
    migrated_late: list[StandardSystem]  # migrated, but after the deadline

    def rows(self) -> list[tuple[SystemGroup, list[tuple[str, str, list[StandardSystem]]]]]:
        return [
            (g, [(value, label, self.cells.get((g.pk, value), [])) for value, label in self.phases])
            for g in self.groups
        ]

    @property
    def phase_totals(self) -> list[tuple[str, str, int]]:
        return [
            (value, label, sum(len(self.cells.get((g.pk, value), [])) for g in self.groups))
            for value, label in self.phases
        ]


@dataclass
class Change:
    when: datetime
    who: str
    model: str
    action: str
    what: str


@dataclass
class Dashboard:
    plan: Plan
    fiscal_year: int
    today: date
    stale_days: int
    stale_cutoff: date
    overall: Rollup
    policies: list[Group]
    working_groups: list[Group]
    status_counts: list[tuple[str, str, int]]  # (filter value, label, count)
    initiative_count: int
    milestones: list[ScheduleCell]
    delayed: list[Initiative]
    stale: list[Initiative]
    review_counts: list[tuple[str, str, int]]
    burnup: BurnUp
    systems: SystemsBoard
    changes: list[Change]
    rollup_rule: str = ROLLUP_RULE_TEXT
    status_labels: dict[str, str] = field(default_factory=lambda: dict(ProgressStatus.choices))


def _status_counts(initiatives: list[Initiative]) -> Counter[str]:
    return Counter(ini.latest_status or NO_STATUS for ini in initiatives)


def _status_list(counts: Counter[str]) -> list[tuple[str, str, int]]:
    rows = [(value, str(label), counts.get(value, 0)) for value, label in ProgressStatus.choices]
    rows.append((NO_STATUS, "未記録", counts.get(NO_STATUS, 0)))
    return rows


def dashboard_initiatives(plan: Plan, fiscal_year: int) -> QuerySet[Initiative]:
    """The plan's initiatives with the same annotations the initiative list filters on
    (latest progress of the year, the year's review, the last entry of any year), so every
    number on the dashboard equals the length of the list it links to."""
    return initiatives_with_list_columns(
        Initiative.objects.for_plan(plan).select_related("policy", "working_group", "lead_section"),
        fiscal_year,
    ).order_by("policy__number", "number")


def dashboard_for(
    *,
    plan: Plan,
    fiscal_year: int,
    today: date,
    stale_days: int = DEFAULT_STALE_DAYS,
    changes_limit: int = RECENT_CHANGES_LIMIT,
) -> Dashboard:
    initiatives = list(dashboard_initiatives(plan, fiscal_year))
    targets = {t.code: t for t in CountableTarget.objects.filter(plan=plan)}
    policies = list(BasicPolicy.objects.filter(plan=plan).order_by("number"))
    wgs = list(WorkingGroup.objects.filter(plan=plan).order_by("name"))

    by_policy: dict[int, list[Initiative]] = defaultdict(list)
    by_wg: dict[int | None, list[Initiative]] = defaultdict(list)
    for ini in initiatives:
        by_policy[ini.policy_id].append(ini)
        by_wg[ini.working_group_id].append(ini)

    policy_groups = [
        Group(
            key=p.number,
            label=f"基本方針{p.number} {p.title}",
            rollup=rollup(by_policy[p.pk]),
            status_counts=dict(_status_counts(by_policy[p.pk])),
        )
        for p in policies
    ]
    wg_groups = [
        Group(
            key=wg.pk,
            label=wg.name,
            rollup=rollup(by_wg[wg.pk]),
            status_counts=dict(_status_counts(by_wg[wg.pk])),
        )
        for wg in wgs
    ]

    # Same rule as the list's stale_days filter: the last entry of any year is older than
    # N days before today, or there is none.
    cutoff = today - timedelta(days=stale_days)
    delayed = [i for i in initiatives if i.latest_status == ProgressStatus.DELAYED]
    stale = [i for i in initiatives if i.last_entry_date is None or i.last_entry_date < cutoff]

    return Dashboard(
        plan=plan,
        fiscal_year=fiscal_year,
        today=today,
        stale_days=stale_days,
        stale_cutoff=cutoff,
        overall=rollup(initiatives),
        policies=policy_groups,
        working_groups=wg_groups,
        status_counts=_status_list(_status_counts(initiatives)),
        initiative_count=len(initiatives),
        milestones=milestones_for(plan, fiscal_year),
        delayed=delayed,
        stale=stale,
        review_counts=review_counts(initiatives),
        burnup=online_burnup(targets.get(ONLINE_TARGET_CODE), today),
        systems=systems_board(targets.get(SYSTEMS_TARGET_CODE), today),
        changes=recent_changes(
            plan, limit=changes_limit, initiative_ids=[i.pk for i in initiatives]
        ),
    )


def milestones_for(plan: Plan, fiscal_year: int) -> list[ScheduleCell]:
    """Cells of table 4-1 for the year, including cells merged across it."""
    cells = ScheduleCell.objects.filter(row__item__plan=plan, fiscal_year__lte=fiscal_year)
    cells = cells.select_related("row__item", "row__initiative__policy")
    cells = cells.order_by("row__item__order", "row__line")
    return [c for c in cells if c.fiscal_year + c.col_span - 1 >= fiscal_year]


def review_counts(initiatives: list[Initiative]) -> list[tuple[str, str, int]]:
    counts = Counter(i.review_state or NO_STATUS for i in initiatives)
    rows = [(value, str(label), counts.get(value, 0)) for value, label in Review.State.choices]
    rows.append((NO_STATUS, "未作成", counts.get(NO_STATUS, 0)))
    return rows


def online_burnup(target: CountableTarget | None, today: date) -> BurnUp:
    if target is None:
        return BurnUp(None, 0, 0, [], 0, None, None)
    rows = list(OnlineProcedure.objects.filter(target=target).values_list("online_on", flat=True))
    dates = sorted(d for d in rows if d is not None)
    points: list[BurnUpPoint] = []
    for i, d in enumerate(dates, start=1):
        if points and points[-1].day == d:
            points[-1].count = i
        else:
            points.append(BurnUpPoint(d, i))
    deadline = target.deadline
    return BurnUp(
        target=target,
        total=len(rows),
        online=len(dates),
        points=points,
        online_by_deadline=sum(1 for d in dates if d <= deadline),
        deadline=deadline,
        days_left=era.days_until_fiscal_year_end(target.deadline_fy, today),
    )


def systems_board(target: CountableTarget | None, today: date) -> SystemsBoard:
    phases = [(v, str(label)) for v, label in StandardSystem.Phase.choices]
    if target is None:
        return SystemsBoard(None, [], phases, {}, 0, 0, None, None, [], [])
    groups = list(SystemGroup.objects.filter(target=target).order_by("number"))
    systems = list(
        StandardSystem.objects.filter(group__target=target)
        .select_related("section")
        .order_by("number")
    )
    cells: dict[tuple[int, str], list[StandardSystem]] = defaultdict(list)
    for s in systems:
        cells[(s.group_id, s.phase)].append(s)
    deadline = target.deadline
    done = StandardSystem.Phase.DONE
    # Same rule as the systems list's overdue=1 filter: not migrated, and R7年度末 or the
    # system's own planned date has passed.
    overdue = [
        s
        for s in systems
        if s.phase != done and (today > deadline or (s.planned_on and s.planned_on < today))
    ]
    late = [s for s in systems if s.migrated_on and s.migrated_on > deadline]
    return SystemsBoard(
        target=target,
        groups=groups,
        phases=phases,
        cells=dict(cells),
        done=sum(1 for s in systems if s.phase == done),
        total=len(systems),
        deadline=deadline,
        days_left=era.days_until_fiscal_year_end(target.deadline_fy, today),
        overdue=overdue,
        migrated_late=late,
    )


# --------------------------------------------------------------------------------------------
# Recent changes across models (one query per model, whatever the history size)
# --------------------------------------------------------------------------------------------

HISTORY_ACTIONS = {"+": "作成", "~": "変更", "-": "削除"}


def _ini_code(h: Any) -> str:
    ini = getattr(h, "initiative", None)
    if ini is None:
        return "(削除された取り組み)"
    return f"{ini.policy.number}.{ini.number}"


def _history_sources(plan: Plan, ids: list[int]) -> list[tuple[type, QuerySet, Any]]:
    """(model, historical queryset limited to the plan, describe(historical) -> str).

    Rows are limited by the plan's initiative ids rather than by a join to the plan: with
    the join the database sorts every history row of the plan; with the id list it walks
    the history_date index backwards and stops after ``limit`` rows.
    """
    return [
        (
            Initiative,
            Initiative.history.filter(policy__plan=plan).select_related("policy"),
            lambda h: f"{h.policy.number}.{h.number} {h.title}",
        ),
        (
            ProgressEntry,
            ProgressEntry.history.filter(initiative_id__in=ids).select_related(
                "initiative__policy"
            ),
            lambda h: (
                f"{_ini_code(h)} {h.entry_date:%Y-%m-%d} "
                f"{ProgressStatus(h.status).label}"
                + (f" {h.percent}%" if h.percent is not None else "")
            ),
        ),
        (
            Review,
            Review.history.filter(initiative_id__in=ids).select_related("initiative__policy"),
            lambda h: (
                f"{_ini_code(h)} {era.era_label(h.fiscal_year, short=False)}"
                f"({Review.State(h.state).label})"
            ),
        ),
        (
            IndicatorValue,
            IndicatorValue.history.filter(indicator__initiative_id__in=ids).select_related(
                "indicator__initiative__policy"
            ),
            lambda h: (
                f"{h.indicator.name} {era.era_label(h.fiscal_year)}"
                if h.indicator
                else era.era_label(h.fiscal_year)
            ),
        ),
        (
            OnlineProcedure,
            OnlineProcedure.history.filter(target__plan=plan),
            lambda h: f"{h.number}. {h.name}",
        ),
        (
            StandardSystem,
            StandardSystem.history.filter(group__target__plan=plan),
            lambda h: (
                f"{StandardSystem(number=h.number).marker}{h.name} "
                f"({StandardSystem.Phase(h.phase).label})"
            ),
        ),
        (
            ScheduleCell,
            ScheduleCell.history.filter(row__item__plan=plan).select_related("row__item"),
            lambda h: (
                f"{h.row.item.title[:20] if h.row else ''} {era.era_label(h.fiscal_year)}: {h.text}"
            ),
        ),
        (
            BasicPolicy,
            BasicPolicy.history.filter(plan=plan),
            lambda h: f"基本方針{h.number} {h.title}",
        ),
    ]


def recent_changes(
    plan: Plan, *, limit: int = RECENT_CHANGES_LIMIT, initiative_ids: list[int] | None = None
) -> list[Change]:
    """The newest ``limit`` changes across the plan's models: one query per model."""
    if limit <= 0:
        return []
    if initiative_ids is None:
        initiative_ids = list(Initiative.objects.for_plan(plan).values_list("pk", flat=True))
    changes: list[Change] = []
    for model, qs, describe in _history_sources(plan, initiative_ids):
        rows = qs.select_related("history_user").order_by("-history_date", "-history_id")[:limit]
        for h in rows:
            user = h.history_user
            who = (user.get_full_name() or user.get_username()) if user else "システム"
            changes.append(
                Change(
                    when=h.history_date,
                    who=who,
                    model=str(model._meta.verbose_name),
                    action=HISTORY_ACTIONS.get(h.history_type, h.history_type),
                    what=describe(h),
                )
            )
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes[:limit]


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
class MatrixRow:
    row: ScheduleRow
    item_rowspan: int  # 0 = the 項目 cell above spans this line
    cells: list[MatrixCell]
    targets: list[CountableTarget]
    system_groups: list[SystemGroup]


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
    return years, result


# --------------------------------------------------------------------------------------------
# Public page: one serialiser for HTML, CSV and JSON, so nothing unpublished can leak
# --------------------------------------------------------------------------------------------

PUBLIC_FIELDS: dict[str, str] = {
    "description": "取り組みの内容",
    "progress": "今年度の進み具合",
    "projects": "すでに取り組んでいる事業",
    "indicators": "目標と実績(指標)",
}


def public_initiatives_queryset(plan: Plan, fiscal_year: int) -> QuerySet[Initiative]:
    return initiatives_with_latest_progress(
        Initiative.objects.filter(policy__plan=plan, is_public=True)
        .select_related("policy")
        .prefetch_related(
            Prefetch(
                "projects",
                queryset=ProjectUnderWay.objects.select_related("section").order_by("order"),
            ),
            Prefetch(
                "indicators",
                queryset=Indicator.objects.order_by("order", "name").prefetch_related(
                    Prefetch("values", queryset=IndicatorValue.objects.order_by("fiscal_year"))
                ),
            ),
        ),
        fiscal_year,
    ).order_by("policy__number", "number")


def _decimal(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def public_record(ini: Initiative, fiscal_year: int) -> dict[str, Any]:
    """What citizens may see of one initiative: title and policy, plus the allowed fields."""
    allowed = {f for f in (ini.public_fields or []) if f in PUBLIC_FIELDS}
    record: dict[str, Any] = {
        "code": ini.code,
        "policy": f"基本方針{ini.policy.number} {ini.policy.title}",
        "title": ini.title,
    }
    if "description" in allowed:
        record["description"] = ini.description
    if "progress" in allowed:
        status = ini.latest_status
        record["progress"] = {
            "fiscal_year": era.format_fiscal_year(fiscal_year),
            "status": ProgressStatus(status).label if status else "まだ記録がありません",
            "percent": progress_percent(status, ini.latest_percent),
            "updated_on": ini.latest_date.isoformat() if ini.latest_date else None,
        }
    if "projects" in allowed:
        record["projects"] = [
            {"year": p.era_label, "name": p.name, "section": p.section.name}
            for p in ini.projects.all()
        ]
    if "indicators" in allowed:
        record["indicators"] = [
            {
                "name": ind.name,
                "unit": ind.unit,
                "values": [
                    {
                        "fiscal_year": era.format_fiscal_year(v.fiscal_year),
                        "target": _decimal(v.target),
                        "actual": _decimal(v.actual),
                    }
                    for v in ind.values.all()
                ],
            }
            for ind in ini.indicators.all()
        ]
    return record


def public_records(plan: Plan, fiscal_year: int) -> list[dict[str, Any]]:
    return [public_record(i, fiscal_year) for i in public_initiatives_queryset(plan, fiscal_year)]


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
                out.append(Difference("追加", label, key, "", show(b)))
            elif b is None:
                out.append(Difference("削除", label, key, show(a), ""))
            else:
                changed = _fields_changed(a, b, names)
                if changed:
                    out.append(
                        Difference(
                            "変更",
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
            "policies": {f"基本方針{h.number}": h for h in policies.values()},
            "initiatives": {
                f"{policy_numbers[h.policy_id]}.{h.number}": h for h in initiatives.values()
            },
            "cells": {
                f"{items[rows[h.row_id].item_id].title[:30]} {rows[h.row_id].line}行目 "
                f"{era.era_label(h.fiscal_year)}": h
                for h in cells.values()
                if h.row_id in rows and rows[h.row_id].item_id in items
            },
        }
    a, b = states[start], states[end]
    compare(
        BasicPolicy,
        "基本方針",
        a["policies"],
        b["policies"],
        ["title", "summary", "heading"],
        lambda h: h.title,
    )
    compare(
        Initiative,
        "取り組み",
        a["initiatives"],
        b["initiatives"],
        ["title", "description", "flag", "working_group_id", "lead_section_id", "weight"],
        lambda h: h.title,
    )
    compare(
        ScheduleCell,
        "表4-1のセル",
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
