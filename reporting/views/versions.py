"""Plan versions: the next plan's lifecycle, chapters, the document, comparison of contents.

Secretariat and HQ read; only the secretariat drafts, edits chapters, adopts and puts in force.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView, View

from plans import services as plan_services
from plans.models import Plan, PlanChapter, PlanStatus, PlanVersion
from plans.selectors import plan_and_year, plan_in_force_on
from portal_lib import era
from portal_lib.office import PDF_CONTENT_TYPE, OfficeError
from portal_lib.sheet_writing import XLSX_CONTENT_TYPE
from portal_lib.versioning import EditConflict, conflict_context, show_conflict
from reporting.access import (
    get_plan_by_code,
    get_plan_version,
    get_version_chapter,
    plans_with_versions,
)
from reporting.content_diff import content_differences
from reporting.documents import figures
from reporting.documents.comparison import comparison_docx, comparison_pdf
from reporting.documents.parts import DOCX_CONTENT_TYPE
from reporting.documents.plan import (
    FIGURE_LINE,
    as_of_label,
    cover_date,
    document_filename,
    plan_document,
    plan_pdf,
    schedule_grid,
)
from reporting.forms import (
    AdoptForm,
    ChapterForm,
    NextPlanForm,
    RevisionAdoptForm,
    RevisionOpenForm,
    VersionCompareForm,
)
from reporting.selectors import comparison
from reporting.selectors.comparison import Source
from reporting.selectors.plan_content import (
    NoContentError,
    document_content,
    version_content,
)
from reporting.services import versions as services
from reporting.workbooks.comparison import comparison_workbook
from reporting.workbooks.versions import differences_workbook
from workgroups.access import SecretariatOrHeadquartersMixin, roles_for


def _attachment(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _content(version: PlanVersion) -> dict[str, Any]:
    try:
        return version_content(version)
    except NoContentError as exc:
        raise Http404(str(exc)) from exc


def _require_secretariat(request: Any) -> None:
    if not roles_for(request.user).secretariat:
        raise PermissionDenied("この操作は事務局(情報推進課)のみ行えます。")


def _errors(request: Any, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _state_label(plan: Plan, in_force: Plan | None) -> str:
    """施行中 for the plan in force today (an adopted plan from its in_force_from, pressed or
    not), 終了 for a plan a later one has taken over from, else the recorded status."""
    if in_force is not None and plan.pk == in_force.pk:
        return str(PlanStatus.IN_FORCE.label)
    if (
        in_force is not None
        and plan.status in (PlanStatus.ADOPTED, PlanStatus.IN_FORCE)
        and plan.in_force_start < in_force.in_force_start
    ):
        return str(PlanStatus.ENDED.label)
    return plan.get_status_display()


NEXT_ID = "id_next_%s"


def _plan_auto_id(plan: Plan) -> str:
    return f"id_plan{plan.pk}_%s"


def _plan_form(cls: Any, plan: Plan, bound: Any, posted: int | None) -> Any:
    if bound is not None and posted == plan.pk:
        return bound
    return cls(auto_id=_plan_auto_id(plan))


class VersionListView(SecretariatOrHeadquartersMixin, TemplateView):
    """Every plan with its status and versions; the secretariat drafts and adopts here."""

    template_name = "reporting/versions.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        plans = plans_with_versions()
        today = timezone.localdate()
        in_force = plan_in_force_on(today, plans=plans)
        # Each plan's section has its own forms with their own ids (two sections once showed
        # id_summary twice: the adopt form's label named the other plan's textarea); the form
        # posted with errors is shown again in its plan's section.
        posted = kwargs.get("posted_plan")
        for plan in plans:
            plan.adopt_form = _plan_form(AdoptForm, plan, kwargs.get("adopt_form"), posted)
            plan.revision_form = _plan_form(
                RevisionOpenForm, plan, kwargs.get("revision_form"), posted
            )
            plan.revision_adopt_form = _plan_form(
                RevisionAdoptForm, plan, kwargs.get("revision_adopt_form"), posted
            )
            plan.is_in_force_today = in_force is not None and plan.pk == in_force.pk
            plan.state_label = _state_label(plan, in_force)
            plan.open_revision = next((v for v in plan.versions.all() if v.is_open_revision), None)
            plan.version_in_force = max(
                (v for v in plan.versions.all() if v.frozen_at),
                key=lambda v: (v.frozen_at, v.pk),
                default=None,
            )
        # The next plan follows the plan in force (else the latest plan that is not a draft).
        source = in_force or next(
            (p for p in reversed(plans) if p.status != PlanStatus.DRAFT), None
        )
        ctx.update(
            plans=plans,
            next_form=kwargs.get("next_form") or NextPlanForm(source=source, auto_id=NEXT_ID),
            can_edit=roles_for(self.request.user).secretariat,
            source=source,
            has_draft=any(p.status == PlanStatus.DRAFT for p in plans)
            or (source is not None and any(p.predecessor_id == source.pk for p in plans)),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        _require_secretariat(request)
        action = request.POST.get("action")
        plan = get_plan_by_code(request.POST.get("plan", ""))
        try:
            if action == "next":
                form = NextPlanForm(request.POST, source=plan, auto_id=NEXT_ID)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(next_form=form))
                nxt = services.plan_create_next(
                    actor=request.user, source=plan, **form.cleaned_data
                )
                messages.success(
                    request, f"次期計画「{nxt.name}」({nxt.period_label})を作成しました。"
                )
            elif action == "adopt":
                form = AdoptForm(request.POST, auto_id=_plan_auto_id(plan))
                if not form.is_valid():
                    return self.render_to_response(
                        self.get_context_data(adopt_form=form, posted_plan=plan.pk)
                    )
                version = services.plan_adopt(actor=request.user, plan=plan, **form.cleaned_data)
                messages.success(
                    request, f"「{plan.name}」{version.label}を決定し、内容を確定しました。"
                )
            elif action == "in_force":
                plan_services.plan_put_in_force(actor=request.user, plan=plan)
                messages.success(request, f"「{plan.name}」を施行中にしました。")
            elif action == "revision_open":
                form = RevisionOpenForm(request.POST, auto_id=_plan_auto_id(plan))
                if not form.is_valid():
                    return self.render_to_response(
                        self.get_context_data(revision_form=form, posted_plan=plan.pk)
                    )
                version = services.plan_revision_open(
                    actor=request.user, plan=plan, **form.cleaned_data
                )
                messages.success(
                    request,
                    f"「{plan.name}」の改訂{version.label}を作成しました。"
                    "内容と本文を編集し、施行中の版と比較してから決定してください。",
                )
            elif action == "revision_adopt":
                form = RevisionAdoptForm(request.POST, auto_id=_plan_auto_id(plan))
                if not form.is_valid():
                    return self.render_to_response(
                        self.get_context_data(revision_adopt_form=form, posted_plan=plan.pk)
                    )
                version = services.revision_adopt(
                    actor=request.user, plan=plan, **form.cleaned_data
                )
                messages.success(
                    request, f"「{plan.name}」の改訂{version.label}を決定し、内容を確定しました。"
                )
            else:
                return HttpResponse("不明な操作です。", status=400)
        except ValidationError as exc:
            _errors(request, exc)
        return redirect("reporting:versions")


def _document_content(version: PlanVersion) -> dict[str, Any]:
    try:
        return document_content(version)
    except NoContentError as exc:
        raise Http404(str(exc)) from exc


class VersionDocumentView(SecretariatOrHeadquartersMixin, View):
    def get(self, request, pk: int):
        content = _document_content(get_plan_version(pk))
        return _attachment(plan_document(content), document_filename(content), DOCX_CONTENT_TYPE)


class VersionPdfView(SecretariatOrHeadquartersMixin, View):
    """The plan as the published PDF (LibreOffice on the server, portal_lib.office); when it
    cannot be made, back to the versions screen with the reason (the .docx stays there)."""

    def get(self, request, pk: int):
        content = _document_content(get_plan_version(pk))
        try:
            data = plan_pdf(content)
        except OfficeError as exc:
            messages.error(request, str(exc))
            return redirect("reporting:versions")
        return _attachment(data, document_filename(content, ".pdf"), PDF_CONTENT_TYPE)


def _print_blocks(body: str, drawn: dict[str, figures.Figure]) -> list[tuple[str, Any]]:
    """A chapter's blocks for the print view; a figure's caption line becomes the figure."""
    out: list[tuple[str, Any]] = []
    for kind, value in PlanChapter(body=body).blocks():
        match = FIGURE_LINE.match(value) if kind == "p" else None
        if match and match.group(1) in drawn:
            figure = drawn[match.group(1)]
            figure.caption = match.group(2).strip()
            out.append(
                (
                    "fig",
                    {
                        "svg": figures.svg(figure),
                        "number": figure.number,
                        "caption": figure.caption,
                    },
                )
            )
        else:
            out.append((kind, value))
    return out


class VersionPrintView(SecretariatOrHeadquartersMixin, TemplateView):
    """The plan as a document, for the browser's A4 print (table 4-1 on a landscape page)."""

    template_name = "reporting/version_print.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        version = get_plan_version(kwargs["pk"])
        content = _document_content(version)
        drawn = figures.figures_for(content, as_of_label(content))
        blocks = [{**c, "blocks": _print_blocks(c["body"], drawn)} for c in content["chapters"]]
        chapters = [c for c in blocks if c["number"] < 6]
        later_chapters = [c for c in blocks if c["number"] > 6]  # added after the seed's six
        chapter_6 = next((c for c in content["chapters"] if c["number"] == 6), None)
        years = [(fy, era.short_header(fy)) for fy in content["schedule"]["years"]]
        ctx.update(
            version=version,
            content=content,
            chapters=chapters,
            later_chapters=later_chapters,
            chapter_6=chapter_6,
            cover_date=cover_date(content),
            years=years,
            schedule_rows=schedule_grid(content["schedule"]),
        )
        return ctx


class ChapterEditView(SecretariatOrHeadquartersMixin, TemplateView):
    template_name = "reporting/chapter_form.html"
    FIELDS = ("title", "body")

    def _chapter(self, pk: int, number: int) -> PlanChapter:
        version = get_plan_version(pk)
        if not plan_services.chapter_is_editable(version):
            raise PermissionDenied(plan_services.MSG_CHAPTER_FROZEN)
        return get_version_chapter(version, number)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        chapter = self._chapter(kwargs["pk"], kwargs["number"])
        ctx.update(
            chapter=chapter,
            form=kwargs.get("form")
            or ChapterForm(
                initial={"title": chapter.title, "body": chapter.body, "version": chapter.revision}
            ),
            **conflict_context(kwargs.get("conflict"), self.FIELDS),
        )
        return ctx

    def post(self, request, *args, **kwargs):
        _require_secretariat(request)
        chapter = self._chapter(kwargs["pk"], kwargs["number"])
        form = ChapterForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, **kwargs))
        try:
            saved = plan_services.chapter_update(
                actor=request.user,
                chapter=chapter,
                version=form.cleaned_data["version"],
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
            )
        except EditConflict as exc:
            show_conflict(form, exc)
            return self.render_to_response(self.get_context_data(form=form, conflict=exc, **kwargs))
        except ValidationError as exc:
            form.add_error(None, exc.messages)
            return self.render_to_response(self.get_context_data(form=form, **kwargs))
        messages.success(request, f"第{saved.number}章「{saved.title}」を保存しました。")
        return redirect("reporting:versions")


def _source(value: str) -> Source:
    try:
        return comparison.source(value)
    except comparison.SourceNotFound as exc:
        raise Http404(str(exc)) from exc


default_comparison = comparison.default_comparison

DOCUMENT_FORMATS = ("docx", "pdf", "xlsx")


class CompareView(SecretariatOrHeadquartersMixin, View):
    """The old address of the plan comparison: the frozen-content comparison, opened on the
    chosen plan's (or the current plan's) 第1.0版 against the plan as it stands now."""

    def get(self, request):
        chosen = plan_and_year(request)
        query = urlencode(default_comparison(None if chosen.unknown_plan else chosen.plan))
        url = reverse("reporting:version_compare")
        return redirect(f"{url}?{query}" if query else url)


class VersionCompareView(SecretariatOrHeadquartersMixin, TemplateView):
    """Frozen contents compared (the plan comparison): with no choice made, 第1.0版 of the
    current plan against the plan as it stands now. ``?format=xlsx`` is the list of
    differences; ``?shinkyu=docx|pdf|xlsx`` (with ``order``) the 新旧対照表 of b against a."""

    template_name = "reporting/version_compare.html"

    def _compare(self) -> dict[str, Any]:
        data = self.request.GET if "a" in self.request.GET else default_comparison()
        form = VersionCompareForm(data or None)
        order = self.request.GET.get("order")
        ctx: dict[str, Any] = {
            "form": form,
            "differences": None,
            "plan": None,
            "order": order if order in comparison.ORDERS else comparison.AFTER_LEFT,
            "order_choices": comparison.order_choices(),
        }
        if form.is_bound and form.is_valid():
            a, b = _source(form.cleaned_data["a"]), _source(form.cleaned_data["b"])
            ctx.update(
                a=a,
                b=b,
                a_label=a.label,
                b_label=b.label,
                differences=content_differences(a.content, b.content),
                plan=b.plan,
                query=urlencode({"a": a.value, "b": b.value}),
            )
        return ctx

    def get(self, request, *args, **kwargs):
        ctx = self._compare()
        if ctx["differences"] is not None:
            if request.GET.get("format") == "xlsx":
                return _attachment(
                    differences_workbook(ctx["a_label"], ctx["b_label"], ctx["differences"]),
                    "計画の比較.xlsx",
                    XLSX_CONTENT_TYPE,
                )
            kind = request.GET.get("shinkyu")
            if kind in DOCUMENT_FORMATS:
                response = self._document(ctx, kind)
                if response is not None:
                    return response
                return self.render_to_response(self.get_context_data(**ctx), status=503)
        return self.render_to_response(self.get_context_data(**ctx))

    def _document(self, ctx: dict[str, Any], kind: str) -> HttpResponse | None:
        """The 新旧対照表 file, or None with a message on the page (no PDF could be made)."""
        table = comparison.comparison_table(ctx["a"], ctx["b"])
        order = ctx["order"]
        if kind == "docx":
            data, content_type = (
                comparison_docx(table, order=order),
                DOCX_CONTENT_TYPE,
            )
        elif kind == "xlsx":
            data, content_type = (
                comparison_workbook(table, order=order),
                XLSX_CONTENT_TYPE,
            )
        else:
            try:
                data = comparison_pdf(table, order=order)
            except OfficeError as exc:
                messages.error(self.request, str(exc))
                return None
            content_type = PDF_CONTENT_TYPE
        return _attachment(data, comparison.filename(table, kind), content_type)
