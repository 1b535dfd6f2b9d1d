"""Optimistic locking in the admin: the same rule (portal_lib.versioning) as the portal's forms.

Models with a version carry it as a hidden field in the change form; a save from a form
opened before someone else's save is refused with the other user's current values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, router, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from portal_lib.people import display_name
from portal_lib.versioning import (
    FORM_FIELD,
    EditConflict,
    check_version,
    display_value,
    is_versioned,
    last_editor,
    locked,
    version_checked_save,
    version_field,
)

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    from portal_lib.users import PortalUser

    _AdminBase = ModelAdmin[Any]
else:
    _AdminBase = object


def conflict_message(conflict: EditConflict, field_names: list[str]) -> str:
    """EditConflict's own text, then who saved last and what is saved now."""
    current = conflict.current
    editor = last_editor(current)
    who = (
        gettext("最終更新者: %(name)s") % {"name": display_name(editor)}
        + pgettext("punctuation", "。")
        if editor is not None
        else ""
    )
    values = []
    for name in field_names:
        try:
            field = current._meta.get_field(name)
        except FieldDoesNotExist:  # a form-only field
            continue
        shown = display_value(current, name) or gettext("(空欄)")
        label = getattr(field, "verbose_name", name)
        values.append(f"{label}: {shown}")
    return f"{conflict} {who}" + gettext("現在保存されている内容") + " — " + " / ".join(values)


class VersionedAdminMixin(_AdminBase):
    """For models with a version: a hidden version in the change form, checked on save.

    The check runs in the form's clean() under a row lock (the admin wraps the whole
    change view in one transaction), so a stale form redisplays with the message and the
    user's input; save_model saves through the shared rule, which bumps the version.
    """

    conflict_what = _("データ")

    def version_holder(self, obj: models.Model) -> models.Model:
        """The row whose version guards ``obj``'s change form (``obj`` itself by default)."""
        return obj

    def get_form(
        self,
        request: HttpRequest,
        obj: models.Model | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[Any]]:
        # The fieldsets list our hidden field too (get_fields reads this form); the model
        # form underneath must not be asked for the non-editable model field.
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        if kwargs["fields"]:
            kwargs["fields"] = [f for f in kwargs["fields"] if f != FORM_FIELD]
        form_class = super().get_form(request, obj, change=change, **kwargs)
        holder = self.version_holder(obj) if obj is not None else None
        if holder is None or not is_versioned(holder):
            return form_class
        what = self.conflict_what
        holder_of = self.version_holder

        class VersionedForm(form_class):  # type: ignore[misc, valid-type]
            version = forms.IntegerField(widget=forms.HiddenInput, required=False)

            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, **kw)
                # the saved version now, not the instance's: a history "revert" form holds an
                # old instance but must still be checked against what is saved today
                row = holder_of(self.instance)
                self.fields[FORM_FIELD].initial = (
                    type(row)
                    ._default_manager.filter(pk=row.pk)
                    .values_list(version_field(row), flat=True)
                    .first()
                )

            def clean(self) -> dict[str, Any]:
                cleaned: dict[str, Any] = super().clean()
                current = locked(holder_of(self.instance))
                try:
                    check_version(current, cleaned.get(FORM_FIELD), what)
                except EditConflict as exc:
                    names = [n for n in self.fields if n != FORM_FIELD]
                    raise ValidationError(conflict_message(exc, names), code="conflict") from None
                return cleaned

        VersionedForm.__name__ = form_class.__name__
        return VersionedForm

    def history_form_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # The admin's change view runs in one transaction, simple-history's revert view does
        # not; the version check's row lock needs one (PostgreSQL refuses it otherwise).
        with transaction.atomic(using=router.db_for_write(self.model)):
            # simple-history's admin, the other base of every versioned admin (untyped)
            response: HttpResponse = super().history_form_view(  # type: ignore[misc]
                request, *args, **kwargs
            )
            return response

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: forms.ModelForm[Any], change: bool
    ) -> None:
        if not change or FORM_FIELD not in form.fields or self.version_holder(obj) is not obj:
            return super().save_model(request, obj, form, change)
        # the form's clean() checked the version under a lock; the shared rule checks it
        # again and bumps it, saving with the user in history.
        version_checked_save(
            actor=cast("PortalUser", request.user),  # the admin serves signed-in staff only
            obj=obj,
            version=form.cleaned_data.get(FORM_FIELD),
            what=self.conflict_what,
        )
