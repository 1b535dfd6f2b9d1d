"""JSON shapes of the API. Output only: every number is a JSON number, never a string.

The serializers read objects the selectors already annotated and prefetched; none of them
may touch the database (the query-count tests hold that line).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from initiatives.models import (
    UNGRADED,
    Grade,
    IndicatorValue,
    OnlineProcedure,
    ProgressStatus,
    Review,
    StandardSystem,
)
from initiatives.selectors import progress_percent

# The API's name for 未評価 (the portal's UNGRADED key): the grades of one indicator and the
# summary's counts use the same keys.
API_UNGRADED = "ungraded"
API_GRADES = [*(g.value for g in Grade), API_UNGRADED]


def api_grade(key: str) -> str:
    return API_UNGRADED if key == UNGRADED else key


def _number(value: Any) -> float | int | None:
    """A Decimal as a JSON number: 27.00 → 27, 27.50 → 27.5, None → null."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


# --- summary ----------------------------------------------------------------------------------


class PeriodSerializer(serializers.Serializer):
    start_fiscal_year = serializers.IntegerField()
    end_fiscal_year = serializers.IntegerField()
    label = serializers.CharField()


class PlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    period = PeriodSerializer()


class GroupRollupSerializer(serializers.Serializer):
    initiatives = serializers.IntegerField(help_text="取り組み数")
    reported = serializers.IntegerField(help_text="この年度に進捗を記録した取り組み数")
    unreported = serializers.IntegerField()
    progress_percent = serializers.FloatField(
        allow_null=True, help_text="記録のある取り組みの(重み付き)平均。記録がなければ null"
    )


class PolicyRollupSerializer(GroupRollupSerializer):
    number = serializers.IntegerField()
    title = serializers.CharField()


class WorkingGroupRollupSerializer(GroupRollupSerializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ProceduresFiguresSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="目標数(27)")
    registered = serializers.IntegerField(help_text="登録済みの手続数")
    online = serializers.IntegerField(help_text="オンライン化済の手続数")
    online_by_deadline = serializers.IntegerField(help_text="期限までにオンライン化した数")
    confirmed = serializers.IntegerField(help_text="事務局が確認済みの手続数")
    unconfirmed = serializers.IntegerField(help_text="未確認の手続数(国の指定手続の初期値など)")
    overdue = serializers.IntegerField(help_text="確認済みで期限を過ぎても未完了の数")
    deadline = serializers.DateField()
    days_left = serializers.IntegerField(help_text="期限までの日数(過ぎていれば負)")


class SystemsFiguresSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="目標数(20)")
    registered = serializers.IntegerField()
    migrated = serializers.IntegerField(help_text="移行完了(稼働)の数")
    overdue = serializers.IntegerField(help_text="期限または移行予定日を過ぎて未移行の数")
    migrated_late = serializers.IntegerField(help_text="期限後に移行した数(期限後移行)")
    difficult = serializers.IntegerField(help_text="移行困難システムの数")
    confirmed = serializers.IntegerField(help_text="事務局が確認済みのシステム数")
    deadline = serializers.DateField()
    days_left = serializers.IntegerField()
    phases = serializers.DictField(child=serializers.IntegerField(), help_text="フェーズ別の数")


class SummarySerializer(serializers.Serializer):
    fiscal_year = serializers.IntegerField()
    fiscal_year_label = serializers.CharField()
    plan = PlanSerializer()
    initiatives = serializers.IntegerField()
    reported = serializers.IntegerField()
    unreported = serializers.IntegerField()
    progress_percent = serializers.FloatField(allow_null=True)
    progress_rule = serializers.CharField()
    statuses = serializers.DictField(
        child=serializers.IntegerField(), help_text="最新の進捗状況別の取り組み数(none=未記録)"
    )
    reviews = serializers.DictField(
        child=serializers.IntegerField(), help_text="振り返りの状態別の取り組み数(none=未作成)"
    )
    procedures = ProceduresFiguresSerializer()
    systems = SystemsFiguresSerializer()
    policies = PolicyRollupSerializer(many=True)
    working_groups = WorkingGroupRollupSerializer(many=True)
    grades = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="この年度の指標の評価別の数(A〜D と ungraded=未評価、合計は指標の数)",
    )
    grade_rule = serializers.CharField()


# --- initiatives ------------------------------------------------------------------------------


class IndicatorSerializer(serializers.Serializer):
    """One KPI with its target and actual of the requested fiscal year."""

    name = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.ChoiceField(choices=["higher", "lower"])
    baseline = serializers.SerializerMethodField()
    target = serializers.SerializerMethodField()
    actual = serializers.SerializerMethodField()
    achievement_percent = serializers.SerializerMethodField()
    grade = serializers.SerializerMethodField(
        help_text="A〜D、または ungraded(未評価: 目標か実績が未入力で、年度がまだ終わっていない)"
    )
    grade_label = serializers.SerializerMethodField()

    def _value(self, ind: Any) -> Any:
        """The year's row (with a linked indicator's counted actual, reporting.api.views.
        _year_values), or None for a year without a row."""
        values = ind.year_values
        if not values:
            return None
        return getattr(ind, "year_value", values[0])

    @extend_schema_field({"type": "number", "nullable": True})
    def get_baseline(self, ind: Any) -> float | None:
        return _number(ind.baseline)

    @extend_schema_field({"type": "number", "nullable": True})
    def get_target(self, ind: Any) -> float | None:
        v = self._value(ind)
        return _number(v.target) if v else None

    @extend_schema_field({"type": "number", "nullable": True})
    def get_actual(self, ind: Any) -> float | None:
        v = self._value(ind)
        return _number(v.shown_actual) if v else None  # the count of done rows when linked

    @extend_schema_field({"type": "number", "nullable": True})
    def get_achievement_percent(self, ind: Any) -> float | None:
        v = self._value(ind)
        ratio = v.achievement if v else None
        return None if ratio is None else round(float(ratio) * 100, 1)

    def _graded(self, ind: Any) -> IndicatorValue:
        """The year's value, or an empty one for a year without a row: graded alike."""
        return getattr(ind, "year_value", None) or IndicatorValue(
            indicator=ind, fiscal_year=ind.asked_fiscal_year
        )

    @extend_schema_field({"type": "string", "enum": API_GRADES})
    def get_grade(self, ind: Any) -> str:
        return api_grade(self._graded(ind).grade)

    @extend_schema_field({"type": "string"})
    def get_grade_label(self, ind: Any) -> str:
        return str(self._graded(ind).grade_label)


class PolicyRefSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField()


class WorkingGroupRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    name = serializers.CharField()


class InitiativeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="基本方針番号.取り組み番号(例: 2.1)")
    policy = PolicyRefSerializer()
    title = serializers.CharField()
    working_group = WorkingGroupRefSerializer(allow_null=True)
    lead_section = serializers.CharField(source="lead_section.name", allow_null=True, default=None)
    status = serializers.ChoiceField(
        source="latest_status",
        choices=ProgressStatus.choices,
        allow_null=True,
        help_text="この年度の最新の進捗状況(未記録は null)",
    )
    status_label = serializers.SerializerMethodField()
    progress_percent = serializers.SerializerMethodField()
    latest_date = serializers.DateField(allow_null=True, help_text="この年度の最新の進捗記録日")
    review_state = serializers.ChoiceField(
        choices=Review.State.choices, allow_null=True, help_text="この年度の振り返りの状態"
    )
    review_state_label = serializers.SerializerMethodField()
    indicators = IndicatorSerializer(many=True, source="indicators.all")

    @extend_schema_field({"type": "string", "nullable": True})
    def get_status_label(self, ini: Any) -> str | None:
        return str(ProgressStatus(ini.latest_status).label) if ini.latest_status else None

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_progress_percent(self, ini: Any) -> int | None:
        """The value the roll-up uses (ROLLUP_RULE_TEXT), null when it does not count."""
        return progress_percent(ini.latest_status, ini.latest_percent)

    @extend_schema_field({"type": "string", "nullable": True})
    def get_review_state_label(self, ini: Any) -> str | None:
        return str(Review.State(ini.review_state).label) if ini.review_state else None


class InitiativeDetailSerializer(InitiativeSerializer):
    description = serializers.CharField()
    flag = serializers.CharField()
    weight = serializers.FloatField(allow_null=True)


# --- countable targets ------------------------------------------------------------------------


class ProcedureSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField()
    channel = serializers.ChoiceField(choices=OnlineProcedure.Channel.choices, allow_blank=True)
    section = serializers.CharField(source="section.name", allow_null=True, default=None)
    status = serializers.ChoiceField(choices=OnlineProcedure.Status.choices)
    status_label = serializers.CharField(source="get_status_display")
    online_on = serializers.DateField(allow_null=True)
    provenance = serializers.CharField(
        source="get_provenance_display", help_text="国の指定手続 など"
    )
    confirmed = serializers.BooleanField(source="is_confirmed", help_text="事務局が確認済みか")
    overdue = serializers.BooleanField(help_text="確認済みで、期限を過ぎても未完了")


class SystemSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    marker = serializers.CharField()
    name = serializers.CharField()
    group = serializers.IntegerField(source="group.number", help_text="グループ番号(1〜3)")
    section = serializers.CharField(source="section.name", allow_null=True, default=None)
    phase = serializers.ChoiceField(choices=StandardSystem.Phase.choices)
    phase_label = serializers.CharField(source="get_phase_display")
    planned_on = serializers.DateField(allow_null=True)
    migrated_on = serializers.DateField(allow_null=True)
    overdue = serializers.BooleanField(help_text="確認済みで、期限を過ぎても未移行")
    migrated_late = serializers.BooleanField(help_text="期限後移行")
    difficult = serializers.BooleanField(help_text="移行困難システム(独自の移行予定日あり)")
    confirmed = serializers.BooleanField(source="is_confirmed")
