"""Stand-alone error pages: rendered without a request context, so without the database."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils import translation

from kahoku_dx.i18n import request_language
from portal_lib.disk import StorageUnavailable

__all__ = ["StorageUnavailable", "standalone_page"]


def standalone_page(
    request: HttpRequest, template: str, status: int, context: dict[str, Any] | None = None
) -> HttpResponse:
    """Render an error page in the language of the switch's cookie.

    No RequestContext: its context processors read the user and the session, and these
    pages must render while the database is down. The language comes from the cookie,
    not from whichever language the thread last activated, because some of these pages
    answer before (or after) the language middleware has run.
    """
    with translation.override(request_language(request)):
        body = loader.render_to_string(template, context)
    return HttpResponse(body, status=status)
