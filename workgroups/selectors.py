"""Reads of the organisation: the staff list the secretariat manages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext, pgettext

from plans.models import Plan
from portal_lib.login_throttle import USER, group_limit
from portal_lib.people import display_name
from workgroups.models import (
    ExternalAdvisor,
    HeadquartersMember,
    Section,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
    account_history,
)

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

User = get_user_model()

STAFF_PAGE_SIZE = 50


def staff_queryset(
    *, plan: Plan | None, section_id: int | None = None, active: str = "", q: str = ""
) -> QuerySet[Any]:
    """People with their section, WG roles and HQ seat in ``plan`` (a fixed number of queries)."""
    memberships = WorkingGroupMembership.objects.select_related("working_group").order_by(
        "working_group__name"
    )
    seats = HeadquartersMember.objects.select_related("headquarters")
    if plan is not None:
        memberships = memberships.filter(working_group__plan=plan)
        seats = seats.filter(headquarters__plan=plan)
    users = (
        User.objects.select_related("profile", "profile__section")
        .prefetch_related(
            Prefetch("wg_memberships", queryset=memberships, to_attr="plan_memberships"),
            Prefetch("hq_memberships", queryset=seats, to_attr="plan_seats"),
        )
        .order_by("profile__section__order", "profile__section__name", "username")
    )
    if section_id:
        users = users.filter(profile__section_id=section_id)
    if active == "1":
        users = users.filter(is_active=True)
    elif active == "0":
        users = users.filter(is_active=False)
    q = q.strip()[:100]
    if q:
        users = users.filter(
            Q(username__icontains=q)
            | Q(last_name__icontains=q)
            | Q(profile__display_name__icontains=q)
            | Q(email__icontains=q)
        )
    return users


def staff_profile_of(user: PortalUser) -> StaffProfile | None:
    return StaffProfile.objects.filter(user=user).select_related("section").first()


def sections_ended_in_use(fiscal_year: int) -> QuerySet[Any]:
    """Sections abolished before ``fiscal_year`` that still have active staff, or lead or take
    part in a WG: the set-up checklist's 「廃止されたのに職員・WGが残っている課」 and the
    sections page's ``?ended_in_use=1`` (the same rows)."""

    referenced = (
        Q(staff__user__is_active=True)
        | Q(led_working_groups__isnull=False)
        | Q(working_groups__isnull=False)
    )
    return Section.objects.filter(ended_fy__lt=fiscal_year).filter(referenced).distinct()


def sections_with_history(*, ended_in_use_before: int | None = None) -> list[Any]:
    """Every section with its dated names, predecessors, successors and staff count; with
    ``ended_in_use_before``, only sections_ended_in_use(that fiscal year)."""

    qs = Section.objects.all()
    if ended_in_use_before is not None:
        qs = qs.filter(pk__in=sections_ended_in_use(ended_in_use_before).values("pk"))
    return list(
        qs.prefetch_related("names", "predecessors", "successors")
        .annotate(staff_count=Count("staff", distinct=True))
        .order_by("ended_fy", "order", "name")
    )


def staff_snapshot(user: PortalUser, plan: Plan | None) -> list[tuple[str, str]]:
    """A person's record as saved now, as (label, shown value) pairs: the staff screen's
    conflict panel (templates/includes/conflict.html)."""

    user = get_user_model().objects.get(pk=user.pk)
    profile = StaffProfile.objects.filter(user=user).select_related("section").first()
    rows = [
        (gettext("氏名"), (profile.display_name if profile else "") or user.last_name),
        (gettext("メールアドレス"), user.email),
        (gettext("所属課"), str(profile.section) if profile and profile.section else ""),
        (
            gettext("ポータルでの役割"),
            profile.get_role_display() if profile else str(StaffProfile.Role.STAFF.label),
        ),
        (gettext("状態"), gettext("有効") if user.is_active else gettext("無効")),
    ]
    if plan is not None:
        wgs = WorkingGroupMembership.objects.filter(user=user, working_group__plan=plan)
        rows.append(
            (
                gettext("DX推進WG"),
                "、".join(
                    f"{m.working_group.name}({m.get_role_display()})"
                    for m in wgs.select_related("working_group").order_by("working_group__name")
                ),
            )
        )
        seat = HeadquartersMember.objects.filter(user=user, headquarters__plan=plan).first()
        rows.append(
            (gettext("DX推進本部"), f"{seat.get_role_display()}({seat.title})" if seat else "")
        )
    return rows


# --- login lockouts (django-axes records, portal_lib.login_throttle's limits) ---------------


@dataclass(frozen=True)
class Lockout:
    failures: int
    locked: bool
    last_at: Any


def lockouts(usernames: Iterable[str]) -> dict[str, Lockout]:
    """Failed logins within the cool-off per user name (lower-cased), and whether they lock
    the person out: from one address (AXES_FAILURE_LIMIT) or from any (the user limit).
    The one reader of django-axes' records: the staff list, a person's page and the plan
    switch check ask it."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.utils import timezone

    if not usernames:
        return {}
    since = timezone.now() - (get_cool_off() or timedelta(0))
    rows: dict[str, list[Any]] = {}
    names = sorted(set(usernames))
    for start in range(0, len(names), 200):  # a bounded OR per query, whatever the list
        q = Q()
        for name in names[start : start + 200]:
            q |= Q(username__iexact=name)
        attempts = AccessAttempt.objects.filter(q, attempt_time__gte=since)
        for a in attempts.order_by("attempt_time"):
            rows.setdefault((a.username or "").lower(), []).append(a)
    out = {}
    for name, attempts in rows.items():
        total = sum(a.failures_since_start for a in attempts)
        locked = total >= group_limit(USER) or any(
            a.failures_since_start >= settings.AXES_FAILURE_LIMIT for a in attempts
        )
        out[name] = Lockout(failures=total, locked=locked, last_at=attempts[-1].attempt_time)
    return out


# --- one person's history of changes ------------------------------------------------------

HISTORY_LIMIT = 100
_HIDDEN_FIELDS = {"last_login", "version", "id", "user", "password"}


@dataclass(frozen=True)
class HistoryLine:
    when: Any
    who: str
    what: str
    field: str
    old: str
    new: str
    reason: str = ""


def _shown(field: Any, value: Any, names: dict[tuple[str, Any], str]) -> str:
    if value is None or value == "":
        return "—"
    if field.choices:
        return str(dict(field.choices).get(value, value))
    if field.is_relation:
        return names.get((field.name, value), f"#{value}")
    if isinstance(value, bool):
        return gettext("はい") if value else gettext("いいえ")
    return str(value)


def staff_history(user: PortalUser, *, limit: int = HISTORY_LIMIT) -> list[HistoryLine]:
    """Who changed what of a person's account, profile, WG roles and HQ seats, newest first:
    one line per field changed (from → to), at most ``limit`` lines."""

    sources = [
        (gettext("アカウント"), account_history().filter(id=user.pk)),
        (gettext("職員プロフィール"), StaffProfile.history.filter(user_id=user.pk)),
        (gettext("DX推進WG"), WorkingGroupMembership.history.filter(user_id=user.pk)),
        (gettext("DX推進本部"), HeadquartersMember.history.filter(user_id=user.pk)),
    ]
    window = limit * 3
    records = []
    for label, qs in sources:
        rows = list(qs.select_related("history_user__profile").order_by("-history_date")[:window])
        records.append((label, qs.model, rows))
    names: dict[tuple[str, Any], str] = {}
    section_ids = set()
    wg_ids = set()
    for _label, _model, rows in records:
        for r in rows:
            section_ids.add(getattr(r, "section_id", None))
            wg_ids.add(getattr(r, "working_group_id", None))
    for s in Section.objects.filter(pk__in=section_ids - {None}):
        names[("section", s.pk)] = s.name
    for wg in WorkingGroup.objects.filter(pk__in=wg_ids - {None}).select_related("plan"):
        names[("working_group", wg.pk)] = f"{wg.name}({wg.plan.name})"
    lines: list[HistoryLine] = []
    for label, model, rows in records:
        fields = [
            f
            for f in model.instance_type._meta.concrete_fields
            if f.name not in _HIDDEN_FIELDS
            or (f.name == "password" and model is User.history.model)  # type: ignore[attr-defined]
        ]
        by_object: dict[Any, list[Any]] = {}
        for r in rows:
            by_object.setdefault(r.id, []).append(r)
        for chain in by_object.values():
            chain.sort(key=lambda r: (r.history_date, r.history_id))
            for i, r in enumerate(chain):
                prev = chain[i - 1] if i else None
                who = display_name(r.history_user) if r.history_user else gettext("システム")
                reason = r.history_change_reason or ""

                line = partial(HistoryLine, r.history_date, who, label, reason=reason)

                if r.history_type == "-":
                    lines.append(line(gettext("削除"), _describe(r, fields, names), "—"))
                    continue
                if prev is None and r.history_type == "+":
                    lines.append(line(gettext("作成"), "—", _describe(r, fields, names)))
                    continue
                if prev is None:
                    if reason:
                        lines.append(line(gettext("記録"), "", ""))
                    continue
                changed = False
                for f in fields:
                    a, b = getattr(prev, f.attname), getattr(r, f.attname)
                    if a == b:
                        continue
                    changed = True
                    if f.name == "password":
                        lines.append(line(gettext("パスワード"), "", gettext("変更しました")))
                    else:
                        lines.append(
                            line(str(f.verbose_name), _shown(f, a, names), _shown(f, b, names))
                        )
                if not changed and reason:
                    lines.append(line(gettext("記録"), "", ""))
    lines.sort(key=lambda x: x.when, reverse=True)
    return lines[:limit]


def _describe(record: Any, fields: list[Any], names: dict[tuple[str, Any], str]) -> str:
    parts = []
    for f in fields:
        if f.name in {"password", "date_joined", "last_login"}:
            continue
        value = getattr(record, f.attname)
        if value in (None, ""):
            continue
        parts.append(f"{f.verbose_name}: {_shown(f, value, names)}")
    return pgettext("punctuation", "、").join(parts)[:300]


# --- the WGs of a plan, with what the secretariat should look at --------------------------


@dataclass
class WGRow:
    wg: Any
    leaders: list[Any]
    member_count: int
    warnings: list[str]


def wg_overview(plan: Plan | None) -> list[WGRow]:
    """Each WG of ``plan`` with its leaders, member count and warnings (no leader, two
    leaders, a leader from outside the WG's sections), in a fixed number of queries."""

    if plan is None:
        return []
    wgs = (
        WorkingGroup.objects.filter(plan=plan)
        .select_related("lead_section")
        .prefetch_related(
            "sections",
            "names",
            Prefetch(
                "memberships",
                queryset=WorkingGroupMembership.objects.select_related(
                    "user", "user__profile", "user__profile__section"
                ),
            ),
        )
        .order_by("dissolved_on", "name")
    )
    rows = []
    for wg in wgs:
        members = list(wg.memberships.all())
        leaders = [m.user for m in members if m.role == WorkingGroupMembership.Role.LEADER]
        warnings = [] if wg.dissolved_on else wg_leader_warnings(wg, leaders)
        rows.append(WGRow(wg, leaders, len(members), warnings))
    return rows


def wg_leader_warnings(wg: Any, leaders: list[Any]) -> list[str]:
    """What to look at in a WG's leadership: no leader, several leaders, a leader whose
    section is not one of the WG's (lead section or further sections). The one rule: the WG
    screen, a roster preview and the checklist ask it. Reads ``wg.sections`` (prefetch it)
    and each leader's ``profile`` (select it)."""

    warnings: list[str] = []
    if not leaders:
        warnings.append(gettext("WG長がいません"))
    elif len(leaders) > 1:
        warnings.append(gettext("WG長が%(n)s人います") % {"n": len(leaders)})
    section_ids = {wg.lead_section_id, *(s.pk for s in wg.sections.all())}
    for leader in leaders:
        profile = getattr(leader, "profile", None)
        if profile is None or profile.section_id not in section_ids:
            warnings.append(
                gettext("WG長%(name)sさんはWGの構成課の職員ではありません")
                % {"name": display_name(leader)}
            )
    return warnings


# --- WG leadership the checklist and the roster preview warn about --------------------------


def working_groups_without_leader(plans: Any) -> QuerySet[Any]:
    """The plans' WGs with no active leader (one query to count). The checklist counts it
    and the WG screen's 「WG長がいない」 filter lists it."""

    leader = WorkingGroupMembership.objects.filter(
        working_group=OuterRef("pk"),
        role=WorkingGroupMembership.Role.LEADER,
        user__is_active=True,
    )
    return WorkingGroup.objects.filter(plan__in=plans).exclude(Exists(leader))


# The checklist item -> the WG screen filter (?leader=...) listing exactly its WGs.
WG_LEADER_FILTERS = {
    "none": working_groups_without_leader,
    "several": lambda plans: working_groups_with_two_leaders(plans),
    "outside": lambda plans: working_groups_led_from_outside(plans),
}


# HQ seats held by people above every section by design (本部長 the mayor, 副本部長).
SEATS_WITHOUT_SECTION = (HeadquartersMember.Role.CHIEF, HeadquartersMember.Role.DEPUTY)


def staff_without_section(plan: Plan | None) -> QuerySet[Any]:
    """Active staff with no 所属課 who should have one (one query to count): not those with
    no section by design, the 本部長 and 副本部長 of ``plan``'s headquarters and the
    external advisors of ``plan`` given an account. Service accounts have no staff profile.
    The checklist counts it and the staff list's ``?no_section=1`` lists it."""
    users = User.objects.filter(
        is_active=True, profile__isnull=False, profile__section__isnull=True
    )
    if plan is not None:
        by_design = HeadquartersMember.objects.filter(
            headquarters__plan=plan, role__in=SEATS_WITHOUT_SECTION, user__isnull=False
        ).values("user_id")
        advisors = ExternalAdvisor.objects.filter(plan=plan, user__isnull=False).values("user_id")
        users = users.exclude(pk__in=by_design).exclude(pk__in=advisors)
    return users


def working_groups_with_two_leaders(plans: Any) -> QuerySet[Any]:
    """The plans' WGs led by more than one active person (one query to count)."""

    leaders = Count(
        "memberships",
        filter=Q(
            memberships__role=WorkingGroupMembership.Role.LEADER,
            memberships__user__is_active=True,
        ),
    )
    return (
        WorkingGroup.objects.filter(plan__in=plans)
        .annotate(leader_count=leaders)
        .filter(leader_count__gt=1)
    )


def working_groups_led_from_outside(plans: Any) -> QuerySet[Any]:
    """The plans' WGs with an active leader whose section is neither the WG's lead section
    nor one of its sections (one query to count)."""

    in_sections = WorkingGroup.sections.through.objects.filter(
        workinggroup_id=OuterRef("working_group_id"), section_id=OuterRef("user__profile__section")
    )
    outside = (
        WorkingGroupMembership.objects.filter(
            working_group=OuterRef("pk"),
            role=WorkingGroupMembership.Role.LEADER,
            user__is_active=True,
        )
        .exclude(user__profile__section=F("working_group__lead_section"))
        .exclude(Exists(in_sections))
    )
    return WorkingGroup.objects.filter(plan__in=plans).filter(Exists(outside))
