"""Optimistic locking: the one rule for every edit form (portal screens, admin, imports).

A model edited from a form carries an integer version (the field ``version``, or the name in
the model's ``VERSION_FIELD`` where ``version`` already means something else, as on a plan
chapter). A form carries the version it was opened at in a hidden field named ``version``;
the service locks the row, compares, and either refuses with EditConflict (nothing saved,
the user's input kept, what is saved now shown beside it) or saves and moves the version on.
Every other write to such a row (admin, import, batch) moves the version on too
(``version_bump``), so that a form opened before it sees the conflict.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.http import QueryDict
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from portal_lib.history import save_with_user
from portal_lib.people import display_name

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

    from portal_lib.users import PortalUser

M = TypeVar("M", bound=models.Model)

VERSION_FIELD = "version"
FORM_FIELD = "version"  # the hidden field's name in every form, whatever the model calls it


def version_field(model_or_obj: object) -> str:
    """The name of the model's optimistic-lock field."""
    name: str = getattr(model_or_obj, "VERSION_FIELD", VERSION_FIELD)
    return name


def is_versioned(model_or_obj: models.Model | type[models.Model]) -> bool:
    """Whether the model carries an optimistic-lock version (an integer, not a relation)."""
    model = model_or_obj if isinstance(model_or_obj, type) else type(model_or_obj)
    try:
        field = model._meta.get_field(version_field(model))
    except FieldDoesNotExist:
        return False
    return isinstance(field, models.IntegerField)


def version_of(obj: object) -> int:
    version: int = getattr(obj, version_field(obj))
    return version


class EditConflict(Exception):
    """The object changed since the user opened the form; nothing was saved."""

    def __init__(self, what: str | StrPromise, current: models.Model) -> None:
        self.current = current
        super().__init__(
            _(
                "ほかの職員が先にこの%(what)sを更新したため、保存しませんでした。"
                "あなたの入力内容はフォームに残っています。"
                "「現在保存されている内容」と見比べて、必要な内容を反映してからもう一度保存してください。"
            )
            % {"what": what}
        )

    @property
    def version(self) -> int:
        return version_of(self.current)


def check_version(current: models.Model, version: int | None, what: str | StrPromise) -> None:
    """EditConflict unless ``version`` (from the form) is the saved one. ``current`` is the
    row as locked now; no version at all (a form without the hidden field) is a conflict too."""
    if version is None or version_of(current) != version:
        raise EditConflict(what, current)


def version_bump(obj: models.Model) -> None:
    """The one place a saved edit moves the optimistic-lock version on."""
    name = version_field(obj)
    setattr(obj, name, getattr(obj, name) + 1)


def locked(obj: M) -> M:
    """The row of ``obj`` as saved now, locked until the transaction ends."""
    return type(obj)._default_manager.select_for_update(of=("self",)).get(pk=obj.pk)


@transaction.atomic
def version_checked_save(
    *, actor: PortalUser, obj: M, version: int | None, what: str | StrPromise
) -> M:
    """Save an edit made from a form that carried ``version``: EditConflict if someone saved
    first (the row is locked while checking), otherwise bump the version and save with history.
    """
    current = locked(obj)
    check_version(current, version, what)
    setattr(obj, version_field(obj), version_of(current))
    version_bump(obj)
    save_with_user(obj, actor)
    return obj


# --- forms and screens ---------------------------------------------------------------------


class VersionedFormMixin(forms.Form):
    """The hidden version the user started from; mix into a Form or a ModelForm."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


def show_conflict(form: forms.BaseForm, exc: EditConflict) -> None:
    """Keep the user's input in the form, explain, and let a deliberate re-save win: the
    form now carries the saved version."""
    form.add_error(None, str(exc))
    # a bound form's data: request.POST (a QueryDict) or, in tests, a dict; both copy mutable
    form.data = cast(QueryDict, form.data).copy()
    form.data[FORM_FIELD] = str(exc.version)


def display_value(obj: Any, name: str) -> str:
    """A saved field as a person reads it ("" when empty): choices by label, はい/いいえ."""
    field = obj._meta.get_field(name)
    if field.many_to_many:
        return pgettext("punctuation", "、").join(str(o) for o in getattr(obj, name).all())
    value = getattr(obj, f"get_{name}_display")() if field.choices else getattr(obj, name)
    if isinstance(value, bool):
        return gettext("はい") if value else gettext("いいえ")
    if isinstance(value, list | tuple):
        return pgettext("punctuation", "、").join(str(v) for v in value)
    return "" if value is None else str(value)


def snapshot(obj: Any, names: tuple[str, ...] | list[str]) -> list[tuple[str, str]]:
    """What is saved now, as (label, shown value) pairs, for the conflict panel
    (templates/includes/conflict.html)."""
    return [
        (str(obj._meta.get_field(name).verbose_name), display_value(obj, name)) for name in names
    ]


def last_editor(obj: models.Model) -> PortalUser | None:
    """Who saved ``obj`` last (its newest history row's user), or None."""
    history = getattr(obj, "history", None)
    last = history.first() if history is not None else None
    editor: PortalUser | None = last.history_user if last is not None else None
    return editor


def conflict_context(
    exc: EditConflict | None, names: tuple[str, ...] | list[str]
) -> dict[str, Any]:
    """The conflict panel's context: the saved object, its values and who saved it last."""
    if exc is None:
        return {"conflict": None, "conflict_fields": [], "conflict_by": ""}
    editor = last_editor(exc.current)
    return {
        "conflict": exc.current,
        "conflict_fields": snapshot(exc.current, names),
        "conflict_by": display_name(editor) if editor is not None else "",
    }
