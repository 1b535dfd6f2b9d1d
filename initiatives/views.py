"""Screens for progress, indicators, PDCA reviews and the two countable targets (thin views)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.generic import TemplateView

from initiatives import selectors
from initiatives.access import get_initiative_for_user
from initiatives.forms import InitiativeFilterForm
from kahoku_dx import era
from plans.models import BasicPolicy


def _today():
    return timezone.localdate()


def _current_fy() -> int:
    return era.current_fiscal_year(_today())


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


class InitiativeListView(LoginRequiredMixin, TemplateView):
    template_name = "initiatives/initiative_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        policies = [
            (n, f"基本方針{n} {t}")
            for n, t in BasicPolicy.objects.order_by("number")
            .values_list("number", "title")
            .distinct()
        ]
        form = InitiativeFilterForm(self.request.GET or None, policies=policies)
        data: dict[str, Any] = {}
        if form.is_bound:
            form.is_valid()  # invalid filters are shown with their message and ignored
            data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        fiscal_year = data.pop("fy", None) or _current_fy()
        wg = data.pop("wg", None)
        section = data.pop("section", None)
        initiatives = list(
            selectors.initiatives_for_list(
                fiscal_year=fiscal_year,
                today=_today(),
                wg=wg.pk if wg else None,
                section=section.pk if section else None,
                **data,
            )
        )
        ctx.update(
            form=form,
            fiscal_year=fiscal_year,
            initiatives=initiatives,
            progress=selectors.plan_progress(fiscal_year),
            filtered=bool(data or wg or section),
        )
        return ctx


initiative_list = InitiativeListView.as_view()


@login_required
def initiative_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ini, can_log = get_initiative_for_user(request.user, pk, detail=True)
    return render(
        request, "initiatives/initiative_detail.html", {"initiative": ini, "can_log": can_log}
    )
