"""The audit trail on a screen (issue 23): who changed what, and the login records.

For the secretariat (and superusers, who are the secretariat to `roles_for`); others get 403
like every secretariat screen. The reads live in reporting.selectors.audit.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView, View

from portal_lib.params import ascii_int_or_default
from portal_lib.sheet_writing import csv_chunks
from reporting.audit_forms import AuditFilterForm, LoginFilterForm
from reporting.selectors import audit
from workgroups.access import SecretariatRequiredMixin, get_staff_for_user
from workgroups.views import unlock_with_message


class AuditChangeListView(SecretariatRequiredMixin, TemplateView):
    """Every change kept in history, newest first, filtered and paginated."""

    template_name = "reporting/audit_changes.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        form = AuditFilterForm(self.request.GET or None)
        chosen = form.audit_filter()
        page = Paginator(audit.ChangeList(chosen), audit.PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        kinds = audit.kinds()
        ctx.update(
            form=form,
            page_obj=page,
            entries=page.object_list,
            chosen=chosen,
            chosen_kind=kinds[chosen.kind].label if chosen.kind else "",
            export_limit=audit.EXPORT_LIMIT,
        )
        return ctx

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        kwargs.setdefault("status", 400 if context["form"].errors else 200)
        return super().render_to_response(context, **kwargs)


class AuditChangeExportView(SecretariatRequiredMixin, View):
    """The same list as CSV (UTF-8 with BOM), at most EXPORT_LIMIT changes."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = AuditFilterForm(request.GET or None)
        if request.GET and not form.is_valid():
            # The list shows what was wrong with the filter; nothing is exported unfiltered.
            return redirect(f"{reverse('reporting:audit')}?{request.GET.urlencode()}")
        header = [gettext(h) for h in audit.EXPORT_HEADER]
        response = StreamingHttpResponse(
            csv_chunks(header, audit.export_rows(form.audit_filter())),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response


class AuditLoginListView(SecretariatRequiredMixin, TemplateView):
    """Logins, failures, lockouts and unlocks; the lockouts in force, each liftable."""

    template_name = "reporting/audit_logins.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        form = LoginFilterForm(self.request.GET or None)
        page = Paginator(audit.LoginList(form.login_filter()), audit.PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        ctx.update(
            form=form,
            page_obj=page,
            rows=page.object_list,
            locked=audit.current_lockouts(),
        )
        return ctx

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        kwargs.setdefault("status", 400 if context["form"].errors else 200)
        return super().render_to_response(context, **kwargs)


@login_required
@require_POST
def audit_unlock(request: HttpRequest) -> HttpResponse:
    """Lift a person's lockout from the login records (workgroups.services.staff_unlock,
    which keeps the lift in the person's history: the records show it as an unlock)."""
    pk = ascii_int_or_default(request.POST.get("user"), minimum=1)
    unlock_with_message(request, get_staff_for_user(request.user, pk or 0))
    return redirect("reporting:audit_logins")
