"""Reads for the public page and open data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext

from initiatives.models import (
    PUBLIC_FIELDS,
    Indicator,
    IndicatorValue,
    Initiative,
    ProgressStatus,
    ProjectUnderWay,
)
from initiatives.selectors import (
    InitiativeWithProgress,
    initiatives_with_latest_progress,
    progress_percent,
)
from plans.models import (
    Plan,
)
from portal_lib import era

# --------------------------------------------------------------------------------------------
# Public page: one serialiser for HTML, CSV and JSON, so nothing unpublished can leak
# --------------------------------------------------------------------------------------------


def public_initiatives_queryset(plan: Plan, fiscal_year: int) -> QuerySet[InitiativeWithProgress]:
    return initiatives_with_latest_progress(
        Initiative.objects.filter(policy__plan=plan, is_public=True)
        .select_related("policy__plan")
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


def _number(value: Decimal | None) -> int | float | None:
    """A target or actual as a JSON number (27.00 → 27, 25.50 → 25.5); None stays None."""
    if value is None:
        return None
    return int(value) if value == value.to_integral() else float(value)


def public_record(ini: InitiativeWithProgress, fiscal_year: int) -> dict[str, Any]:
    """What citizens may see of one initiative: title and policy, plus the allowed fields.

    Values are data (numbers, codes, dates); the page's wording beside them (``status``,
    the labels of years) is for the page only: the open-data files take the data
    (`reporting.opendata`)."""
    allowed = {f for f in (ini.public_fields or []) if f in PUBLIC_FIELDS}
    record: dict[str, Any] = {
        "plan": ini.policy.plan.name,
        "code": ini.code,
        "policy": str(ini.policy),
        "policy_number": ini.policy.number,
        "policy_title": ini.policy.title,
        "title": ini.title,
    }
    if "description" in allowed:
        record["description"] = ini.description
    if "progress" in allowed:
        status = ini.latest_status
        label = ProgressStatus(status).label if status else None
        record["progress"] = {
            "fiscal_year": fiscal_year,
            "status_code": status or None,
            "status_label": label,
            "status": label or gettext("まだ記録がありません"),
            "percent": progress_percent(status, ini.latest_percent),
            "updated_on": ini.latest_date.isoformat() if ini.latest_date else None,
        }
    if "projects" in allowed:
        record["projects"] = [
            {
                "year": p.era_label,
                "fiscal_year": p.fiscal_year,
                "name": p.name,
                "section": p.section.name,
            }
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
                        "year": v.fiscal_year,
                        "target": _number(v.target),
                        "actual": _number(v.actual),
                    }
                    for v in ind.values.all()
                ],
            }
            for ind in ini.indicators.all()
        ]
    return record


def public_records(plan: Plan, fiscal_year: int) -> list[dict[str, Any]]:
    return [public_record(i, fiscal_year) for i in public_initiatives_queryset(plan, fiscal_year)]
