"""Reads of the plan itself: which plans can be chosen, and which one is current.

"The current plan" has one definition, here; every screen, import and export asks it.
"""

from __future__ import annotations

from django.utils import timezone

from kahoku_dx import era
from plans.models import Plan


def plans_for_selection() -> list[Plan]:
    return list(Plan.objects.order_by("start_fy", "code"))


def default_plan(plans: list[Plan], fiscal_year: int) -> Plan | None:
    """The plan covering the fiscal year, else the latest plan (None when there is none)."""
    for plan in plans:
        if plan.covers(fiscal_year):
            return plan
    return plans[-1] if plans else None


def current_plan(fiscal_year: int | None = None) -> Plan | None:
    """The plan in force in ``fiscal_year`` (default: today's), else the latest plan."""
    if fiscal_year is None:
        fiscal_year = era.current_fiscal_year(timezone.localdate())
    return default_plan(plans_for_selection(), fiscal_year)
