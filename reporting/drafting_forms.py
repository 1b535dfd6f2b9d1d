"""Forms of the drafting workspace (reporting.views.drafting): they only read and bound input;
the rules live in reporting.services.drafting."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from initiatives.models import Indicator, Initiative
from plans.models import BasicPolicy, NationalItem, Plan, ScheduleCell
from portal_lib import era
from portal_lib.forms import FiscalYearField
from portal_lib.versioning import VersionedFormMixin
from workgroups.models import Section, WorkingGroup

TEXT_LIMIT = 10000
NUMBER_HELP = "空欄なら最後の番号の次になります。"


def _number_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=1, max_value=99, help_text=NUMBER_HELP
    )


def _text_area(label: str, *, rows: int = 4, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class PolicyForm(forms.Form):
    number = _number_field("番号")
    title = forms.CharField(label="基本方針", max_length=200)
    heading = forms.CharField(
        label="取組内容での見出し",
        max_length=200,
        required=False,
        help_text="第6章の表題が基本方針名と異なる場合だけ入力します。",
    )
    summary = _text_area("概要")
    classification = _text_area("基本方針の分類(第5章の説明)")


class InitiativeForm(VersionedFormMixin):
    policy = forms.ModelChoiceField(label="基本方針", queryset=BasicPolicy.objects.none())
    number = _number_field("取り組み番号")
    title = forms.CharField(label="取り組み", max_length=300)
    description = _text_area("概要(取り組みの内容)", rows=6)
    flag = forms.ChoiceField(label="区分", choices=Initiative.Flag.choices, required=False)
    national_items = forms.ModelMultipleChoiceField(
        label="デジタル・ガバメント推進項目(上位計画)",
        queryset=NationalItem.objects.order_by("number"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    working_group = forms.ModelChoiceField(
        label="担当WG", queryset=WorkingGroup.objects.none(), required=False
    )
    lead_section = forms.ModelChoiceField(
        label="主管課", queryset=Section.objects.filter(is_active=True), required=False
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["policy"].queryset = BasicPolicy.objects.filter(plan=plan).order_by("number")
        self.fields["working_group"].queryset = WorkingGroup.objects.filter(plan=plan).order_by(
            "name"
        )


class ProjectForm(forms.Form):
    era_label = forms.CharField(label="年(和暦表記)", max_length=10, help_text="例: R9、H30、R03")
    name = forms.CharField(label="事業名", max_length=300)
    section = forms.ModelChoiceField(
        label="担当課", queryset=Section.objects.filter(is_active=True)
    )

    def clean_era_label(self) -> str:
        value = self.cleaned_data["era_label"].strip()
        try:
            era.parse_era_year(value)
        except era.EraError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return value


def target_field(fy: int) -> str:
    return f"target_{fy}"


class IndicatorForm(VersionedFormMixin):
    name = forms.CharField(label="指標名", max_length=200)
    unit = forms.CharField(label="単位", max_length=30, required=False)
    direction = forms.ChoiceField(label="評価の向き", choices=Indicator.Direction.choices)
    baseline = forms.DecimalField(label="基準値", max_digits=14, decimal_places=2, required=False)
    baseline_fy = FiscalYearField(label="基準年度", required=False, help_text="例: R8")

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.years = plan.fiscal_years
        for fy in self.years:
            self.fields[target_field(fy)] = forms.DecimalField(
                label=f"目標値 {era.format_fiscal_year(fy)}",
                max_digits=14,
                decimal_places=2,
                required=False,
            )

    def targets(self) -> dict[int, Decimal | None]:
        return {fy: self.cleaned_data.get(target_field(fy)) for fy in self.years}


class ScheduleItemForm(forms.Form):
    title = forms.CharField(label="項目", max_length=300)


def cell_fields(fy: int) -> tuple[str, str, str]:
    return f"cell_{fy}_text", f"cell_{fy}_kind", f"cell_{fy}_span"


class ScheduleRowForm(forms.Form):
    sub_title = forms.CharField(label="副項目", max_length=300, required=False)
    initiative = forms.ModelChoiceField(
        label="関連する取り組み", queryset=Initiative.objects.none(), required=False
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["initiative"].queryset = (
            Initiative.objects.for_plan(plan)
            .select_related("policy")
            .order_by("policy__number", "number")
        )
        self.years = plan.fiscal_years
        for fy in self.years:
            text, kind, span = cell_fields(fy)
            label = era.short_header(fy)
            self.fields[text] = forms.CharField(
                label=f"{label} 内容", max_length=500, required=False
            )
            # マイルストーン by default: a ○ typed becomes 記号 anyway (ScheduleCell.clean),
            # while a 記号 default refused every text typed without changing the select.
            self.fields[kind] = forms.ChoiceField(
                label=f"{label} 種別",
                choices=ScheduleCell.Kind.choices,
                required=False,
                initial=ScheduleCell.Kind.TEXT,
            )
            self.fields[span] = forms.IntegerField(
                label=f"{label} 横の結合(年度数)",
                min_value=1,
                max_value=len(self.years),
                required=False,
            )

    def cell_rows(self) -> list[tuple[str, Any, Any, Any]]:
        """(header, text field, kind field, span field) per year, for the template's table."""
        return [
            (era.short_header(fy), *(self[name] for name in cell_fields(fy))) for fy in self.years
        ]

    def cells(self) -> dict[int, tuple[str, str, int]]:
        out = {}
        for fy in self.years:
            text, kind, span = cell_fields(fy)
            out[fy] = (
                self.cleaned_data.get(text) or "",
                self.cleaned_data.get(kind) or ScheduleCell.Kind.TEXT,
                self.cleaned_data.get(span) or 1,
            )
        return out
