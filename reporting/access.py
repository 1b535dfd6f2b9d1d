"""Who may open which plan object, and every object getter and read the reporting screens
need (house style: views never query; tests/rules/test_views_do_not_query.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import IntegerField, Model, Prefetch, QuerySet, Value
from django.http import Http404

from initiatives.models import Indicator, IndicatorValue, Initiative, ProjectUnderWay
from plans.models import BasicPolicy, Plan, PlanChapter, PlanVersion, ScheduleItem, ScheduleRow
from reporting.models import ReportSnapshot
from workgroups.access import roles_for

if TYPE_CHECKING:
    from portal_lib.users import RequestUser


def get_snapshot_for_user(user: RequestUser, pk: int) -> tuple[ReportSnapshot, bool]:
    """A meeting report: secretariat and HQ read it; only the secretariat makes them."""
    roles = roles_for(user)
    if not roles.oversees:
        raise Http404
    snapshot = (
        ReportSnapshot.objects.select_related("plan", "taken_by", "taken_by__profile")
        .filter(pk=pk)
        .first()
    )
    if snapshot is None:
        raise Http404("会議資料が見つかりません。")
    return snapshot, roles.secretariat


# --- plans and their versions (the versions screen, drafting, the close-out) -----------------


def get_plan_by_code(code: str) -> Plan:
    """The plan with this code (from the URL or the form posted), else 404."""
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise Http404("計画が見つかりません。")
    return plan


def plans_with_versions() -> list[Plan]:
    """Every plan in order with its versions and predecessor (the versions screen)."""
    return list(
        Plan.objects.prefetch_related("versions")
        .select_related("predecessor")
        .order_by("start_fy", "code")
    )


def get_plan_version(pk: int) -> PlanVersion:
    """A version of a plan (with its plan), else 404."""
    version = PlanVersion.objects.select_related("plan").filter(pk=pk).first()
    if version is None:
        raise Http404("計画の版が見つかりません。")
    return version


def get_version_chapter(version: PlanVersion, number: int) -> PlanChapter:
    """Chapter ``number`` of the version, else 404."""
    chapter = version.chapters.filter(number=number).first()
    if chapter is None:
        raise Http404("章が見つかりません。")
    return chapter


def chapters_in_order(version: PlanVersion | None) -> Any:
    """The version's chapters by number (none without a version)."""
    return version.chapters.order_by("number") if version is not None else []


def policies_in_order(plan: Plan | None) -> list[BasicPolicy]:
    """The plan's basic policies by number (the public page shows them from day one)."""
    return list(plan.policies.order_by("number")) if plan is not None else []


# --- meeting reports and publication ---------------------------------------------------------


def meeting_reports_newest_first() -> QuerySet[ReportSnapshot]:
    """Every meeting report, newest first, without its content (read by its own page)."""
    return (
        ReportSnapshot.objects.select_related("plan", "taken_by", "taken_by__profile")
        .defer("data")
        .order_by("-taken_at", "-pk")
    )


def initiatives_for_publication(plan: Plan | None) -> QuerySet[Initiative]:
    """The plan's initiatives in the plan's order with their policy (none without a plan)."""
    if plan is None:
        none: QuerySet[Initiative] = Initiative.objects.none()
        return none
    initiatives: QuerySet[Initiative] = (
        Initiative.objects.for_plan(plan)
        .select_related("policy")
        .order_by("policy__number", "number")
    )
    return initiatives


def initiative_pks_of_plan(plan: Plan) -> QuerySet[Initiative, int]:
    """The pks of the plan's initiatives (which rows a posted publication form may touch)."""
    pks: QuerySet[Initiative, int] = Initiative.objects.for_plan(plan).values_list("pk", flat=True)
    return pks


# --- the drafting workspace ------------------------------------------------------------------


def draft_overview(plan: Plan) -> tuple[QuerySet[BasicPolicy], QuerySet[ScheduleItem]]:
    """The draft's policies → initiatives (WG, lead section, national items, projects,
    indicators with their values) and its table 4-1 items → rows → cells, in order."""
    initiatives = (
        Initiative.objects.select_related("working_group", "lead_section")
        .prefetch_related(
            "national_items",
            Prefetch(
                "projects",
                ProjectUnderWay.objects.select_related("section").order_by("order", "pk"),
            ),
            Prefetch(
                "indicators",
                Indicator.objects.order_by("order", "name").prefetch_related(
                    Prefetch("values", IndicatorValue.objects.order_by("fiscal_year"))
                ),
            ),
        )
        .order_by("number")
    )
    policies = (
        BasicPolicy.objects.filter(plan=plan)
        .order_by("number")
        .prefetch_related(Prefetch("initiatives", initiatives))
    )
    items = (
        ScheduleItem.objects.filter(plan=plan)
        .order_by("order")
        .prefetch_related(
            Prefetch(
                "rows",
                ScheduleRow.objects.select_related("initiative__policy")
                .prefetch_related("cells")
                .order_by("line"),
            )
        )
    )
    return policies, items


# kind -> (the model of that kind, the path from a row to its plan): the draft's edit forms
# (the row with its parent joined) and its move/delete buttons (with the plan joined, for
# the services), from one table.
DRAFT_ROWS: dict[str, tuple[type[Model], str]] = {
    "policy": (BasicPolicy, "plan"),
    "initiative": (Initiative, "policy__plan"),
    "project": (ProjectUnderWay, "initiative__policy__plan"),
    "indicator": (Indicator, "initiative__policy__plan"),
    "item": (ScheduleItem, "plan"),
    "row": (ScheduleRow, "item__plan"),
}


def _in_plan(kind: str, plan: Plan, pk: Any, *, with_plan: bool) -> Any:
    model, path = DRAFT_ROWS[kind]
    queryset: QuerySet[Any] = model._default_manager.all()
    joined = path if with_plan else path.rpartition("__")[0]
    if joined:
        queryset = queryset.select_related(joined)
    obj = queryset.filter(**{path: plan}, pk=pk).first()
    if obj is None:
        raise Http404("この計画に見つかりません。")
    return obj


def get_draft_row(kind: str, plan: Plan, pk: Any) -> Any:
    """A row of the draft (policy, initiative, project, indicator, item, row) by pk, only
    inside ``plan`` (else 404), for its edit form."""
    return _in_plan(kind, plan, pk, with_plan=False)


def get_draft_row_to_move(kind: str, plan: Plan, pk: Any) -> Any:
    """The same row with its plan joined, for moving or abolishing it."""
    return _in_plan(kind, plan, pk, with_plan=True)


# --- the API ---------------------------------------------------------------------------------


def empty_queryset(model: type[Model]) -> QuerySet[Any]:
    """No rows, naming the model: the API views' ``queryset`` for the schema (no query)."""
    return model._default_manager.none()


def with_year_indicators(queryset: QuerySet[Initiative], fiscal_year: int) -> QuerySet[Initiative]:
    """Each initiative's indicators, each with its value of the year as ``year_values``."""
    return queryset.prefetch_related(
        Prefetch(
            "indicators",
            # asked_fiscal_year: the year a missing value is graded for (IndicatorSerializer)
            Indicator.objects.order_by("order", "name")
            .annotate(asked_fiscal_year=Value(fiscal_year, output_field=IntegerField()))
            .prefetch_related(
                Prefetch(
                    "values",
                    IndicatorValue.objects.filter(fiscal_year=fiscal_year),
                    to_attr="year_values",
                )
            ),
        )
    )


def initiative_by_code(
    queryset: QuerySet[Initiative], code: tuple[int, int], fiscal_year: int
) -> Initiative | None:
    """The initiative numbered ``code`` (policy, number) among ``queryset`` (the caller's
    scope), with its indicators of the year; None if it is not there."""
    found = queryset.filter(policy__number=code[0], number=code[1])
    return with_year_indicators(found, fiscal_year).first()


def live_api_token(account: Any) -> Any:
    """The service account's token in use (not revoked), if any."""
    return account.api_tokens.filter(revoked_at__isnull=True).first()
