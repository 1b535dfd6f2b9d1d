"""Security tests of the admin: privileges, lost updates, uploads.

`admin_form_data` turns a rendered admin change/add form back into the POST a browser would
send, so the tests submit exactly what the user saw (including the hidden version field).
"""

from __future__ import annotations

from typing import Any

from django import forms


def _add_form(data: dict[str, Any], form: forms.BaseForm) -> None:
    for name, field in form.fields.items():
        bound = form[name]
        value = bound.value()
        if isinstance(field.widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
            continue
        if value is None:
            continue
        if isinstance(field.widget, forms.SplitDateTimeWidget):
            parts = field.widget.decompress(value)
            data[f"{bound.html_name}_0"], data[f"{bound.html_name}_1"] = (
                "" if p is None else str(p) for p in parts
            )
            continue
        if isinstance(value, list | tuple):
            data[bound.html_name] = [str(v) for v in value]
        else:
            data[bound.html_name] = str(value)


def admin_form_data(response: Any) -> dict[str, Any]:
    """The POST data of the admin form in ``response`` (main form and inline formsets)."""
    data: dict[str, Any] = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):
        formset = inline.formset
        _add_form(data, formset.management_form)
        for form in formset.forms:
            _add_form(data, form)
    return data


def editable_fields(response: Any) -> set[str]:
    """Names of the fields a user can edit on a rendered admin form, inlines included."""
    names = set(response.context["adminform"].form.fields)
    for inline in response.context.get("inline_admin_formsets", []):
        names |= set(inline.formset.form.base_fields)
        for form in inline.formset.forms:
            names |= set(form.fields)
    return names
