"""Forms only validate; every write goes through initiatives.services."""

from __future__ import annotations

from typing import Any

from django import forms

from initiatives.models import (
    Indicator,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    Review,
    StandardSystem,
)
from initiatives.selectors import NONE
from kahoku_dx import era
from workgroups.models import Section, WorkingGroup

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FiscalYearField(forms.CharField):
    """Accepts 2026, R8, 令和8年度, FY2026 … and returns the western fiscal year."""

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return era.parse_fiscal_year(value)
        except era.EraError as exc:
            raise forms.ValidationError(str(exc)) from exc


class InitiativeFilterForm(forms.Form):
    """GET filters of the initiative list. The names are a contract: dashboards link here."""

    fy = FiscalYearField(label="年度", required=False)
    policy = forms.TypedChoiceField(label="基本方針", required=False, coerce=int, empty_value=None)
    wg = forms.ModelChoiceField(
        label="担当WG", required=False, queryset=WorkingGroup.objects.none(), empty_label="すべて"
    )
    section = forms.ModelChoiceField(
        label="主管課", required=False, queryset=Section.objects.all(), empty_label="すべて"
    )
    status = forms.ChoiceField(
        label="進捗状況",
        required=False,
        choices=[("", "すべて"), *ProgressStatus.choices, (NONE, "記録なし")],
    )
    review = forms.ChoiceField(
        label="振り返り",
        required=False,
        choices=[("", "すべて"), *Review.State.choices, (NONE, "未作成")],
    )
    stale_days = forms.IntegerField(
        label="未更新日数",
        required=False,
        min_value=0,
        max_value=3650,
        help_text="この日数以上、進捗記録がない取り組み",
    )

    def __init__(self, *args: Any, policies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["policy"].choices = [("", "すべて"), *policies]
        self.fields["wg"].queryset = WorkingGroup.objects.order_by("name")
        self.fields["fy"].widget.attrs.update({"size": 12, "placeholder": "例: R8 / 2026"})
        self.fields["stale_days"].widget.attrs.update({"size": 6})
