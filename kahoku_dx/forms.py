"""Form fields shared by every app's forms."""

from __future__ import annotations

from typing import Any

from django import forms

from kahoku_dx import era


class FiscalYearField(forms.CharField):
    """Accepts R3, R03, 令和3年度, 2021, FY2021 … (domain.md §5); cleans to the western year."""

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return era.parse_fiscal_year(value)
        except era.EraError as exc:
            raise forms.ValidationError(str(exc)) from exc
