"""Reads for progress: one place for the roll-up rule every page states."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from initiatives.models import (
    CountableTarget,
    Indicator,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    ProjectUnderWay,
    Review,
    ReviewEvent,
    StandardSystem,
)
from kahoku_dx import era
from plans.models import BasicPolicy, Plan
from workgroups.access import Roles

# Marked, not translated: a plain str; pages show it via {% translate %}.
ROLLUP_RULE_TEXT = gettext_noop(
    "各取り組みの進捗率は、その年度の最新の進捗記録の進捗率です"
    "(進捗率が空欄の場合、完了は100%、未着手は0%とし、それ以外は集計に含めません)。"
    "基本方針・WG・計画全体の進捗率は、中止を除く取り組みの平均です。"
    "取り組みに重みが設定されている場合は重み付き平均(重みのない取り組みは重み1)です。"
)


def initiatives_with_latest_progress(
    queryset: QuerySet[Initiative], fiscal_year: int
) -> QuerySet[Initiative]:
    """Annotate each initiative with its latest progress entry of the fiscal year.

    Adds ``latest_status``, ``latest_percent``, ``latest_date`` (None when nothing logged).
    """
    latest = ProgressEntry.objects.filter(
        initiative=OuterRef("pk"), fiscal_year=fiscal_year
    ).order_by("-entry_date", "-id")
    return queryset.annotate(
        latest_status=Subquery(latest.values("status")[:1]),
        latest_percent=Subquery(latest.values("percent")[:1]),
        latest_date=Subquery(latest.values("entry_date")[:1]),
    )


def progress_percent(status: str | None, percent: int | None) -> int | None:
    """An initiative's progress for the roll-up, or None when it does not count."""
    if status is None or status == ProgressStatus.CANCELLED:
        return None
    if percent is not None:
        return percent
    if status == ProgressStatus.DONE:
        return 100
    if status == ProgressStatus.NOT_STARTED:
        return 0
    return None


@dataclass(frozen=True)
class Rollup:
    percent: Decimal | None  # None when no initiative has a value
    counted: int
    total: int


def rollup(initiatives: Iterable[Initiative]) -> Rollup:
    """Roll annotated initiatives (see above) up into one percentage, by ROLLUP_RULE_TEXT."""
    weighted_sum = Decimal(0)
    weight_total = Decimal(0)
    counted = total = 0
    for ini in initiatives:
        total += 1
        value = progress_percent(
            getattr(ini, "latest_status", None), getattr(ini, "latest_percent", None)
        )
        if value is None:
            continue
        weight = ini.weight if ini.weight is not None else Decimal(1)
        weighted_sum += weight * value
        weight_total += weight
        counted += 1
    if not weight_total:
        return Rollup(None, counted, total)
    percent = (weighted_sum / weight_total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Rollup(percent, counted, total)


# --- screens (issue 3) ---------------------------------------------------------------------

NONE = "none"  # filter value for "nothing logged" / "no review yet"


def initiatives_for_fiscal_year(fiscal_year: int) -> QuerySet[Initiative]:
    """Initiatives of the plan(s) whose period covers the fiscal year, with what lists show."""
    return Initiative.objects.with_relations().filter(
        policy__plan__start_fy__lte=fiscal_year, policy__plan__end_fy__gte=fiscal_year
    )


def initiatives_with_list_columns(
    queryset: QuerySet[Initiative], fiscal_year: int
) -> QuerySet[Initiative]:
    """Latest progress of the FY, the FY's review (state, pk) and the last entry of any FY."""
    review = Review.objects.filter(initiative=OuterRef("pk"), fiscal_year=fiscal_year)
    last_entry = ProgressEntry.objects.filter(initiative=OuterRef("pk")).order_by(
        "-entry_date", "-id"
    )
    return initiatives_with_latest_progress(queryset, fiscal_year).annotate(
        review_state=Subquery(review.values("state")[:1]),
        review_pk=Subquery(review.values("pk")[:1]),
        review_due=Subquery(review.values("due_date")[:1]),
        last_entry_date=Subquery(last_entry.values("entry_date")[:1]),
    )


def initiatives_for_list(
    *,
    fiscal_year: int,
    today: date,
    policy: int | None = None,
    wg: int | None = None,
    section: int | None = None,
    status: str | None = None,
    review: str | None = None,
    stale_days: int | None = None,
) -> QuerySet[Initiative]:
    """The initiative list with its GET filters (the dashboards link here with the same names)."""
    qs = initiatives_with_list_columns(initiatives_for_fiscal_year(fiscal_year), fiscal_year)
    if policy is not None:
        qs = qs.filter(policy__number=policy)
    if wg is not None:
        qs = qs.filter(working_group_id=wg)
    if section is not None:
        qs = qs.filter(lead_section_id=section)
    if status:
        qs = (
            qs.filter(latest_status__isnull=True)
            if status == NONE
            else qs.filter(latest_status=status)
        )
    if review:
        qs = (
            qs.filter(review_state__isnull=True)
            if review == NONE
            else qs.filter(review_state=review)
        )
    if stale_days is not None:
        cutoff = today - timedelta(days=stale_days)
        qs = qs.filter(Q(last_entry_date__isnull=True) | Q(last_entry_date__lt=cutoff))
    return qs.order_by("policy__plan__start_fy", "policy__number", "number")


@dataclass(frozen=True)
class PolicyProgress:
    policy: BasicPolicy
    rollup: Rollup


@dataclass(frozen=True)
class PlanProgress:
    plan: Plan | None
    fiscal_year: int
    overall: Rollup
    policies: list[PolicyProgress]
    rule_text: str = ROLLUP_RULE_TEXT


def plan_progress(fiscal_year: int) -> PlanProgress:
    """Roll-up of the whole plan and of each basic policy for one fiscal year (2 queries)."""
    initiatives = list(
        initiatives_with_latest_progress(
            Initiative.objects.select_related("policy", "policy__plan").filter(
                policy__plan__start_fy__lte=fiscal_year, policy__plan__end_fy__gte=fiscal_year
            ),
            fiscal_year,
        ).order_by("policy__plan__start_fy", "policy__number", "number")
    )
    by_policy: dict[int, list[Initiative]] = {}
    policies: dict[int, BasicPolicy] = {}
    for ini in initiatives:
        by_policy.setdefault(ini.policy_id, []).append(ini)
        policies[ini.policy_id] = ini.policy
    return PlanProgress(
        plan=initiatives[0].policy.plan if initiatives else None,
        fiscal_year=fiscal_year,
        overall=rollup(initiatives),
        policies=[PolicyProgress(policies[pid], rollup(items)) for pid, items in by_policy.items()],
    )


def initiative_detail(pk: int) -> Initiative | None:
    """One initiative with everything its page shows, in a fixed number of queries."""
    return (
        Initiative.objects.with_relations()
        .prefetch_related(
            Prefetch("projects", ProjectUnderWay.objects.select_related("section")),
            Prefetch(
                "progress_entries",
                ProgressEntry.objects.select_related("author", "author__profile"),
            ),
            Prefetch("indicators", Indicator.objects.prefetch_related("values")),
            Prefetch(
                "reviews",
                Review.objects.prefetch_related(
                    Prefetch(
                        "events",
                        ReviewEvent.objects.select_related("actor", "actor__profile"),
                    )
                ),
            ),
            "countable_targets",
        )
        .filter(pk=pk)
        .first()
    )


def latest_of_year(initiative: Initiative, fiscal_year: int) -> ProgressEntry | None:
    """The latest entry of the year from the prefetched timeline (no query)."""
    for entry in initiative.progress_entries.all():  # ordered newest first
        if entry.fiscal_year == fiscal_year:
            return entry
    return None


def home_for_user(roles: Roles, fiscal_year: int) -> dict[str, Any]:
    """What is the user's to do this fiscal year; a fixed number of queries whatever the data."""
    base = initiatives_for_fiscal_year(fiscal_year)
    mine = (
        list(
            initiatives_with_list_columns(
                base.filter(working_group_id__in=roles.member_wg_ids), fiscal_year
            ).order_by("policy__number", "number")
        )
        if roles.member_wg_ids
        else []
    )
    led = [ini for ini in mine if roles.leads_wg(ini.working_group_id)]
    reviews_due = [ini for ini in led if ini.review_state in (None, Review.State.DRAFT)]
    reviews_returned = [ini for ini in led if ini.review_state == Review.State.RETURNED]
    waiting = Review.objects.select_related(
        "initiative", "initiative__policy", "initiative__working_group"
    ).order_by("-fiscal_year", "initiative__policy__number", "initiative__number")
    to_check = list(waiting.filter(state=Review.State.SUBMITTED)) if roles.secretariat else []
    to_approve = list(waiting.filter(state=Review.State.CHECKED)) if roles.headquarters else []
    return {
        "my_initiatives": mine,
        "reviews_due": reviews_due,
        "reviews_returned": reviews_returned,
        "to_check": to_check,
        "to_approve": to_approve,
        "roles": roles,
    }


PROCEDURES_CODE = "online-procedures"
SYSTEMS_CODE = "standard-systems"


def countable_target(code: str) -> CountableTarget:
    target = CountableTarget.objects.select_related("initiative").filter(code=code).first()
    if target is None:
        raise Http404(_("数値目標が登録されていません。計画データを読み込んでください。"))
    return target


def countable_wg_id(target: CountableTarget | None) -> int | None:
    return target.initiative.working_group_id if target and target.initiative else None


def _deadline_info(target: CountableTarget, done: int, today: date) -> dict[str, Any]:
    days_left = era.days_until_fiscal_year_end(target.deadline_fy, today)
    return {
        "done": done,
        "target_count": target.target_count,
        "percent": min(100, round(done * 100 / target.target_count)) if target.target_count else 0,
        "deadline_label": target.deadline_label,
        "days_left": days_left,
        "days_over": -days_left,
        "achieved": done >= target.target_count,
    }


def procedures_overview(*, status: str | None, today: date) -> dict[str, Any]:
    """The 27 online procedures: "x / 27" against R4年度末, and the (filtered) list."""
    target = countable_target(PROCEDURES_CODE)
    all_procs = list(target.procedures.select_related("section"))
    online = [p for p in all_procs if p.status == OnlineProcedure.Status.ONLINE]
    by_deadline = [p for p in online if p.online_on and p.online_on <= target.deadline]
    shown = [p for p in all_procs if status is None or p.status == status]
    return {
        "target": target,
        "procedures": shown,
        "registered": len(all_procs),
        "online_by_deadline": len(by_deadline),
        "summary": _deadline_info(target, len(online), today),
        "statuses": OnlineProcedure.Status.choices,
    }


def systems_overview(
    *, group: int | None, phase: str | None, overdue: bool, today: date
) -> dict[str, Any]:
    """The 20 standardised systems: "x / 20" against R7年度末, and the (filtered) list."""
    target = countable_target(SYSTEMS_CODE)
    systems = list(
        StandardSystem.objects.filter(group__target=target).select_related("group", "section")
    )
    done = [s for s in systems if s.phase == StandardSystem.Phase.DONE]
    passed = target.deadline < today
    for s in systems:
        s.is_overdue = s.phase != StandardSystem.Phase.DONE and (
            passed or (s.planned_on is not None and s.planned_on < today)
        )
    shown = [
        s
        for s in systems
        if (group is None or s.group.number == group)
        and (phase is None or s.phase == phase)
        and (not overdue or s.is_overdue)
    ]
    groups = sorted({s.group.number for s in systems})
    return {
        "target": target,
        "systems": shown,
        "groups": groups,
        "summary": _deadline_info(target, len(done), today),
        "overdue_count": sum(1 for s in systems if s.is_overdue),
    }
