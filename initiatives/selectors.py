"""Reads for progress: one place for the roll-up rule every page states."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import OuterRef, QuerySet, Subquery

from initiatives.models import Initiative, ProgressEntry, ProgressStatus

ROLLUP_RULE_TEXT = (
    "各取り組みの進捗率は、その年度の最新の進捗記録の進捗率です"
    "(進捗率が空欄の場合、完了は100%、未着手は0%とし、それ以外は集計に含めません)。"
    "基本方針・WG・計画全体の進捗率は、中止を除く取り組みの平均です。"
    "取り組みに重みが設定されている場合は重み付き平均(重みのない取り組みは重み1)です。"
)


def initiatives_with_latest_progress(
    queryset: QuerySet[Initiative], fiscal_year: int
) -> QuerySet[Initiative]:
    """Annotate each initiative with its latest progress entry of the fiscal year.

    Adds ``latest_status``, ``latest_percent``, ``latest_date`` (None when nothing logged).
    """
    latest = ProgressEntry.objects.filter(
        initiative=OuterRef("pk"), fiscal_year=fiscal_year
    ).order_by("-entry_date", "-id")
    return queryset.annotate(
        latest_status=Subquery(latest.values("status")[:1]),
        latest_percent=Subquery(latest.values("percent")[:1]),
        latest_date=Subquery(latest.values("entry_date")[:1]),
    )


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
    percent: Decimal | None  # None when no initiative has a value
    counted: int
    total: int


def rollup(initiatives: Iterable[Initiative]) -> Rollup:
    """Roll annotated initiatives (see above) up into one percentage, by ROLLUP_RULE_TEXT."""
    weighted_sum = Decimal(0)
    weight_total = Decimal(0)
    counted = total = 0
    for ini in initiatives:
        total += 1
        value = progress_percent(
            getattr(ini, "latest_status", None), getattr(ini, "latest_percent", None)
        )
        if value is None:
            continue
        weight = ini.weight if ini.weight is not None else Decimal(1)
        weighted_sum += weight * value
        weight_total += weight
        counted += 1
    if not weight_total:
        return Rollup(None, counted, total)
    percent = (weighted_sum / weight_total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Rollup(percent, counted, total)
