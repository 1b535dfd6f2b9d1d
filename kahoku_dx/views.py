"""Error pages: they show a fixed message (Japanese, or English with the language switch)
and never the exception or the path."""

from __future__ import annotations

import sys

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token

from kahoku_dx.errors import standalone_page
from kahoku_dx.middleware import (
    DATABASE_ERRORS,
    database_unavailable_response,
    is_storage_full,
    log_database_unavailable,
    storage_unavailable_response,
)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return standalone_page(request, "400.html", 400)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"error_layout": "base.html"}, status=403)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"error_layout": "base.html"}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block, so the exception is still at hand:
    # a database outage raised outside a view (session, auth middleware) ends here too.
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_ERRORS):
        log_database_unavailable(request, exc)
        return database_unavailable_response(request)
    if exc is not None and is_storage_full(exc):
        return storage_unavailable_response(request, exc)
    return standalone_page(request, "500.html", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return standalone_page(request, "csrf_failure.html", 403)
