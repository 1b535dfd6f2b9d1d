"""Excel in and out for the secretariat: table 4-1 and the bulk sheets, always preview first.

Upload → checks and full validation → preview of every change. The uploaded bytes stay on
the server (a temp file named by a random token, its SHA-256 kept in the session); the
confirm POST carries only the token, so nothing the browser re-posts is trusted. Confirm
re-reads the stored file and writes in one transaction through the services.
"""

from __future__ import annotations

import tempfile
from typing import Any

from django import forms
from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View

from plans.models import Plan
from plans.selectors import plan_and_year
from portal_lib import upload_stash
from portal_lib.reauth import require_recent_auth
from portal_lib.sheet_reading import SpreadsheetError
from portal_lib.sheet_writing import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from reporting import table41
from reporting.exchange import columns, engine, export, sheets, writer
from reporting.services.schedule import ScheduleChangedError, schedule_import_apply
from reporting.workbooks.table41 import export_schedule
from workgroups.access import SecretariatRequiredMixin, signed_in

SCHEDULE = "schedule"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("ファイル"),
        help_text=_("Excel(.xlsx)。取り込み前に変更内容を確認する画面が表示されます。"),
    )


class BulkUploadForm(UploadForm):
    file = forms.FileField(
        label=_("ファイル"),
        help_text=_(
            "Excel(.xlsx)または CSV(UTF-8/Shift_JIS)。取り込み前に変更内容を確認する画面が表示されます。"
        ),
    )


def working_plan(request: HttpRequest) -> Plan:
    """The plan the Excel screens work on: plans.selectors.plan_and_year's plan in force (they
    take no ?plan=, so a preview and its confirmation always name the same plan), or 404."""
    plan = plan_and_year(request, choose_plan=False).plan
    if plan is None:
        raise Http404(_("計画が登録されていません。"))
    return plan


def download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)


class ExcelIndexView(SecretariatRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            "excel/index.html",
            {"plan": working_plan(request), "specs": list(sheets.SPECS.values())},
        )


class ScheduleExportView(SecretariatRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        plan = working_plan(request)
        data = export_schedule(plan, today=timezone.localdate())
        return download(data, f"表4-1_スケジュール_{plan.code}.xlsx", XLSX_CONTENT_TYPE)


@method_decorator(require_recent_auth, name="dispatch")
class ScheduleImportView(SecretariatRequiredMixin, View):
    template_name = "excel/import_form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {"form": UploadForm(), "title": _("表4-1 スケジュールの取り込み")},
        )

    def post(self, request: HttpRequest) -> HttpResponse:
        form = UploadForm(request.POST, request.FILES)
        ctx: dict[str, Any] = {"form": form, "title": _("表4-1 スケジュールの取り込み")}
        if not form.is_valid():
            return render(request, self.template_name, ctx, status=400)
        upload = form.cleaned_data["file"]
        plan = working_plan(request)
        try:
            data = _read_upload(upload)
            diff = table41.preview_schedule(plan, data, upload.name)
        except SpreadsheetError as exc:
            ctx["file_errors"] = exc.messages
            ctx["error_total"] = exc.total
            return render(request, self.template_name, ctx, status=400)
        token = (
            upload_stash.stash(request, SCHEDULE, data, upload.name, diff.fingerprint)
            if diff.changes
            else ""
        )
        return render(
            request,
            "excel/schedule_preview.html",
            {
                "diff": diff,
                "counts": diff.counts(),
                "token": token,
                "filename": upload.name,
                "plan": plan,
            },
        )


@method_decorator(require_recent_auth, name="dispatch")
class ScheduleConfirmView(SecretariatRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        token = request.POST.get("token", "")
        stashed = upload_stash.claim(request, SCHEDULE, token)
        if not isinstance(stashed, tuple):  # a (lazy) message: expired or already done
            messages.error(request, stashed)
            return redirect("excel:schedule_import")
        data, entry = stashed
        refusals = (SpreadsheetError, ScheduleChangedError)
        try:
            with upload_stash.confirming(request, token, refusals=refusals):
                diff = schedule_import_apply(
                    plan=working_plan(request),
                    data=data,
                    filename=entry["filename"],
                    user=signed_in(request),
                    expected_fingerprint=entry["fingerprint"],
                )
        except refusals as exc:
            text = " ".join(exc.messages) if isinstance(exc, SpreadsheetError) else str(exc)
            messages.error(request, text)
            return redirect("excel:schedule_import")
        c = diff.counts()
        messages.success(
            request,
            _("表4-1を更新しました(追加 %(added)s件、変更 %(changed)s件、削除 %(removed)s件)。")
            % c,
        )
        return redirect("excel:index")


def _spec(slug: str) -> columns.Spec:
    spec = sheets.SPECS.get(slug)
    if spec is None:
        raise Http404(_("この種類のデータはありません。"))
    return spec


def _read_upload(upload: Any) -> bytes:
    from django.conf import settings

    from portal_lib.sheet_reading import check_size

    check_size(upload.size, settings.MAX_UPLOAD_BYTES)
    return upload.read()


class BulkExportView(SecretariatRequiredMixin, View):
    def get(self, request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
        spec = _spec(slug)
        if fmt not in ("xlsx", "csv"):
            raise Http404(_("この形式ではダウンロードできません。"))
        plan = working_plan(request)
        stamp = timezone.localdate().isoformat()
        # Neither format is built in memory: the CSV is streamed as it is read from the
        # database; the workbook is written to a temporary file that is sent in blocks
        # and removed when the response is closed.
        if fmt == "csv":
            response: HttpResponseBase = StreamingHttpResponse(
                export.export_csv_chunks(spec, plan), content_type=CSV_CONTENT_TYPE
            )
            filename = f"{spec.title}_{stamp}.csv"
        else:
            tmp = tempfile.NamedTemporaryFile(suffix=".xlsx")  # FileResponse closes it
            try:
                export.export_xlsx(spec, plan, tmp)
                size = tmp.tell()
                tmp.seek(0)
            except BaseException:
                tmp.close()
                raise
            response = FileResponse(tmp, content_type=XLSX_CONTENT_TYPE)
            response["Content-Length"] = str(size)
            filename = f"{spec.title}_{stamp}.xlsx"
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{_quote(filename)}"
        return response


class BulkTemplateView(SecretariatRequiredMixin, View):
    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        spec = _spec(slug)
        return download(
            export.template_xlsx(spec, working_plan(request)),
            f"{spec.title}_テンプレート.xlsx",
            XLSX_CONTENT_TYPE,
        )


@method_decorator(require_recent_auth, name="dispatch")
class BulkImportView(SecretariatRequiredMixin, View):
    template_name = "excel/import_form.html"

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        spec = _spec(slug)
        return render(
            request,
            self.template_name,
            {
                "form": BulkUploadForm(),
                "spec": spec,
                "title": _("%(title)sの取り込み") % {"title": _(spec.title)},
            },
        )

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        spec = _spec(slug)
        form = BulkUploadForm(request.POST, request.FILES)
        ctx: dict[str, Any] = {
            "form": form,
            "spec": spec,
            "title": _("%(title)sの取り込み") % {"title": _(spec.title)},
        }
        if not form.is_valid():
            return render(request, self.template_name, ctx, status=400)
        upload = form.cleaned_data["file"]
        try:
            data = _read_upload(upload)
            result = engine.parse_import(
                spec, data, upload.name, plan=working_plan(request), user=signed_in(request)
            )
        except SpreadsheetError as exc:
            ctx["file_errors"] = exc.messages
            ctx["error_total"] = exc.total
            return render(request, self.template_name, ctx, status=400)
        counts = result.counts()
        changed = counts["added"] + counts["changed"]
        token = (
            upload_stash.stash(request, slug, data, upload.name, result.fingerprint)
            if changed
            else ""
        )
        return render(
            request,
            "excel/bulk_preview.html",
            {
                "spec": spec,
                "result": result,
                "counts": counts,
                "token": token,
                "filename": upload.name,
                "limit": engine.PREVIEW_LIMIT,
                "truncated": changed > engine.PREVIEW_LIMIT,
            },
        )


@method_decorator(require_recent_auth, name="dispatch")
class BulkConfirmView(SecretariatRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        spec = _spec(slug)
        token = request.POST.get("token", "")
        stashed = upload_stash.claim(request, slug, token)
        if not isinstance(stashed, tuple):  # a (lazy) message: expired or already done
            messages.error(request, stashed)
            return redirect("excel:bulk_import", slug=slug)
        data, entry = stashed
        try:
            with upload_stash.confirming(request, token, refusals=(SpreadsheetError,)):
                result = writer.bulk_import(
                    slug=slug,
                    plan=working_plan(request),
                    data=data,
                    filename=entry["filename"],
                    user=signed_in(request),
                    expected_fingerprint=entry["fingerprint"],
                )
        except SpreadsheetError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("excel:bulk_import", slug=slug)
        c = result.counts()
        messages.success(
            request,
            _("%(title)sを取り込みました(追加 %(added)s件、変更 %(changed)s件)。")
            % {"title": _(spec.title), **c},
        )
        return redirect("excel:index")
