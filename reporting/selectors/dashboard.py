"""Reads for the dashboard (and the meeting report built from it).

A fixed number of queries whatever the number of initiatives, entries or history rows
(pinned by the query-count tests).
"""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    Field,
    IntegerField,
    Q,
    QuerySet,
    TextField,
    Value,
    Window,
)
from django.db.models.functions import Cast, RowNumber
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_cte import CTE, with_cte

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
    InitiativeWithListColumns,
    Rollup,
    RollupSums,
    countable_summary,
    grade_distribution,
    indicators_of_plan,
    initiatives_with_list_columns,
    is_stale,
    latest_progress_columns,
    rollup_aggregates,
    rollup_sums_from,
    stale_cutoff,
    stale_filter,
    target_rows,
    with_progress_value,
)
from plans.models import (
    BasicPolicy,
    Plan,
    ScheduleCell,
)
from portal_lib import compiled, era
from portal_lib.codes import format_initiative_code
from workgroups.models import WorkingGroup

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ONLINE_TARGET_CODE = "online-procedures"
SYSTEMS_TARGET_CODE = "standard-systems"
COUNTED_CODES = (ONLINE_TARGET_CODE, SYSTEMS_TARGET_CODE)
DEFAULT_STALE_DAYS = 60
RECENT_CHANGES_LIMIT = 15
# The dashboard page lists the first 20 delayed and unlogged initiatives (its text says 20).
DASHBOARD_LIST_LIMIT = 20
NO_STATUS = NONE  # the initiative list's filter value for "nothing logged" / "no review"
# The typed columns of the UNION ALL reads below.
_INT: IntegerField[int, int] = IntegerField()
_TEXT: TextField[str, str] = TextField()
_SUM: DecimalField[Decimal, Decimal] = DecimalField(max_digits=30, decimal_places=2)
# A values() queryset, read as dict rows (portal_lib.compiled.values_rows); the rows of a
# UNION or GROUP BY of several models are no one model's.
ValuesQuerySet: TypeAlias = "QuerySet[Any, dict[str, Any]]"


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
    filter_name: str = "policy"  # the initiative list's GET filter: "policy" or "wg"
    name: str = ""  # the policy's title / the WG's name (label without the number)

    @property
    def policy(self) -> Any:
        """The list filter values, one of them None: links drop None filters."""
        return self.key if self.filter_name == "policy" else None

    @property
    def wg(self) -> Any:
        return self.key if self.filter_name == "wg" else None


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


@dataclass(frozen=True)
class PlanPart:
    """A basic policy or a WG as the dashboard groups by it."""

    pk: int
    key: int  # the initiative list's filter value: policy number / WG pk
    label: str  # 基本方針N title / the WG's name
    name: str  # the policy's title / the WG's name


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
    delayed: list[ListedInitiative]  # by code; the first ``list_limit`` when one was given
    stale: list[ListedInitiative]
    delayed_count: int  # all of them: the initiative list's status=delayed
    stale_count: int  # the initiative list's stale_days filter
    review_counts: list[tuple[str, str, int]]
    burnup: BurnUp
    systems: SystemsBoard
    changes: list[Change]
    grades: list[tuple[str, str, int]] = field(default_factory=list)
    # the plan's indicators, each with the year's value (counted actuals attached)
    indicators: list[Indicator] = field(default_factory=list)
    rollup_rule: str = ROLLUP_RULE_TEXT
    grade_rule: str = GRADE_RULE_TEXT
    status_labels: dict[str, StrOrPromise] = field(
        default_factory=lambda: dict(ProgressStatus.choices)
    )


def _status_list(counts: Counter[str]) -> list[tuple[str, str, int]]:
    rows = [(value, str(label), counts.get(value, 0)) for value, label in ProgressStatus.choices]
    rows.append((NO_STATUS, gettext("未記録"), counts.get(NO_STATUS, 0)))
    return rows


def dashboard_initiatives(plan: Plan, fiscal_year: int) -> QuerySet[InitiativeWithListColumns]:
    """The plan's initiatives with the same annotations the initiative list filters on
    (latest progress of the year, the year's review, the last entry of any year), so every
    number on the dashboard equals the length of the list it links to."""
    return (
        initiatives_with_list_columns(
            Initiative.objects.for_plan(plan).select_related("policy", "working_group"),
            fiscal_year,
        )
        # Only what the roll-ups and the lists read: at 1,000 initiatives building the full
        # objects (texts, publication choices, sections) was most of the page's time.
        .only(*DASHBOARD_FIELDS)
        .order_by("policy__number", "number")
    )


DASHBOARD_FIELDS = (
    "policy__number",
    "number",
    "title",
    "weight",
    "working_group__name",
)


@dataclass(frozen=True)
class ListedInitiative:
    """An initiative in the dashboard's lists (delayed, not logged for N days): what they
    show, read as columns, not as whole objects."""

    pk: int
    code: str
    title: str
    working_group: str | None  # the WG's name
    latest_status: str | None
    latest_date: date | None
    last_entry_date: date | None

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


@dataclass
class Figures:
    """The roll-ups the dashboard shows: the database's sums, added up per group."""

    overall: RollupSums = field(default_factory=RollupSums)
    status_counts: Counter[str] = field(default_factory=Counter)
    review_counts: Counter[str] = field(default_factory=Counter)
    stale_count: int = 0  # initiatives not logged for the dashboard's stale_days
    # "p<pk>" (basic policy) / "w<pk>" (WG) -> its sums and its initiatives' statuses
    groups: dict[str, tuple[RollupSums, Counter[str]]] = field(default_factory=dict)

    def group(self, key: str) -> tuple[RollupSums, Counter[str]]:
        return self.groups.get(key, (RollupSums(), Counter()))

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]]) -> Figures:
        """The figures of the database's sums, one row per basic policy × WG × latest status
        of the year (rollup_aggregates, prefixed c_): each added to the plan's, its policy's
        and its WG's."""
        parts: dict[str, list[RollupSums]] = defaultdict(list)
        statuses: dict[str, Counter[str]] = defaultdict(Counter)
        figures = cls()
        for row in rows:
            sums = rollup_sums_from({name: row[f"c_{name}"] for name in _SUM_NAMES})
            status = row["c_status"] or NO_STATUS
            figures.status_counts[status] += sums.total
            for key in ("", f"p{row['c_pk']}", f"w{row['c_number']}"):
                parts[key].append(sums)
                statuses[key][status] += sums.total
            figures.stale_count += row["c_stale"]
            reviewed = 0
            for state, column in _REVIEW_COLUMNS:
                figures.review_counts[state] += row[column]
                reviewed += row[column]
            figures.review_counts[NO_STATUS] += sums.total - reviewed
        totals = {key: sum(sums, RollupSums()) for key, sums in parts.items()}
        figures.overall = totals.pop("", RollupSums())
        figures.groups = {key: (total, statuses[key]) for key, total in totals.items()}
        return figures


def dashboard_for(
    *,
    plan: Plan,
    fiscal_year: int,
    today: date,
    stale_days: int = DEFAULT_STALE_DAYS,
    changes_limit: int = RECENT_CHANGES_LIMIT,
    list_limit: int | None = None,
) -> Dashboard:
    """The dashboard's figures, boards and lists; ``list_limit``: read only the first so
    many of the delayed and the unlogged initiatives (their counts are always all)."""
    policies, wgs, listed, figures = plan_parts_lists_and_figures(
        plan, fiscal_year, today=today, stale_days=stale_days, list_limit=list_limit
    )
    targets = {
        t.code: t
        for t in compiled.objects(
            ("countable_targets", plan.pk),
            lambda: CountableTarget.objects.filter(plan=plan),
            prepare=True,
        )
    }
    # The procedures and systems are read once: for their boards and for the indicators
    # whose actuals they count.
    known_rows = {t.pk: target_rows(t) for t in targets.values() if t.code in COUNTED_CODES}
    indicators = indicators_of_plan(plan, fiscal_year, known_rows=known_rows)
    ind_by_policy: dict[int, list[Indicator]] = defaultdict(list)
    ind_by_wg: dict[int | None, list[Indicator]] = defaultdict(list)
    for ind in indicators:
        ind_by_policy[ind.owner_policy_id].append(ind)  # type: ignore[attr-defined]
        ind_by_wg[ind.owner_working_group_id].append(ind)  # type: ignore[attr-defined]

    def group(part: PlanPart, key: str, indicators: list[Indicator], **kwargs: Any) -> Group:
        sums, statuses = figures.group(key)
        return Group(
            key=part.key,
            label=part.label,
            rollup=sums.rollup(),
            status_counts=dict(+statuses),  # the statuses that occur, as Counter() gave
            grades=grade_distribution(indicators, fiscal_year, today),
            name=part.name,
            **kwargs,
        )

    policy_groups = [group(p, f"p{p.pk}", ind_by_policy[p.pk]) for p in policies]
    wg_groups = [group(wg, f"w{wg.pk}", ind_by_wg[wg.pk], filter_name="wg") for wg in wgs]
    cutoff = stale_cutoff(today, stale_days)
    return Dashboard(
        plan=plan,
        fiscal_year=fiscal_year,
        today=today,
        stale_days=stale_days,
        stale_cutoff=cutoff,
        overall=figures.overall.rollup(),
        policies=policy_groups,
        working_groups=wg_groups,
        status_counts=_status_list(figures.status_counts),
        initiative_count=figures.overall.total,
        milestones=milestones_for(plan, fiscal_year),
        # By code; with a limit the read may hold an initiative beyond it that the other
        # list brought (delayed and unlogged), which the slice leaves out.
        delayed=[i for i in listed if i.latest_status == ProgressStatus.DELAYED][:list_limit],
        stale=[i for i in listed if is_stale(i, today, stale_days)][:list_limit],
        delayed_count=figures.status_counts[ProgressStatus.DELAYED],
        stale_count=figures.stale_count,
        review_counts=_review_list(figures.review_counts),
        burnup=online_burnup(targets.get(ONLINE_TARGET_CODE), today, known_rows),
        systems=systems_board(targets.get(SYSTEMS_TARGET_CODE), today, known_rows),
        changes=recent_changes(plan, limit=changes_limit, policy_ids=[p.pk for p in policies]),
        grades=grade_distribution(indicators, fiscal_year, today),
        indicators=indicators,
    )


def plan_parts_lists_and_figures(
    plan: Plan, fiscal_year: int, *, today: date, stale_days: int, list_limit: int | None = None
) -> tuple[list[PlanPart], list[PlanPart], list[ListedInitiative], Figures]:
    """The plan's basic policies (by number) and WGs (by name), the initiatives the dashboard
    lists (delayed, or not logged for ``stale_days``; by code) and the roll-ups, in ONE
    query.

    Each initiative of the plan is read once, with the initiative list's own columns for the
    year (initiatives_with_list_columns: the latest progress of the year, the year's review,
    the last entry of any year; with_progress_value: the entry's figure), into a
    materialised common table expression. From it the database both sums the roll-ups per
    basic policy, WG and latest status (rollup_aggregates, ROLLUP_RULE_TEXT; the year's
    reviews counted by state), a few dozen rows whatever the number of initiatives, and
    selects the listed initiatives with the list's own filters (status=delayed,
    stale_filter), so every count equals the length of the list it links to. A UNION ALL
    adds the two small tables. Read from the initiatives twice instead (once per purpose),
    the database looked up each initiative's latest entry five to eight times.

    With ``list_limit`` the database numbers each list's initiatives by code (a second
    expression over the first) and returns the first ``list_limit`` of each: the dashboard
    shows 20 of several hundred; the counts come with the roll-ups. The date of the latest
    entry is looked up for the listed initiatives only."""
    stale = stale_filter(today, stale_days)
    delayed = Q(latest_status=ProgressStatus.DELAYED)

    def union() -> ValuesQuerySet:
        per_initiative = CTE(
            with_progress_value(
                initiatives_with_list_columns(Initiative.objects.for_plan(plan), fiscal_year),
                fiscal_year,
            )
            .order_by()
            .values(
                "pk",
                "number",
                "title",
                "weight",
                "policy_id",
                "working_group_id",
                "latest_status",
                "last_entry_date",
                "progress_value",
                "review_state",
                policy_number=F("policy__number"),
                working_group_name=F("working_group__name"),
            ),
            name="dashboard_initiative",
            materialized=_MATERIALIZED_CTE.get(connection.vendor, True),
        )
        figures = (
            per_initiative.queryset()
            .order_by()
            .values("policy_id", "working_group_id", "latest_status")
            .annotate(
                **rollup_aggregates(),
                stale_count=Count("pk", filter=stale),
                **{
                    f"review_{state}": Count("pk", filter=Q(review_state=state))
                    for state in Review.State.values
                },
            )
        )
        ctes = [per_initiative]
        listed = per_initiative.queryset().order_by().filter(delayed | stale)
        if list_limit is not None:
            by_code = [F("policy_number").asc(), F("number").asc()]
            ranked = CTE(
                listed.annotate(
                    delayed_rank=_rank_within(delayed, by_code),
                    stale_rank=_rank_within(stale, by_code),
                ).values(*_LISTED_COLUMNS, "delayed_rank", "stale_rank"),
                name="dashboard_listed",
            )
            ctes.append(ranked)
            listed = (
                ranked.queryset()
                .order_by()
                .filter(
                    (delayed & Q(delayed_rank__lte=list_limit))
                    | (stale & Q(stale_rank__lte=list_limit))
                )
            )
        listed = listed.annotate(latest_date=latest_progress_columns(fiscal_year)["latest_date"])
        review_columns = {column: f"review_{state}" for state, column in _REVIEW_COLUMNS}
        branches = [
            _branch(
                BasicPolicy.objects.filter(plan=plan),
                _POLICY,
                {"c_pk": "pk", "c_number": "number", "c_name": "title"},
            ),
            _branch(WorkingGroup.objects.filter(plan=plan), _WG, {"c_pk": "pk", "c_name": "name"}),
            _branch(
                listed,
                _LISTED,
                {
                    "c_pk": "pk",
                    "c_number": "policy_number",
                    "c_number2": "number",
                    "c_name": "title",
                    "c_wg": "working_group_name",
                    "c_status": "latest_status",
                    "c_d1": "latest_date",
                    "c_d2": "last_entry_date",
                },
            ),
            _branch(
                figures,
                _FIGURES,
                {
                    "c_pk": "policy_id",
                    "c_number": "working_group_id",
                    "c_status": "latest_status",
                    **{f"c_{name}": name for name in _SUM_NAMES},
                    "c_stale": "stale_count",
                    **review_columns,
                },
            ),
        ]
        combined = (
            branches[0]
            .union(*branches[1:], all=True)
            .order_by("c_kind", "c_number", "c_number2", "c_name")
        )
        rows: ValuesQuerySet = with_cte(*ctes, select=combined)
        return rows

    policies: list[PlanPart] = []
    wgs: list[PlanPart] = []
    initiatives: list[ListedInitiative] = []
    figure_rows: list[dict[str, Any]] = []
    # The statement depends on the plan, the year and the stale rule's condition for today
    # only (a Q compares by value): compiled once (portal_lib.compiled).
    key = ("dashboard", plan.pk, fiscal_year, stale, list_limit)
    for row in compiled.values_rows(key, union, prepare=True):
        kind = row["c_kind"]
        if kind == _POLICY:
            label = str(BasicPolicy(number=row["c_number"], title=row["c_name"]))
            policies.append(PlanPart(row["c_pk"], row["c_number"], label, row["c_name"]))
        elif kind == _WG:
            wgs.append(PlanPart(row["c_pk"], row["c_pk"], row["c_name"], row["c_name"]))
        elif kind == _LISTED:
            initiatives.append(
                ListedInitiative(
                    pk=row["c_pk"],
                    code=format_initiative_code(row["c_number"], row["c_number2"]),
                    title=row["c_name"],
                    working_group=row["c_wg"],
                    latest_status=row["c_status"],
                    latest_date=row["c_d1"],
                    last_entry_date=row["c_d2"],
                )
            )
        else:
            figure_rows.append(row)
    return policies, wgs, initiatives, Figures.from_rows(figure_rows)


# What the dashboard's lists show of an initiative (the per-initiative expression's names).
_LISTED_COLUMNS = (
    "pk",
    "number",
    "title",
    "policy_number",
    "working_group_name",
    "latest_status",
    "last_entry_date",
)


def _rank_within(condition: Q, order_by: list[Any]) -> Window:
    """1, 2, … by ``order_by`` among the rows meeting ``condition`` (the others are numbered
    apart)."""
    return Window(
        RowNumber(),
        partition_by=[ExpressionWrapper(condition, output_field=BooleanField())],
        order_by=order_by,
    )


# The names of rollup_aggregates(), prefixed c_ in the dashboard's one read.
_SUM_NAMES = ("total", "reported", "counted", "wsum", "wtotal")
_REVIEW_COLUMNS = tuple((state, f"c_review_{state}") for state in Review.State.values)
# The kinds of row in the dashboard's one read.
_POLICY, _WG, _LISTED, _FIGURES = range(4)
# MATERIALIZED keeps the database from folding the per-initiative columns into each use,
# which would repeat every latest-entry lookup (PostgreSQL 12+; SQLite 3.35+, older SQLite
# rejects the word).
_MATERIALIZED_CTE = {"sqlite": sqlite3.sqlite_version_info >= (3, 35)}


def _branch(qs: QuerySet[Any], kind: int, sources: dict[str, str]) -> ValuesQuerySet:
    """One branch of the dashboard's UNION ALL: every column of _COLUMN_TYPES, typed, NULL
    where the branch has no value for it."""
    values: dict[str, Any] = {"c_kind": Value(kind, output_field=IntegerField())}
    for column, output in _COLUMN_TYPES.items():
        source = sources.get(column)
        values[column] = Cast(F(source) if source else Value(None), output_field=output)
    # The model is any of three: django-stubs types annotate() on a QuerySet[Any] as Any.
    rows: ValuesQuerySet = qs.order_by().annotate(**values).values(*values)
    return rows


_COLUMN_TYPES: dict[str, Field[Any, Any]] = {
    "c_pk": _INT,  # policy / WG / initiative pk; figures: the policy's pk
    "c_number": _INT,  # policy number; figures: the WG's pk
    "c_number2": _INT,  # the initiative's number
    "c_name": _TEXT,
    "c_wg": _TEXT,  # the initiative's WG's name
    "c_status": _TEXT,  # the latest status of the year
    "c_d1": DateField(),  # its date
    "c_d2": DateField(),  # the last entry of any year
    # figures: the database's sums of the group (rollup_aggregates) and its reviews by state
    "c_total": _INT,
    "c_reported": _INT,
    "c_counted": _INT,
    "c_wsum": _SUM,
    "c_wtotal": _SUM,
    "c_stale": _INT,  # figures: how many of the group are not logged for stale_days
    **{f"c_review_{state}": _INT for state in Review.State.values},
}


def milestones_for(plan: Plan, fiscal_year: int) -> list[ScheduleCell]:
    """Cells of table 4-1 for the year, including cells merged across it."""

    def build() -> QuerySet[ScheduleCell]:
        return (
            ScheduleCell.objects.filter(row__item__plan=plan, fiscal_year__lte=fiscal_year)
            .select_related("row__item", "row__initiative__policy")
            .order_by("row__item__order", "row__line")
        )

    # The statement names the plan and the year only: composed once (portal_lib.compiled).
    cells = compiled.objects(("milestones", plan.pk, fiscal_year), build, prepare=True)
    return [c for c in cells if c.fiscal_year + c.col_span - 1 >= fiscal_year]


def _review_list(counts: Counter[str]) -> list[tuple[str, str, int]]:
    rows = [(value, str(label), counts.get(value, 0)) for value, label in Review.State.choices]
    rows.append((NO_STATUS, gettext("未作成"), counts.get(NO_STATUS, 0)))
    return rows


def _rows(target: CountableTarget, known_rows: dict[int, list[Any]] | None) -> list[Any]:
    if known_rows is not None and target.pk in known_rows:
        return known_rows[target.pk]
    return target_rows(target)


def online_burnup(
    target: CountableTarget | None, today: date, known_rows: dict[int, list[Any]] | None = None
) -> BurnUp:
    if target is None:
        return BurnUp(None, 0, 0, [], 0, None, None)
    rows = _rows(target, known_rows)
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


def systems_board(
    target: CountableTarget | None, today: date, known_rows: dict[int, list[Any]] | None = None
) -> SystemsBoard:
    phases = [(v, str(label)) for v, label in StandardSystem.Phase.choices]
    if target is None:
        return SystemsBoard(None, [], phases, {}, 0, 0, None, None, [], [])
    systems = _rows(target, known_rows)
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
# Recent changes across models: ONE query (UNION ALL of the history tables), users joined
# --------------------------------------------------------------------------------------------

HISTORY_ACTIONS = {
    "+": pgettext_lazy("history", "作成"),
    "~": pgettext_lazy("history", "変更"),
    "-": pgettext_lazy("history", "削除"),
}

# The columns every branch of the union selects, in this order (same names, same types).
_COLUMNS: dict[str, Field[Any, Any]] = {
    "c_n1": _INT,  # policy number of the initiative (None: initiative deleted)
    "c_n2": _INT,  # number (initiative, procedure, system, policy)
    "c_n3": _INT,  # fiscal year or percent
    "c_date": DateField(),
    "c_s1": _TEXT,  # title / name / status / state
    "c_s2": _TEXT,  # phase / cell text
}


def _ini_code(row: dict[str, Any]) -> str:
    if row["c_n1"] is None:
        return str(_("(削除された取り組み)"))
    return f"{row['c_n1']}.{row['c_n2']}"


@dataclass(frozen=True)
class _HistorySource:
    """A history table in the recent changes: its model, the plan's rows of it, the shared
    columns it fills and how a row reads."""

    model: type
    rows: Callable[[Plan, list[int]], QuerySet[Any]]
    columns: dict[str, str]
    describe: Callable[[dict[str, Any]], str]


# Rows are limited by the plan's basic policies (the initiative's ``policy_id`` among a few
# ids) rather than by a join to the plan: with the join the database sorts every history
# row of the plan; with the short id list it walks the history_date index backwards and
# stops after ``limit`` rows. (A list of every initiative id did the same but cost more to
# send than the query took: 3,000 parameters at 1,000 initiatives.)
_HISTORY_SOURCES: list[_HistorySource] = [
    _HistorySource(
        Initiative,
        lambda plan, ids: Initiative.history.filter(policy_id__in=ids),
        {"c_n1": "policy__number", "c_n2": "number", "c_s1": "title"},
        lambda r: f"{r['c_n1']}.{r['c_n2']} {r['c_s1']}",
    ),
    _HistorySource(
        ProgressEntry,
        lambda plan, ids: ProgressEntry.history.filter(initiative__policy_id__in=ids),
        {
            "c_n1": "initiative__policy__number",
            "c_n2": "initiative__number",
            "c_n3": "percent",
            "c_date": "entry_date",
            "c_s1": "status",
        },
        lambda r: (
            f"{_ini_code(r)} {era.format_date(r['c_date'])} {ProgressStatus(r['c_s1']).label}"
            + (f" {r['c_n3']}%" if r["c_n3"] is not None else "")
        ),
    ),
    _HistorySource(
        Review,
        lambda plan, ids: Review.history.filter(initiative__policy_id__in=ids),
        {
            "c_n1": "initiative__policy__number",
            "c_n2": "initiative__number",
            "c_n3": "fiscal_year",
            "c_s1": "state",
        },
        lambda r: (
            f"{_ini_code(r)} {era.era_label(r['c_n3'], short=False)}"
            f"({Review.State(r['c_s1']).label})"
        ),
    ),
    _HistorySource(
        IndicatorValue,
        lambda plan, ids: IndicatorValue.history.filter(indicator__initiative__policy_id__in=ids),
        {"c_n3": "fiscal_year", "c_s1": "indicator__name"},
        lambda r: (
            f"{r['c_s1']} {era.era_label(r['c_n3'])}"
            if r["c_s1"] is not None
            else era.era_label(r["c_n3"])
        ),
    ),
    _HistorySource(
        OnlineProcedure,
        lambda plan, ids: OnlineProcedure.history.filter(target__plan=plan),
        {"c_n2": "number", "c_s1": "name"},
        lambda r: f"{r['c_n2']}. {r['c_s1']}",
    ),
    _HistorySource(
        StandardSystem,
        lambda plan, ids: StandardSystem.history.filter(group__target__plan=plan),
        {"c_n2": "number", "c_s1": "name", "c_s2": "phase"},
        lambda r: (
            f"{StandardSystem(number=r['c_n2']).marker}{r['c_s1']} "
            f"({StandardSystem.Phase(r['c_s2']).label})"
        ),
    ),
    _HistorySource(
        ScheduleCell,
        lambda plan, ids: ScheduleCell.history.filter(row__item__plan=plan),
        {"c_n3": "fiscal_year", "c_s1": "row__item__title", "c_s2": "text"},
        lambda r: (
            f"{r['c_s1'][:20] if r['c_s1'] is not None else ''} "
            f"{era.era_label(r['c_n3'])}: {r['c_s2']}"
        ),
    ),
    _HistorySource(
        BasicPolicy,
        lambda plan, ids: BasicPolicy.history.filter(plan=plan),
        {"c_n2": "number", "c_s1": "title"},
        lambda r: _("基本方針%(number)s %(title)s") % {"number": r["c_n2"], "title": r["c_s1"]},
    ),
]


def _history_rows(qs: QuerySet[Any], kind: int, columns: dict[str, str]) -> ValuesQuerySet:
    """One branch of the union: the shared columns, NULL (typed) where the model has none."""
    annotations: dict[str, Any] = {
        "c_kind": Value(kind, output_field=IntegerField()),
        "c_when": F("history_date"),
        "c_id": F("history_id"),
        "c_type": F("history_type"),
        "c_first": F("history_user__first_name"),
        "c_last": F("history_user__last_name"),
        "c_user": F("history_user__username"),
    }
    for name, output in _COLUMNS.items():
        source = columns.get(name)
        annotations[name] = Cast(F(source) if source else Value(None), output_field=output)
    # The model is any history model: django-stubs types annotate() on a QuerySet[Any] as Any.
    rows: ValuesQuerySet = qs.order_by().annotate(**annotations).values(*annotations)
    return rows


def recent_changes(
    plan: Plan, *, limit: int = RECENT_CHANGES_LIMIT, policy_ids: list[int] | None = None
) -> list[Change]:
    """The newest ``limit`` changes across the plan's models, with who made them: one query
    (UNION ALL of every history table, newest first, limited), whatever the history size."""
    if limit <= 0:
        return []
    if policy_ids is None:
        policy_ids = list(BasicPolicy.objects.filter(plan=plan).values_list("pk", flat=True))
    # Where the database allows it (PostgreSQL), each branch stops after ``limit`` rows
    # read backwards from its history_date index; otherwise the outer LIMIT bounds the result.
    per_branch = connection.features.supports_slicing_ordering_in_compound

    def union() -> ValuesQuerySet:
        branches = []
        for kind, source in enumerate(_HISTORY_SOURCES):
            branch = _history_rows(source.rows(plan, policy_ids), kind, source.columns)
            if per_branch:
                branch = branch.order_by("-c_when", "-c_id")[:limit]
            branches.append(branch)
        return branches[0].union(*branches[1:], all=True).order_by("-c_when", "-c_id")[:limit]

    changes: list[Change] = []
    # The statement depends on the plan, its policies and the limit only: compiled once,
    # and prepared (PostgreSQL took 5-8 ms to plan the nine tables' union, 1 ms to run it).
    key = ("recent_changes", plan.pk, tuple(policy_ids), limit)
    for row in compiled.values_rows(key, union, prepare=True):
        source = _HISTORY_SOURCES[row["c_kind"]]
        if row["c_user"] is None:
            who = str(_("システム"))
        else:
            who = f"{row['c_first']} {row['c_last']}".strip() or row["c_user"]
        changes.append(
            Change(
                when=row["c_when"],
                who=who,
                model=str(source.model._meta.verbose_name),
                action=HISTORY_ACTIONS.get(row["c_type"], row["c_type"]),
                what=source.describe(row),
            )
        )
    return changes
