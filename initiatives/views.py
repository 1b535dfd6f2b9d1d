"""Screens for progress, indicators, PDCA reviews and the two countable targets.

Views stay thin: access.py says who may do what (404/403), services.py writes, selectors.py
reads. Writes by GET answer 405 (@require_POST / @require_http_methods).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.generic import TemplateView, View

from initiatives import selectors, services, workflow
from initiatives.access import (
    can_confirm_countable,
    can_edit_countable,
    can_manage_initiative,
    can_run_review_round,
    get_indicator_for_user,
    get_initiative_for_user,
    get_procedure_for_user,
    get_progress_entry_for_user,
    get_review_for_user,
    get_system_for_user,
    oversight_keys,
    policy_headings,
    progress_entry_history,
    review_events,
    review_moves_for,
    review_of_year,
)
from initiatives.forms import (
    IndicatorForm,
    InitiativeFilterForm,
    OnlineProcedureForm,
    ProgressEntryForm,
    ReviewForm,
    ReviewMoveForm,
    ReviewsOpenForm,
    StandardSystemForm,
)
from initiatives.models import (
    IndicatorValue,
    OnlineProcedure,
    StandardSystem,
)
from plans.selectors import plan_and_year
from portal_lib import era
from portal_lib.params import ascii_int_or_default
from portal_lib.versioning import EditConflict, conflict_context, show_conflict
from workgroups.access import roles_for, signed_in

GET_POST = require_http_methods(["GET", "POST"])


def _today() -> date:
    return timezone.localdate()


def _current_fy() -> int:
    return era.current_fiscal_year(_today())


def _form_error(form: BaseForm, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form, on the field when there is one."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _fields(form: BaseForm, *names: str) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in names}


# --- home ----------------------------------------------------------------------------------


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    fiscal_year = _current_fy()
    roles = roles_for(request.user)
    context = selectors.home_for_user(roles, fiscal_year, waiting_keys=oversight_keys(roles))
    context["fiscal_year"] = fiscal_year
    context["hq"] = (
        selectors.headquarters_overview(fiscal_year, _today()) if roles.headquarters else None
    )
    context["checklist"] = selectors.setup_checklist(fiscal_year) if roles.secretariat else []
    return render(request, "home.html", context)


# --- initiatives ---------------------------------------------------------------------------


INITIATIVE_PAGE_SIZE = 50


class InitiativeListView(LoginRequiredMixin, TemplateView):
    template_name = "initiatives/initiative_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ctx = super().get_context_data(**kwargs)
        policies = [
            (n, gettext("基本方針%(number)s %(title)s") % {"number": n, "title": t})
            for n, t in policy_headings()
        ]
        form = InitiativeFilterForm(
            self.request.GET or None,
            policies=policies,
            initial={"fy": era.era_label(_current_fy())},
        )
        data: dict[str, Any] = {}
        if form.is_bound:
            form.is_valid()  # invalid filters are shown with their message and ignored
            data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
        fiscal_year = data.pop("fy", None) or _current_fy()
        wg = data.pop("wg", None)
        section = data.pop("section", None)
        no_wg = bool(data.pop("no_wg", False))
        # One page of the filtered list (a count and a page query whatever the number of
        # initiatives); the roll-up above the list still covers every initiative.
        page = Paginator(
            selectors.initiatives_for_list(
                fiscal_year=fiscal_year,
                today=_today(),
                wg=wg.pk if wg else None,
                section=section.pk if section else None,
                no_wg=no_wg,
                **data,
            ),
            INITIATIVE_PAGE_SIZE,
        ).get_page(self.request.GET.get("page"))
        ctx.update(
            form=form,
            fiscal_year=fiscal_year,
            page_obj=page,
            initiatives=page.object_list,
            progress=selectors.plan_progress(fiscal_year),
            filtered=bool(data or wg or section or no_wg),
            open_form=ReviewsOpenForm(initial={"fiscal_year": fiscal_year})
            if can_run_review_round(roles_for(self.request.user))
            else None,
        )
        return ctx


initiative_list = InitiativeListView.as_view()


@login_required
@require_safe
def initiative_detail(request: HttpRequest, pk: int) -> HttpResponse:
    current = _current_fy()
    ini, can_log = get_initiative_for_user(request.user, pk, detail_year=current)
    roles = roles_for(request.user)
    fiscal_years = ini.policy.plan.fiscal_years
    reviews = {r.fiscal_year: r for r in ini.reviews.all()}
    indicators = []
    empty: dict[int, list[IndicatorValue]] = {}
    for ind in ini.indicators.all():
        values = {v.fiscal_year: v for v in ind.values.all()}
        row = []
        for fy in fiscal_years:
            value = values.get(fy)
            if value is None:
                # A year with nothing entered is an empty value, graded by the same rule
                # (未評価 while the year runs, D once it has ended).
                value = IndicatorValue(indicator=ind, fiscal_year=fy)
                empty.setdefault(ind.pk, []).append(value)
            row.append((fy, value))
        indicators.append((ind, row))
    selectors.attach_counted_actuals(ini.indicators.all(), extra=empty)
    # The progress timeline: one fiscal year at a time (the current one unless ?fy=), a page
    # of entries at a time, so the page stays small after years of monthly entries.
    year_counts = selectors.timeline_years(ini)
    timeline_years = sorted(set(fiscal_years) | set(year_counts) | {current})
    # ?fy= in any form era reads (R8, 令和8年度, 2026), as on every page (plan_and_year).
    asked = plan_and_year(request, plans=[ini.policy.plan], choose_plan=False).asked_year
    timeline_fy = current if asked is None else asked
    if timeline_fy not in timeline_years:
        timeline_fy = current
    paginator = Paginator(
        selectors.progress_timeline(ini, timeline_fy), selectors.PROGRESS_PAGE_SIZE
    )
    paginator.count = year_counts.get(timeline_fy, 0)  # counted above: no second COUNT
    entries = paginator.get_page(request.GET.get("page"))
    # The 主管課 as the plan knew it: an ended plan's initiative keeps the name of its last
    # year (a later rename does not rewrite it), with today's name beside it.
    plan = ini.policy.plan
    as_of = min(max(current, plan.start_fy), plan.end_fy)
    section = ini.lead_section
    # (today's name is the name of this year: no query for the plan in force)
    lead_section_then = "" if section is None else section.name
    if section is not None and as_of != current:
        lead_section_then = section.name_as_of(as_of)
    lead_section_now = section.name if section and section.name != lead_section_then else ""
    return render(
        request,
        "initiatives/initiative_detail.html",
        {
            "initiative": ini,
            "lead_section_then": lead_section_then,
            "lead_section_now": lead_section_now,
            "can_log": can_log,
            "can_manage": can_manage_initiative(roles, ini),
            "fiscal_years": fiscal_years,
            "current_fy": current,
            "indicators": indicators,
            "review_rows": [(fy, reviews.get(fy)) for fy in fiscal_years],
            "timeline_fy": timeline_fy,
            "timeline_years": [(fy, year_counts.get(fy, 0)) for fy in timeline_years],
            "page_obj": entries,
            "entries": entries.object_list,
            "rollup_rule": selectors.ROLLUP_RULE_TEXT,
        },
    )


# --- progress entries ----------------------------------------------------------------------

PROGRESS_FIELDS = ("entry_date", "status", "percent", "done_text", "next_steps", "issues_text")


@login_required
@GET_POST
def progress_create(request: HttpRequest, pk: int) -> HttpResponse:
    ini, can_log = get_initiative_for_user(request.user, pk)
    if not can_log:
        raise PermissionDenied(services.MSG_PROGRESS_DENIED)
    form = ProgressEntryForm(
        request.POST if request.method == "POST" else None,
        initial={"entry_date": _today()},
        initiative=ini,
    )
    taken = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.progress_entry_create(
                actor=signed_in(request), initiative=ini, **_fields(form, *PROGRESS_FIELDS)
            )
        except services.ProgressDateTaken as exc:
            taken = exc.existing
            _form_error(form, exc)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request,
                gettext("%(date)sの進捗を記録しました。")
                % {"date": era.format_date(saved.entry_date)},
            )
            return redirect(reverse("initiatives:detail", args=[ini.pk]) + "#progress")
    return render(
        request,
        "initiatives/progress_form.html",
        {"form": form, "initiative": ini, "entry": None, "taken": taken},
    )


@login_required
@GET_POST
def progress_edit(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    entry, can_log = get_progress_entry_for_user(request.user, pk, entry_pk)
    if not can_log:
        raise PermissionDenied(services.MSG_PROGRESS_DENIED)
    initial = {name: getattr(entry, name) for name in PROGRESS_FIELDS}
    form = ProgressEntryForm(
        request.POST if request.method == "POST" else None,
        initial={**initial, "version": entry.version},
        initiative=entry.initiative,
    )
    conflict = taken = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.progress_entry_update(
                actor=signed_in(request),
                entry=entry,
                version=form.cleaned_data["version"],
                **_fields(form, *PROGRESS_FIELDS),
            )
        except EditConflict as exc:
            conflict = exc
            show_conflict(form, exc)
        except services.ProgressDateTaken as exc:
            taken = exc.existing
            _form_error(form, exc)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request,
                gettext("%(date)sの進捗記録を更新しました(変更前の内容は履歴に残っています)。")
                % {"date": era.format_date(saved.entry_date)},
            )
            return redirect(reverse("initiatives:detail", args=[pk]) + "#progress")
    return render(
        request,
        "initiatives/progress_form.html",
        {
            "form": form,
            "initiative": entry.initiative,
            "entry": entry,
            "taken": taken,
            **conflict_context(conflict, PROGRESS_FIELDS),
            "history": progress_entry_history(entry),
        },
    )


# --- indicators ----------------------------------------------------------------------------

INDICATOR_FIELDS = ("name", "unit", "direction", "baseline", "baseline_fy")


@login_required
@GET_POST
def indicator_create(request: HttpRequest, pk: int) -> HttpResponse:
    ini, _ = get_initiative_for_user(request.user, pk)
    if not can_manage_initiative(roles_for(request.user), ini):
        raise PermissionDenied(services.MSG_MANAGE_DENIED)
    form = IndicatorForm(
        request.POST if request.method == "POST" else None,
        fiscal_years=ini.policy.plan.fiscal_years,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.indicator_create(
                actor=signed_in(request),
                initiative=ini,
                values=form.values(),
                **_fields(form, *INDICATOR_FIELDS),
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, gettext("指標を登録しました。"))
            return redirect(reverse("initiatives:detail", args=[ini.pk]) + "#indicators")
    return render(
        request,
        "initiatives/indicator_form.html",
        {"form": form, "initiative": ini, "indicator": None},
    )


@login_required
@GET_POST
def indicator_edit(request: HttpRequest, pk: int) -> HttpResponse:
    ind, can_edit = get_indicator_for_user(request.user, pk)
    if not can_edit:
        raise PermissionDenied(services.MSG_MANAGE_DENIED)
    ini = ind.initiative
    fiscal_years = ini.policy.plan.fiscal_years
    initial: dict[str, Any] = {name: getattr(ind, name) for name in INDICATOR_FIELDS}
    initial["version"] = ind.version
    for value in ind.values.all():
        initial[f"target_{value.fiscal_year}"] = value.target
        initial[f"actual_{value.fiscal_year}"] = value.actual
    form = IndicatorForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        fiscal_years=fiscal_years,
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.indicator_update(
                actor=signed_in(request),
                indicator=ind,
                version=form.cleaned_data["version"],
                values=form.values(),
                **_fields(form, *INDICATOR_FIELDS),
            )
        except EditConflict as exc:
            conflict = exc
            show_conflict(form, exc)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, gettext("指標を更新しました。"))
            return redirect(reverse("initiatives:detail", args=[ini.pk]) + "#indicators")
    return render(
        request,
        "initiatives/indicator_form.html",
        {
            "form": form,
            "initiative": ini,
            "indicator": ind,
            **conflict_context(conflict, INDICATOR_FIELDS),
        },
    )


# --- PDCA reviews --------------------------------------------------------------------------

REVIEW_FIELDS = tuple(ReviewForm.Meta.fields)


@login_required
@require_safe
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review, can_edit = get_review_for_user(request.user, pk)
    moves = [
        workflow.offered(m, review.state) for m in review_moves_for(roles_for(request.user), review)
    ]
    events = review_events(review)
    return render(
        request,
        "initiatives/review_detail.html",
        {
            "review": review,
            "initiative": review.initiative,
            "flags": workflow.state_flags(review.state),
            "can_edit": can_edit and workflow.text_editable(review),
            "moves": moves,
            "events": events,
            "return_comment": workflow.return_comment(events),
            "move_form": ReviewMoveForm(),
        },
    )


@login_required
@GET_POST
def review_edit(request: HttpRequest, pk: int, fy: int) -> HttpResponse:
    ini, _ = get_initiative_for_user(request.user, pk)
    if not ini.policy.plan.covers(fy):
        raise Http404(gettext("計画期間外の年度です。"))
    roles = roles_for(request.user)
    if not can_manage_initiative(roles, ini):
        raise PermissionDenied(services.MSG_MANAGE_DENIED)
    review = review_of_year(ini, fy)
    if review is not None and review.is_locked:
        return render(
            request,
            "initiatives/review_locked.html",
            {"review": review, "message": services.MSG_REVIEW_LOCKED},
            status=403,
        )
    if request.method == "GET" and review is not None and not workflow.text_editable(review):
        messages.warning(
            request,
            gettext(
                "この振り返りは「%(state)s」のため編集できません。"
                "内容を直す場合は、事務局に差戻しを依頼してください。"
            )
            % {"state": review.get_state_display()},
        )
        return redirect("initiatives:review", review.pk)
    initial: dict[str, Any] = {}
    if review is not None:
        initial = {name: getattr(review, name) for name in REVIEW_FIELDS}
        initial["version"] = review.version
    form = ReviewForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        can_set_due_date=can_run_review_round(roles),
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.review_save(
                actor=signed_in(request),
                initiative=ini,
                fiscal_year=fy,
                version=form.cleaned_data["version"],
                **_fields(form, *REVIEW_FIELDS),
            )
        except EditConflict as exc:
            conflict = exc
            show_conflict(form, exc)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, gettext("振り返りを保存しました。"))
            return redirect("initiatives:review", saved.pk)
    return render(
        request,
        "initiatives/review_form.html",
        {
            "form": form,
            "initiative": ini,
            "fiscal_year": fy,
            "review": review,
            "flags": workflow.state_flags(review.state if review else None),
            **conflict_context(conflict, REVIEW_FIELDS),
        },
    )


@login_required
@require_POST
def reviews_open(request: HttpRequest) -> HttpResponse:
    """Secretariat: create the year's reviews with a due date (from the list page)."""
    if not can_run_review_round(roles_for(request.user)):
        raise PermissionDenied(services.MSG_REVIEWS_OPEN_DENIED)
    form = ReviewsOpenForm(request.POST)
    if form.is_valid():
        fy = form.cleaned_data["fiscal_year"]
        try:
            created, updated = services.reviews_open(
                actor=signed_in(request), fiscal_year=fy, due_date=form.cleaned_data["due_date"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                gettext(
                    "%(fy)sの振り返りを%(created)s件作成し、%(updated)s件の提出期限を更新しました。"
                )
                % {"fy": era.format_fiscal_year(fy), "created": created, "updated": updated},
            )
        return redirect(f"{reverse('initiatives:list')}?fy={fy}")
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:  # an ErrorList gives its messages as text
            messages.error(request, f"{label}: {error}" if label else str(error))
    return redirect("initiatives:list")


@login_required
@require_POST
def review_move(request: HttpRequest, pk: int, move: str) -> HttpResponse:
    """One URL per move of workflow.MOVES (see urls.py); the service decides if it may happen."""
    review, _ = get_review_for_user(request.user, pk)
    form = ReviewMoveForm(request.POST)
    form.is_valid()
    try:
        services.review_move(
            actor=signed_in(request),
            review=review,
            move=move,
            comment=form.cleaned_data.get("comment", ""),
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, workflow.move_named(move).done)
    return redirect("initiatives:review", review.pk)


# --- the two countable targets -------------------------------------------------------------

PROCEDURE_FIELDS = ("name", "category", "channel", "section", "status", "online_on", "note")
SYSTEM_FIELDS = ("phase", "difficult", "planned_on", "migrated_on", "section", "note")


@login_required
@require_safe
def procedure_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in OnlineProcedure.Status.values:
        status = ""
    confirmed = request.GET.get("confirmed", "")
    data = selectors.procedures_overview(
        status=status or None, today=_today(), confirmed=selectors.confirmed_filter(confirmed)
    )
    roles = roles_for(request.user)
    data["can_edit"] = can_edit_countable(roles, data["target"])
    data["can_confirm"] = can_confirm_countable(roles)
    data.update(status=status, confirmed=confirmed)
    return render(request, "initiatives/procedure_list.html", data)


@login_required
@require_POST
def countable_confirm(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The 確認 button of a procedure or system row (``confirmed`` 1 or 0), back to its list."""
    row: OnlineProcedure | StandardSystem
    if kind == "procedures":
        row, _can_edit = get_procedure_for_user(request.user, pk)
    else:
        row, _can_edit = get_system_for_user(request.user, pk)
    back = request.POST.get("next", "")
    back = back if back.startswith("?") else ""
    try:
        done = services.countable_confirm(
            actor=signed_in(request),
            row=row,
            confirmed=request.POST.get("confirmed") == "1",
            version=ascii_int_or_default(request.POST.get("version")),
        )
    except EditConflict:
        messages.error(
            request,
            gettext("この行は他の人が更新しました。内容を確かめてからもう一度押してください。"),
        )
    else:
        message = (
            gettext("「%(name)s」を確認済みにしました。")
            if done.is_confirmed
            else gettext("「%(name)s」を未確認に戻しました。")
        )
        messages.success(request, message % {"name": done})
    return redirect(reverse(f"initiatives:{kind}") + back)


class CountableItemFormView(LoginRequiredMixin, View):
    """Add or edit one item of a countable target (an online procedure, a standard system).

    Subclasses name the form, the fields, how to find the item (access.py answers 404/403)
    and the service that writes it; the screen is one template for every such item.
    """

    http_method_names = ["get", "post"]
    template_name = "initiatives/countable_form.html"
    form_class: type[BaseForm]
    fields: tuple[str, ...]
    list_url: str
    list_label: Any

    def get_item(self, pk: int | None) -> tuple[Any, Any]:
        """(item or None for a new one, its countable target); raises 404/403."""
        raise NotImplementedError

    def save(self, form: BaseForm, item: Any, target: Any) -> str:
        """Write through the service; return the message shown after saving."""
        raise NotImplementedError

    def title(self, item: Any) -> str:
        raise NotImplementedError

    def heading(self, item: Any) -> str:
        return self.title(item)

    def get(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        return self.handle(request, pk)

    def post(self, request: HttpRequest, pk: int | None = None) -> HttpResponse:
        return self.handle(request, pk)

    def handle(self, request: HttpRequest, pk: int | None) -> HttpResponse:
        item, target = self.get_item(pk)
        initial = None
        if item is not None:
            initial = {name: getattr(item, name) for name in self.fields}
            initial["version"] = item.version
        form = self.form_class(request.POST if request.method == "POST" else None, initial=initial)
        conflict = None
        if request.method == "POST" and form.is_valid():
            try:
                done = self.save(form, item, target)
            except EditConflict as exc:
                conflict = exc
                show_conflict(form, exc)
            except ValidationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, done)
                return redirect(self.list_url)
        return render(
            request,
            self.template_name,
            {
                **conflict_context(conflict, self.fields),
                "form": form,
                "item": item,
                "target": target,
                "title": self.title(item),
                "heading": self.heading(item),
                "list_url": self.list_url,
                "list_label": self.list_label,
            },
        )


class ProcedureFormView(CountableItemFormView):
    form_class = OnlineProcedureForm
    fields = PROCEDURE_FIELDS
    list_url = "initiatives:procedures"
    list_label = gettext_lazy("オンライン化手続")

    def get_item(self, pk: int | None) -> tuple[Any, Any]:
        user = self.request.user
        if pk is None:
            target = selectors.countable_target(selectors.PROCEDURES_CODE)
            if not can_edit_countable(roles_for(user), target):
                raise PermissionDenied(services.MSG_COUNTABLE_DENIED)
            return None, target
        procedure, can_edit = get_procedure_for_user(user, pk)
        if not can_edit:
            raise PermissionDenied(services.MSG_COUNTABLE_DENIED)
        return procedure, procedure.target

    def save(self, form: BaseForm, item: Any, target: Any) -> str:
        values = _fields(form, *self.fields)
        if item is None:
            services.online_procedure_create(actor=signed_in(self.request), target=target, **values)
            return gettext("手続を登録しました。")
        services.online_procedure_update(
            actor=signed_in(self.request),
            procedure=item,
            version=form.cleaned_data["version"],
            **values,
        )
        return gettext("「%(name)s」を更新しました。") % {"name": values["name"]}

    def title(self, item: Any) -> str:
        return gettext("手続の編集") if item else gettext(gettext("手続の追加"))

    def heading(self, item: Any) -> str:
        if item is None:
            return gettext("手続の追加")
        return gettext("手続 %(n)s の編集") % {"n": item.number}


class SystemFormView(CountableItemFormView):
    form_class = StandardSystemForm
    fields = SYSTEM_FIELDS
    list_url = "initiatives:systems"
    list_label = gettext_lazy("標準化対象システム")

    def get_item(self, pk: int | None) -> tuple[Any, Any]:
        if pk is None:  # no URL adds a system (urls.py): there is only the edit page
            raise Http404
        system, can_edit = get_system_for_user(self.request.user, pk)
        if not can_edit:
            raise PermissionDenied(services.MSG_COUNTABLE_DENIED)
        return system, system.group.target

    def save(self, form: BaseForm, item: Any, target: Any) -> str:
        services.standard_system_update(
            actor=signed_in(self.request),
            system=item,
            version=form.cleaned_data["version"],
            **_fields(form, *self.fields),
        )
        return gettext("%(system)sを更新しました。") % {"system": item}

    def title(self, item: Any) -> str:
        return gettext("標準化対象システムの編集")

    def heading(self, item: Any) -> str:
        return gettext("%(system)s（%(group)s）") % {"system": item, "group": item.group.name}


procedure_create = ProcedureFormView.as_view()
procedure_edit = ProcedureFormView.as_view()
system_edit = SystemFormView.as_view()


@login_required
@require_safe
def system_list(request: HttpRequest) -> HttpResponse:
    group = request.GET.get("group", "")
    phase = request.GET.get("phase", "")
    overdue = request.GET.get("overdue") == "1"
    confirmed = request.GET.get("confirmed", "")
    no_section = request.GET.get("section") == "none"
    data = selectors.systems_overview(
        group=ascii_int_or_default(group),
        phase=phase if phase in StandardSystem.Phase.values else None,
        overdue=overdue,
        today=_today(),
        confirmed=selectors.confirmed_filter(confirmed),
        no_section=no_section,
    )
    roles = roles_for(request.user)
    data["can_edit"] = can_edit_countable(roles, data["target"])
    data["can_confirm"] = can_confirm_countable(roles)
    data.update(group=group, phase=phase, overdue=overdue, phases=StandardSystem.Phase.choices)
    data.update(confirmed=confirmed, no_section=no_section)
    return render(request, "initiatives/system_list.html", data)
