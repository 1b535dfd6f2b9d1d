"""Reads for the dashboard (and the meeting report built from it).

A fixed number of queries whatever the number of initiatives, entries or history rows
(pinned by the query-count tests).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import DateField, F, Field, IntegerField, QuerySet, TextField, Value
from django.db.models.functions import Cast
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
from plans.models import (
    BasicPolicy,
    Plan,
    ScheduleCell,
)
from portal_lib import era
from workgroups.models import WorkingGroup

ONLINE_TARGET_CODE = "online-procedures"
SYSTEMS_TARGET_CODE = "standard-systems"
COUNTED_CODES = (ONLINE_TARGET_CODE, SYSTEMS_TARGET_CODE)
DEFAULT_STALE_DAYS = 60
RECENT_CHANGES_LIMIT = 15
NO_STATUS = NONE  # the initiative list's filter value for "nothing logged" / "no review"
_INT, _TEXT = IntegerField(), TextField()  # the typed columns of the UNION ALL reads below


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
    delayed: list[Initiative]
    stale: list[Initiative]
    review_counts: list[tuple[str, str, int]]
    burnup: BurnUp
    systems: SystemsBoard
    changes: list[Change]
    grades: list[tuple[str, str, int]] = field(default_factory=list)
    # the plan's indicators, each with the year's value (counted actuals attached)
    indicators: list[Indicator] = field(default_factory=list)
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
    policies, wgs = policies_and_working_groups(plan)

    by_policy: dict[int, list[Initiative]] = defaultdict(list)
    by_wg: dict[int | None, list[Initiative]] = defaultdict(list)
    for ini in initiatives:
        by_policy[ini.policy_id].append(ini)
        by_wg[ini.working_group_id].append(ini)
    # The procedures and systems are read once: for their boards and for the indicators
    # whose actuals they count.
    known_rows = {t.pk: target_rows(t) for t in targets.values() if t.code in COUNTED_CODES}
    indicators = indicators_for_initiatives(
        [i.pk for i in initiatives], fiscal_year, known_rows=known_rows
    )
    ini_by_pk = {i.pk: i for i in initiatives}
    ind_by_policy: dict[int, list[Indicator]] = defaultdict(list)
    ind_by_wg: dict[int | None, list[Indicator]] = defaultdict(list)
    for ind in indicators:
        owner = ini_by_pk[ind.initiative_id]
        ind_by_policy[owner.policy_id].append(ind)
        ind_by_wg[owner.working_group_id].append(ind)

    policy_groups = [
        Group(
            key=p.key,
            label=p.label,
            rollup=rollup(by_policy[p.pk]),
            status_counts=dict(_status_counts(by_policy[p.pk])),
            grades=grade_distribution(ind_by_policy[p.pk], fiscal_year, today),
            name=p.name,
        )
        for p in policies
    ]
    wg_groups = [
        Group(
            key=wg.key,
            label=wg.label,
            rollup=rollup(by_wg[wg.pk]),
            status_counts=dict(_status_counts(by_wg[wg.pk])),
            grades=grade_distribution(ind_by_wg[wg.pk], fiscal_year, today),
            filter_name="wg",
            name=wg.name,
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
        burnup=online_burnup(targets.get(ONLINE_TARGET_CODE), today, known_rows),
        systems=systems_board(targets.get(SYSTEMS_TARGET_CODE), today, known_rows),
        changes=recent_changes(
            plan, limit=changes_limit, initiative_ids=[i.pk for i in initiatives]
        ),
        grades=grade_distribution(indicators, fiscal_year, today),
        indicators=indicators,
    )


def policies_and_working_groups(plan: Plan) -> tuple[list[PlanPart], list[PlanPart]]:
    """The plan's basic policies (by number) and WGs (by name): ONE query, a UNION ALL of
    the two small tables."""

    def branch(qs: QuerySet, kind: int, number: str | None, name: str) -> QuerySet:
        values: dict[str, Any] = {"c_kind": Value(kind, output_field=IntegerField())}
        for column, source, output in (
            ("c_pk", "pk", _INT),
            ("c_number", number, _INT),
            ("c_name", name, _TEXT),
        ):
            values[column] = Cast(F(source) if source else Value(None), output_field=output)
        return qs.order_by().annotate(**values).values(*values)

    rows = branch(BasicPolicy.objects.filter(plan=plan), 0, "number", "title").union(
        branch(WorkingGroup.objects.filter(plan=plan), 1, None, "name"), all=True
    )
    policies: list[PlanPart] = []
    wgs: list[PlanPart] = []
    for row in rows.order_by("c_kind", "c_number", "c_name"):
        if row["c_kind"] == 0:
            label = str(BasicPolicy(number=row["c_number"], title=row["c_name"]))
            policies.append(PlanPart(row["c_pk"], row["c_number"], label, row["c_name"]))
        else:
            wgs.append(PlanPart(row["c_pk"], row["c_pk"], row["c_name"], row["c_name"]))
    return policies, wgs


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
_COLUMNS: dict[str, Field] = {
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


def _history_sources(plan: Plan, ids: list[int]) -> list[tuple[type, QuerySet, dict, Any]]:
    """(model, historical queryset limited to the plan, columns, describe(row) -> str).

    Rows are limited by the plan's initiative ids rather than by a join to the plan: with
    the join the database sorts every history row of the plan; with the id list it walks
    the history_date index backwards and stops after ``limit`` rows.
    """
    return [
        (
            Initiative,
            Initiative.history.filter(policy__plan=plan),
            {"c_n1": "policy__number", "c_n2": "number", "c_s1": "title"},
            lambda r: f"{r['c_n1']}.{r['c_n2']} {r['c_s1']}",
        ),
        (
            ProgressEntry,
            ProgressEntry.history.filter(initiative_id__in=ids),
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
        (
            Review,
            Review.history.filter(initiative_id__in=ids),
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
        (
            IndicatorValue,
            IndicatorValue.history.filter(indicator__initiative_id__in=ids),
            {"c_n3": "fiscal_year", "c_s1": "indicator__name"},
            lambda r: (
                f"{r['c_s1']} {era.era_label(r['c_n3'])}"
                if r["c_s1"] is not None
                else era.era_label(r["c_n3"])
            ),
        ),
        (
            OnlineProcedure,
            OnlineProcedure.history.filter(target__plan=plan),
            {"c_n2": "number", "c_s1": "name"},
            lambda r: f"{r['c_n2']}. {r['c_s1']}",
        ),
        (
            StandardSystem,
            StandardSystem.history.filter(group__target__plan=plan),
            {"c_n2": "number", "c_s1": "name", "c_s2": "phase"},
            lambda r: (
                f"{StandardSystem(number=r['c_n2']).marker}{r['c_s1']} "
                f"({StandardSystem.Phase(r['c_s2']).label})"
            ),
        ),
        (
            ScheduleCell,
            ScheduleCell.history.filter(row__item__plan=plan),
            {"c_n3": "fiscal_year", "c_s1": "row__item__title", "c_s2": "text"},
            lambda r: (
                f"{r['c_s1'][:20] if r['c_s1'] is not None else ''} "
                f"{era.era_label(r['c_n3'])}: {r['c_s2']}"
            ),
        ),
        (
            BasicPolicy,
            BasicPolicy.history.filter(plan=plan),
            {"c_n2": "number", "c_s1": "title"},
            lambda r: _("基本方針%(number)s %(title)s") % {"number": r["c_n2"], "title": r["c_s1"]},
        ),
    ]


def _history_rows(qs: QuerySet, kind: int, columns: dict[str, str]) -> QuerySet:
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
    return qs.order_by().annotate(**annotations).values(*annotations)


def recent_changes(
    plan: Plan, *, limit: int = RECENT_CHANGES_LIMIT, initiative_ids: list[int] | None = None
) -> list[Change]:
    """The newest ``limit`` changes across the plan's models, with who made them: one query
    (UNION ALL of every history table, newest first, limited), whatever the history size."""
    if limit <= 0:
        return []
    if initiative_ids is None:
        initiative_ids = list(Initiative.objects.for_plan(plan).values_list("pk", flat=True))
    sources = _history_sources(plan, initiative_ids)
    # Where the database allows it (PostgreSQL), each branch stops after ``limit`` rows
    # read backwards from its history_date index; otherwise the outer LIMIT bounds the result.
    per_branch = connection.features.supports_slicing_ordering_in_compound
    branches = []
    for kind, (_model, qs, columns, _describe) in enumerate(sources):
        branch = _history_rows(qs, kind, columns)
        if per_branch:
            branch = branch.order_by("-c_when", "-c_id")[:limit]
        branches.append(branch)
    union = branches[0].union(*branches[1:], all=True).order_by("-c_when", "-c_id")[:limit]
    changes: list[Change] = []
    for row in union:
        model, _qs, _columns, describe = sources[row["c_kind"]]
        if row["c_user"] is None:
            who = str(_("システム"))
        else:
            who = f"{row['c_first']} {row['c_last']}".strip() or row["c_user"]
        changes.append(
            Change(
                when=row["c_when"],
                who=who,
                model=str(model._meta.verbose_name),
                action=HISTORY_ACTIONS.get(row["c_type"], row["c_type"]),
                what=describe(row),
            )
        )
    return changes
