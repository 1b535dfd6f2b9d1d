"""Staff and roles screens: the secretariat runs people, WG roles and HQ seats here.

`/admin/` stays for superusers; nothing in the yearly cycle needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from plans.selectors import current_plan, plan_and_year
from portal_lib import era
from portal_lib.people import display_name
from portal_lib.reauth import ask_to_reauthenticate, authenticated_recently
from portal_lib.versioning import EditConflict, last_editor, show_conflict
from workgroups import selectors, services
from workgroups.access import (
    MSG_SERVICE_ACCOUNT_PASSWORD,
    MSG_SUPERUSER,
    get_staff_for_user,
    headquarters_of,
    headquarters_seats,
    hq_seat_of,
    may_change_account,
    may_have_password,
    may_use_local_password,
    only_staff_without_section,
    roles_for,
    secretariat_of,
    signed_in,
    wg_pks_by_leader_filter,
    wg_roles_of,
    working_groups_of,
)
from workgroups.forms import (
    OrganisationForm,
    SectionCreateForm,
    SectionMergeForm,
    SectionRenameForm,
    SectionSplitForm,
    SetPasswordForm,
    StaffFilterForm,
    StaffForm,
    StaffRolesForm,
    WorkingGroupCreateForm,
    WorkingGroupDissolveForm,
    WorkingGroupMergeForm,
    WorkingGroupRenameForm,
    wareki,
)
from workgroups.models import (
    Headquarters,
)

if TYPE_CHECKING:
    from plans.models import Plan
    from portal_lib.users import PortalUser

GET_POST = require_http_methods(["GET", "POST"])


def _require_secretariat(request: HttpRequest) -> None:
    if not roles_for(request.user).secretariat:
        raise PermissionDenied(gettext("職員の管理は事務局(情報推進課)のみ行えます。"))


def _form_error(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            if field == "effective_fy" and "effective" in form.fields:
                field = "effective"  # the services count in fiscal years; the form takes a date
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@require_safe
def staff_list(request: HttpRequest) -> HttpResponse:
    _require_secretariat(request)
    form = StaffFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    plan = current_plan()
    section = data.get("section")
    users = selectors.staff_queryset(
        plan=plan,
        section_id=section.pk if section else None,
        active=data.get("active") or "",
        q=data.get("q") or "",
    )
    no_section = request.GET.get("no_section") == "1"  # the checklist's 「所属課のない職員」
    if no_section:
        users = only_staff_without_section(users, plan)
    page = Paginator(users, selectors.STAFF_PAGE_SIZE).get_page(request.GET.get("page"))
    locks = selectors.lockouts([p.username for p in page.object_list])
    for p in page.object_list:
        p.lockout = locks.get(p.username.lower())
    return render(
        request,
        "workgroups/staff_list.html",
        {
            "form": form,
            "page_obj": page,
            "people": page.object_list,
            "plan": plan,
            "no_section": no_section,
        },
    )


def _roles_initial(person: PortalUser | None, plan: Plan | None) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    if person is None or plan is None:
        return initial
    for wg_pk, role in wg_roles_of(person, plan).items():
        initial[f"wg_{wg_pk}"] = role
    seat = hq_seat_of(person, plan)
    if seat is not None:
        initial["hq_role"] = seat.role
        initial["hq_title"] = seat.title
    return initial


def _staff_form_page(request: HttpRequest, person: PortalUser | None) -> HttpResponse:
    plan = current_plan()
    wgs = working_groups_of(plan)
    if person is None:
        initial: dict[str, Any] = {}
    else:
        profile = selectors.staff_profile_of(person)
        initial = {
            "display_name": (profile.display_name if profile else "") or person.last_name,
            "email": person.email,
            "section": profile.section if profile else None,
            "role": profile.role if profile else "staff",
            "review_mail": profile.review_mail if profile else True,
            "version": services.staff_version_of(person),
        }
    form = StaffForm(request.POST or None, instance=person, initial=initial)
    roles_form = StaffRolesForm(
        request.POST or None, working_groups=wgs, initial=_roles_initial(person, plan)
    )
    conflict = None
    if request.method == "POST" and form.is_valid() and roles_form.is_valid():
        # A change of roles (new staff with roles included) asks for the password again.
        roles_change = roles_form.has_changed() or form.cleaned_data["role"] != initial.get(
            "role", "staff"
        )
        if roles_change and not authenticated_recently(request):
            return ask_to_reauthenticate(request)
        try:
            saved, changes = services.staff_save(
                actor=signed_in(request),
                user=person,
                plan=plan,
                username=form.cleaned_data.get("username", ""),
                display_name=form.cleaned_data["display_name"],
                email=form.cleaned_data["email"],
                section=form.cleaned_data["section"],
                role=form.cleaned_data["role"],
                wg_roles=roles_form.wg_roles(),
                hq_role=roles_form.cleaned_data.get("hq_role") or None,
                hq_title=roles_form.cleaned_data.get("hq_title", ""),
                version=form.cleaned_data["version"],
                review_mail=form.cleaned_data["review_mail"],
            )
        except EditConflict as exc:
            conflict = exc
            show_conflict(form, exc)
        except ValidationError as exc:
            on_roles = hasattr(exc, "error_dict") and set(exc.error_dict) <= {"hq_title"}
            _form_error(roles_form if on_roles else form, exc)
        else:
            name = form.cleaned_data["display_name"]
            messages.success(
                request,
                gettext("%(name)sさんを保存しました。") % {"name": name}
                + pgettext("punctuation", "、").join(changes),
            )
            if person is None:
                return redirect("workgroups:staff_password", pk=saved.pk)
            return redirect("workgroups:staff_edit", pk=saved.pk)
    context: dict[str, Any] = {
        "form": form,
        "roles_form": roles_form,
        "person": person,
        "plan": plan,
    }
    if person is not None:
        context["lockout"] = selectors.lockouts([person.username]).get(person.username.lower())
    if conflict is not None:
        assert person is not None  # only a saved person's record conflicts (staff_version_check)
        editor = last_editor(conflict.current) if conflict.current.pk else None
        context.update(
            conflict=conflict.current,
            conflict_fields=selectors.staff_snapshot(person, plan),
            conflict_by=display_name(editor) if editor is not None else "",
        )
    return render(request, "workgroups/staff_form.html", context)


@login_required
@GET_POST
def staff_create(request: HttpRequest) -> HttpResponse:
    _require_secretariat(request)
    return _staff_form_page(request, None)


@login_required
@GET_POST
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_staff_for_user(request.user, pk)
    if not may_change_account(signed_in(request), person):
        raise PermissionDenied(MSG_SUPERUSER)
    return _staff_form_page(request, person)


@login_required
@require_POST
def staff_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_staff_for_user(request.user, pk)
    active = request.POST.get("active") == "1"
    try:
        services.staff_set_active(actor=signed_in(request), user=person, active=active)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if active:
            messages.success(
                request, gettext("%(user)s を有効にしました。") % {"user": person.get_username()}
            )
        else:
            messages.success(
                request,
                gettext(
                    "%(user)s を無効にしました。ログイン中の画面も直ちに終了します。"
                    "記録と履歴はそのまま残ります。"
                )
                % {"user": person.get_username()},
            )
    return redirect("workgroups:staff_edit", pk=pk)


@login_required
@GET_POST
def staff_password(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_staff_for_user(request.user, pk)
    if not may_change_account(signed_in(request), person):
        raise PermissionDenied(MSG_SUPERUSER)
    if not may_have_password(person):
        raise PermissionDenied(MSG_SERVICE_ACCOUNT_PASSWORD)
    form = SetPasswordForm(
        request.POST if request.POST.get("action") == "set" else None, user=person
    )
    if request.method == "POST":
        if request.POST.get("action") == "link":
            try:
                address = services.staff_send_password_link(actor=signed_in(request), user=person)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    gettext("パスワード設定リンクを %(address)s に送りました。")
                    % {"address": address},
                )
                return redirect("workgroups:staff_edit", pk=pk)
        elif form.is_valid():
            services.staff_set_password(
                actor=signed_in(request), user=person, password=form.cleaned_data["password1"]
            )
            messages.success(
                request,
                gettext("%(user)s のパスワードを設定しました。本人に安全な方法で伝えてください。")
                % {"user": person.get_username()},
            )
            return redirect("workgroups:staff_edit", pk=pk)
    context = {"form": form, "person": person, "directory_only": not may_use_local_password(person)}
    return render(request, "workgroups/staff_password.html", context)


# --------------------------------------------------------------------------------------------
# Sections: renamed, merged and split from a fiscal year on
# --------------------------------------------------------------------------------------------

SECTION_FORMS = {
    "create": SectionCreateForm,
    "rename": SectionRenameForm,
    "merge": SectionMergeForm,
    "split": SectionSplitForm,
}


def _section_write(kind: str, form: Any, actor: PortalUser, today_fy: int) -> str:
    """Sections change by fiscal year: the typed date (和暦 or not) gives the year it falls in."""
    data = form.cleaned_data
    if kind == "create":
        section = services.section_create(
            actor=actor, name=data["name"], department=data["department"], order=data["order"]
        )
        return gettext("「%(name)s」を追加しました。") % {"name": section.name}
    effective_fy = era.fiscal_year_of(data["effective"])
    when = f"{wareki(data['effective'])}({era.format_fiscal_year(effective_fy)})"
    if kind == "rename":
        entry = services.section_rename(
            actor=actor,
            section=data["section"],
            new_name=data["new_name"],
            effective_fy=effective_fy,
            today_fy=today_fy,
        )
        return gettext("%(day)sから「%(old)s」を「%(new)s」に改称します。") % {
            "day": when,
            "old": entry.previous_name,
            "new": entry.name,
        }
    if kind == "merge":
        target = services.section_merge(
            actor=actor,
            sources=list(data["sources"]),
            target_name=data["target_name"],
            effective_fy=effective_fy,
            today_fy=today_fy,
        )
        return gettext("%(day)sから「%(name)s」に統合します。") % {"day": when, "name": target.name}
    created = services.section_split(
        actor=actor,
        source=data["source"],
        new_names=form.names(),
        effective_fy=effective_fy,
        today_fy=today_fy,
    )
    return gettext(
        "%(day)sから「%(name)s」を%(parts)sに分割します。職員とWGの所属を見直してください。"
    ) % {
        "day": when,
        "name": data["source"].name,
        "parts": pgettext("punctuation", "、").join(
            gettext("「%(name)s」") % {"name": s.name} for s in created
        ),
    }


@login_required
@GET_POST
def sections(request: HttpRequest) -> HttpResponse:
    _require_secretariat(request)
    today_fy = era.current_fiscal_year(timezone.localdate())
    kind = request.POST.get("kind") if request.method == "POST" else None
    initial = {"effective": wareki(era.fiscal_year_start(today_fy + 1))}
    forms_by_kind = {
        k: cls(request.POST if kind == k else None, prefix=k, initial=initial)
        for k, cls in SECTION_FORMS.items()
    }
    if kind in SECTION_FORMS:
        form = forms_by_kind[kind]
        if form.is_valid():
            try:
                done = _section_write(kind, form, signed_in(request), today_fy)
            except ValidationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, done)
                return redirect("workgroups:sections")
    # The checklist's 「廃止されたのに職員・WGが残っている課」 opens exactly its rows.
    ended_in_use = request.GET.get("ended_in_use") == "1"
    return render(
        request,
        "workgroups/section_list.html",
        {
            "sections": selectors.sections_with_history(
                ended_in_use_before=today_fy if ended_in_use else None
            ),
            "ended_in_use": ended_in_use,
            "forms": forms_by_kind,
            "today_fy": today_fy,
        },
    )


# --------------------------------------------------------------------------------------------
# WGs of a plan: created, renamed, merged and dissolved from a date (secretariat only)
# --------------------------------------------------------------------------------------------

WG_FORMS = {
    "create": WorkingGroupCreateForm,
    "rename": WorkingGroupRenameForm,
    "merge": WorkingGroupMergeForm,
    "dissolve": WorkingGroupDissolveForm,
}


def _chosen_plan(request: HttpRequest) -> Any:
    chosen = plan_and_year(request)
    return chosen.plans, chosen.plan


def _wg_write(kind: str, form: Any, actor: PortalUser) -> str:
    data = form.cleaned_data
    day = wareki(data["effective"])
    if kind == "create":
        created = services.wg_create(
            actor=actor,
            name=data["name"],
            lead_section=data["lead_section"],
            sections=list(data["sections"]),
            effective=data["effective"],
        )
        plans = pgettext("punctuation", "、").join(wg.plan.name for wg in created)
        return gettext("%(day)sから「%(name)s」を設置しました(%(plans)s)。") % {
            "day": day,
            "name": data["name"],
            "plans": plans,
        }
    if kind == "rename":
        old = data["working_group"].name
        services.wg_rename(
            actor=actor,
            working_group=data["working_group"],
            new_name=data["new_name"],
            effective=data["effective"],
        )
        return gettext(
            "%(day)sから「%(old)s」を「%(new)s」に改称しました。それより前の記録は旧名のままです。"
        ) % {"day": day, "old": old, "new": data["new_name"].strip()}
    if kind == "merge":
        counts = services.wg_merge(
            actor=actor, source=data["source"], target=data["target"], effective=data["effective"]
        )
        return gettext(
            "%(day)sから「%(a)s」を「%(b)s」に統合しました"
            "(取り組み %(initiatives)s件、メンバー %(members)s人を移しました)。"
        ) % {"day": day, "a": data["source"].name, "b": data["target"].name, **counts}
    services.wg_dissolve(
        actor=actor,
        working_group=data["working_group"],
        effective=data["effective"],
        reassign_to=data["reassign_to"],
    )
    return gettext("%(day)sで「%(name)s」を廃止しました。") % {
        "day": day,
        "name": data["working_group"].name,
    }


def _wg_rows(plan: Any, leader_filter: str) -> list[Any]:
    """The WG screen's rows; with ``?leader=`` exactly the WGs the checklist counts."""
    rows = selectors.wg_overview(plan)
    if leader_filter and plan is not None:
        chosen = wg_pks_by_leader_filter(plan, leader_filter)
        rows = [row for row in rows if row.wg.pk in chosen]
    return rows


@login_required
@GET_POST
def working_groups(request: HttpRequest) -> HttpResponse:
    _require_secretariat(request)
    plans, plan = _chosen_plan(request)
    kind = request.POST.get("kind") if request.method == "POST" else None
    leader_filter = request.GET.get("leader", "")  # the checklist's WG leadership items
    if leader_filter not in selectors.WG_LEADER_FILTERS:
        leader_filter = ""
    initial = {"effective": wareki(timezone.localdate())}
    forms_by_kind = {
        k: cls(request.POST if kind == k else None, prefix=k, plan=plan, initial=initial)
        for k, cls in WG_FORMS.items()
    }
    status = 200
    if kind == "continue" and plan is not None:
        counts = services.bodies_ensure(plan, actor=signed_in(request))
        if counts:
            messages.success(
                request,
                gettext("前の計画から組織を引き継ぎました: ")
                + pgettext("punctuation", "、").join(
                    f"{services.BODY_LABELS[k]} {n}" for k, n in counts.items() if n
                ),
            )
        else:
            messages.info(request, gettext("引き継ぐものはありません。"))
        return redirect(f"{reverse('workgroups:working_groups')}?plan={plan.code}")
    if kind in WG_FORMS:
        form = forms_by_kind[kind]
        if form.is_valid():
            try:
                done = _wg_write(kind, form, signed_in(request))
            except ValidationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, done)
                return redirect(f"{reverse('workgroups:working_groups')}?plan={plan.code}")
        status = 400
    return render(
        request,
        "workgroups/workinggroup_list.html",
        {
            "plans": plans,
            "plan": plan,
            "rows": _wg_rows(plan, leader_filter),
            "leader_filter": leader_filter,
            "forms": forms_by_kind,
            "missing": services.bodies_missing(plan) if plan else [],
        },
        status=status,
    )


@login_required
@GET_POST
def organisation(request: HttpRequest) -> HttpResponse:
    """The plan's secretariat section and headquarters name (created when the plan has none)."""
    _require_secretariat(request)
    plans, plan = _chosen_plan(request)
    if plan is None:
        raise Http404(gettext("計画がありません。"))
    sec = secretariat_of(plan)
    hq = headquarters_of(plan)
    initial = {
        "secretariat_section": sec.section if sec else None,
        "hq_name": hq.name if hq else Headquarters._meta.get_field("name").default,
    }
    form = OrganisationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_set(
                actor=signed_in(request),
                plan=plan,
                secretariat_section=form.cleaned_data["secretariat_section"],
                hq_name=form.cleaned_data["hq_name"],
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, gettext("「%(plan)s」の事務局と本部を保存しました。") % {"plan": plan.name}
            )
            return redirect(f"{reverse('workgroups:organisation')}?plan={plan.code}")
    seats = headquarters_seats(hq)
    return render(
        request,
        "workgroups/organisation_form.html",
        {"plans": plans, "plan": plan, "form": form, "secretariat": sec, "hq": hq, "seats": seats},
        status=400 if form.errors else 200,
    )


# --------------------------------------------------------------------------------------------
# People: login lockouts lifted, a person's history of changes
# --------------------------------------------------------------------------------------------


def unlock_with_message(request: HttpRequest, person: PortalUser) -> None:
    """Lift ``person``'s lockout (services.staff_unlock) and say what happened; the staff
    screen and the audit trail's login records both lift a lockout through here."""
    count = services.staff_unlock(actor=signed_in(request), user=person)
    if count:
        messages.success(
            request,
            gettext("%(name)s のログインの制限を解除しました。") % {"name": person.get_username()},
        )
    else:
        messages.info(
            request,
            gettext("%(name)s のログインは制限されていません。") % {"name": person.get_username()},
        )


@login_required
@require_POST
def staff_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    unlock_with_message(request, get_staff_for_user(request.user, pk))
    if request.POST.get("next") == "list":
        return redirect("workgroups:staff_list")
    return redirect("workgroups:staff_edit", pk=pk)


@login_required
@require_safe
def staff_history(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_staff_for_user(request.user, pk)
    return render(
        request,
        "workgroups/staff_history.html",
        {"person": person, "lines": selectors.staff_history(person)},
    )
