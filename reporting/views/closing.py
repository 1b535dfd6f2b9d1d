"""The close-out report of a plan (計画期間の総括) on screen, for print, and as files.

Secretariat and headquarters read it. The screen shows the whole report (a document, like
the plan's print view) and prints on A4 landscape with every approved review's text;
``?format=docx|pdf|xlsx`` downloads the same report (reporting.documents.closing,
reporting.workbooks.summary).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from plans.models import Plan
from plans.selectors import plan_and_year, plans_for_selection
from portal_lib.office import PDF_CONTENT_TYPE, OfficeError
from portal_lib.sheet_writing import XLSX_CONTENT_TYPE
from reporting.documents.closing import closing_document, closing_pdf
from reporting.documents.parts import DOCX_CONTENT_TYPE
from reporting.selectors.summary import decision_total, filename, plan_summary
from reporting.workbooks.summary import closing_workbook
from workgroups.access import SecretariatOrHeadquartersMixin

FORMATS = {
    "docx": (closing_document, DOCX_CONTENT_TYPE),
    "pdf": (closing_pdf, PDF_CONTENT_TYPE),
    "xlsx": (closing_workbook, XLSX_CONTENT_TYPE),
}


def _attachment(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _summary_plan(request: Any) -> Plan:
    chosen = plan_and_year(request)
    plan = None if chosen.unknown_plan else chosen.plan
    if plan is None:
        raise Http404("計画が見つかりません。")
    return plan


class SummaryView(SecretariatOrHeadquartersMixin, TemplateView):
    template_name = "reporting/summary.html"

    def get(self, request, *args, **kwargs):
        plan = _summary_plan(request)
        summary = plan_summary(plan)
        fmt = request.GET.get("format", "")
        if fmt in FORMATS:
            write, content_type = FORMATS[fmt]
            try:
                data = write(summary)
            except OfficeError as exc:
                messages.error(request, str(exc))
                return redirect(f"{reverse('reporting:summary')}?plan={quote(plan.code)}")
            return _attachment(data, filename(summary, fmt), content_type)
        plans = plans_for_selection()
        return self.render_to_response(
            self.get_context_data(
                summary=summary, plans=plans, decision_total=decision_total(summary)
            )
        )
