from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalLibConfig(AppConfig):
    """The shared library as an app: its template filters (portal_format) load in every
    template, and its login receivers connect at start-up (before any request, so that a
    login in a test or a command starts the session clocks)."""

    name = "portal_lib"
    verbose_name = _("かほく市DX推進ポータル")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from portal_lib import session_timeout, two_factor

        user_logged_in.connect(session_timeout.record_login, dispatch_uid="portal_lib.clocks")
        user_logged_in.connect(two_factor.record_login, dispatch_uid="portal_lib.second_factor")
        _name_relationships_lazily()
        _third_party_admin_texts_lazily()


def _name_relationships_lazily() -> None:
    """Django names a many-to-many table ("group-permission relationship", shown by the
    admin's delete summaries) once, at import, in the default language (Japanese): name it
    again lazily, so that it reads in the reader's language."""
    from django.apps import apps
    from django.utils.functional import lazy
    from django.utils.translation import gettext

    def named(text: str, names: dict[str, str]) -> str:
        return gettext(text) % names

    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if not opts.auto_created:
            continue
        from_, to = (f.name for f in opts.fields if f.is_relation)
        names = {"from": from_, "to": to}
        opts.verbose_name = lazy(named, str)("%(from)s-%(to)s relationship", names)
        opts.verbose_name_plural = lazy(named, str)("%(from)s-%(to)s relationships", names)


def _third_party_admin_texts_lazily() -> None:
    """Two admin texts of other packages are written once, at import, in the default language
    (Japanese): write them again lazily, so that they read in the reader's language. Django's
    admin password form joins its (lazy) "usable password" help to a plain string, which
    translates it there and then; django-otp's device lists build their search help from the
    user model's field names the same way (and in English words around them)."""
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
    from django.core.exceptions import FieldDoesNotExist
    from django.utils.functional import lazy
    from django.utils.text import format_lazy
    from django.utils.translation import gettext, pgettext

    forced = str(AdminPasswordChangeForm.usable_password_help_text)
    warning = forced[forced.find("<ul") :] if "<ul" in forced else ""
    AdminPasswordChangeForm.usable_password_help_text = format_lazy(  # type: ignore[assignment]
        "{}{}", SetUnusablePasswordMixin.usable_password_help_text, warning
    )

    def search_help(fields: list[Any]) -> str:
        names = pgettext("punctuation", "、").join(str(f.verbose_name) for f in fields)
        return gettext("利用者の%(fields)sで検索します") % {"fields": names}

    user_model = get_user_model()
    for model_admin in admin.site._registry.values():
        if not type(model_admin).__module__.startswith("django_otp"):
            continue
        names = [n.removeprefix("user__") for n in model_admin.search_fields or ()]
        try:
            fields = [user_model._meta.get_field(n) for n in names]
        except FieldDoesNotExist:
            continue
        if fields:
            model_admin.search_help_text = lazy(search_help, str)(fields)  # type: ignore[misc]
