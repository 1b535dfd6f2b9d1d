"""Forms only validate; the views hand cleaned data to selectors and services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kahoku_dx import era
from kahoku_dx.forms import FiscalYearField
from plans.models import Plan, PlanVersion


class PlanFilterForm(forms.Form):
    plan = forms.ModelChoiceField(
        label=_("計画"),
        queryset=Plan.objects.order_by("start_fy"),
        to_field_name="code",
        required=False,
        empty_label=None,
    )
    fy = FiscalYearField(label=_("年度"), required=False, help_text=_("例: R7、令和7年度、2025"))

    def clean(self):
        data = super().clean()
        plan, fy = data.get("plan"), data.get("fy")
        if plan and fy and not plan.covers(fy):
            self.add_error(
                "fy",
                _("%(fy)sは「%(plan)s」の計画期間(%(period)s)外です。")
                % {
                    "fy": era.format_fiscal_year(fy),
                    "plan": plan.name,
                    "period": plan.period_label,
                },
            )
        return data


class DashboardFilterForm(PlanFilterForm):
    stale_days = forms.IntegerField(
        label=_("進捗の記録がない日数"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("この日数より長く進捗が記録されていない取り組みを表示します。"),
        error_messages={
            "invalid": _("日数は半角数字で入力してください。"),
            "min_value": _("日数は1以上で入力してください。"),
            "max_value": _("日数は3650以下で入力してください。"),
        },
    )


class SnapshotForm(forms.Form):
    title = forms.CharField(
        label=_("表題"),
        max_length=200,
        help_text=_("例: 令和8年度 第1回DX推進本部会議"),
        error_messages={"required": _("表題を入力してください。")},
    )
    fy = FiscalYearField(
        label=_("年度"), error_messages={"required": _("年度を入力してください。")}
    )


class CompareForm(forms.Form):
    plan = forms.ModelChoiceField(
        label=_("計画"),
        queryset=Plan.objects.order_by("start_fy"),
        to_field_name="code",
        required=False,
        empty_label=None,
    )
    start = forms.DateField(
        label=_("比較元の日付"),
        required=False,
        error_messages={"invalid": _("日付は 2022-02-28 の形で入力してください。")},
    )
    end = forms.DateField(
        label=_("比較先の日付"),
        required=False,
        error_messages={"invalid": _("日付は 2022-02-28 の形で入力してください。")},
    )
    version_from = forms.ModelChoiceField(
        label=_("比較元の版"), queryset=PlanVersion.objects.all(), required=False
    )
    version_to = forms.ModelChoiceField(
        label=_("比較先の版"), queryset=PlanVersion.objects.all(), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("比較先の日付は比較元の日付以降にしてください。"))
        return data


class CarryOverForm(forms.Form):
    source = forms.ModelChoiceField(
        label=_("引継ぎ元の計画"),
        queryset=Plan.objects.order_by("start_fy"),
        to_field_name="code",
        error_messages={"required": _("引継ぎ元の計画を選んでください。")},
    )
    target = forms.ModelChoiceField(
        label=_("引継ぎ先の計画"),
        queryset=Plan.objects.order_by("start_fy"),
        to_field_name="code",
        error_messages={"required": _("引継ぎ先の計画を選んでください。")},
    )

    def clean(self):
        data = super().clean()
        source, target = data.get("source"), data.get("target")
        if source and target:
            if source == target:
                self.add_error("target", _("引継ぎ先には引継ぎ元と別の計画を選んでください。"))
            elif target.start_fy <= source.end_fy:
                self.add_error(
                    "target",
                    _("引継ぎ先の計画は%(fy)sより後に始まる計画を選んでください。")
                    % {"fy": era.format_fiscal_year(source.end_fy)},
                )
        return data
