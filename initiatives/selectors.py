"""Reads for progress: one place for the roll-up rule every page states."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypedDict

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import In, IsNull
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from initiatives import workflow
from initiatives.models import (
    ENDING_DECISIONS,
    GRADE_KEYS,
    Confirmation,
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    ProjectUnderWay,
    Review,
    ReviewEvent,
    StandardSystem,
)
from plans.models import BasicPolicy, Plan
from plans.selectors import current_plan
from portal_lib import compiled, era
from portal_lib.people import display_name
from workgroups.access import Roles
from workgroups.selectors import (
    sections_ended_in_use,
    staff_without_section,
    working_groups_led_from_outside,
    working_groups_with_two_leaders,
    working_groups_without_leader,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# Marked, not translated: a plain str; pages show it via {% translate %}.
ROLLUP_RULE_TEXT = gettext_noop(
    "各取り組みの進捗率は、その年度の最新の進捗記録の進捗率です"
    "(進捗率が空欄の場合、完了は100%、未着手は0%とし、それ以外は集計に含めません)。"
    "基本方針・WG・計画全体の進捗率は、中止を除く取り組みの平均です。"
    "取り組みに重みが設定されている場合は重み付き平均(重みのない取り組みは重み1)です。"
)


# What the selectors below annotate, named once: a misspelt or missing annotation is a type
# error where it is read, not an AttributeError on a page. django-stubs types each
# Subquery() annotation as Any, so the function returning the annotated queryset is where
# the column's type is stated.
class LatestProgress(TypedDict):
    """initiatives_with_latest_progress(): the year's latest entry (None: nothing logged)."""

    latest_status: str | None
    latest_percent: int | None
    latest_date: date | None


class ProgressValue(LatestProgress):
    """with_progress_value(): and progress_percent() of that entry, as SQL."""

    progress_value: int | None


class ListColumns(LatestProgress):
    """initiatives_with_list_columns(): and the year's review, and the last entry of any year."""

    review_state: str | None
    review_pk: int | None
    review_due: date | None
    last_entry_date: date | None


InitiativeWithProgress: TypeAlias = "WithAnnotations[Initiative, LatestProgress]"
InitiativeWithProgressValue: TypeAlias = "WithAnnotations[Initiative, ProgressValue]"
InitiativeWithListColumns: TypeAlias = "WithAnnotations[Initiative, ListColumns]"


def initiatives_with_latest_progress(
    queryset: QuerySet[Initiative], fiscal_year: int
) -> QuerySet[InitiativeWithProgress]:
    """Annotate each initiative with its latest progress entry of the fiscal year.

    Adds ``latest_status``, ``latest_percent``, ``latest_date`` (None when nothing logged).
    """
    latest = latest_progress_columns(fiscal_year)
    return queryset.annotate(
        latest_status=latest["latest_status"],
        latest_percent=latest["latest_percent"],
        latest_date=latest["latest_date"],
    )


def latest_progress_columns(fiscal_year: int) -> dict[str, Subquery]:
    """``latest_status``, ``latest_percent`` and ``latest_date`` of an initiative's latest
    progress entry of the fiscal year, as expressions on a queryset whose ``pk`` is the
    initiative's (initiatives_with_latest_progress; the dashboard's lists read the date only
    for the initiatives they show)."""
    # (initiative, entry_date) is unique, so "-entry_date" alone picks one row; the index
    # progress_init_fy_date answers each subquery with one index probe.
    latest = ProgressEntry.objects.filter(
        initiative=OuterRef("pk"), fiscal_year=fiscal_year
    ).order_by("-entry_date")
    return {
        "latest_status": Subquery(latest.values("status")[:1]),
        "latest_percent": Subquery(latest.values("percent")[:1]),
        "latest_date": Subquery(latest.values("entry_date")[:1]),
    }


def progress_percent(status: str | None, percent: int | None) -> int | None:
    """An initiative's progress for the roll-up, or None when it does not count."""
    if status is None or status == ProgressStatus.CANCELLED:
        return None
    if percent is not None:
        return percent
    if status == ProgressStatus.DONE:
        return 100
    if status == ProgressStatus.NOT_STARTED:
        return 0
    return None


@dataclass(frozen=True)
class Rollup:
    """One aggregate and what it rests on: every figure shown for a group of initiatives.

    ``percent`` is the (weighted) average over the initiatives that have a value (``counted``);
    ``reported`` of ``total`` initiatives have a progress record in the fiscal year. A figure
    with ``reported < total`` must never be shown without saying so.
    """

    percent: Decimal | None  # None when no initiative has a value
    counted: int
    total: int
    reported: int = 0

    @property
    def unreported(self) -> int:
        return self.total - self.reported

    @property
    def complete(self) -> bool:
        """Every initiative has reported: the percentage speaks for the whole group."""
        return self.total > 0 and self.reported == self.total


# What a roll-up's figure is, for a Rollup or a meeting report's saved dict alike.
FIGURE_NONE = "none"  # nothing to count (no initiative in the group): "—"
FIGURE_UNREPORTED = "unreported"  # nobody reported: 「未報告」, never 0 %
FIGURE_NO_VALUE = "no_value"  # reported, but no percentage given: "—"
FIGURE_PERCENT = "percent"


def rollup_figure_kind(r: Any) -> str:
    """Which figure a roll-up shows: the one rule behind templates/includes/rollup.html
    (the ``rollup_figure`` filter) and the workbooks' 進捗率 cells (reporting.workbooks.meeting_report,
    reporting.workbooks.versions)."""

    def get(key: str) -> Any:
        return r.get(key) if isinstance(r, dict) else getattr(r, key, None)

    if get("total") == 0:
        return FIGURE_NONE
    if get("reported") == 0:
        return FIGURE_UNREPORTED
    if get("percent") is None or get("percent") == "":
        return FIGURE_NO_VALUE
    return FIGURE_PERCENT


def rollup_figure(r: Any) -> str:
    """The figure as text: "—", 「未報告」 or "53.3%" (in the reader's language)."""
    kind = rollup_figure_kind(r)
    if kind == FIGURE_UNREPORTED:
        return _("未報告")
    if kind == FIGURE_PERCENT:
        percent = r["percent"] if isinstance(r, dict) else r.percent
        return f"{percent}%"
    return "—"


def rollup(initiatives: Iterable[InitiativeWithProgress]) -> Rollup:
    """Roll annotated initiatives (see above) up into one percentage, by ROLLUP_RULE_TEXT.
    Pages roll up in the database (rollup_aggregates); this is for a few objects in hand."""
    weighted_sum = Decimal(0)
    weight_total = Decimal(0)
    counted = total = reported = 0
    for ini in initiatives:
        total += 1
        status = ini.latest_status
        if status is not None:
            reported += 1
        value = progress_percent(status, ini.latest_percent)
        if value is None:
            continue
        weight = ini.weight if ini.weight is not None else Decimal(1)
        weighted_sum += weight * value
        weight_total += weight
        counted += 1
    return RollupSums(total, reported, counted, weighted_sum, weight_total).rollup()


@dataclass(frozen=True)
class RollupSums:
    """What a roll-up adds up, for any group of initiatives: sums of groups add up to the
    sums of their union, so the database sums small groups once and pages add them."""

    total: int = 0
    reported: int = 0
    counted: int = 0
    weighted_sum: Decimal = Decimal(0)  # sum of weight × progress over the counted ones
    weight_total: Decimal = Decimal(0)  # sum of their weights (1 where none is set)

    def __add__(self, other: RollupSums) -> RollupSums:
        return RollupSums(
            self.total + other.total,
            self.reported + other.reported,
            self.counted + other.counted,
            self.weighted_sum + other.weighted_sum,
            self.weight_total + other.weight_total,
        )

    def rollup(self) -> Rollup:
        """The (weighted) average to one decimal, half up: the one place it is computed."""
        if not self.weight_total:
            return Rollup(None, self.counted, self.total, self.reported)
        percent = (self.weighted_sum / self.weight_total).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        return Rollup(percent, self.counted, self.total, self.reported)


# The roll-up in SQL: the same rule as progress_percent (cancelled and "no percentage" do not
# count; a blank percentage is 100 for 完了 and 0 for 未着手), weights as in rollup() (none
# set: 1). Weights have two decimals: the sums are read back as exact decimals on every
# database, and RollupSums.rollup() divides them as rollup() does.
_SUM_FIELD: DecimalField[Decimal, Decimal] = DecimalField(max_digits=30, decimal_places=2)


def with_progress_value(
    queryset: QuerySet[Initiative], fiscal_year: int
) -> QuerySet[InitiativeWithProgressValue]:
    """initiatives_with_latest_progress plus ``progress_value``: progress_percent() of the
    latest entry of the year (the same rule, as SQL), computed by the database in ONE
    subquery (the same index probe)."""
    value = Case(
        When(status=ProgressStatus.CANCELLED, then=Value(None)),
        When(percent__isnull=False, then=F("percent")),
        When(status=ProgressStatus.DONE, then=Value(100)),
        When(status=ProgressStatus.NOT_STARTED, then=Value(0)),
        default=Value(None),
        output_field=IntegerField(),
    )
    latest = ProgressEntry.objects.filter(
        initiative=OuterRef("pk"), fiscal_year=fiscal_year
    ).order_by("-entry_date")
    return initiatives_with_latest_progress(queryset, fiscal_year).annotate(
        progress_value=Subquery(latest.annotate(v=value).values("v")[:1])
    )


def rollup_aggregates() -> dict[str, Any]:
    """Aggregates (Count, Sum) giving the RollupSums of each group of a ``values(...)``
    GROUP BY (read them back with rollup_sums_from). The queryset comes from
    with_progress_value; the SQL twin of rollup(), pinned to it by
    tests/reporting/test_dashboard_sql_rollup.py."""
    weight = Coalesce(F("weight"), Value(Decimal(1)), output_field=_SUM_FIELD)
    return {
        "total": Count("pk"),
        "reported": Count("latest_status"),
        "counted": Count("progress_value"),
        "wsum": Sum(
            ExpressionWrapper(weight * F("progress_value"), output_field=_SUM_FIELD),
            output_field=_SUM_FIELD,
        ),
        "wtotal": Sum(
            Case(When(progress_value__isnull=False, then=weight), output_field=_SUM_FIELD),
            output_field=_SUM_FIELD,
        ),
    }


def rollup_sums_from(row: dict[str, Any]) -> RollupSums:
    return RollupSums(
        total=row["total"] or 0,
        reported=row["reported"] or 0,
        counted=row["counted"] or 0,
        weighted_sum=row["wsum"] or Decimal(0),
        weight_total=row["wtotal"] or Decimal(0),
    )


# --- screens (issue 3) ---------------------------------------------------------------------

NONE = "none"  # filter value for "nothing logged" / "no review yet"


def initiatives_for_fiscal_year(fiscal_year: int) -> QuerySet[Initiative]:
    """Initiatives of the plan(s) whose period covers the fiscal year, with what lists show."""
    return Initiative.objects.with_relations().filter(
        Plan.covering(fiscal_year, via="policy__plan")
    )


# An initiative has ended when its latest progress entry (of any fiscal year) says 完了 or
# 中止, or when HQ approved a review deciding 完了 or 廃止 for it.
ENDED_STATUSES = frozenset({ProgressStatus.DONE, ProgressStatus.CANCELLED})
RUNNING_STATUSES = tuple(s for s in ProgressStatus.values if s not in ENDED_STATUSES)


def running_condition(
    *, initiative: Any, entries: Q | None = None, decisions: Q | None = None
) -> Q:
    """The one rule "the initiative is still running" as a filter: ``initiative`` is the
    reference to it (OuterRef("pk") on initiatives, OuterRef("initiative") on reviews),
    ``entries`` and ``decisions`` the progress entries and approved reviews that count
    (those up to a day, or those before a review's fiscal year)."""
    last_status = Subquery(
        ProgressEntry.objects.filter(entries or Q(), initiative=initiative)
        .order_by("-entry_date")
        .values("status")[:1]
    )
    ending = Review.objects.filter(
        decisions or Q(),
        initiative=initiative,
        state=Review.State.APPROVED,
        carry_over__in=ENDING_DECISIONS,
    )
    return (Q(IsNull(last_status, True)) | Q(In(last_status, RUNNING_STATUSES))) & ~Q(
        Exists(ending)
    )


def running_initiatives(queryset: QuerySet[Initiative], today: date) -> QuerySet[Initiative]:
    """The initiatives of ``queryset`` still running on ``today``: the ones reminders are
    about. A new entry after a 完了 (work taken up again) runs again."""
    return queryset.filter(
        running_condition(initiative=OuterRef("pk"), entries=Q(entry_date__lte=today))
    )


def reviews_of_running_initiatives(queryset: QuerySet[Review]) -> QuerySet[Review]:
    """Reviews whose initiative was still running when the review's fiscal year began (one
    that ends during the year still writes that year's review, e.g. deciding 完了)."""
    before = Q(fiscal_year__lt=OuterRef("fiscal_year"))
    return queryset.filter(
        running_condition(initiative=OuterRef("initiative"), entries=before, decisions=before)
    )


def stale_cutoff(today: date, days: int) -> date:
    return today - timedelta(days=days)


# "Progress not logged for N days": the last entry (of any fiscal year) is older than N days
# before today, or there is none. The list filter, the dashboard (which links to that filter)
# and the reminder mails use these two forms of it, on annotated initiatives.
def stale_filter(today: date, days: int) -> Q:
    cutoff = stale_cutoff(today, days)
    return Q(last_entry_date__isnull=True) | Q(last_entry_date__lt=cutoff)


class HasLastEntry(Protocol):
    """An initiative with the day of its last entry of any year (None: none), as
    initiatives_with_list_columns() annotates it or the dashboard lists it."""

    @property
    def last_entry_date(self) -> date | None: ...


def is_stale(initiative: HasLastEntry, today: date, days: int) -> bool:
    last = initiative.last_entry_date
    return last is None or last < stale_cutoff(today, days)


def initiatives_with_list_columns(
    queryset: QuerySet[Initiative], fiscal_year: int
) -> QuerySet[InitiativeWithListColumns]:
    """Latest progress of the FY, the FY's review (state, pk) and the last entry of any FY."""
    # The year's review is joined, once for its three columns (uniq_review_initiative_year:
    # at most one row per initiative, so the join never repeats an initiative); as three
    # subqueries the database looked it up three times per initiative.
    last_entry = ProgressEntry.objects.filter(initiative=OuterRef("pk")).order_by("-entry_date")
    return initiatives_with_latest_progress(queryset, fiscal_year).annotate(
        year_review=FilteredRelation("reviews", condition=Q(reviews__fiscal_year=fiscal_year)),
        review_state=F("year_review__state"),
        review_pk=F("year_review__pk"),
        review_due=F("year_review__due_date"),
        last_entry_date=Subquery(last_entry.values("entry_date")[:1]),
    )


def initiatives_for_list(
    *,
    fiscal_year: int,
    today: date,
    policy: int | None = None,
    wg: int | None = None,
    no_wg: bool = False,
    section: int | None = None,
    status: str | None = None,
    review: str | None = None,
    stale_days: int | None = None,
) -> QuerySet[InitiativeWithListColumns]:
    """The initiative list with its GET filters (the dashboards link here with the same names)."""
    qs = initiatives_with_list_columns(initiatives_for_fiscal_year(fiscal_year), fiscal_year)
    if policy is not None:
        qs = qs.filter(policy__number=policy)
    if wg is not None:
        qs = qs.filter(working_group_id=wg)
    if no_wg:  # the set-up checklist's 「担当WGが決まっていない取り組み」
        qs = qs.filter(working_group__isnull=True)
    if section is not None:
        qs = qs.filter(lead_section_id=section)
    # The two __isnull filters: django-stubs 5.2.9 expects an annotation's own type for every
    # lookup on it, a bool included (typeddjango/django-stubs#3098, fixed after 5.2.9).
    if status:
        qs = (
            qs.filter(latest_status__isnull=True)  # type: ignore[misc]
            if status == NONE
            else qs.filter(latest_status=status)
        )
    if review:
        qs = (
            qs.filter(review_state__isnull=True)  # type: ignore[misc]
            if review == NONE
            else qs.filter(review_state=review)
        )
    if stale_days is not None:
        qs = qs.filter(stale_filter(today, stale_days))
    return qs.order_by("policy__plan__start_fy", "policy__number", "number")


@dataclass(frozen=True)
class PolicyProgress:
    policy: BasicPolicy
    rollup: Rollup


@dataclass(frozen=True)
class PlanProgress:
    plan: Plan | None
    fiscal_year: int
    overall: Rollup
    policies: list[PolicyProgress]
    rule_text: str = ROLLUP_RULE_TEXT


def plan_progress(fiscal_year: int) -> PlanProgress:
    """Roll-up of the whole plan and of each basic policy for one fiscal year: ONE query,
    summed in the database per basic policy (the plan's figure adds the policies' sums).
    The statement depends on the year only: compiled once (portal_lib.compiled)."""

    def by_policy() -> QuerySet[Initiative, dict[str, Any]]:
        return (
            with_progress_value(
                Initiative.objects.filter(Plan.covering(fiscal_year, via="policy__plan")),
                fiscal_year,
            )
            .values(
                "policy_id",
                "policy__number",
                "policy__title",
                "policy__plan_id",
                "policy__plan__name",
                "policy__plan__start_fy",
            )
            .annotate(**rollup_aggregates())
            .order_by("policy__plan__start_fy", "policy__number")
        )

    policies: list[PolicyProgress] = []
    plans: dict[int, Plan] = {}
    overall = RollupSums()
    for row in compiled.values_rows(("plan_progress", fiscal_year), by_policy):
        sums = rollup_sums_from(row)
        overall += sums
        plan_pk = row["policy__plan_id"]
        if plan_pk not in plans:
            plans[plan_pk] = Plan(pk=plan_pk, name=row["policy__plan__name"])
        policy = BasicPolicy(
            pk=row["policy_id"],
            number=row["policy__number"],
            title=row["policy__title"],
            plan=plans[plan_pk],
        )
        policies.append(PolicyProgress(policy, sums.rollup()))
    return PlanProgress(
        plan=next(iter(plans.values()), None),
        fiscal_year=fiscal_year,
        overall=overall.rollup(),
        policies=policies,
    )


PROGRESS_PAGE_SIZE = 20  # the initiative page's timeline: newest first, a page at a time


def initiative_detail(pk: int, fiscal_year: int) -> InitiativeWithProgress | None:
    """One initiative with everything its page shows, in a fixed number of queries; its
    latest progress of ``fiscal_year`` as annotations (``latest_status``, ``latest_percent``,
    ``latest_date``). The timeline is read a page at a time: progress_timeline()."""
    return (
        initiatives_with_latest_progress(Initiative.objects.with_relations(), fiscal_year)
        .prefetch_related(
            Prefetch(
                "projects",
                ProjectUnderWay.objects.select_related("section").prefetch_related(
                    "section__names", "section__successors"
                ),
            ),
            Prefetch(
                "indicators",
                Indicator.objects.select_related("countable_target").prefetch_related("values"),
            ),
            Prefetch(
                "reviews",
                Review.objects.prefetch_related(
                    Prefetch(
                        "events",
                        ReviewEvent.objects.select_related("actor", "actor__profile"),
                    )
                ),
            ),
            "countable_targets",
        )
        .filter(pk=pk)
        .first()
    )


def timeline_years(initiative: Initiative) -> dict[int, int]:
    """How many progress entries each fiscal year has, for the timeline's year links."""
    return dict(
        ProgressEntry.objects.filter(initiative=initiative)
        .order_by()
        .values_list("fiscal_year")
        .annotate(n=Count("id"))
        .values_list("fiscal_year", "n")
    )


def progress_timeline(initiative: Initiative, fiscal_year: int) -> QuerySet[ProgressEntry]:
    """One year of an initiative's progress entries, newest first, for one page at a time
    (the index on initiative, fiscal year, date serves the page)."""
    return (
        ProgressEntry.objects.filter(initiative=initiative, fiscal_year=fiscal_year)
        .select_related("author", "author__profile")
        .order_by("-entry_date", "-pk")
    )


def home_for_user(
    roles: Roles, fiscal_year: int, *, waiting_keys: Iterable[str] = ()
) -> dict[str, Any]:
    """What is the user's to do this fiscal year; a fixed number of queries whatever the data.

    Which reviews wait for whom is read off workflow.MOVES: the WG leader's (BY_MANAGER) to-do
    is the led initiatives whose review is not written yet or in a state the leader moves on
    (sent back ones apart); ``waiting_keys`` are the role keys the user holds over every review
    (access.oversight_keys), each listing the reviews in the states that role moves on.
    """
    base = initiatives_for_fiscal_year(fiscal_year)
    mine = (
        list(
            initiatives_with_list_columns(
                base.filter(working_group_id__in=roles.member_wg_ids), fiscal_year
            ).order_by("policy__number", "number")
        )
        if roles.member_wg_ids
        else []
    )
    led = [ini for ini in mine if roles.leads_wg(ini.working_group_id)]
    leader_states = workflow.states_acted_on_by(workflow.BY_MANAGER)
    reviews_due = [
        ini
        for ini in led
        if ini.review_state is None
        or (ini.review_state in leader_states and not workflow.is_sent_back(ini.review_state))
    ]
    reviews_returned = [ini for ini in led if workflow.is_sent_back(ini.review_state)]
    # The person's WG in this year's plan: they keep their rows in the ended plan's WGs (and
    # the next plan's) too, so the WG is read off this year's initiatives.
    my_wgs = {ini.working_group_id for ini in mine}
    waiting = {
        key: _first_reviews(workflow.states_acted_on_by(key))
        for key in waiting_keys
        if key != workflow.BY_MANAGER  # the leader's part is the led initiatives above
    }
    to_check = waiting.get(workflow.BY_SECRETARIAT, ([], 0))
    to_approve = waiting.get(workflow.BY_HEADQUARTERS, ([], 0))
    return {
        "my_initiatives": mine[:HOME_LIST_LIMIT],
        "my_total": len(mine),
        "my_wg": my_wgs.pop() if len(my_wgs) == 1 else None,
        "reviews_due": reviews_due,
        "reviews_returned": reviews_returned,
        "checks_waited": workflow.BY_SECRETARIAT in waiting,
        "to_check": to_check[0],
        "to_check_total": to_check[1],
        "approvals_waited": workflow.BY_HEADQUARTERS in waiting,
        "to_approve": to_approve[0],
        "to_approve_total": to_approve[1],
        # The states each list holds, for its "see them all" link (no state named literally).
        "check_state": workflow.states_acted_on_by(workflow.BY_SECRETARIAT)[0],
        "approve_state": workflow.states_acted_on_by(workflow.BY_HEADQUARTERS)[0],
        "roles": roles,
        "home_limit": HOME_LIST_LIMIT,
    }


HOME_LIST_LIMIT = 50  # rows of each list on the home page; the total is shown with them


class _WindowTotal(TypedDict):
    total: int


def _first_reviews(
    states: tuple[str, ...],
) -> tuple[list[WithAnnotations[Review, _WindowTotal]], int]:
    """The first HOME_LIST_LIMIT reviews in ``states`` (every fiscal year, newest year first)
    and how many there are, in ONE query (the total is a window count over the filter)."""
    rows = list(
        Review.objects.filter(state__in=states)
        .select_related("initiative", "initiative__policy", "initiative__working_group")
        .annotate(total=Window(Count("pk")))
        .order_by("-fiscal_year", "initiative__policy__number", "initiative__number")[
            :HOME_LIST_LIMIT
        ]
    )
    return rows, rows[0].total if rows else 0


# --- HQ's home: the plan at a glance (issue 21) ----------------------------------------------


@dataclass(frozen=True)
class ReviewMoves:
    """How many reviews moved into one state by a move of workflow.MOVES."""

    state: str
    count: int


@dataclass(frozen=True)
class SinceReport:
    """What moved since the last frozen meeting report (ReportSnapshot) of the plan."""

    snapshot_pk: int
    title: str
    taken_on: date
    percent_then: Decimal | None
    progress_entries: int
    review_moves: list[ReviewMoves]
    indicator_values: int  # indicator-years whose target or actual was written since

    @property
    def review_moves_total(self) -> int:
        return sum(m.count for m in self.review_moves)

    @property
    def nothing(self) -> bool:
        return not (self.progress_entries or self.review_moves_total or self.indicator_values)


@dataclass(frozen=True)
class HeadquartersOverview:
    progress: PlanProgress
    countables: list[CountableSummary]
    since: SinceReport | None  # None when no meeting report was frozen for the plan yet


def headquarters_overview(fiscal_year: int, today: date) -> HeadquartersOverview:
    """HQ's first screen: the plan's figures with coverage, the two countable targets and
    what moved since the last meeting report; a fixed number of queries (8) whatever the data.
    """
    progress = plan_progress(fiscal_year)
    targets = {
        t.code: t
        for t in CountableTarget.objects.select_related("initiative").filter(
            code__in=(PROCEDURES_CODE, SYSTEMS_CODE)
        )
    }
    countables = [
        countable_summary(targets[code], target_rows(targets[code]), today)
        for code in (PROCEDURES_CODE, SYSTEMS_CODE)
        if code in targets
    ]
    return HeadquartersOverview(
        progress=progress,
        countables=countables,
        since=_since_last_report(progress.plan) if progress.plan is not None else None,
    )


def _since_last_report(plan: Plan) -> SinceReport | None:
    last = (
        # The meeting reports through the plan's reverse relation: the model is reporting's
        # (reporting.models.ReportSnapshot), a layer above, so it is not imported here.
        plan.snapshots.all()
        .order_by("-taken_at", "-pk")
        .values("pk", "title", "taken_on", "taken_at", "data__overall__percent")
        .first()
    )
    if last is None:
        return None
    since = last["taken_at"]
    moved = dict(
        ReviewEvent.objects.filter(
            at__gt=since,
            review__initiative__policy__plan=plan,
            to_state__in=[m.target for m in workflow.MOVES],
        )
        .exclude(from_state="")  # a review's creation is not a move
        .order_by()
        .values_list("to_state")
        .annotate(n=Count("pk"))
        .values_list("to_state", "n")
    )
    targets = list(dict.fromkeys(m.target for m in workflow.MOVES))
    percent = last["data__overall__percent"]
    return SinceReport(
        snapshot_pk=last["pk"],
        title=last["title"],
        taken_on=last["taken_on"],
        percent_then=Decimal(str(percent)) if percent not in (None, "") else None,
        progress_entries=ProgressEntry.objects.filter(
            created_at__gt=since, initiative__policy__plan=plan
        ).count(),
        review_moves=[ReviewMoves(state, moved.get(state, 0)) for state in targets],
        indicator_values=IndicatorValue.history.filter(
            history_date__gt=since, indicator__initiative__policy__plan=plan
        )
        .values("id")
        .distinct()
        .count(),
    )


PROCEDURES_CODE = "online-procedures"
SYSTEMS_CODE = "standard-systems"


def countable_target(code: str) -> CountableTarget:
    target = CountableTarget.objects.select_related("initiative").filter(code=code).first()
    if target is None:
        raise Http404(_("数値目標が登録されていません。計画データを読み込んでください。"))
    return target


@dataclass(frozen=True)
class CountableSummary:
    """Where a countable target stands, from its rows: the one count every page shows.

    A row loaded as default data stays 「未確認」 until someone confirms it or records a
    state; only confirmed rows can be overdue, so a fresh install raises no alarm.
    """

    target: CountableTarget
    registered: int
    done: int
    done_by_deadline: int
    confirmed: int
    overdue: int
    late: int  # done after the deadline (期限後移行)
    days_left: int

    @property
    def target_count(self) -> int:
        return self.target.target_count

    @property
    def percent(self) -> int:
        count = self.target_count
        return min(100, round(self.done * 100 / count)) if count else 0

    @property
    def deadline_label(self) -> str:
        return self.target.deadline_label

    @property
    def days_over(self) -> int:
        return -self.days_left

    @property
    def achieved(self) -> bool:
        return self.done >= self.target_count

    @property
    def unconfirmed(self) -> int:
        return self.registered - self.confirmed

    @property
    def nothing_confirmed(self) -> bool:
        """Nothing is known yet: say "x件中 確認済み0件", not "0 / 27, overdue"."""
        return self.confirmed == 0


def countable_summary(target: CountableTarget, rows: list[Any], today: date) -> CountableSummary:
    """Count procedures or systems (anything with is_done, done_on, is_confirmed, is_overdue)."""
    deadline = target.deadline
    done = [r for r in rows if r.is_done]
    return CountableSummary(
        target=target,
        registered=len(rows),
        done=len(done),
        done_by_deadline=sum(1 for r in done if r.done_on and r.done_on <= deadline),
        confirmed=sum(1 for r in rows if r.is_confirmed),
        overdue=sum(1 for r in rows if r.is_overdue(today)),
        late=sum(1 for r in done if r.done_on and r.done_on > deadline),
        days_left=era.days_until_fiscal_year_end(target.deadline_fy, today),
    )


def target_rows(target: CountableTarget) -> list[Any]:
    """The rows a countable target counts (one query), each able to reach its target, with
    ``confirmed_by_name``: who confirmed it (the lists show it beside 確認済)."""
    rows: list[Any]
    # Composed once per target and thread (portal_lib.compiled); read anew every time.
    if target.code == PROCEDURES_CODE:
        rows = compiled.objects(
            ("target_rows", PROCEDURES_CODE, target.pk),
            lambda: OnlineProcedure.objects.filter(target=target).select_related(
                "section", "target", "confirmed_by__profile"
            ),
            prepare=True,
        )
    else:
        rows = compiled.objects(
            ("target_rows", SYSTEMS_CODE, target.pk),
            lambda: (
                StandardSystem.objects.filter(group__target=target)
                .select_related("group", "group__target", "section", "confirmed_by__profile")
                .order_by("number")
            ),
            prepare=True,
        )
    for row in rows:
        row.confirmed_by_name = display_name(row.confirmed_by) if row.confirmed_by_id else ""
    return rows


def confirmed_filter(value: str | None) -> bool | None:
    """The lists' 確認 filter from the address: "1" confirmed, "0" unconfirmed, else all."""
    return {"1": True, "0": False}.get(value or "")


def procedures_overview(
    *, status: str | None, today: date, confirmed: bool | None = None
) -> dict[str, Any]:
    """The 27 online procedures: "x / 27" against R4年度末, and the (filtered) list.
    ``confirmed`` False lists exactly the rows the checklist counts as 未確認."""
    target = countable_target(PROCEDURES_CODE)
    all_procs = target_rows(target)
    for p in all_procs:
        p.overdue = p.is_overdue(today)
    summary = countable_summary(target, all_procs, today)
    shown = [
        p
        for p in all_procs
        if (status is None or p.status == status)
        and (confirmed is None or p.is_confirmed == confirmed)
    ]
    return {
        "target": target,
        "procedures": shown,
        "registered": summary.registered,
        "online_by_deadline": summary.done_by_deadline,
        "summary": summary,
        "statuses": OnlineProcedure.Status.choices,
    }


def systems_overview(
    *,
    group: int | None,
    phase: str | None,
    overdue: bool,
    today: date,
    confirmed: bool | None = None,
    no_section: bool = False,
) -> dict[str, Any]:
    """The 20 standardised systems: "x / 20" against R7年度末, and the (filtered) list."""
    target = countable_target(SYSTEMS_CODE)
    systems = target_rows(target)
    for s in systems:
        s.overdue = s.is_overdue(today)
    summary = countable_summary(target, systems, today)
    shown = [
        s
        for s in systems
        if (group is None or s.group.number == group)
        and (phase is None or s.phase == phase)
        and (not overdue or s.overdue)
        and (confirmed is None or s.is_confirmed == confirmed)
        and (not no_section or s.section_id is None)
    ]
    groups = sorted({s.group.number for s in systems})
    return {
        "target": target,
        "systems": shown,
        "groups": groups,
        "summary": summary,
        "overdue_count": summary.overdue,
    }


# --- indicators: actuals counted from a target's rows, and grades ----------------------------


def attach_counted_actuals(
    indicators: Iterable[Indicator],
    *,
    extra: dict[int, list[IndicatorValue]] | None = None,
    known_rows: dict[int, list[Any]] | None = None,
) -> None:
    """Give every value of an indicator linked to a countable target the count of the
    target's rows done by the end of that fiscal year (at most 2 queries, none if unlinked).

    The indicators' ``values`` must be prefetched: the counts are set on those instances,
    and on unsaved ``extra`` values (indicator pk -> values, e.g. years with nothing entered).
    ``known_rows`` (target pk -> target_rows()) are rows the caller already read: those
    targets cost no query.
    """
    pairs = [
        (ind.countable_target_id, value)
        for ind in indicators
        if ind.countable_target_id
        for value in [*ind.values.all(), *(extra or {}).get(ind.pk, [])]
    ]
    _count_done(pairs, known_rows or {})


def attach_counted_to_values(values: Iterable[tuple[Indicator, IndicatorValue]]) -> None:
    """attach_counted_actuals for values the caller holds apart from ``indicator.values``
    (the API's value of the asked year, or an unsaved one for a year without a row)."""
    _count_done(
        [(ind.countable_target_id, value) for ind, value in values if ind.countable_target_id],
        {},
    )


def _count_done(pairs: list[tuple[int, IndicatorValue]], known_rows: dict[int, list[Any]]) -> None:
    if not pairs:
        return
    ids = {target_id for target_id, _ in pairs} - set(known_rows)
    done_dates: dict[int, list[date]] = {pk: [] for pk in ids}
    for pk, rows in known_rows.items():
        done_dates[pk] = [r.done_on for r in rows if r.is_done and r.done_on is not None]
    if ids:
        procs = OnlineProcedure.objects.filter(
            target_id__in=ids, status=OnlineProcedure.Status.ONLINE
        ).values_list("target_id", "online_on")
        systems = StandardSystem.objects.filter(
            group__target_id__in=ids, phase=StandardSystem.Phase.DONE
        ).values_list("group__target_id", "migrated_on")
        for target_id, day in [*procs, *systems]:
            if day is not None:
                done_dates[target_id].append(day)
    for target_id, value in pairs:
        end = era.fiscal_year_end(value.fiscal_year)
        value.counted_actual = Decimal(sum(1 for d in done_dates[target_id] if d <= end))


def counted_actual(target_id: int, fiscal_year: int) -> Decimal:
    """The count attach_counted_actuals gives one value: the target's rows done by the end
    of the fiscal year (for one row at a time, e.g. an export)."""
    end = era.fiscal_year_end(fiscal_year)
    procs = OnlineProcedure.objects.filter(
        target_id=target_id, status=OnlineProcedure.Status.ONLINE, online_on__lte=end
    ).count()
    systems = StandardSystem.objects.filter(
        group__target_id=target_id, phase=StandardSystem.Phase.DONE, migrated_on__lte=end
    ).count()
    return Decimal(procs + systems)


def value_of_year(indicator: Indicator, fiscal_year: int) -> IndicatorValue | None:
    """The indicator's value row of the year from the prefetched values (no query)."""
    for value in indicator.values.all():
        if value.fiscal_year == fiscal_year:
            return value
    return None


def indicator_grade(indicator: Indicator, fiscal_year: int, today: date | None = None) -> str:
    """The indicator's grade of the year by IndicatorValue.grade_on (GRADE_RULE_TEXT): a year
    without a row is graded like a row with nothing entered (未評価, then D once it ended)."""
    value = value_of_year(indicator, fiscal_year)
    if value is None:
        value = IndicatorValue(indicator=indicator, fiscal_year=fiscal_year)
    return value.grade_on(today or timezone.localdate())


def grade_distribution(
    indicators: Iterable[Indicator], fiscal_year: int, today: date | None = None
) -> list[tuple[str, str, int]]:
    """(key, label, count) for A, B, C, D and 未評価, in that order: one per indicator, so the
    counts add up to the number of indicators."""
    today = today or timezone.localdate()
    counts: dict[str, int] = {key: 0 for key, _ in GRADE_KEYS}
    for ind in indicators:
        counts[indicator_grade(ind, fiscal_year, today)] += 1
    return [(key, label, counts[key]) for key, label in GRADE_KEYS]


def indicators_for_initiatives(
    initiative_ids: list[int], fiscal_year: int, *, known_rows: dict[int, list[Any]] | None = None
) -> list[Indicator]:
    """The initiatives' indicators with the year's value (counted actuals attached;
    ``known_rows`` as for attach_counted_actuals), in ONE query: the year's value row is
    joined (at most one: uniq per indicator and year) rather than prefetched, and held as the
    indicator's prefetched ``values``, so ``ind.values.all()`` costs no query."""
    return _with_year_value(
        Indicator.objects.filter(initiative_id__in=initiative_ids), fiscal_year, known_rows
    )


def indicators_of_plan(
    plan: Plan, fiscal_year: int, *, known_rows: dict[int, list[Any]] | None = None
) -> list[Indicator]:
    """indicators_for_initiatives for every initiative of the plan, each indicator with
    ``owner_policy_id`` and ``owner_working_group_id`` (its initiative's): ONE query."""
    return _with_year_value(
        Indicator.objects.filter(initiative__policy__plan=plan).annotate(
            owner_policy_id=F("initiative__policy_id"),
            owner_working_group_id=F("initiative__working_group_id"),
        ),
        fiscal_year,
        known_rows,
        # The statement names the plan and the year only: composed once (portal_lib.compiled).
        key=("indicators_of_plan", plan.pk, fiscal_year),
    )


def _with_year_value(
    queryset: QuerySet[Indicator],
    fiscal_year: int,
    known_rows: dict[int, list[Any]] | None,
    *,
    key: Hashable | None = None,
) -> list[Indicator]:
    def build() -> QuerySet[Indicator]:
        return (
            queryset.annotate(
                year_value=FilteredRelation("values", condition=Q(values__fiscal_year=fiscal_year))
            )
            # django-stubs checks select_related() against the model's relations only, not a
            # FilteredRelation annotated just above.
            .select_related("year_value")  # type: ignore[misc]
            .order_by("initiative_id", "order", "name")
        )

    indicators = compiled.objects(key, build, prepare=True) if key is not None else list(build())
    for ind in indicators:
        value = getattr(ind, "year_value", None)  # not set when the year has no row
        _hold_prefetched_values(ind, [value] if value is not None else [])
    attach_counted_actuals(indicators, known_rows=known_rows)
    return indicators


def _hold_prefetched_values(indicator: Indicator, values: list[IndicatorValue]) -> None:
    """What prefetch_related("values") leaves on an indicator, from rows already read."""
    qs = indicator.values.all()  # lazy: no query
    # Django's private prefetch state, which the stubs do not declare: what
    # prefetch_related_objects() itself sets.
    qs._result_cache = values
    qs._prefetch_done = True  # type: ignore[attr-defined]
    indicator._prefetched_objects_cache = {"values": qs}  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# Set-up checklist (the secretariat's home page): what is missing to run the year
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChecklistItem:
    """One thing missing to run the year, with the list that shows exactly its rows (a URL
    name and the filter's query string), or for a yes/no item the screen that fixes it."""

    key: str
    label: str  # gettext_noop'd; the template translates it
    count: int  # for a yes/no item: 1 (the item is listed only when it is true)
    url_name: str
    query: str = ""  # "?name=value": the list's filter that shows exactly the counted rows
    yes_no: bool = False  # shown as 「なし」, not as a count


def setup_checklist(fiscal_year: int) -> list[ChecklistItem]:
    """What still needs doing before the year can run; only items with something to fix.

    One query per item whatever the data, and one for the plan in force (pinned by a
    query-count test). The WGs and initiatives counted are those of the plan in force in
    ``fiscal_year`` (plans.selectors.current_plan): from 1 April the new plan's, never a
    draft's beside it nor the ended plan's. Each counted item asks the same rule as the list
    its link opens, with the filter in its query string (tests/rules/test_checklist_links.py).
    """
    plan = current_plan(fiscal_year)
    this_year = initiatives_for_fiscal_year(fiscal_year).filter(policy__plan=plan)
    published = Initiative.objects.filter(policy__plan=plan, is_public=True).exists()
    fy = era.era_label(fiscal_year)
    items = [
        ChecklistItem(
            "procedures",
            gettext_noop("未確認のオンライン化手続"),
            OnlineProcedure.objects.exclude(Confirmation.confirmed_q()).count(),
            "initiatives:procedures",
            "?confirmed=0",
        ),
        ChecklistItem(
            "systems",
            gettext_noop("主管課が決まっていない標準化システム"),
            StandardSystem.objects.filter(section__isnull=True).count(),
            "initiatives:systems",
            "?section=none",
        ),
        ChecklistItem(
            "wg_leaders",
            gettext_noop("WG長がいないWG"),
            working_groups_without_leader([plan]).count(),
            "workgroups:working_groups",
            "?leader=none",
        ),
        ChecklistItem(
            "wg_two_leaders",
            gettext_noop("WG長が2人以上いるWG"),
            working_groups_with_two_leaders([plan]).count(),
            "workgroups:working_groups",
            "?leader=several",
        ),
        ChecklistItem(
            "wg_outside_leader",
            gettext_noop("構成課の外の職員がWG長のWG"),
            working_groups_led_from_outside([plan]).count(),
            "workgroups:working_groups",
            "?leader=outside",
        ),
        ChecklistItem(
            "initiative_wg",
            gettext_noop("担当WGが決まっていない取り組み"),
            this_year.filter(working_group__isnull=True).count(),
            "initiatives:list",
            f"?fy={fy}&no_wg=1",
        ),
        ChecklistItem(
            "staff_section",
            gettext_noop("所属課のない職員"),
            staff_without_section(plan).count(),
            "workgroups:staff_list",
            "?no_section=1",
        ),
        ChecklistItem(
            "ended_sections",
            gettext_noop("廃止されたのに職員・WGが残っている課"),
            sections_ended_in_use(fiscal_year).count(),
            "workgroups:sections",
            "?ended_in_use=1",
        ),
        ChecklistItem(
            "published",
            gettext_noop("公開ページに載せた取り組み"),
            0 if published else 1,
            "reporting:publication",
            yes_no=True,
        ),
        ChecklistItem(
            "reviews",
            gettext_noop("今年度の振り返りを開始していない取り組み"),
            this_year.exclude(reviews__fiscal_year=fiscal_year).count(),
            "initiatives:list",
            f"?fy={fy}&review={NONE}",
        ),
    ]
    return [item for item in items if item.count]
