"""Reads of the plan itself: which plans can be chosen, and which one is current.

"The current plan" has one definition, here; every screen, import and export asks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.http import HttpRequest
from django.utils import timezone

from plans.models import Plan, PlanStatus, PlanVersion
from portal_lib import era


def plans_for_selection() -> list[Plan]:
    return list(Plan.objects.order_by("start_fy", "code"))


def _plan_in_force(plans: list[Plan], day: date) -> Plan | None:
    """The plan in force on ``day`` among ``plans`` (the one rule, see plan_in_force_on)."""
    fiscal_year = era.fiscal_year_of(day)
    # A draft is never in force; an adopted plan is from its in_force_from (put in force on
    # the date, no run needed), and from that day the plan before it has ended.
    started = [p for p in plans if p.status != PlanStatus.DRAFT and p.in_force_start <= day]
    covering = [p for p in started if p.end_fy >= fiscal_year]
    if covering:
        return max(covering, key=lambda p: (p.in_force_start, p.start_fy, p.code))
    if started:  # after every plan's period: the latest one
        return max(started, key=lambda p: (p.in_force_start, p.start_fy, p.code))
    # Before every plan starts: the latest plan that is not a draft.
    not_drafts = [p for p in plans if p.status != PlanStatus.DRAFT]
    return not_drafts[-1] if not_drafts else None


def _day_of(fiscal_year: int | None) -> date:
    today = timezone.localdate()
    if fiscal_year is None or fiscal_year == era.fiscal_year_of(today):
        return today
    return era.fiscal_year_start(fiscal_year)


def plan_in_force_on(day: date, *, plans: list[Plan] | None = None) -> Plan | None:
    """The plan in force on ``day``: of the plans that are not drafts and are in force from
    ``day`` or before (Plan.in_force_start: in_force_from, else 1 April of the first year),
    the one started last that still covers ``day``'s fiscal year; after every period the
    latest of them; before every plan the latest plan that is not a draft (None: none).

    An ADOPTED plan whose in_force_from has come is in force (its predecessor has ended from
    that day) whether or not anyone pressed 「施行する」: this is the one home of that rule.
    """
    return _plan_in_force(plans_for_selection() if plans is None else plans, day)


def current_plan(fiscal_year: int | None = None, *, plans: list[Plan] | None = None) -> Plan | None:
    """The plan in force today, or in ``fiscal_year`` (on its 1 April; today for this year).

    ``plans`` is plans_for_selection() when the caller already has it for a plan picker
    (it saves the query); the answer is the same.
    """
    return _plan_in_force(plans_for_selection() if plans is None else plans, _day_of(fiscal_year))


def plan_named(code: str | None, *, plans: list[Plan] | None = None) -> Plan | None:
    """The plan whose code is ``code`` (None when there is none); no code: the plan in force
    today. What a command's ``--plan`` and a page's ``?plan=`` both mean."""
    plans = plans_for_selection() if plans is None else plans
    if not code:
        return current_plan(plans=plans)
    return next((p for p in plans if p.code == code), None)


@dataclass(frozen=True)
class PlanYear:
    """The plan and fiscal year a page shows (plan_and_year)."""

    plan: Plan | None
    fiscal_year: int  # the year asked for if it parsed (and the plan covers it), else the default
    plans: list[Plan]  # every plan, for the page's plan picker
    asked_year: int | None = None  # the year as asked (?fy=), whether or not the plan covers it
    unknown_plan: bool = False  # ?plan= named no plan


PLAN_PARAM = "plan"
YEAR_PARAM = "fy"


def _param(request: HttpRequest, name: str) -> str:
    value = request.GET.get(name) or getattr(request, "POST", {}).get(name) or ""
    return str(value).strip()[:50]


def default_fiscal_year(plan: Plan | None, today_fy: int) -> int:
    """This fiscal year, or the nearest year of ``plan``'s period."""
    return today_fy if plan is None else min(max(today_fy, plan.start_fy), plan.end_fy)


def plan_and_year(
    request: HttpRequest,
    *,
    plans: list[Plan] | None = None,
    choose_plan: bool = True,
    today: date | None = None,
) -> PlanYear:
    """The plan and fiscal year a request asks for: the one reading of ``?plan=<code>`` and
    ``?fy=`` (GET, else POST) on every page.

    ``fy`` is read by ``era.parse_fiscal_year`` (R8, 令和8年度, ２０２６, 2026年度 …); one it
    cannot read is ignored. The plan is the one ``?plan=`` names, else the plan in force
    today; ``choose_plan=False`` (the Excel screens, which always work on the plan in force)
    ignores ``?plan=``. The fiscal year is the one asked for when the plan covers it, else
    this year, kept within the plan's period.
    """
    plans = plans_for_selection() if plans is None else plans
    today_fy = era.fiscal_year_of(today or timezone.localdate())
    code = _param(request, PLAN_PARAM) if choose_plan else ""
    plan = plan_named(code, plans=plans)
    unknown = bool(code) and plan is None
    if plan is None:
        plan = current_plan(plans=plans)
    asked: int | None
    try:
        asked = (
            era.parse_fiscal_year(_param(request, YEAR_PARAM))
            if _param(request, YEAR_PARAM)
            else None
        )
    except era.EraError:
        asked = None
    covered = asked is not None and (plan is None or plan.covers(asked))
    fiscal_year = asked if covered and asked is not None else default_fiscal_year(plan, today_fy)
    return PlanYear(plan, fiscal_year, plans, asked, unknown)


def plans_from(day: date) -> list[Plan]:
    """The plans an organisation change dated ``day`` reaches: the plan covering ``day``'s
    fiscal year and every later plan that has not ended (a drafted or adopted successor).

    The city's bodies (HQ, WGs, secretariat) continue from one plan into the next: each plan
    holds them as they stand during its period, so a roster or a WG change from ``day`` is
    written into every one of these plans, and never into a plan whose period is over.
    """
    fiscal_year = era.fiscal_year_of(day)
    return list(
        Plan.objects.filter(end_fy__gte=fiscal_year)
        .exclude(status=PlanStatus.ENDED)
        .order_by("start_fy", "code")
    )


def open_revision(plan: Plan) -> PlanVersion | None:
    """The revision (第2.1版 …) being drafted on an adopted plan, if one is open."""
    return (
        plan.versions.filter(revision_of__isnull=False, frozen_at__isnull=True)
        .order_by("-pk")
        .first()
    )


def plan_is_editable(plan: Plan) -> bool:
    """Whether the plan's content (policies, initiatives, indicators, table 4-1, chapters) may
    be edited: a draft plan, or an adopted plan with an open draft revision. The adopted
    versions' frozen content never changes either way."""
    if plan.status == PlanStatus.DRAFT:
        return True
    if plan.status == PlanStatus.ENDED:
        return False
    return open_revision(plan) is not None
