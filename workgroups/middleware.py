"""API service accounts never get a screen (workgroups.access.may_use_screens).

The login form refuses them; this ends a session one of them still holds (given a password
before the rule, or logged in some other way) on its first request to a screen. The API
(/api/) answers them by their token and scope as before.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from workgroups.access import MSG_SERVICE_ACCOUNT_LOGIN, roles_for

API_PATH_PREFIX = "/api/"


class ServiceAccountScreenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(API_PATH_PREFIX)
        ):
            roles_for(user)  # its one query (cached for the request) tells a service account
            if getattr(user, "_portal_service_account", False):
                logout(request)
                messages.error(request, MSG_SERVICE_ACCOUNT_LOGIN)
                return redirect("login")
        return self.get_response(request)
