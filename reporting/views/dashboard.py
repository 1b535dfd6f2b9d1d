"""Management screens: dashboard, table 4-1, meeting reports, plan comparison, carry-over,
publication. Thin views: forms validate, selectors read, services write."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from initiatives.models import PUBLIC_FIELDS, Initiative, ReportSnapshot
from initiatives.services import initiative_publication_update
from plans.models import Plan, PlanStatus
from plans.selectors import current_plan, default_fiscal_year, plan_and_year, plans_for_selection
from portal_lib import era
from portal_lib.params import ascii_int_or_default
from portal_lib.people import display_name
from portal_lib.versioning import EditConflict, last_editor
from reporting.access import get_snapshot_for_user
from reporting.forms import CarryOverForm, DashboardFilterForm, SnapshotForm
from reporting.reports import report_snapshot_create, snapshot_view_data, snapshot_workbook
from reporting.selectors import dashboard, schedule
from reporting.services.carry_over import plan_carry_over, plan_carry_over_preview
from reporting.views.versions import default_comparison
from workgroups.access import SecretariatOrHeadquartersMixin, SecretariatRequiredMixin, roles_for


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
                plan=plan, fiscal_year=fy, today=today, stale_days=stale_days
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


# --------------------------------------------------------------------------------------------
# Headquarters meeting reports
# --------------------------------------------------------------------------------------------


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
            ReportSnapshot.objects.select_related("plan", "taken_by", "taken_by__profile")
            .defer("data")
            .order_by("-taken_at", "-pk"),
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


# --------------------------------------------------------------------------------------------
# Plan versions: comparison and carry-over
# --------------------------------------------------------------------------------------------


class CompareView(SecretariatOrHeadquartersMixin, View):
    """The old address of the plan comparison: the frozen-content comparison, opened on the
    chosen plan's (or the current plan's) 第1.0版 against the plan as it stands now."""

    def get(self, request):
        chosen = plan_and_year(request)
        query = urlencode(default_comparison(None if chosen.unknown_plan else chosen.plan))
        url = reverse("reporting:version_compare")
        return redirect(f"{url}?{query}" if query else url)


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


# --------------------------------------------------------------------------------------------
# Publication on the public page
# --------------------------------------------------------------------------------------------


PUBLICATION_PAGE_SIZE = 50


class PublicationView(SecretariatRequiredMixin, TemplateView):
    template_name = "reporting/publication.html"

    def _plan(self) -> Plan | None:
        return plan_and_year(self.request).plan

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        plan = self._plan()
        # A page of the plan's initiatives at a time: saving touches only the rows posted.
        page = Paginator(
            Initiative.objects.for_plan(plan)
            .select_related("policy")
            .order_by("policy__number", "number")
            if plan
            else Initiative.objects.none(),
            PUBLICATION_PAGE_SIZE,
        ).get_page(self.request.GET.get("page"))
        initiatives = page.object_list
        rows = [
            (
                ini,
                [
                    (key, label, key in (ini.public_fields or []))
                    for key, label in PUBLIC_FIELDS.items()
                ],
            )
            for ini in initiatives
        ]
        ctx.update(plan=plan, rows=rows, public_fields=PUBLIC_FIELDS, page_obj=page)
        return ctx

    def post(self, request):
        plan = self._plan()
        if plan is None:
            return redirect("reporting:publication")
        post = request.POST
        changes: dict[int, tuple[bool, list[str]]] = {}
        versions: dict[int, int | None] = {}
        for pk in Initiative.objects.for_plan(plan).values_list("pk", flat=True):
            shown = post.get(f"row-{pk}")
            if shown is None:
                continue
            fields = [k for k in PUBLIC_FIELDS if f"field-{pk}-{k}" in post]
            changes[pk] = (f"public-{pk}" in post, fields)
            # the row's version when the page was shown (portal_lib.versioning)
            versions[pk] = int(shown) if shown.isascii() and shown.isdigit() else None
        try:
            count = initiative_publication_update(
                changes=changes, plan=plan, user=request.user, versions=versions
            )
        except EditConflict as exc:
            ini = exc.current
            editor = last_editor(ini)
            shown_fields = "、".join(str(PUBLIC_FIELDS[k]) for k in ini.public_fields or [])
            messages.error(
                request,
                " ".join(
                    [
                        str(exc),
                        _("「%(ini)s」の現在の設定: %(public)s(公開する項目: %(fields)s)。")
                        % {
                            "ini": f"{ini.code} {ini.title}",
                            "public": _("掲載する") if ini.is_public else _("掲載しない"),
                            "fields": shown_fields or "—",
                        },
                        _("最終更新者: %(name)s") % {"name": display_name(editor)}
                        if editor is not None
                        else "",
                        _("この画面は現在の設定で表示し直しています。"),
                    ]
                ).strip(),
            )
        else:
            messages.success(
                request, _("公開設定を保存しました(%(count)s件を変更)。") % {"count": count}
            )
        query = {"plan": plan.code}
        page = ascii_int_or_default(post.get("page"), minimum=1)
        if page is not None:
            query["page"] = str(page)
        return redirect(f"{reverse('reporting:publication')}?{urlencode(query)}")
