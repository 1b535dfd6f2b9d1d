"""The dashboard and table 4-1 (the schedule): what the plan says and where it stands.
Thin views: forms validate, selectors read."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils import timezone
from django.views.generic import TemplateView

from plans.models import Plan
from plans.selectors import plan_and_year, plans_for_selection
from portal_lib import era
from reporting.forms import DashboardFilterForm
from reporting.selectors import dashboard, schedule
from workgroups.access import SecretariatOrHeadquartersMixin


def _year_choices(plans: list[Plan]) -> list[tuple[int, str]]:
    years = sorted({fy for p in plans for fy in p.fiscal_years})
    return [(fy, era.format_fiscal_year(fy)) for fy in years]


class DashboardView(SecretariatOrHeadquartersMixin, TemplateView):
    template_name = "reporting/dashboard.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        current = era.current_fiscal_year(today)
        plans = plans_for_selection()
        form = DashboardFilterForm(self.request.GET or None, plans=plans)
        if form.is_bound:
            form.is_valid()  # its messages are shown; the choice is plan_and_year's
        chosen = plan_and_year(self.request, plans=plans, today=today)
        plan, fy = chosen.plan, chosen.fiscal_year
        stale_days = dashboard.DEFAULT_STALE_DAYS
        if form.is_bound and form.cleaned_data.get("stale_days"):
            stale_days = form.cleaned_data["stale_days"]
        ctx.update(
            form=form,
            plans=plans,
            year_choices=_year_choices(plans),
            current_fy=current,
            dashboard=dashboard.dashboard_for(
                plan=plan,
                fiscal_year=fy,
                today=today,
                stale_days=stale_days,
                # the page shows the first 20 of each list (and says so) with their counts
                list_limit=dashboard.DASHBOARD_LIST_LIMIT,
            )
            if plan
            else None,
        )
        return ctx


class ScheduleView(LoginRequiredMixin, TemplateView):
    """Table 4-1 is the plan itself: every member of staff may read it."""

    template_name = "reporting/schedule.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        current = era.current_fiscal_year(timezone.localdate())
        chosen = plan_and_year(self.request)
        plans, plan = chosen.plans, chosen.plan
        years, rows = schedule.schedule_matrix(plan, current) if plan else ([], [])
        ctx.update(
            plan=plan,
            plans=plans,
            years=[(fy, era.short_header(fy), fy == current) for fy in years],
            rows=rows,
            current_fy=current,
            unknown_plan=chosen.unknown_plan,
        )
        return ctx
