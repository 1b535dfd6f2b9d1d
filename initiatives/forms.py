"""Forms only validate; every write goes through initiatives.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from initiatives.models import (
    Indicator,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    Review,
    StandardSystem,
)
from initiatives.selectors import NONE
from portal_lib import era
from portal_lib.forms import EraDateField, FiscalYearField
from portal_lib.versioning import VersionedFormMixin
from workgroups.models import Section, WorkingGroup


class InitiativeFilterForm(forms.Form):
    """GET filters of the initiative list. The names are a contract: dashboards link here."""

    fy = FiscalYearField(label=_("年度"), required=False)
    policy = forms.TypedChoiceField(
        label=_("基本方針"), required=False, coerce=int, empty_value=None
    )
    wg = forms.ModelChoiceField(
        label=_("担当WG"),
        required=False,
        queryset=WorkingGroup.objects.none(),
        empty_label=_("すべて"),
    )
    no_wg = forms.BooleanField(label=_("担当WGが決まっていない取り組みだけ"), required=False)
    section = forms.ModelChoiceField(
        label=_("主管課"), required=False, queryset=Section.objects.all(), empty_label=_("すべて")
    )
    status = forms.ChoiceField(
        label=_("進捗状況"),
        required=False,
        choices=[("", _("すべて")), *ProgressStatus.choices, (NONE, _("未報告(記録なし)"))],
    )
    review = forms.ChoiceField(
        label=_("振り返り"),
        required=False,
        choices=[("", _("すべて")), *Review.State.choices, (NONE, _("未作成"))],
    )
    stale_days = forms.IntegerField(
        label=_("未更新日数"),
        required=False,
        min_value=0,
        max_value=3650,
        help_text=_("この日数以上、進捗記録がない取り組み"),
    )

    def __init__(self, *args: Any, policies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [("", _("すべて")), *policies]
        self.fields["wg"].queryset = WorkingGroup.objects.order_by("name")
        self.fields["fy"].widget.attrs.update({"size": 12, "placeholder": _("例: R8 / 2026")})
        self.fields["stale_days"].widget.attrs.update({"size": 6})


class VersionedForm(VersionedFormMixin, forms.ModelForm):
    """A model form for a fresh instance plus the version the user started from."""


class ProgressEntryForm(VersionedForm):
    class Meta:
        model = ProgressEntry
        fields = ["entry_date", "status", "percent", "done_text", "next_steps", "issues_text"]
        field_classes = {"entry_date": EraDateField}
        widgets = {
            "done_text": forms.Textarea(attrs={"rows": 4}),
            "next_steps": forms.Textarea(attrs={"rows": 3}),
            "issues_text": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, initiative: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if initiative is not None:  # the model checks them again (ProgressEntry.clean)
            self.fields["entry_date"].bounds = ProgressEntry(
                initiative=initiative
            ).entry_date_bounds()


class ReviewForm(VersionedForm):
    class Meta:
        model = Review
        fields = [
            "plan_text",
            "do_text",
            "check_text",
            "act_text",
            "self_grade",
            "carry_over",
            "carry_over_note",
            "due_date",
        ]
        field_classes = {"due_date": EraDateField}
        widgets = {
            "plan_text": forms.Textarea(attrs={"rows": 4}),
            "do_text": forms.Textarea(attrs={"rows": 4}),
            "check_text": forms.Textarea(attrs={"rows": 4}),
            "act_text": forms.Textarea(attrs={"rows": 4}),
            "carry_over_note": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "plan_text": _("その年度に計画したこと"),
            "do_text": _("実際に行ったこと"),
            "check_text": _("計画と実績の比較、指標の達成状況"),
            "act_text": _("次年度に向けた改善"),
        }

    def __init__(self, *args: Any, can_set_due_date: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_set_due_date:
            self.fields["due_date"].disabled = True
            self.fields["due_date"].help_text = _("提出期限は事務局が設定します。")


class ReviewMoveForm(forms.Form):
    comment = forms.CharField(
        label=_("コメント"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class IndicatorForm(VersionedForm):
    baseline_fy = FiscalYearField(label=_("基準年度"), required=False, help_text=_("例: R3、2021"))

    class Meta:
        model = Indicator
        fields = ["name", "unit", "direction", "baseline", "baseline_fy"]

    def __init__(self, *args: Any, fiscal_years: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fiscal_years = fiscal_years
        for fy in fiscal_years:
            label = era.format_fiscal_year(fy)
            for kind, text in (("target", _("目標値")), ("actual", _("実績値"))):
                self.fields[f"{kind}_{fy}"] = forms.DecimalField(
                    label=f"{label} {text}", required=False, max_digits=14, decimal_places=2
                )

    def year_rows(self) -> list[tuple[int, Any, Any]]:
        return [(fy, self[f"target_{fy}"], self[f"actual_{fy}"]) for fy in self.fiscal_years]

    def values(self) -> dict[int, tuple[Any, Any]]:
        return {
            fy: (self.cleaned_data.get(f"target_{fy}"), self.cleaned_data.get(f"actual_{fy}"))
            for fy in self.fiscal_years
        }


class OnlineProcedureForm(VersionedForm):
    class Meta:
        model = OnlineProcedure
        fields = ["name", "category", "channel", "section", "status", "online_on", "note"]
        field_classes = {"online_on": EraDateField}
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}


class StandardSystemForm(VersionedForm):
    class Meta:
        model = StandardSystem
        fields = ["phase", "difficult", "planned_on", "migrated_on", "section", "note"]
        field_classes = {"planned_on": EraDateField, "migrated_on": EraDateField}
        widgets = {
            "note": forms.Textarea(attrs={"rows": 3}),
        }


class ReviewsOpenForm(forms.Form):
    fiscal_year = FiscalYearField(label=_("年度"))
    due_date = EraDateField(label=_("提出期限"))
