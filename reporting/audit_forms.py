"""The audit screens' filters (validation only; the reads are reporting.selectors.audit)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from portal_lib.forms import EraDateField
from portal_lib.params import parse_ascii_int
from portal_lib.people import display_name
from reporting.selectors.audit import (
    LOGIN_KINDS,
    SYSTEM,
    AuditFilter,
    LoginFilter,
    kind_choices,
)


class _Dates(forms.Form):
    date_from = EraDateField(label=_("期間(から)"), required=False)
    date_to = EraDateField(label=_("期間(まで)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("終わりの日は始まりの日以降にしてください。"))
        return data


class AuditFilterForm(_Dates):
    person = forms.ChoiceField(label=_("変更した人"), required=False)
    kind = forms.ChoiceField(label=_("種類"), required=False)
    object = forms.CharField(label=_("対象のID"), required=False, max_length=18)

    field_order = ["person", "date_from", "date_to", "kind", "object"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.select_related("profile").order_by("username")
        self.fields["person"].choices = [
            ("", _("すべて")),
            (SYSTEM, _("システム(コマンド・自動処理)")),
            *((str(u.pk), f"{display_name(u)}({u.username})") for u in people),
        ]
        self.fields["kind"].choices = [("", _("すべて")), *kind_choices()]

    def clean_object(self) -> int | None:
        value = (self.cleaned_data.get("object") or "").strip()
        try:
            return parse_ascii_int(value, minimum=1)
        except ValueError:
            raise forms.ValidationError(_("IDは半角数字で入力してください。")) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("object") and not data.get("kind"):
            self.add_error("object", _("対象のIDで絞り込むときは種類も選んでください。"))
        return data

    def audit_filter(self) -> AuditFilter:
        """The filter the form holds; an invalid form filters nothing (its errors show)."""
        if not self.is_valid():
            return AuditFilter()
        d = self.cleaned_data
        return AuditFilter(
            person=d.get("person") or "",
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
            kind=d.get("kind") or "",
            object_id=d.get("object"),
        )


class LoginFilterForm(_Dates):
    username = forms.CharField(label=_("ユーザー名"), required=False, max_length=150)
    kind = forms.ChoiceField(label=_("記録の種類"), required=False)

    field_order = ["username", "date_from", "date_to", "kind"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            ("", _("すべて")),
            *((k, _(label)) for k, label in LOGIN_KINDS.items()),
        ]

    def login_filter(self) -> LoginFilter:
        if not self.is_valid():
            return LoginFilter()
        d = self.cleaned_data
        return LoginFilter(
            username=(d.get("username") or "").strip(),
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
            kind=d.get("kind") or "",
        )
