from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KahokuDxConfig(AppConfig):
    """The project package as an app only to connect its login receivers at start-up
    (before any request, so that a login in a test or a command starts the session clocks)."""

    name = "kahoku_dx"
    verbose_name = _("かほく市DX推進ポータル")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from kahoku_dx import session_timeout, two_factor

        user_logged_in.connect(session_timeout.record_login, dispatch_uid="kahoku_dx.clocks")
        user_logged_in.connect(two_factor.record_login, dispatch_uid="kahoku_dx.second_factor")
        _name_relationships_lazily()


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
