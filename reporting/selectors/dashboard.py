"""Reads for the dashboard (and the meeting report built from it).

A fixed number of queries whatever the number of initiatives, entries or history rows
(pinned by the query-count tests).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from initiatives.models import (
    GRADE_RULE_TEXT,
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    Review,
    StandardSystem,
    SystemGroup,
)
from initiatives.selectors import (
    NONE,
    ROLLUP_RULE_TEXT,
    CountableSummary,
    Rollup,
    countable_summary,
    grade_distribution,
    indicators_for_initiatives,
    initiatives_with_list_columns,
    is_stale,
    rollup,
    stale_cutoff,
    target_rows,
)
from kahoku_dx import era
from plans.models import (
    BasicPolicy,
    Plan,
    ScheduleCell,
)
from workgroups.models import WorkingGroup

ONLINE_TARGET_CODE = "online-procedures"
SYSTEMS_TARGET_CODE = "standard-systems"
DEFAULT_STALE_DAYS = 60
RECENT_CHANGES_LIMIT = 15
NO_STATUS = NONE  # the initiative list's filter value for "nothing logged" / "no review"


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
    grades: list[tuple[str, str, int]] = field(default_factory=list)  # (key, label, count)


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
    summary: CountableSummary | None = None

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
    overdue: list[StandardSystem]  # confirmed, not migrated, past R7年度末 or their own date
    migrated_late: list[StandardSystem]  # 期限後移行: migrated, but after the deadline
    difficult: list[StandardSystem] = field(default_factory=list)  # 移行困難システム
    summary: CountableSummary | None = None

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
    grades: list[tuple[str, str, int]] = field(default_factory=list)
    rollup_rule: str = ROLLUP_RULE_TEXT
    grade_rule: str = GRADE_RULE_TEXT
    status_labels: dict[str, str] = field(default_factory=lambda: dict(ProgressStatus.choices))


def _status_counts(initiatives: list[Initiative]) -> Counter[str]:
    return Counter(ini.latest_status or NO_STATUS for ini in initiatives)


def _status_list(counts: Counter[str]) -> list[tuple[str, str, int]]:
    rows = [(value, str(label), counts.get(value, 0)) for value, label in ProgressStatus.choices]
    rows.append((NO_STATUS, gettext("未記録"), counts.get(NO_STATUS, 0)))
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
    indicators = indicators_for_initiatives([i.pk for i in initiatives], fiscal_year)
    ini_by_pk = {i.pk: i for i in initiatives}
    ind_by_policy: dict[int, list[Indicator]] = defaultdict(list)
    ind_by_wg: dict[int | None, list[Indicator]] = defaultdict(list)
    for ind in indicators:
        owner = ini_by_pk[ind.initiative_id]
        ind_by_policy[owner.policy_id].append(ind)
        ind_by_wg[owner.working_group_id].append(ind)

    policy_groups = [
        Group(
            key=p.number,
            label=str(p),
            rollup=rollup(by_policy[p.pk]),
            status_counts=dict(_status_counts(by_policy[p.pk])),
            grades=grade_distribution(ind_by_policy[p.pk], fiscal_year),
        )
        for p in policies
    ]
    wg_groups = [
        Group(
            key=wg.pk,
            label=wg.name,
            rollup=rollup(by_wg[wg.pk]),
            status_counts=dict(_status_counts(by_wg[wg.pk])),
            grades=grade_distribution(ind_by_wg[wg.pk], fiscal_year),
        )
        for wg in wgs
    ]

    delayed = [i for i in initiatives if i.latest_status == ProgressStatus.DELAYED]
    stale = [i for i in initiatives if is_stale(i, today, stale_days)]

    return Dashboard(
        plan=plan,
        fiscal_year=fiscal_year,
        today=today,
        stale_days=stale_days,
        stale_cutoff=stale_cutoff(today, stale_days),
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
        grades=grade_distribution(indicators, fiscal_year),
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
    rows.append((NO_STATUS, gettext("未作成"), counts.get(NO_STATUS, 0)))
    return rows


def online_burnup(target: CountableTarget | None, today: date) -> BurnUp:
    if target is None:
        return BurnUp(None, 0, 0, [], 0, None, None)
    rows = target_rows(target)
    summary = countable_summary(target, rows, today)
    dates = sorted(p.done_on for p in rows if p.done_on is not None)
    points: list[BurnUpPoint] = []
    for i, d in enumerate(dates, start=1):
        if points and points[-1].day == d:
            points[-1].count = i
        else:
            points.append(BurnUpPoint(d, i))
    return BurnUp(
        target=target,
        total=summary.registered,
        online=summary.done,
        points=points,
        online_by_deadline=summary.done_by_deadline,
        deadline=target.deadline,
        days_left=summary.days_left,
        summary=summary,
    )


def systems_board(target: CountableTarget | None, today: date) -> SystemsBoard:
    phases = [(v, str(label)) for v, label in StandardSystem.Phase.choices]
    if target is None:
        return SystemsBoard(None, [], phases, {}, 0, 0, None, None, [], [])
    systems = target_rows(target)
    # The groups come with the systems (select_related), not from a query of their own.
    groups = sorted({s.group for s in systems}, key=lambda g: g.number)
    summary = countable_summary(target, systems, today)
    cells: dict[tuple[int, str], list[StandardSystem]] = defaultdict(list)
    for s in systems:
        cells[(s.group_id, s.phase)].append(s)
    # Same rule as the systems list's overdue=1 filter (StandardSystem.is_overdue).
    return SystemsBoard(
        target=target,
        groups=groups,
        phases=phases,
        cells=dict(cells),
        done=summary.done,
        total=summary.registered,
        deadline=target.deadline,
        days_left=summary.days_left,
        overdue=[s for s in systems if s.is_overdue(today)],
        migrated_late=[s for s in systems if s.migrated_late],
        difficult=[s for s in systems if s.difficult and not s.is_done],
        summary=summary,
    )


# --------------------------------------------------------------------------------------------
# Recent changes across models (one query per model, whatever the history size)
# --------------------------------------------------------------------------------------------

HISTORY_ACTIONS = {
    "+": pgettext_lazy("history", "作成"),
    "~": pgettext_lazy("history", "変更"),
    "-": pgettext_lazy("history", "削除"),
}


def _ini_code(h: Any) -> str:
    ini = getattr(h, "initiative", None)
    if ini is None:
        return _("(削除された取り組み)")
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
            lambda h: _("基本方針%(number)s %(title)s") % {"number": h.number, "title": h.title},
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
            who = (user.get_full_name() or user.get_username()) if user else _("システム")
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
