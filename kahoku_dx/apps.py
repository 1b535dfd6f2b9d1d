from django.apps import AppConfig


class KahokuDxConfig(AppConfig):
    """The project package as an app only to connect its login receivers at start-up
    (before any request, so that a login in a test or a command starts the session clocks)."""

    name = "kahoku_dx"
    verbose_name = "かほく市DX推進ポータル"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from kahoku_dx import session_timeout, two_factor

        user_logged_in.connect(session_timeout.record_login, dispatch_uid="kahoku_dx.clocks")
        user_logged_in.connect(two_factor.record_login, dispatch_uid="kahoku_dx.second_factor")
