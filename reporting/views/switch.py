"""The plan switch check screen: 1 April rehearsed (reporting.services.switch_check)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.views.generic import TemplateView

from plans.selectors import plans_for_selection
from reporting.forms import SwitchCheckForm
from reporting.services import switch_check as checks
from workgroups.access import SecretariatOrHeadquartersMixin


class PlanSwitchView(SecretariatOrHeadquartersMixin, TemplateView):
    """``?plan=CODE&on=YYYY-MM-DD``: one line per check, 「OK」 or 「要対応」 with its fix.

    Defaults: the successor of the plan in force (else the plan in force) and its first day.
    """

    template_name = "reporting/plan_switch.html"

    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        today = timezone.localdate()
        form = SwitchCheckForm(request.GET or None, plans=plans_for_selection())
        if request.GET and not form.is_valid():
            return self.render_to_response({"form": form}, status=400)
        data = form.cleaned_data if request.GET else {}
        plan = data.get("plan") or checks.default_plan(today)
        if plan is None:
            return self.render_to_response({"form": form, "no_plan": True})
        on = data.get("on") or checks.default_day(plan, today)
        results = checks.switch_check(plan, on)
        return self.render_to_response(
            {
                "form": form,
                "plan": plan,
                "on": on,
                "checks": results,
                "pending": sum(1 for c in results if not c.ok),
            }
        )
