"""Idle and absolute session lifetimes (issue 19, item 15; ASVS 5.0 V7.3).

A session ends after SESSION_IDLE_TIMEOUT_MINUTES without a request, and in any case
SESSION_COOKIE_AGE seconds after the login. Django alone gives neither exactly: the
session's expiry date moves forward every time the session is saved. So the login time
and the last activity live in the session itself; the last activity is written at most
once a minute, so that a busy page does not write the session on every request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from portal_lib.reauth import record_authentication

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

LOGIN_AT_KEY = "portal_login_at"
LAST_ACTIVITY_KEY = "portal_last_activity"
ACTIVITY_WRITE_SECONDS = 60

security_log = logging.getLogger("kahoku_dx.security")


def record_login(sender: Any, request: HttpRequest | None, user: PortalUser, **kwargs: Any) -> None:
    """user_logged_in receiver (portal_lib.apps): the clocks start at every login."""
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[LOGIN_AT_KEY] = now
    request.session[LAST_ACTIVITY_KEY] = now
    record_authentication(request)


class SessionTimeoutMiddleware:
    """Log out a session idle too long or older than its absolute lifetime.

    The request then goes on as an anonymous one (a page behind the login redirects to the
    login form, which shows the message; the API answers 401/403).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if SESSION_KEY in session:
            now = int(time.time())
            login_at = session.get(LOGIN_AT_KEY)
            last = session.get(LAST_ACTIVITY_KEY)
            idle_limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            if last is not None and now - last > idle_limit:
                self._end(
                    request,
                    "idle",
                    _(
                        "一定時間操作がなかったため、安全のためログアウトしました。もう一度ログインしてください。"
                    ),
                )
            elif login_at is not None and now - login_at > settings.SESSION_COOKIE_AGE:
                self._end(
                    request,
                    "absolute",
                    _(
                        "ログインの有効時間が過ぎたため、ログアウトしました。もう一度ログインしてください。"
                    ),
                )
            else:
                if login_at is None:
                    # A session from before this check: its clock starts now.
                    session[LOGIN_AT_KEY] = now
                if last is None or now - last >= ACTIVITY_WRITE_SECONDS:
                    session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _end(request: HttpRequest, reason: str, message: str) -> None:
        security_log.info("session ended: %s", reason, extra={"reason": reason})
        logout(request)
        messages.warning(request, message)
