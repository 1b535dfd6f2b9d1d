"""The read-only JSON API (/api/v1/): thin views over the screens' own selectors.

Every view is GET-only (unsafe methods answer 405), reads through the selectors the screens
use, and runs a fixed number of queries whatever the data (tests/api/test_query_counts.py).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from initiatives.models import (
    GRADE_RULE_TEXT,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressStatus,
    Review,
    StandardSystem,
)
from initiatives.selectors import (
    NONE,
    ROLLUP_RULE_TEXT,
    Rollup,
    attach_counted_to_values,
    initiatives_for_list,
    procedures_overview,
    systems_overview,
)
from plans.selectors import current_plan
from portal_lib import era
from portal_lib.codes import parse_initiative_code
from portal_lib.params import parse_ascii_int
from reporting.access import empty_queryset, initiative_by_code, with_year_indicators
from reporting.api import serializers as s
from reporting.api.permissions import ApiReader, SummaryReader, api_scope_for
from reporting.api.throttling import AddressRateThrottle, ApiThrottled
from reporting.selectors.dashboard import dashboard_for

# --- query parameters ---------------------------------------------------------------------------

FISCAL_YEAR_PARAM = OpenApiParameter(
    "fiscal_year",
    OpenApiTypes.STR,
    description="年度。R8、令和8年度、2026、FY2026 のどれでも可。省略時は今年度。",
)


def fiscal_year_param(request: Request) -> int:
    """The ``fiscal_year`` query parameter read like the screens read it (portal_lib.era)."""
    raw = request.query_params.get("fiscal_year", "")
    if raw.strip() == "":
        return era.current_fiscal_year(timezone.localdate())
    try:
        return era.parse_fiscal_year(raw)
    except era.EraError as exc:
        raise ValidationError({"fiscal_year": [str(exc)]}) from exc


class ReadOnlyMixin:
    """Every API view: GET (and HEAD/OPTIONS) only, POST, PUT, PATCH and DELETE answer 405
    (after authentication: anonymous callers get 401); the per-address rate limit is
    counted before authentication, the per-token one after (reporting/api/throttling.py)."""

    http_method_names = ["get", "head", "options"]

    def perform_authentication(self, request: Request) -> None:
        throttle = AddressRateThrottle()
        if not throttle.allow_request(request, self):
            self.throttled(request, throttle.wait())
        super().perform_authentication(request)  # type: ignore[misc]

    def throttled(self, request: Request, wait: float | None) -> None:
        raise ApiThrottled(wait)


# --- summary ------------------------------------------------------------------------------------


def _rollup(r: Rollup) -> dict[str, Any]:
    return {
        "initiatives": r.total,
        "reported": r.reported,
        "unreported": r.unreported,
        "progress_percent": r.percent,
    }


class SummaryView(ReadOnlyMixin, APIView):
    """The plan-wide figures of the dashboard for one fiscal year."""

    permission_classes = [ApiReader, SummaryReader]

    @extend_schema(
        summary="計画全体の集計(ダッシュボードと同じ数字)",
        parameters=[FISCAL_YEAR_PARAM],
        responses=s.SummarySerializer,
    )
    def get(self, request: Request) -> Response:
        fy = fiscal_year_param(request)
        plan = current_plan(fy)
        if plan is None or not plan.covers(fy):
            raise NotFound(f"{era.format_fiscal_year(fy)}を含む計画がありません。")
        today = timezone.localdate()
        board = dashboard_for(plan=plan, fiscal_year=fy, today=today, changes_limit=0)
        burnup, systems = board.burnup, board.systems
        data = {
            "fiscal_year": fy,
            "fiscal_year_label": era.format_fiscal_year(fy),
            "plan": {
                "code": plan.code,
                "name": plan.name,
                "period": {
                    "start_fiscal_year": plan.start_fy,
                    "end_fiscal_year": plan.end_fy,
                    "label": plan.period_label,
                },
            },
            **_rollup(board.overall),
            "progress_rule": ROLLUP_RULE_TEXT,
            "statuses": {value: n for value, _, n in board.status_counts},
            "reviews": {value: n for value, _, n in board.review_counts},
            "procedures": {
                "target": burnup.target_count,
                "registered": burnup.total,
                "online": burnup.online,
                "online_by_deadline": burnup.online_by_deadline,
                "confirmed": burnup.summary.confirmed if burnup.summary else 0,
                "unconfirmed": burnup.summary.unconfirmed if burnup.summary else 0,
                "overdue": burnup.summary.overdue if burnup.summary else 0,
                "deadline": burnup.deadline,
                "days_left": burnup.days_left,
            },
            "systems": {
                "target": systems.target.target_count if systems.target else 0,
                "registered": systems.total,
                "migrated": systems.done,
                "overdue": len(systems.overdue),
                "migrated_late": len(systems.migrated_late),
                "difficult": len(systems.difficult),
                "confirmed": systems.summary.confirmed if systems.summary else 0,
                "deadline": systems.deadline,
                "days_left": systems.days_left,
                "phases": {value: n for value, _, n in systems.phase_totals},
            },
            "policies": [
                {"number": g.key, "title": g.name, **_rollup(g.rollup)} for g in board.policies
            ],
            "working_groups": [
                {"id": g.key, "name": g.label, **_rollup(g.rollup)} for g in board.working_groups
            ],
            # The dashboard's distribution: every indicator once, 未評価 as "ungraded".
            "grades": {s.api_grade(key): n for key, _, n in board.grades},
            "grade_rule": GRADE_RULE_TEXT,
        }
        return Response(s.SummarySerializer(data).data)


# --- initiatives --------------------------------------------------------------------------------


MSG_BLANK = "空にはできません。絞り込まない場合は、このパラメータを省いてください。"
MAX_ID = 2**31 - 1  # the largest id a filter takes (an integer column's range)


class AsciiIntegerField(serializers.IntegerField):
    """An integer query parameter in ASCII digits only (portal_lib.params): DRF's own field
    takes whatever ``int()`` takes ("٣", " 3", "1_0"). Empty is not a number either."""

    default_error_messages = {
        "not_in_range": "{minimum}から{maximum}までの整数で指定してください。"
    }

    def to_internal_value(self, data: Any) -> int:
        try:
            number = parse_ascii_int(str(data), minimum=self.min_value, maximum=self.max_value)
        except ValueError:
            number = None
        if number is None:
            self.fail("not_in_range", minimum=self.min_value, maximum=self.max_value)
        return number


class InitiativeFilter(serializers.Serializer):
    """The list's filters, named and checked as on the initiative list screen."""

    policy = AsciiIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="基本方針の番号",
    )
    working_group = AsciiIntegerField(
        required=False,
        min_value=1,
        max_value=MAX_ID,
        help_text="WGのid",
    )
    status = serializers.ChoiceField(
        required=False,
        choices=[*ProgressStatus.values, NONE],
        help_text="最新の進捗状況(none=未記録)",
    )
    review = serializers.ChoiceField(
        required=False,
        choices=[*Review.State.values, NONE],
        help_text="振り返りの状態(none=未作成)",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A query string's "review=" reaches no field (DRF reads an empty optional value as
        # absent); the schema says a given filter is not empty, so it is refused here.
        blank = {name: [MSG_BLANK] for name in self.fields if self.initial_data.get(name) == ""}
        if blank:
            raise ValidationError(blank)
        return attrs


def _year_values(initiatives: Any, fiscal_year: int) -> None:
    """Each indicator's value of the asked year as ``year_value`` (an unsaved one for a year
    without a row), with a linked indicator's count of done rows attached: the API shows the
    actual and grades it as every page does (initiatives.selectors.attach_counted_to_values)."""
    pairs = []
    for ini in initiatives:
        for ind in ini.indicators.all():
            values = ind.year_values
            ind.year_value = (
                values[0] if values else IndicatorValue(indicator=ind, fiscal_year=fiscal_year)
            )
            pairs.append((ind, ind.year_value))
    attach_counted_to_values(pairs)


class _GradedMixin:
    """Initiatives serialised with their indicators' year values ready (_year_values)."""

    request: Request

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if args and args[0] is not None:
            batch = args[0] if kwargs.get("many") else [args[0]]
            _year_values(batch, fiscal_year_param(self.request))
        return super().get_serializer(*args, **kwargs)  # type: ignore[misc]


class InitiativeListView(_GradedMixin, ReadOnlyMixin, ListAPIView):
    """Initiatives of the plan covering the fiscal year, with progress, review and KPIs."""

    serializer_class = s.InitiativeSerializer
    queryset = empty_queryset(Initiative)  # for the schema; get_queryset builds the real one

    @extend_schema(
        summary="取り組みの一覧(年度の進捗・振り返り・指標つき)",
        parameters=[FISCAL_YEAR_PARAM, InitiativeFilter],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Initiative]:
        fy = fiscal_year_param(self.request)
        filters = InitiativeFilter(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        qs = initiatives_for_list(
            fiscal_year=fy,
            today=timezone.localdate(),
            policy=f.get("policy"),
            wg=f.get("working_group"),
            status=f.get("status"),
            review=f.get("review"),
        )
        return with_year_indicators(api_scope_for(self.request.user).initiatives(qs), fy)


# The documented form; every form portal_lib.codes reads (２．１, 2-1, 「2.1」) gets the same
# answer as its "2.1".
CODE_PATTERN = r"^[0-9]{1,4}\.[0-9]{1,4}$"


class InitiativeDetailView(_GradedMixin, ReadOnlyMixin, RetrieveAPIView):
    """One initiative by its code ("2.1"); outside the caller's scope it does not exist (404)."""

    serializer_class = s.InitiativeDetailSerializer
    queryset = empty_queryset(Initiative)
    lookup_field = "code"

    @extend_schema(
        summary="取り組み1件(番号で指定、例: 2.1)",
        parameters=[
            FISCAL_YEAR_PARAM,
            OpenApiParameter(
                "code",
                {"type": "string", "pattern": CODE_PATTERN},
                OpenApiParameter.PATH,
                description="基本方針の番号.取り組みの番号(例: 2.1)",
            ),
        ],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_object(self) -> Initiative:
        code = parse_initiative_code(self.kwargs["code"])
        if code is None:
            raise NotFound("取り組みが見つかりません。")
        fy = fiscal_year_param(self.request)
        qs = initiatives_for_list(fiscal_year=fy, today=timezone.localdate())
        qs = api_scope_for(self.request.user).initiatives(qs)
        ini = initiative_by_code(qs, code, fy)
        if ini is None:
            raise NotFound("取り組みが見つかりません。")
        return ini


# --- countable targets --------------------------------------------------------------------------


class ProcedureListView(ReadOnlyMixin, ListAPIView):
    """The online procedures (target: 27 by R4年度末), as on the procedures screen."""

    serializer_class = s.ProcedureSerializer
    queryset = empty_queryset(OnlineProcedure)

    @extend_schema(summary="オンライン化手続の一覧")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = procedures_overview(status=None, today=timezone.localdate())
        visible = api_scope_for(request.user).sees_wg(data["target"].working_group_id)
        page = self.paginate_queryset(data["procedures"] if visible else [])
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class SystemListView(ReadOnlyMixin, ListAPIView):
    """The standardised systems (target: 20 by R7年度末), as on the systems screen."""

    serializer_class = s.SystemSerializer
    queryset = empty_queryset(StandardSystem)

    @extend_schema(summary="標準化対象システムの一覧")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = systems_overview(group=None, phase=None, overdue=False, today=timezone.localdate())
        visible = api_scope_for(request.user).sees_wg(data["target"].working_group_id)
        systems = sorted(data["systems"], key=lambda x: x.number) if visible else []
        page = self.paginate_queryset(systems)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


# --- schema and docs ----------------------------------------------------------------------------


class SchemaView(ReadOnlyMixin, SpectacularAPIView):
    pass


class DocsView(ReadOnlyMixin, SpectacularSwaggerSplitView):
    """Swagger UI from local static files, its start-up script from a URL (strict CSP)."""

    template_name = "reporting/api_docs.html"
    url_name = "api:schema"
    title = gettext_lazy("かほく市DX推進ポータル API ドキュメント")


_docs_view = DocsView.as_view()


@login_required
def docs_page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The docs page is for people in a browser: anonymous visitors go to the login page,
    and, being a plain Django view (DRF views are CSRF-exempt), a POST without a token meets
    the portal's own CSRF page like every other screen."""
    return _docs_view(request, *args, **kwargs)
