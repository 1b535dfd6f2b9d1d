"""Re-authentication before sensitive actions (issue 19, item 15; ASVS 5.0 V6.2/V7.5).

Role changes, API token issuance and roster or plan imports ask for the password (or the
authenticator's code) again when the last authentication in this session is older than
REAUTH_WINDOW_MINUTES. The time is recorded at login (portal_lib.session_timeout) and at
each re-authentication. `require_recent_auth` sends a GET to the confirmation page and
back; a POST is not replayed (it may carry a file): it goes offered again after the
confirmation, its fields kept, to send with one button; a POST with a file goes back to
the page it came from with a message asking to confirm and send again. Previews are
stashed on the server, so confirming one later loses nothing.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

AUTH_AT_KEY = "portal_auth_at"
REPLAY_KEY = "portal_reauth_replay"
MAX_REPLAY_CHARS = 64 * 1024
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


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


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
    here = request.get_full_path()
    if request.method in {"GET", "HEAD"}:
        return HttpResponseRedirect(reauth_url(here))
    fields = [
        (name, value)
        for name, values in request.POST.lists()
        for value in values
        if name != "csrfmiddlewaretoken"
    ]
    keepable = not request.FILES and not any("password" in name for name, _ in fields)
    if keepable and sum(len(n) + len(v) for n, v in fields) <= MAX_REPLAY_CHARS:
        # A form without a file (a confirm button, the staff form): after the confirmation
        # the same fields are offered to send again with one button; nothing is retyped.
        request.session[REPLAY_KEY] = {"path": here, "fields": fields}
        return HttpResponseRedirect(reauth_url(here))
    # A file (or a password) is not kept: back to the page the form was on, to send again.
    referer = safe_next(request, request.META.get("HTTP_REFERER"))
    back = _path_of(referer) if referer else resolve_url("home")
    messages.warning(
        request,
        _(
            "安全のため、この操作の前にパスワードの再確認が必要です。"
            "確認のあと、もう一度送信してください。"
        ),
    )
    return HttpResponseRedirect(reauth_url(back))


def pop_replay(request: HttpRequest, next_url: str) -> list[tuple[str, str]] | None:
    """The fields of the POST that asked for the confirmation, if it was sent to `next_url`."""
    replay = request.session.pop(REPLAY_KEY, None)
    if isinstance(replay, dict) and replay.get("path") == next_url:
        return [tuple(pair) for pair in replay.get("fields", [])]
    return None
