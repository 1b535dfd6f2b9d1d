"""Carrying a plan's initiatives over to the next plan: a preview, then the carry-over
(reporting.services.carry_over)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from plans.models import PlanStatus
from plans.selectors import plans_for_selection
from reporting.forms import CarryOverForm
from reporting.services.carry_over import plan_carry_over, plan_carry_over_preview
from workgroups.access import SecretariatRequiredMixin


class CarryOverView(SecretariatRequiredMixin, TemplateView):
    """GET: preview (nothing written). POST: carry over, then show what was created."""

    template_name = "reporting/carry_over.html"

    def _form(self, data):
        plans = plans_for_selection()
        initial = {}
        if len(plans) >= 2:
            initial = {"source": plans[-2].code, "target": plans[-1].code}
        elif plans:
            initial = {"source": plans[0].code}
        return CarryOverForm(data or None, initial=initial)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        form = kwargs.get("form") or self._form(self.request.GET)
        lines = []
        if form.is_bound and form.is_valid():
            lines = plan_carry_over_preview(
                source_plan=form.cleaned_data["source"], target_plan=form.cleaned_data["target"]
            )
        target = form.cleaned_data.get("target") if form.is_bound and form.is_valid() else None
        ctx.update(
            form=form,
            lines=lines,
            to_create=sum(1 for line in lines if line.action == "create"),
            to_refresh=sum(1 for line in lines if line.action == "refresh"),
            unapproved=sum(1 for line in lines if line.action == "unapproved"),
            target_adopted=target is not None and target.status != PlanStatus.DRAFT,
            plans=plans_for_selection(),
        )
        return ctx

    def post(self, request):
        form = self._form(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        source, target = form.cleaned_data["source"], form.cleaned_data["target"]
        try:
            result = plan_carry_over(source_plan=source, target_plan=target, user=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(
            request,
            _("%(count)s件の取り組みを「%(plan)s」へ引き継ぎ、%(refreshed)s件を更新しました。")
            % {
                "count": len(result.created),
                "plan": target.name,
                "refreshed": len(result.refreshed),
            },
        )
        return redirect(
            f"{reverse('reporting:carry_over')}?source={source.code}&target={target.code}"
        )
