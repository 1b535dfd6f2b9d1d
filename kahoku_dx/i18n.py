"""The portal speaks Japanese unless the user picked English with the language switch."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


def request_language(request: HttpRequest) -> str:
    """The language picked with the switch (its cookie), else the portal's default."""
    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if language not in {code for code, _ in settings.LANGUAGES}:
        return str(settings.LANGUAGE_CODE)
    return language


class PortalLanguageMiddleware:
    """Replaces LocaleMiddleware: the language comes from the switch's cookie, never from
    the browser's Accept-Language.

    City PCs and phones often send English first; following that would give staff a mixed
    page (Django's own strings in English, the plan's data in Japanese) they never asked for.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        translation.activate(request_language(request))
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
