"""Re-authentication before sensitive actions (issue 19, item 15; ASVS 5.0 V6.2/V7.5).

Role changes, API token issuance and roster or plan imports ask for the password (or the
authenticator's code) again when the last authentication in this session is older than
REAUTH_WINDOW_MINUTES. The time is recorded at login (kahoku_dx.session_timeout) and at
each re-authentication. `require_recent_auth` sends a GET to the confirmation page and
back; a POST is not replayed (it may carry a file): it goes back to the page it came from
with a message asking to confirm and then send again. Previews are stashed on the server,
so going back to a confirm screen loses nothing.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

AUTH_AT_KEY = "portal_auth_at"
REAUTH_URL_NAME = "reauthenticate"


def record_authentication(request: HttpRequest) -> None:
    request.session[AUTH_AT_KEY] = int(time.time())


def authenticated_recently(request: HttpRequest) -> bool:
    at = request.session.get(AUTH_AT_KEY)
    if not isinstance(at, int):
        return False
    return time.time() - at <= settings.REAUTH_WINDOW_MINUTES * 60


def safe_next(request: HttpRequest, target: str | None) -> str | None:
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def reauth_url(next_url: str) -> str:
    return f"{resolve_url(REAUTH_URL_NAME)}?{urlencode({'next': next_url})}"


def require_recent_auth(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ask for the password again unless the session authenticated within the window.

    Put it under @login_required: an anonymous request goes to the login page first.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated or authenticated_recently(request):
            return view(request, *args, **kwargs)
        return ask_to_reauthenticate(request)

    return wrapped


def ask_to_reauthenticate(request: HttpRequest) -> HttpResponse:
    """The redirect to the confirmation page (for a view that decides case by case)."""
    if request.method in {"GET", "HEAD"}:
        return HttpResponseRedirect(reauth_url(request.get_full_path()))
    # Back to the page the form was on (else this URL), after the confirmation.
    back = safe_next(request, request.META.get("HTTP_REFERER")) or request.get_full_path()
    messages.warning(
        request,
        _(
            "安全のため、この操作の前にパスワードの再確認が必要です。"
            "確認のあと、もう一度送信してください。"
        ),
    )
    return HttpResponseRedirect(reauth_url(back))
