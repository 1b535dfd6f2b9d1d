"""The drafting workspace: the next plan (or a draft revision) drafted on screens.

Secretariat only. An overview of the draft (policies → initiatives with WG, indicators and
projects; table 4-1; chapters; warnings before adoption), an add/edit form per kind of row,
and one POST-only action view for moving up/down and abolishing. Every write goes through
reporting.services.drafting; a plan that is no longer editable answers 403 with the reason.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View

from plans import services as plan_services
from plans.models import Plan
from plans.selectors import plan_is_editable
from portal_lib import era
from portal_lib.versioning import EditConflict, conflict_context, show_conflict
from reporting import chapter_facts
from reporting.access import (
    chapters_in_order,
    draft_overview,
    get_draft_row,
    get_draft_row_to_move,
    get_plan_by_code,
)
from reporting.drafting_forms import (
    IndicatorForm,
    InitiativeForm,
    PolicyForm,
    ProjectForm,
    ScheduleItemForm,
    ScheduleRowForm,
    target_field,
)
from reporting.services import drafting as services
from workgroups.access import SecretariatRequiredMixin, roles_for, signed_in

ACTION_LABELS = [("up", _("上へ")), ("down", _("下へ")), ("delete", _("削除"))]


def refused(request: Any, plan: Plan, message: str) -> HttpResponse:
    return render(
        request, "reporting/drafting/refused.html", {"plan": plan, "message": message}, status=403
    )


class DraftPlanMixin(SecretariatRequiredMixin):
    """The plan named in the URL (404 if none); every screen here is the secretariat's."""

    plan: Plan

    def setup(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.plan = get_plan_by_code(kwargs.get("code", ""))

    def overview_url(self, anchor: str = "") -> str:
        url = reverse("reporting:draft", args=[self.plan.code])
        return f"{url}#{anchor}" if anchor else url


class DraftOverviewView(DraftPlanMixin, TemplateView):
    template_name = "reporting/drafting/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        plan = self.plan
        policies, items = draft_overview(plan)
        years = plan.fiscal_years
        schedule = [
            (
                item,
                [
                    (row, [{c.fiscal_year: c for c in row.cells.all()}.get(fy) for fy in years])
                    for row in item.rows.all()
                ],
            )
            for item in items
        ]
        version = services.text_version(plan)
        facts = services.plain_facts(plan, version)
        ctx.update(
            plan=plan,
            editable=plan_is_editable(plan),
            version=version,
            chapters=[(c, chapter_facts.fill(c.title, facts)) for c in chapters_in_order(version)],
            policies=policies,
            years=[(fy, era.short_header(fy)) for fy in years],
            schedule=schedule,
            warnings=services.adoption_warnings(plan, version=version),
            placeholder_help=chapter_facts.PLACEHOLDER_HELP,
            action_labels=ACTION_LABELS,
        )
        if not ctx["editable"]:
            ctx["not_editable"] = plan_services.not_editable_message(plan)
        return ctx


class DraftFormView(DraftPlanMixin, TemplateView):
    """Add (no pk) or edit one row of the draft; subclasses name the form and the service."""

    template_name = "reporting/drafting/form.html"
    form_class: Any = None
    noun = ""
    anchor = ""
    conflict_fields: tuple[str, ...] = ()
    takes_plan = False

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # Who may come first (anonymous → login, others → 403), then whether the plan is drafted.
        if request.user.is_authenticated and roles_for(request.user).secretariat:
            if not plan_is_editable(self.plan):
                return refused(request, self.plan, plan_services.not_editable_message(self.plan))
        return super().dispatch(request, *args, **kwargs)

    def get_object(self) -> Any:
        return None

    def get_parent(self) -> Any:
        return None

    def initial(self, obj: Any) -> dict[str, Any]:
        return {}

    def make_form(self, data: Any = None, obj: Any = None) -> Any:
        kwargs: dict[str, Any] = {"plan": self.plan} if self.takes_plan else {}
        if data is None:
            return self.form_class(initial=self.initial(obj), **kwargs)
        return self.form_class(data, **kwargs)

    def save(self, form: Any, obj: Any) -> Any:
        raise NotImplementedError

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        obj = kwargs.get("obj", self.get_object())
        ctx.update(
            plan=self.plan,
            obj=obj,
            parent=self.get_parent(),
            heading=f"{self.noun}の{'編集' if obj is not None else '追加'}",
            form=kwargs.get("form") or self.make_form(obj=obj),
            back=self.overview_url(self.anchor),
            **conflict_context(kwargs.get("conflict"), self.conflict_fields),
        )
        return ctx

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        obj = self.get_object()
        form = self.make_form(request.POST, obj)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, obj=obj))
        try:
            saved = self.save(form, obj)
        except plan_services.NotEditable as exc:
            return refused(request, self.plan, str(exc))
        except EditConflict as exc:
            show_conflict(form, exc)
            return self.render_to_response(self.get_context_data(form=form, obj=obj, conflict=exc))
        except ValidationError as exc:
            _form_errors(form, exc)
            return self.render_to_response(self.get_context_data(form=form, obj=obj))
        messages.success(request, f"{self.noun}「{saved}」を保存しました。")
        return redirect(self.overview_url(self.anchor))


def _form_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class PolicyFormView(DraftFormView):
    form_class = PolicyForm
    noun = "基本方針"
    anchor = "policies"

    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        return get_draft_row("policy", self.plan, pk) if pk else None

    def initial(self, obj: Any) -> dict[str, Any]:
        if obj is None:
            return {}
        return {
            f: getattr(obj, f) for f in ("number", "title", "heading", "summary", "classification")
        }

    def save(self, form: Any, obj: Any) -> Any:
        return plan_services.policy_save(
            actor=signed_in(self.request), plan=self.plan, policy=obj, **form.cleaned_data
        )


class InitiativeFormView(DraftFormView):
    form_class = InitiativeForm
    noun = "取り組み"
    anchor = "policies"
    takes_plan = True
    conflict_fields = ("policy", "number", "title", "description", "flag", "working_group")

    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        return get_draft_row("initiative", self.plan, pk) if pk else None

    def initial(self, obj: Any) -> dict[str, Any]:
        if obj is None:
            policy = self.request.GET.get("policy", "")
            return {"policy": policy} if policy.isdigit() else {}
        return {
            "version": obj.version,
            "policy": obj.policy_id,
            "number": obj.number,
            "title": obj.title,
            "description": obj.description,
            "flag": obj.flag,
            "national_items": list(obj.national_items.all()),
            "working_group": obj.working_group_id,
            "lead_section": obj.lead_section_id,
        }

    def save(self, form: Any, obj: Any) -> Any:
        data = dict(form.cleaned_data)
        return services.initiative_save(
            actor=signed_in(self.request), plan=self.plan, initiative=obj, **data
        )


class ProjectFormView(DraftFormView):
    form_class = ProjectForm
    noun = "既に取り組んでいる事業"
    anchor = "policies"

    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        return get_draft_row("project", self.plan, pk) if pk else None

    def get_parent(self) -> Any:
        obj = self.get_object()
        if obj is not None:
            return obj.initiative
        return get_draft_row("initiative", self.plan, self.kwargs.get("parent"))

    def initial(self, obj: Any) -> dict[str, Any]:
        if obj is None:
            return {}
        return {"era_label": obj.era_label, "name": obj.name, "section": obj.section_id}

    def save(self, form: Any, obj: Any) -> Any:
        return services.project_save(
            actor=signed_in(self.request),
            initiative=self.get_parent(),
            project=obj,
            **form.cleaned_data,
        )


class IndicatorFormView(DraftFormView):
    form_class = IndicatorForm
    noun = "指標"
    anchor = "policies"
    takes_plan = True
    conflict_fields = ("name", "unit", "direction", "baseline", "baseline_fy")

    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        return get_draft_row("indicator", self.plan, pk) if pk else None

    def get_parent(self) -> Any:
        obj = self.get_object()
        if obj is not None:
            return obj.initiative
        return get_draft_row("initiative", self.plan, self.kwargs.get("parent"))

    def initial(self, obj: Any) -> dict[str, Any]:
        if obj is None:
            return {}
        data: dict[str, Any] = {
            "version": obj.version,
            "name": obj.name,
            "unit": obj.unit,
            "direction": obj.direction,
            "baseline": obj.baseline,
            "baseline_fy": era.era_label(obj.baseline_fy) if obj.baseline_fy else "",
        }
        for value in obj.values.all():
            data[target_field(value.fiscal_year)] = value.target
        return data

    def save(self, form: Any, obj: Any) -> Any:
        data = form.cleaned_data
        return services.indicator_save(
            actor=signed_in(self.request),
            initiative=self.get_parent(),
            indicator=obj,
            version=data.get("version"),
            name=data["name"],
            unit=data["unit"],
            direction=data["direction"],
            baseline=data["baseline"],
            baseline_fy=data["baseline_fy"],
            targets=form.targets(),
        )


class ScheduleItemFormView(DraftFormView):
    form_class = ScheduleItemForm
    noun = "表4-1の項目"
    anchor = "schedule"

    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        return get_draft_row("item", self.plan, pk) if pk else None

    def initial(self, obj: Any) -> dict[str, Any]:
        return {"title": obj.title} if obj is not None else {}

    def save(self, form: Any, obj: Any) -> Any:
        return plan_services.schedule_item_save(
            actor=signed_in(self.request), plan=self.plan, item=obj, **form.cleaned_data
        )


class ScheduleRowFormView(DraftFormView):
    form_class = ScheduleRowForm
    noun = "表4-1の行"
    anchor = "schedule"
    takes_plan = True

    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        return get_draft_row("row", self.plan, pk) if pk else None

    def get_parent(self) -> Any:
        obj = self.get_object()
        if obj is not None:
            return obj.item
        return get_draft_row("item", self.plan, self.kwargs.get("parent"))

    def initial(self, obj: Any) -> dict[str, Any]:
        if obj is None:
            return {}
        data: dict[str, Any] = {"sub_title": obj.sub_title, "initiative": obj.initiative_id}
        for cell in obj.cells.all():
            data[f"cell_{cell.fiscal_year}_text"] = cell.text
            data[f"cell_{cell.fiscal_year}_kind"] = cell.kind
            data[f"cell_{cell.fiscal_year}_span"] = cell.col_span
        return data

    def save(self, form: Any, obj: Any) -> Any:
        cells = {
            fy: services.CellInput(text=text, kind=kind, col_span=span)
            for fy, (text, kind, span) in form.cells().items()
        }
        return services.schedule_row_save(
            actor=signed_in(self.request),
            item=self.get_parent(),
            row=obj,
            sub_title=form.cleaned_data["sub_title"],
            initiative=form.cleaned_data["initiative"],
            cells=cells,
        )


# kind in the URL -> (move service, delete service, noun, anchor); the row itself comes from
# reporting.access.get_draft_row_to_move.
ACTIONS: dict[str, tuple[Any, Any, str, str]] = {
    "policy": (
        lambda a, o, d: plan_services.policy_move(actor=a, policy=o, direction=d),
        lambda a, o: services.policy_delete(actor=a, policy=o),
        "基本方針",
        "policies",
    ),
    "initiative": (
        lambda a, o, d: services.initiative_move(actor=a, initiative=o, direction=d),
        lambda a, o: services.initiative_delete(actor=a, initiative=o),
        "取り組み",
        "policies",
    ),
    "project": (
        lambda a, o, d: services.project_move(actor=a, project=o, direction=d),
        lambda a, o: services.project_delete(actor=a, project=o),
        "既に取り組んでいる事業",
        "policies",
    ),
    "indicator": (
        lambda a, o, d: services.indicator_move(actor=a, indicator=o, direction=d),
        lambda a, o: services.indicator_delete(actor=a, indicator=o),
        "指標",
        "policies",
    ),
    "item": (
        lambda a, o, d: plan_services.schedule_item_move(actor=a, item=o, direction=d),
        lambda a, o: services.schedule_item_delete(actor=a, item=o),
        "表4-1の項目",
        "schedule",
    ),
    "row": (
        lambda a, o, d: services.schedule_row_move(actor=a, row=o, direction=d),
        lambda a, o: services.schedule_row_delete(actor=a, row=o),
        "表4-1の行",
        "schedule",
    ),
}


class DraftActionView(DraftPlanMixin, View):
    """POST only: move a row up or down, or abolish it (delete from the draft)."""

    http_method_names = ["post"]

    def post(self, request: Any, code: str, kind: str, pk: int, action: str) -> Any:
        if kind not in ACTIONS or action not in ("up", "down", "delete"):
            raise Http404("不明な操作です。")
        move, delete, noun, anchor = ACTIONS[kind]
        obj = get_draft_row_to_move(kind, self.plan, pk)
        label = str(obj)
        try:
            if action == "delete":
                delete(request.user, obj)
                messages.success(request, f"{noun}「{label}」を削除しました。")
            elif not move(request.user, obj, action):
                messages.info(request, f"{noun}「{label}」はこれ以上移動できません。")
            else:
                messages.success(request, f"{noun}「{label}」を移動しました。")
        except plan_services.NotEditable as exc:
            return refused(request, self.plan, str(exc))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        return redirect(self.overview_url(anchor))


class PredecessorChapterView(DraftPlanMixin, View):
    """POST only: fill (or create) the draft's 「前計画の成果と課題」 chapter from the previous
    plan's close-out. Text that differs from the generated text is replaced only after the
    person confirms on the page this answers with (the old and the new text side by side)."""

    http_method_names = ["post"]

    def post(self, request: Any, code: str) -> Any:
        from portal_lib.params import ascii_int_or_default

        overwrite = request.POST.get("overwrite") == "1"
        revision = ascii_int_or_default(request.POST.get("revision", ""))
        try:
            chapter = services.predecessor_chapter_fill(
                actor=request.user, plan=self.plan, overwrite=overwrite, revision=revision
            )
        except plan_services.NotEditable as exc:
            return refused(request, self.plan, str(exc))
        except services.ChapterWouldOverwrite as exc:
            return render(
                request,
                "reporting/drafting/predecessor_confirm.html",
                {"plan": self.plan, "chapter": exc.chapter, "text": exc.text, "conflict": False},
            )
        except EditConflict as exc:
            return render(
                request,
                "reporting/drafting/predecessor_confirm.html",
                {
                    "plan": self.plan,
                    "chapter": exc.current,
                    "text": services.predecessor_results_text_for(self.plan),
                    "conflict": True,
                    "message": str(exc),
                },
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(self.overview_url("chapters"))
        messages.success(
            request,
            f"第{chapter.number}章「{chapter.title}」を前計画のデータから作成しました。"
            "内容を確認し、必要に応じて編集してください。",
        )
        return redirect("reporting:chapter_edit", chapter.version_id, chapter.number)
