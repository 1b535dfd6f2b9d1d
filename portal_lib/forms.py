"""Form fields shared by every app's forms."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from portal_lib import date_bounds, era


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


class EraDateInput(forms.TextInput):
    """A text box for a date as people type it, with a calendar picker beside it and the
    date echoed back in 和暦 (「令和8年11月2日(月)」).

    The picker is a native ``<input type="date">`` without a name, hidden until
    static/js/era_date.js shows it and copies what is picked into the text box; the echo is
    rendered here on every re-render and refreshed live by the same script, which asks the
    server (kahoku_dx.views.date_echo), so `era.parse_date` stays the only reader.
    """

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        attrs = {
            "class": "era-date-text",
            "autocomplete": "off",
            "maxlength": str(EraDateField.MAX_LENGTH),
            "size": "18",
            "placeholder": _("例: 令和8年11月2日、R8.11.2"),
            **(attrs or {}),
        }
        super().__init__(attrs)

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, date):
            return value.isoformat()
        return super().format_value(value)

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        attrs = dict(attrs or {})
        field_id = attrs.get("id") or f"id_{name}"
        echo_id = f"{field_id}_echo"
        described = " ".join(filter(None, [attrs.get("aria-describedby", ""), echo_id]))
        attrs["aria-describedby"] = described
        attrs["data-echo-url"] = reverse("date_echo")
        text = super().render(name, value, attrs, renderer)
        day = _as_date(value)
        disabled = bool(attrs.get("disabled") or self.attrs.get("disabled"))
        return format_html(
            '<span class="era-date">{text}'
            '<input type="date" class="era-date-picker" tabindex="-1" aria-label="{label}"'
            ' value="{iso}"{disabled} hidden>'
            '<output class="era-date-echo" id="{echo_id}" for="{field_id}"'
            ' aria-live="polite">{echo}</output></span>',
            text=text,
            label=_("カレンダーから選ぶ"),
            iso=day.isoformat() if day else "",
            disabled=mark_safe(" disabled") if disabled else "",
            echo_id=echo_id,
            field_id=field_id,
            echo=era.format_date(day) if day else "",
        )


def _as_date(value: Any) -> date | None:
    """What a widget holds (a date, or the text typed) as a date, if it reads as one."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return era.parse_date(value)
        except era.EraError as exc:
            return getattr(exc, "date", None)  # a real day, far off: echoed as refused
    return None


class EraDateField(forms.CharField):
    """A date typed as people type it (`portal_lib.era.parse_date`: 令和8年11月2日, R8.11.2,
    R8/11/2, ２０２６／１１／０２, 2026-11-02 …); cleans to a ``date``.

    ``bounds`` (a `portal_lib.date_bounds.DateBounds`, set by the form when it knows them)
    refuses a date outside them with the bounds in 和暦; the services check them again.
    """

    MAX_LENGTH = 30
    widget = EraDateInput

    def __init__(self, *args: Any, bounds: date_bounds.DateBounds | None = None, **kwargs: Any):
        kwargs.setdefault("help_text", _("和暦(令和8年11月2日、R8.11.2)でも西暦でも入力できます。"))
        super().__init__(*args, **kwargs)
        self.bounds = bounds

    def to_python(self, value: Any) -> date | None:  # type: ignore[override]
        if isinstance(value, date):
            return value
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        if len(value) > self.MAX_LENGTH:
            raise forms.ValidationError(
                _("%(max)s文字以内で入力してください。") % {"max": self.MAX_LENGTH}
            )
        return self.parse(value)

    def parse(self, value: str) -> date:
        try:
            return era.parse_date(value)
        except era.EraError as exc:
            far = exc.date
            if far is not None and self.bounds is not None:
                return far  # refused by validate() with the bounds (9999-12-31)
            raise forms.ValidationError(str(exc), code="invalid") from exc

    def validate(self, value: Any) -> None:
        super().validate(value)
        if self.bounds is not None and value is not None:
            try:
                self.bounds.check(value)
            except date_bounds.DateOutOfBounds as exc:
                raise forms.ValidationError(str(exc), code="out_of_bounds") from exc
