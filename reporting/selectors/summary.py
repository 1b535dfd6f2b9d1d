"""The close-out report of a plan (計画期間の総括): every fiscal year of the plan, side by side.

For headquarters and the council: the plan's figures with what they rest on (the same Rollup
as the dashboard for each year, the 27 procedures and 20 systems at the end, the indicators'
grade distribution per year and at the end, how many initiatives end 継続 / 拡充 / 見直し /
完了 / 廃止 by their final-year review), then per basic policy and per initiative: each year's
progress, each indicator's targets and actuals with its final grade, and the approved PDCA
reviews with their 自己評価 and the final decision.

A review that is not approved is never read beyond its state: its text is not even loaded
(the close-out shows it as 「未承認」 only). A fixed number of queries whatever the number of
initiatives: one per fiscal year for progress plus a fixed number for the rest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from initiatives.models import (
    GRADE_KEYS,
    GRADE_RULE_TEXT,
    CarryOverDecision,
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    ProgressStatus,
    Review,
    grade_text,
)
from initiatives.selectors import (
    PROCEDURES_CODE,
    ROLLUP_RULE_TEXT,
    SYSTEMS_CODE,
    CountableSummary,
    InitiativeWithProgress,
    Rollup,
    attach_counted_actuals,
    countable_summary,
    grade_distribution,
    indicator_grade,
    initiatives_with_latest_progress,
    progress_percent,
    rollup,
    rollup_figure,
    target_rows,
)
from plans.models import BasicPolicy, Plan
from portal_lib import era

STATUS_LABELS = dict(ProgressStatus.choices)

# The final grade's rule, stated once beside every final grade (screen, documents).
FINAL_GRADE_RULE_TEXT = gettext_noop(
    "最終評価は、計画期間のうち目標値のある最後の年度の評価です"
    "(目標値のない指標は計画の最終年度の評価)。"
)
# How an unapproved review is shown: its state only, never its text.
UNAPPROVED = gettext_noop("未承認")
NO_REVIEW = gettext_noop("未作成")
# The decision rows that are not a decision: the final review is missing, not yet
# approved, or approved without a decision.
DECISION_UNAPPROVED = "unapproved"
DECISION_NO_REVIEW = "no_review"


def number_text(value: Decimal | None) -> str:
    """A figure as people write it: 27, 1,200, 2.5 (never 27.00); "—" for nothing."""
    if value is None:
        return "—"
    if value == value.to_integral():
        return f"{int(value):,}"
    return f"{value.normalize():,f}"


def number_value(value: Decimal | None) -> int | float | None:
    """A figure for a numeric spreadsheet cell: an int when whole, else a float."""
    if value is None:
        return None
    return int(value) if value == value.to_integral() else float(value)


@dataclass
class YearProgress:
    fiscal_year: int
    status: str | None
    percent: int | None  # as the roll-up counts it (None: not counted)
    date: Any

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status or "", gettext("未報告")))

    @property
    def text(self) -> str:
        return self.status_label + (f" {self.percent}%" if self.percent is not None else "")


@dataclass
class IndicatorCell:
    fiscal_year: int
    value: IndicatorValue | None
    grade: str

    @property
    def target(self) -> Decimal | None:
        return self.value.target if self.value is not None else None

    @property
    def actual(self) -> Decimal | None:
        return self.value.shown_actual if self.value is not None else None

    @property
    def target_text(self) -> str:
        return number_text(self.target)

    @property
    def actual_text(self) -> str:
        return number_text(self.actual)

    @property
    def grade_text(self) -> str:
        return grade_text(self.grade)


@dataclass
class IndicatorRow:
    indicator: Indicator
    values: list[IndicatorValue | None]  # one per fiscal year, None when nothing recorded
    grades: list[str]  # one per fiscal year (indicator_grade: 未評価 or D when nothing)
    final_year: int = 0
    final_grade: str = ""
    year_cells: list[IndicatorCell] = field(default_factory=list)  # one per fiscal year

    @property
    def cells(self) -> list[tuple[IndicatorValue | None, str]]:
        return list(zip(self.values, self.grades, strict=True))

    @property
    def final_grade_text(self) -> str:
        return grade_text(self.final_grade)


@dataclass
class ReviewCell:
    """One fiscal year's review as the close-out may show it: approved (its text), not
    approved (「未承認」, no text held at all), or none."""

    fiscal_year: int
    review: Review | None = None  # approved reviews only
    unapproved: bool = False

    @property
    def approved(self) -> bool:
        return self.review is not None

    @property
    def state_text(self) -> str:
        if self.review is not None:
            return str(Review.State.APPROVED.label)
        return gettext(UNAPPROVED) if self.unapproved else gettext(NO_REVIEW)


@dataclass
class InitiativeSummary:
    initiative: Initiative
    years: list[YearProgress]
    indicators: list[IndicatorRow]
    reviews: list[Review]  # the approved ones, by fiscal year (nothing else is held)
    review_cells: list[ReviewCell] = field(default_factory=list)  # one per fiscal year
    final: ReviewCell | None = None  # the final year's

    @property
    def decision(self) -> str:
        """The final-year decision key: a CarryOverDecision value ("" undecided) when the
        final review is approved, else DECISION_UNAPPROVED or DECISION_NO_REVIEW."""
        if self.final is None or (not self.final.approved and not self.final.unapproved):
            return DECISION_NO_REVIEW
        if not self.final.approved:
            return DECISION_UNAPPROVED
        return self.final.review.carry_over  # type: ignore[union-attr]

    @property
    def decision_label(self) -> str:
        return decision_label(self.decision)


def decision_label(key: str) -> str:
    if key == DECISION_UNAPPROVED:
        return gettext("最終年度の振り返りが未承認")
    if key == DECISION_NO_REVIEW:
        return gettext("最終年度の振り返りが未作成")
    return str(CarryOverDecision(key).label)


@dataclass
class GroupRow:
    label: str
    rollups: list[Rollup]  # one per fiscal year


@dataclass
class PolicySection:
    policy: BasicPolicy
    row: GroupRow
    initiatives: list[InitiativeSummary]


@dataclass
class GradeRow:
    """One grade's count per fiscal year and at the end (grade_distribution's keys)."""

    key: str
    label: str
    counts: list[int]
    final: int


@dataclass
class PlanSummary:
    plan: Plan
    years: list[int]
    overall: GroupRow
    policies: list[GroupRow]
    working_groups: list[GroupRow]
    initiatives: list[InitiativeSummary] = field(default_factory=list)
    sections: list[PolicySection] = field(default_factory=list)
    grades: list[GradeRow] = field(default_factory=list)
    indicator_count: int = 0
    countables: list[CountableSummary] = field(default_factory=list)
    decisions: list[tuple[str, str, int]] = field(default_factory=list)  # (key, label, count)
    as_of: date = field(kw_only=True)  # the closing day the figures are read on
    rule_text: str = ROLLUP_RULE_TEXT
    grade_rule: str = GRADE_RULE_TEXT
    final_grade_rule: str = FINAL_GRADE_RULE_TEXT

    @property
    def year_labels(self) -> list[str]:
        return [era.short_header(fy) for fy in self.years]

    @property
    def final_year(self) -> int:
        return self.years[-1]


def _base(plan: Plan) -> QuerySet[Initiative]:
    return Initiative.objects.filter(policy__plan=plan).select_related("policy", "working_group")


def closing_as_of(plan: Plan, today: date | None = None) -> date:
    """The day the close-out is read on (the grades and the 27/20 as on that day, as the
    dashboard reads them): today, also once the plan has ended (a final year without an
    actual is then D, as everywhere)."""
    return today or timezone.localdate()


def final_year_of(indicator: Indicator, years: list[int]) -> int:
    """FINAL_GRADE_RULE_TEXT: the last year of the period with a target, else the last year."""
    with_target = [
        v.fiscal_year
        for v in indicator.values.all()
        if v.target is not None and v.fiscal_year in years
    ]
    return max(with_target) if with_target else years[-1]


def plan_summary(plan: Plan, today: date | None = None) -> PlanSummary:
    years = plan.fiscal_years
    as_of = closing_as_of(plan, today)
    initiatives = list(
        _base(plan)
        .prefetch_related(
            Prefetch(
                "indicators",
                Indicator.objects.order_by("order", "name").prefetch_related(
                    Prefetch("values", IndicatorValue.objects.order_by("fiscal_year"))
                ),
            ),
            Prefetch(
                "reviews",
                Review.objects.filter(fiscal_year__in=years, state=Review.State.APPROVED).order_by(
                    "fiscal_year"
                ),
                to_attr="approved_reviews",
            ),
            # Not approved: the state only, the text is never read.
            Prefetch(
                "reviews",
                Review.objects.filter(fiscal_year__in=years)
                .exclude(state=Review.State.APPROVED)
                .only("pk", "initiative_id", "fiscal_year", "state"),
                to_attr="other_reviews",
            ),
        )
        .order_by("policy__number", "number")
    )
    by_year: dict[int, dict[int, InitiativeWithProgress]] = {}
    for fy in years:
        annotated = initiatives_with_latest_progress(_base(plan), fy)
        by_year[fy] = {ini.pk: ini for ini in annotated}

    def group(label: str, members: Sequence[Initiative]) -> GroupRow:
        return GroupRow(label, [rollup(by_year[fy][m.pk] for m in members) for fy in years])

    policy_objects = list(BasicPolicy.objects.filter(plan=plan).order_by("number"))
    by_policy: dict[int, list[Initiative]] = defaultdict(list)
    wgs: dict[str, list[Initiative]] = defaultdict(list)
    for ini in initiatives:
        by_policy[ini.policy_id].append(ini)
        wgs[ini.working_group.name if ini.working_group else gettext("WG未設定")].append(ini)

    # The 27 and the 20, read once: for their summaries and for the indicators whose
    # actuals they count (graded on the count, like every page).
    targets = list(
        CountableTarget.objects.filter(plan=plan, code__in=(PROCEDURES_CODE, SYSTEMS_CODE))
        .select_related("initiative")
        .order_by("deadline_fy", "code")
    )
    known_rows = {t.pk: target_rows(t) for t in targets}
    indicators = [ind for ini in initiatives for ind in ini.indicators.all()]
    attach_counted_actuals(indicators, known_rows=known_rows)

    summaries: dict[int, InitiativeSummary] = {}
    for ini in initiatives:
        year_rows = []
        for fy in years:
            a = by_year[fy][ini.pk]
            year_rows.append(
                YearProgress(
                    fy,
                    a.latest_status,
                    progress_percent(a.latest_status, a.latest_percent),
                    a.latest_date,
                )
            )
        indicator_rows = []
        for ind in ini.indicators.all():
            values = {v.fiscal_year: v for v in ind.values.all()}
            for v in values.values():
                v.indicator = ind  # grade() reads the direction without another query
            final_year = final_year_of(ind, years)
            year_grades = [indicator_grade(ind, fy, as_of) for fy in years]
            indicator_rows.append(
                IndicatorRow(
                    ind,
                    [values.get(fy) for fy in years],
                    year_grades,
                    final_year=final_year,
                    final_grade=year_grades[years.index(final_year)],
                    year_cells=[
                        IndicatorCell(fy, values.get(fy), g)
                        for fy, g in zip(years, year_grades, strict=True)
                    ],
                )
            )
        approved = {r.fiscal_year: r for r in ini.approved_reviews}
        others = {r.fiscal_year for r in ini.other_reviews}
        cells = [ReviewCell(fy, approved.get(fy), fy in others) for fy in years]
        summaries[ini.pk] = InitiativeSummary(
            ini,
            year_rows,
            indicator_rows,
            list(ini.approved_reviews),
            review_cells=cells,
            final=cells[-1],
        )

    ordered = [summaries[ini.pk] for ini in initiatives]
    policy_rows = [group(str(p), by_policy[p.pk]) for p in policy_objects]
    sections = [
        PolicySection(p, row, [summaries[i.pk] for i in by_policy[p.pk]])
        for p, row in zip(policy_objects, policy_rows, strict=True)
    ]
    per_year = [grade_distribution(indicators, fy, as_of) for fy in years]
    final_counts: dict[str, int] = {key: 0 for key, _ in GRADE_KEYS}
    for ind_row in (r for s in ordered for r in s.indicators):
        final_counts[ind_row.final_grade] += 1
    grades = [
        GradeRow(key, grade_text(key), [dist[i][2] for dist in per_year], final_counts[key])
        for i, (key, _label) in enumerate(GRADE_KEYS)
    ]
    decision_keys = [c.value for c in CarryOverDecision if c.value] + [
        "",
        DECISION_UNAPPROVED,
        DECISION_NO_REVIEW,
    ]
    counted: defaultdict[str, int] = defaultdict(int)
    for s in ordered:
        counted[s.decision] += 1
    decisions = [
        (key, gettext("方針未定") if key == "" else decision_label(key), counted[key])
        for key in decision_keys
    ]
    return PlanSummary(
        plan=plan,
        years=years,
        overall=group(plan.name, initiatives),
        policies=policy_rows,
        working_groups=[group(name, members) for name, members in sorted(wgs.items())],
        initiatives=ordered,
        sections=sections,
        grades=grades,
        indicator_count=len(indicators),
        countables=[countable_summary(t, known_rows[t.pk], as_of) for t in targets],
        decisions=decisions,
        as_of=as_of,
    )


# How the summary reads in its files (reporting.documents.closing, reporting.workbooks.summary,
# the download's name): the title, the PDCA columns, the file name and the one-line figures.

TITLE = "計画期間の総括"
PDCA = (
    ("Plan(計画)", "plan_text"),
    ("Do(実行)", "do_text"),
    ("Check(評価)", "check_text"),
    ("Act(改善)", "act_text"),
)


def filename(summary: PlanSummary, suffix: str) -> str:
    return f"{summary.plan.name} {TITLE}.{suffix}"


def rollup_text(r: Any) -> str:
    """A roll-up in one line: its figure by the one rule (rollup_figure) and its basis."""
    return f"{rollup_figure(r)}(報告 {r.reported}/{r.total}件)"


def as_of_text(summary: PlanSummary) -> str:
    return era.format_date(summary.as_of) if summary.as_of else ""


def decision_total(summary: PlanSummary) -> int:
    """The decisions table's 「計」: every initiative counted once, in one of its rows."""
    return sum(n for _key, _label, n in summary.decisions)
