"""Reads of the plan itself: which plans can be chosen, and which one is current.

"The current plan" has one definition, here; every screen, import and export asks it.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from kahoku_dx import era
from plans.models import Plan


def plans_for_selection() -> list[Plan]:
    return list(Plan.objects.order_by("start_fy", "code"))


def _plan_in_force(plans: list[Plan], fiscal_year: int) -> Plan | None:
    """The plan covering the fiscal year, else the latest plan (None when there is none)."""
    for plan in plans:
        if plan.covers(fiscal_year):
            return plan
    return plans[-1] if plans else None


def current_plan(fiscal_year: int | None = None, *, plans: list[Plan] | None = None) -> Plan | None:
    """The plan in force in ``fiscal_year`` (default: today's), else the latest plan.

    ``plans`` is plans_for_selection() when the caller already has it for a plan picker
    (it saves the query); the answer is the same.
    """
    if fiscal_year is None:
        fiscal_year = era.current_fiscal_year(timezone.localdate())
    return _plan_in_force(plans_for_selection() if plans is None else plans, fiscal_year)


def plan_chosen(plans: list[Plan], code: str | None, fiscal_year: int) -> Plan | None:
    """The plan a screen's ``?plan=<code>`` names, else the current plan."""
    return next((p for p in plans if p.code == code), None) or current_plan(
        fiscal_year, plans=plans
    )


def plans_from(day: date) -> list[Plan]:
    """The plans an organisation change dated ``day`` reaches: the plan covering ``day``'s
    fiscal year and every later plan that has not ended (a drafted or adopted successor).

    The city's bodies (HQ, WGs, secretariat) continue from one plan into the next: each plan
    holds them as they stand during its period, so a roster or a WG change from ``day`` is
    written into every one of these plans, and never into a plan whose period is over.
    """
    from plans.models import PlanStatus

    fiscal_year = era.fiscal_year_of(day)
    return list(
        Plan.objects.filter(end_fy__gte=fiscal_year)
        .exclude(status=PlanStatus.ENDED)
        .order_by("start_fy", "code")
    )
