"""Plan versions: the next plan's lifecycle, chapters, the document, comparison of contents.

Secretariat and HQ read; only the secretariat drafts, edits chapters, adopts and puts in force.
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote, urlencode

import openpyxl
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext
from django.views.generic import TemplateView, View

from initiatives.models import GRADE_RULE_TEXT, grade_text
from initiatives.selectors import rollup_figure
from kahoku_dx import era, xlsx_layout
from kahoku_dx.params import ascii_int_or_default
from kahoku_dx.spreadsheets import XLSX_CONTENT_TYPE, set_cell
from kahoku_dx.versioning import EditConflict, conflict_context, show_conflict
from plans.models import Plan, PlanChapter, PlanStatus, PlanVersion
from plans.selectors import current_plan, plan_and_year, plan_in_force_on
from reporting.content_diff import content_differences
from reporting.document import document_filename, plan_document
from reporting.docx_parts import DOCX_CONTENT_TYPE
from reporting.forms import (
    AdoptForm,
    ChapterForm,
    NextPlanForm,
    RevisionAdoptForm,
    RevisionOpenForm,
    VersionCompareForm,
    bracketed,
)
from reporting.plan_content import NoContentError, plan_content, version_content
from reporting.selectors.summary import plan_summary
from reporting.services import versions as services
from workgroups.access import SecretariatOrHeadquartersMixin, roles_for


def _attachment(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


def _version(pk: int) -> PlanVersion:
    version = PlanVersion.objects.select_related("plan").filter(pk=pk).first()
    if version is None:
        raise Http404("計画の版が見つかりません。")
    return version


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
        plans = list(
            Plan.objects.prefetch_related("versions")
            .select_related("predecessor")
            .order_by("start_fy", "code")
        )
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
        plan = Plan.objects.filter(code=request.POST.get("plan", "")).first()
        if plan is None:
            raise Http404("計画が見つかりません。")
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
                services.plan_put_in_force(actor=request.user, plan=plan)
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


class VersionDocumentView(SecretariatOrHeadquartersMixin, View):
    def get(self, request, pk: int):
        content = _content(_version(pk))
        return _attachment(plan_document(content), document_filename(content), DOCX_CONTENT_TYPE)


class VersionPrintView(SecretariatOrHeadquartersMixin, TemplateView):
    """The plan as a document, for the browser's A4 print."""

    template_name = "reporting/version_print.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        version = _version(kwargs["pk"])
        content = _content(version)
        chapters = [
            {**c, "blocks": PlanChapter(body=c["body"]).blocks()} for c in content["chapters"]
        ]
        years = [(fy, era.short_header(fy)) for fy in content["schedule"]["years"]]
        ctx.update(version=version, content=content, chapters=chapters, years=years)
        return ctx


class ChapterEditView(SecretariatOrHeadquartersMixin, TemplateView):
    template_name = "reporting/chapter_form.html"
    FIELDS = ("title", "body")

    def _chapter(self, pk: int, number: int) -> PlanChapter:
        version = _version(pk)
        if not services.chapter_is_editable(version):
            raise PermissionDenied(services.MSG_CHAPTER_FROZEN)
        chapter = version.chapters.filter(number=number).first()
        if chapter is None:
            raise Http404("章が見つかりません。")
        return chapter

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
            saved = services.chapter_update(
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


def _source_content(value: str) -> tuple[str, dict[str, Any]]:
    """ "v<pk>" is a version (its frozen content); "p<code>" is a plan as it stands now."""
    pk = ascii_int_or_default(value[1:]) if value.startswith("v") else None
    if pk is not None:
        version = _version(pk)
        state = gettext("確定") if version.frozen_at else gettext("下書き")
        return f"{version.plan.name} {version.label}{bracketed(state)}", _content(version)
    plan = Plan.objects.filter(code=value[1:]).first() if value.startswith("p") else None
    if plan is None:
        raise Http404(gettext("比較する計画が見つかりません。"))
    # Now = the database with the latest version's chapters (a plan has no chapters of its own).
    return f"{plan.name}{bracketed(gettext('現在の内容'))}", plan_content(
        plan, version=plan.latest_version
    )


def default_comparison(plan: Plan | None = None) -> dict[str, str]:
    """What the comparison opens on: the plan's first adopted version (第1.0版) against the
    plan as it stands now ({} when there is no plan)."""
    plan = plan or current_plan()
    if plan is None:
        return {}
    versions = plan.versions.order_by("issued_fy", "number")
    # The first version with a text of its own (0.5 before the plan had one is skipped).
    first = versions.filter(frozen_at__isnull=False).first() or versions.first()
    now = f"p{plan.code}"
    return {"a": f"v{first.pk}" if first else now, "b": now}


def _plan_of(value: str) -> Plan | None:
    pk = ascii_int_or_default(value[1:]) if value.startswith("v") else None
    if pk is not None:
        version = PlanVersion.objects.select_related("plan").filter(pk=pk).first()
        return version.plan if version else None
    return Plan.objects.filter(code=value[1:]).first() if value.startswith("p") else None


class VersionCompareView(SecretariatOrHeadquartersMixin, TemplateView):
    """Frozen contents compared (the plan comparison): with no choice made, 第1.0版 of the
    current plan against the plan as it stands now."""

    template_name = "reporting/version_compare.html"

    def _compare(self) -> dict[str, Any]:
        data = self.request.GET if "a" in self.request.GET else default_comparison()
        form = VersionCompareForm(data or None)
        ctx: dict[str, Any] = {"form": form, "differences": None, "plan": None}
        if form.is_bound and form.is_valid():
            a_label, a = _source_content(form.cleaned_data["a"])
            b_label, b = _source_content(form.cleaned_data["b"])
            ctx.update(
                a_label=a_label,
                b_label=b_label,
                differences=content_differences(a, b),
                plan=_plan_of(form.cleaned_data["b"]),
                query=urlencode({"a": form.cleaned_data["a"], "b": form.cleaned_data["b"]}),
            )
        return ctx

    def get(self, request, *args, **kwargs):
        ctx = self._compare()
        if request.GET.get("format") == "xlsx" and ctx["differences"] is not None:
            return _attachment(_differences_workbook(ctx), "計画の比較.xlsx", XLSX_CONTENT_TYPE)
        return self.render_to_response(self.get_context_data(**ctx))


def _differences_workbook(ctx: dict[str, Any]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "比較"
    set_cell(ws, 1, 1, f"{ctx['a_label']} → {ctx['b_label']}")
    header = ["区分", "対象", "番号・位置", "名称", "項目", "変更前", "変更後"]
    for col, text in enumerate(header, start=1):
        set_cell(ws, 3, col, text)
    row = 3
    for d in ctx["differences"]:
        for change in d.changes or [None]:
            row += 1
            kind = f"{d.kind_label}({d.ending_label})" if d.ending else d.kind_label
            values = [kind, d.area, d.key, d.title]
            values += [change.label, change.before, change.after] if change else ["", "", ""]
            for col, value in enumerate(values, start=1):
                set_cell(ws, row, col, str(value))
    xlsx_layout.layout_table(
        ws, header_row=3, landscape=True, title="計画の比較", fixed_widths={6: 50, 7: 50}
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# The six-year summary (計画期間の総括)
# --------------------------------------------------------------------------------------------


def _summary_plan(request: Any) -> Plan:
    chosen = plan_and_year(request)
    plan = None if chosen.unknown_plan else chosen.plan
    if plan is None:
        raise Http404("計画が見つかりません。")
    return plan


SUMMARY_PAGE_SIZE = 20


class SummaryView(SecretariatOrHeadquartersMixin, TemplateView):
    template_name = "reporting/summary.html"

    def get(self, request, *args, **kwargs):
        summary = plan_summary(_summary_plan(request))
        if request.GET.get("format") == "xlsx":
            return _attachment(
                summary_workbook(summary),
                f"{summary.plan.name} 計画期間の総括.xlsx",
                XLSX_CONTENT_TYPE,
            )
        plans = Plan.objects.order_by("start_fy", "code")
        # The initiatives' six-year sections a page at a time (the whole in the Excel file).
        page = Paginator(summary.initiatives, SUMMARY_PAGE_SIZE).get_page(request.GET.get("page"))
        return self.render_to_response(
            self.get_context_data(summary=summary, plans=plans, page_obj=page)
        )


def _rollup_text(r: Any) -> str:
    """A roll-up in one cell: its figure by the one rule (rollup_figure) and its basis."""
    return gettext("%(figure)s(報告 %(reported)s/%(total)s件)") % {
        "figure": rollup_figure(r),
        "reported": r.reported,
        "total": r.total,
    }


def summary_workbook(summary: Any) -> bytes:
    """The summary as an office prints it: one sheet per view, A4 landscape, header repeated."""
    wb = openpyxl.Workbook()
    labels = summary.year_labels
    ws = wb.active
    ws.title = "集計"
    set_cell(ws, 1, 1, f"{summary.plan.name} 計画期間の総括({summary.plan.period_label})")
    set_cell(ws, 3, 1, "区分")
    set_cell(ws, 3, 2, "対象")
    for i, label in enumerate(labels):
        set_cell(ws, 3, 3 + i, label)
    row = 3
    for kind, groups in (
        ("計画全体", [summary.overall]),
        ("基本方針", summary.policies),
        ("WG", summary.working_groups),
    ):
        for g in groups:
            row += 1
            set_cell(ws, row, 1, kind)
            set_cell(ws, row, 2, g.label)
            for i, r in enumerate(g.rollups):
                set_cell(ws, row, 3 + i, _rollup_text(r))
    set_cell(ws, row + 2, 1, f"集計の方法:{summary.rule_text}")
    xlsx_layout.layout_table(
        ws, header_row=3, landscape=True, title="計画期間の総括", fixed_widths={2: 36}
    )

    ws = wb.create_sheet("取り組み別")
    header = ["番号", "取り組み", "WG"] + labels
    for col, text in enumerate(header, start=1):
        set_cell(ws, 1, col, text)
    for r, s in enumerate(summary.initiatives, start=2):
        ini = s.initiative
        set_cell(ws, r, 1, ini.code)
        set_cell(ws, r, 2, ini.title)
        set_cell(ws, r, 3, ini.working_group.name if ini.working_group else "")
        for i, y in enumerate(s.years):
            text = y.status_label + (f" {y.percent}%" if y.percent is not None else "")
            set_cell(ws, r, 4 + i, text)
    xlsx_layout.layout_table(
        ws, header_row=1, landscape=True, title="取り組み別の進捗", fixed_widths={2: 36}
    )

    ws = wb.create_sheet("指標")
    header = ["番号", "指標", "単位"] + [f"{label} 目標/実績/評価" for label in labels]
    for col, text in enumerate(header, start=1):
        set_cell(ws, 1, col, text)
    r = 1
    for s in summary.initiatives:
        for row_ in s.indicators:
            r += 1
            set_cell(ws, r, 1, s.initiative.code)
            set_cell(ws, r, 2, row_.indicator.name)
            set_cell(ws, r, 3, row_.indicator.unit)
            for i, (v, grade) in enumerate(row_.cells):
                figures = "— / —" if v is None else f"{_num(v.target)} / {_num(v.shown_actual)}"
                set_cell(ws, r, 4 + i, f"{figures} / {grade_text(grade)}")
    set_cell(ws, r + 2, 1, f"評価の基準:{GRADE_RULE_TEXT}")
    xlsx_layout.layout_table(
        ws, header_row=1, landscape=True, title="指標と評価", fixed_widths={2: 30}
    )

    ws = wb.create_sheet("振り返り")
    header = ["番号", "取り組み", "年度", "状態", "Plan", "Do", "Check", "Act", "次期への方針"]
    for col, text in enumerate(header, start=1):
        set_cell(ws, 1, col, text)
    r = 1
    for s in summary.initiatives:
        for review in s.reviews:
            r += 1
            values = [
                s.initiative.code,
                s.initiative.title,
                era.format_fiscal_year(review.fiscal_year),
                review.get_state_display(),
                review.plan_text,
                review.do_text,
                review.check_text,
                review.act_text,
                review.get_carry_over_display() if review.carry_over else "",
            ]
            for col, value in enumerate(values, start=1):
                set_cell(ws, r, col, value)
    xlsx_layout.layout_table(
        ws,
        header_row=1,
        landscape=True,
        title="PDCAの振り返り",
        fixed_widths={2: 24, 5: 30, 6: 30, 7: 30, 8: 30},
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _num(value: Any) -> str:
    if value is None:
        return "—"
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)
