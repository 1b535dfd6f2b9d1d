"""The six-year summary (計画期間の総括): every fiscal year of a plan, side by side.

Per initiative: each year's latest progress, each indicator's value and grade per year (every
year graded, a year without a value too: initiatives.selectors.indicator_grade), and
the PDCA reviews; per basic policy, WG and the whole plan: the same Rollup as the dashboard
for each year (reported of total, never a bare percentage). One query per fiscal year for
progress plus a fixed number for the rest, whatever the number of initiatives.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch
from django.utils.translation import gettext

from initiatives.models import (
    Indicator,
    IndicatorValue,
    Initiative,
    ProgressStatus,
    Review,
)
from initiatives.selectors import (
    ROLLUP_RULE_TEXT,
    Rollup,
    attach_counted_actuals,
    indicator_grade,
    initiatives_with_latest_progress,
    progress_percent,
    rollup,
)
from kahoku_dx import era
from plans.models import Plan

STATUS_LABELS = dict(ProgressStatus.choices)


@dataclass
class YearProgress:
    fiscal_year: int
    status: str | None
    percent: int | None  # as the roll-up counts it (None: not counted)
    date: Any

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status or "", gettext("未報告"))


@dataclass
class IndicatorRow:
    indicator: Indicator
    values: list[IndicatorValue | None]  # one per fiscal year, None when nothing recorded
    grades: list[str]  # one per fiscal year (indicator_grade: 未評価 or D when nothing)

    @property
    def cells(self) -> list[tuple[IndicatorValue | None, str]]:
        return list(zip(self.values, self.grades, strict=True))


@dataclass
class InitiativeSummary:
    initiative: Initiative
    years: list[YearProgress]
    indicators: list[IndicatorRow]
    reviews: list[Review]


@dataclass
class GroupRow:
    label: str
    rollups: list[Rollup]  # one per fiscal year


@dataclass
class PlanSummary:
    plan: Plan
    years: list[int]
    overall: GroupRow
    policies: list[GroupRow]
    working_groups: list[GroupRow]
    initiatives: list[InitiativeSummary] = field(default_factory=list)
    rule_text: str = ROLLUP_RULE_TEXT

    @property
    def year_labels(self) -> list[str]:
        return [era.short_header(fy) for fy in self.years]


def _base(plan: Plan):
    return Initiative.objects.filter(policy__plan=plan).select_related("policy", "working_group")


def plan_summary(plan: Plan) -> PlanSummary:
    years = plan.fiscal_years
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
                Review.objects.filter(fiscal_year__in=years).order_by("fiscal_year"),
            ),
        )
        .order_by("policy__number", "number")
    )
    by_year: dict[int, dict[int, Initiative]] = {}
    for fy in years:
        annotated = initiatives_with_latest_progress(_base(plan), fy)
        by_year[fy] = {ini.pk: ini for ini in annotated}

    def group(label: str, members: list[Initiative]) -> GroupRow:
        return GroupRow(label, [rollup(by_year[fy][m.pk] for m in members) for fy in years])

    policies: dict[int, list[Initiative]] = defaultdict(list)
    policy_titles: dict[int, str] = {}
    wgs: dict[str, list[Initiative]] = defaultdict(list)
    for ini in initiatives:
        policies[ini.policy.number].append(ini)
        policy_titles[ini.policy.number] = ini.policy.title
        wgs[ini.working_group.name if ini.working_group else "WG未設定"].append(ini)

    # Graded on the count of a linked target's rows, like every page (at most 2 queries).
    attach_counted_actuals([ind for ini in initiatives for ind in ini.indicators.all()])
    summaries = []
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
            indicator_rows.append(
                IndicatorRow(
                    ind,
                    [values.get(fy) for fy in years],
                    [indicator_grade(ind, fy) for fy in years],
                )
            )
        summaries.append(InitiativeSummary(ini, year_rows, indicator_rows, list(ini.reviews.all())))
    return PlanSummary(
        plan=plan,
        years=years,
        overall=group(plan.name, initiatives),
        policies=[
            group(f"基本方針{n} {policy_titles[n]}", members)
            for n, members in sorted(policies.items())
        ],
        working_groups=[group(name, members) for name, members in sorted(wgs.items())],
        initiatives=summaries,
    )
