"""Installing Django REST Framework must not change the screens' Japanese wording."""

from __future__ import annotations

import gettext
from pathlib import Path

import django
import rest_framework
from django import forms
from django.utils import translation


def _catalog(path: Path) -> dict:
    with path.open("rb") as fh:
        return gettext.GNUTranslations(fh)._catalog


def test_django_wording_wins_over_drf_for_every_shared_message():
    core = _catalog(Path(django.__file__).parent / "conf/locale/ja/LC_MESSAGES/django.mo")
    drf = _catalog(Path(rest_framework.__file__).parent / "locale/ja/LC_MESSAGES/django.mo")
    shared = [k for k in drf if k and k in core and isinstance(k, str)]
    assert "This field is required." in shared
    with translation.override("ja"):
        changed = {k: translation.gettext(k) for k in shared if translation.gettext(k) != core[k]}
    assert changed == {}, "add these to locale/ja/LC_MESSAGES/django.po with Django's wording"


def test_a_form_still_says_this_field_is_required_the_django_way():
    class F(forms.Form):
        name = forms.CharField()

    with translation.override("ja"):
        form = F(data={})
        assert form.errors["name"] == ["このフィールドは必須です。"]
