"""Indicator grades counted over a plan: no existing selector gave this figure (issue 10)."""

from __future__ import annotations

from collections import Counter

from initiatives.models import Grade, IndicatorValue
from plans.models import Plan


def indicator_grade_counts(plan: Plan, fiscal_year: int) -> dict[str, int]:
    """How many indicator values of the fiscal year grade A, B, C, D (GRADE_RULE_TEXT).

    One query; the grade itself is IndicatorValue.grade, the one home of the rule. An
    indicator without a value for the year has nothing to grade and is not counted.
    """
    values = IndicatorValue.objects.filter(
        indicator__initiative__policy__plan=plan, fiscal_year=fiscal_year
    ).select_related("indicator")
    counts = Counter(v.grade for v in values)
    return {g.value: counts.get(g.value, 0) for g in Grade}
