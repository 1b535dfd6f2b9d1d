"""Reads of the organisation: the staff list the secretariat manages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet

from plans.models import Plan
from workgroups.models import HeadquartersMember, StaffProfile, WorkingGroupMembership

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


def staff_profile_of(user: Any) -> StaffProfile | None:
    return StaffProfile.objects.filter(user=user).select_related("section").first()


def sections_with_history() -> list[Any]:
    """Every section with its dated names, predecessors, successors and staff count."""
    from django.db.models import Count

    from workgroups.models import Section

    return list(
        Section.objects.prefetch_related("names", "predecessors", "successors")
        .annotate(staff_count=Count("staff", distinct=True))
        .order_by("ended_fy", "order", "name")
    )


def staff_snapshot(user: Any, plan: Plan | None) -> list[tuple[str, str]]:
    """A person's record as saved now, as (label, shown value) pairs: the staff screen's
    conflict panel (templates/includes/conflict.html)."""
    from django.utils.translation import gettext

    user = get_user_model().objects.get(pk=user.pk)
    profile = StaffProfile.objects.filter(user=user).select_related("section").first()
    rows = [
        (gettext("氏名"), (profile.display_name if profile else "") or user.last_name),
        (gettext("メールアドレス"), user.email),
        (gettext("所属課"), str(profile.section) if profile and profile.section else ""),
        (
            gettext("ポータルでの役割"),
            profile.get_role_display() if profile else StaffProfile.Role.STAFF.label,
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


# --- WG leadership the checklist and the roster preview warn about --------------------------


def working_groups_with_two_leaders(plans: Any) -> QuerySet[Any]:
    """The plans' WGs led by more than one active person (one query to count)."""
    from django.db.models import Count

    from workgroups.models import WorkingGroup

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
    from django.db.models import Exists, F, OuterRef

    from workgroups.models import WorkingGroup

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
