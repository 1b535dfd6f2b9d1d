"""Headquarters meeting reports (会議資料): the list, a new report, one report on screen and
as a workbook. reporting.selectors.meeting_reports reads, reporting.services.meeting_reports
writes, reporting.workbooks.meeting_report makes the workbook."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from plans.selectors import current_plan, default_fiscal_year, plans_for_selection
from portal_lib import era
from reporting.access import get_snapshot_for_user, meeting_reports_newest_first
from reporting.forms import SnapshotForm
from reporting.selectors.meeting_reports import snapshot_view_data
from reporting.services.meeting_reports import report_snapshot_create
from reporting.workbooks.meeting_report import snapshot_workbook
from workgroups.access import SecretariatOrHeadquartersMixin, SecretariatRequiredMixin, roles_for

REPORT_PAGE_SIZE = 20


class ReportListView(SecretariatOrHeadquartersMixin, TemplateView):
    template_name = "reporting/report_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        current = era.current_fiscal_year(today)
        plans = plans_for_selection()
        plan = current_plan(current, plans=plans)
        ctx.setdefault(
            "form",
            SnapshotForm(
                initial={
                    "fy": era.era_label(default_fiscal_year(plan, current)) if plan else "",
                    "title": _("%(year)s DX推進本部会議資料")
                    % {"year": era.era_label(current, short=False)},
                }
            ),
        )
        # A page at a time, newest first; each snapshot's content (the whole plan's figures)
        # is read only by its own page.
        page = Paginator(
            meeting_reports_newest_first(),
            REPORT_PAGE_SIZE,
        ).get_page(self.request.GET.get("page"))
        ctx.update(
            snapshots=page.object_list,
            page_obj=page,
            can_create=roles_for(self.request.user).secretariat,
            plan=plan,
            short_mode=ReportDetailView.SHORT,
        )
        return ctx


class ReportCreateView(SecretariatRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request):
        form = SnapshotForm(request.POST)
        today = timezone.localdate()
        plans = plans_for_selection()
        if form.is_valid():
            fy = form.cleaned_data["fy"]
            plan = current_plan(fy, plans=plans)
            if plan is None or not plan.covers(fy):
                form.add_error(
                    "fy", _("%(fy)sを含む計画がありません。") % {"fy": era.format_fiscal_year(fy)}
                )
            else:
                snapshot = report_snapshot_create(
                    plan=plan,
                    fiscal_year=fy,
                    title=form.cleaned_data["title"],
                    today=today,
                    user=request.user,
                    document_number=form.cleaned_data["document_number"],
                )
                messages.success(
                    request, _("会議資料「%(title)s」を作成しました。") % {"title": snapshot.title}
                )
                return redirect("reporting:report_detail", pk=snapshot.pk)
        # Re-render the list with the bound form so nothing typed is lost.
        list_view = ReportListView()
        list_view.setup(request)
        return list_view.render_to_response(list_view.get_context_data(form=form), status=400)


class ReportDetailView(SecretariatOrHeadquartersMixin, TemplateView):
    """The whole report, or with ``?mode=short`` the meeting's own paper: one or two A4
    landscape pages of figures, grades and what waits for headquarters, no review texts."""

    SHORT = "short"

    def short(self) -> bool:
        return self.request.GET.get("mode") == self.SHORT

    def get_template_names(self) -> list[str]:
        if self.short():
            return ["reporting/report_short.html"]
        return ["reporting/report_detail.html"]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        snapshot, can_edit = get_snapshot_for_user(self.request.user, kwargs["pk"])
        ctx.update(
            snapshot=snapshot,
            data=snapshot_view_data(snapshot.data),
            can_edit=can_edit,
            short_mode=self.SHORT,
        )
        return ctx


class ReportExcelView(SecretariatOrHeadquartersMixin, View):
    def get(self, request, pk: int):
        snapshot, _ = get_snapshot_for_user(request.user, pk)
        response = HttpResponse(
            snapshot_workbook(snapshot),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = (
            f"attachment; filename=report-{snapshot.fiscal_year}-{snapshot.pk}.xlsx"
        )
        return response
