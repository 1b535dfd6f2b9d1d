"""Indicator grades counted over a plan: no existing selector gave this figure (issue 10)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from initiatives.models import Grade, Indicator
from initiatives.selectors import value_of_year


def indicator_grade_counts(indicators: Iterable[Indicator], fiscal_year: int) -> dict[str, int]:
    """How many indicator values of the fiscal year grade A, B, C, D (GRADE_RULE_TEXT).

    No query: ``indicators`` come with the year's value and counted actuals, as
    dashboard_for reads them, so a value linked to a countable target is graded on the count
    of its rows like on every page. The grade itself is IndicatorValue.grade, the one home of
    the rule. An indicator without a value for the year has nothing to grade and is not
    counted.
    """
    counts = Counter(
        value.grade
        for value in (value_of_year(ind, fiscal_year) for ind in indicators)
        if value is not None
    )
    return {g.value: counts.get(g.value, 0) for g in Grade}
