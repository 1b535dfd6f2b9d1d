"""Project-wide middleware: request logging, upload limit, control characters, methods,
database outage, full disk, disabled users."""

from __future__ import annotations

import errno
import inspect
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.functional import empty
from django.utils.translation import gettext_lazy

from kahoku_dx.errors import StorageUnavailable, standalone_page
from kahoku_dx.logging import request_id_var
from portal_lib.client_ip import client_ip

access_log = logging.getLogger("kahoku_dx.request")
db_log = logging.getLogger("kahoku_dx.db")
storage_log = logging.getLogger("kahoku_dx.storage")

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
DATABASE_ERRORS = (OperationalError, InterfaceError)
# Multipart framing and the other form fields travel with the file.
UPLOAD_OVERHEAD_BYTES = 256 * 1024


class RequestLogMiddleware:
    """Give each request an id (kept from a sane X-Request-ID) and log one JSON line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        request.client_ip = client_ip(request)
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "user": _username(request),
                    "client_ip": request.client_ip,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


def _username(request: HttpRequest) -> str | None:
    """The user's name if the request already loaded it; never a query of its own
    (the database may be the very thing that is down)."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.get_username() if user.is_authenticated else None


class UploadLimitMiddleware:
    """Refuse a body larger than MAX_UPLOAD_BYTES before Django reads or parses it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_UPLOAD_BYTES
        if length > limit + UPLOAD_OVERHEAD_BYTES:
            access_log.warning(
                "upload refused: %s bytes",
                length,
                extra={"bytes": length, "client_ip": client_ip(request)},
            )
            response = standalone_page(request, "413.html", 413, {"limit_mb": _megabytes(limit)})
            if not _is_wsgiref(request):
                # gunicorn: close rather than read the unwanted body to find the next request.
                response["Connection"] = "close"
            return response
        return self.get_response(request)


def _is_wsgiref(request: HttpRequest) -> bool:
    """runserver and the live test server (wsgiref) answer a bare 500 when the application
    sets a hop-by-hop header such as Connection (PEP 3333); they drain the body themselves."""
    return request.META.get("SERVER_SOFTWARE", "").startswith("WSGIServer/")


def _megabytes(n: int) -> str:
    value = n / (1024 * 1024)
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    # Rendered without a request context: nothing here may touch the database.
    response = standalone_page(request, "503_db.html", 503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """A lost database answers the Japanese 503 page instead of a 500.

    Exceptions raised by views arrive here; those raised in other middleware reach
    `kahoku_dx.views.server_error`, which gives the same page. Recovery needs nothing:
    Django drops the broken connection at the end of the request and CONN_HEALTH_CHECKS
    tests a persistent one before reuse, so the first request after PostgreSQL is back works.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            log_database_unavailable(request, exception)
            return database_unavailable_response(request)
        return None


def log_database_unavailable(request: HttpRequest, exception: BaseException) -> None:
    db_log.error(
        "database unavailable: %s",
        type(exception).__name__,
        extra={"path": request.path, "error": str(exception).strip()[:500]},
    )


# No space left, or over the quota: the disk is full for this process.
STORAGE_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def is_storage_full(exception: BaseException) -> bool:
    return isinstance(exception, StorageUnavailable) or (
        isinstance(exception, OSError) and exception.errno in STORAGE_FULL_ERRNOS
    )


def storage_unavailable_response(request: HttpRequest, exception: BaseException) -> HttpResponse:
    storage_log.error(
        "storage unavailable: %s",
        type(exception).__name__,
        extra={"path": request.path, "error": str(exception).strip()[:500]},
    )
    response = standalone_page(request, "503_storage.html", 503)
    response["Retry-After"] = "300"
    response["Cache-Control"] = "no-store"
    return response


class StorageFullMiddleware:
    """A full disk answers the Japanese 503 page instead of a 500: an upload preview that
    cannot be kept (portal_lib.upload_stash raises StorageUnavailable for any write error,
    leaving no partial file) and an export whose temporary file cannot be written."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_storage_full(exception):
            return storage_unavailable_response(request, exception)
        return None


class ActiveUserMiddleware:
    """End the session of a user who has been disabled (or deleted) since logging in.

    Django's backend already refuses to load an inactive user; this also deletes the
    session row so the old cookie is worthless even if the account is re-enabled.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if SESSION_KEY in request.session:
            user = request.user
            if not user.is_authenticated or not user.is_active:
                logout(request)
        return self.get_response(request)


# --- bad input and methods at the edge (issue 19, items 9 and 13) ---------------------------

# Unicode's control characters (C0, DEL, C1). PostgreSQL refuses NUL in text (a 500 deep in
# a query), and none of them belongs in an address or a form field.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A textarea sends TAB, CR and LF; every other control character is still refused.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# The JSON API (DRF) answers its own methods and errors; these rules are for the screens.
API_PATH_PREFIX = "/api/"
# What a screen may be asked: pages (GET, HEAD) and forms (POST).
SCREEN_METHODS = ("GET", "HEAD", "POST")
CONTROL_CHARACTER_MESSAGE = gettext_lazy(
    "アドレスまたは入力に使えない文字(制御文字)が含まれています。"
)


def _has_control(request: HttpRequest) -> str | None:
    """Where a control character was sent ("path", "query", "form"), or None."""
    if _CONTROL.search(request.path):
        return "path"
    for key, values in request.GET.lists():
        if _CONTROL.search(key) or any(_CONTROL.search(v) for v in values):
            return "query"
    if request.method == "POST" and request.content_type in _FORM_TYPES:
        try:
            post = request.POST  # the fields only: uploaded files are not looked into
        except MultiPartParserError:
            return None  # the view's form reports the broken body, as before
        for key, values in post.lists():
            if _CONTROL.search(key) or any(_CONTROL_IN_TEXT.search(v) for v in values):
                return "form"
    return None


class ControlCharacterMiddleware:
    """Refuse NUL and the other control characters in the path, the query string and the
    form fields (not in uploaded files' contents) with a 400 page, before any view, query
    or session sees them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = _has_control(request)
        if where is None:
            return self.get_response(request)
        access_log.warning(
            "control character refused in the %s",
            where,
            extra={"where": where, "path": _CONTROL.sub("?", request.path)},
        )
        if request.path_info.startswith(API_PATH_PREFIX):
            # The body of any other 400 of the API (DRF's validation errors, as its schema
            # documents them), so that a client reads one shape.
            return JsonResponse({"non_field_errors": [str(CONTROL_CHARACTER_MESSAGE)]}, status=400)
        return standalone_page(request, "400_control.html", 400)


def view_methods(view_func: Callable[..., Any]) -> list[str]:
    """The screen methods ``view_func`` serves, as it declares them: a class view's
    handlers, or the list given to ``require_http_methods`` (``require_GET``,
    ``require_POST``, ``require_safe``) anywhere in its decorators; all of
    SCREEN_METHODS for a function view that does not say."""
    view_class = getattr(view_func, "view_class", None)
    if view_class is not None:
        served = {m.upper() for m in view_class.http_method_names if hasattr(view_class, m)}
        if "GET" in served:
            served.add("HEAD")  # View.setup() serves HEAD with get()
        return [m for m in SCREEN_METHODS if m in served]
    func: Any = view_func
    while func is not None:
        try:
            declared = inspect.getclosurevars(func).nonlocals.get("request_method_list")
        except TypeError:  # not a Python function (a callable object): it does not say
            break
        if isinstance(declared, list | tuple):
            return [m for m in SCREEN_METHODS if m in declared]
        func = getattr(func, "__wrapped__", None)
    return list(SCREEN_METHODS)


def _not_allowed(request: HttpRequest, allowed: list[str]) -> HttpResponse:
    response = standalone_page(request, "405.html", 405)
    response["Allow"] = ", ".join(allowed)
    return response


class ScreenMethodMiddleware:
    """405 with an Allow header for every method a screen does not serve.

    Screens serve GET, HEAD and POST at most; PUT, PATCH, DELETE, OPTIONS and any other
    method are refused here, for every view, so a new view cannot forget it. A view that
    serves fewer (``require_safe``, a class view without ``post``) refuses the rest itself;
    its bare 405 gets the same page here. The API under /api/ decides for itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and not request.path_info.startswith(API_PATH_PREFIX)
            and not getattr(response, "streaming", False)
            and not response.content
        ):
            # The view's own response keeps its Allow header, cookies and other headers.
            response.content = standalone_page(request, "405.html", 405).content
            response["Content-Type"] = "text/html; charset=utf-8"
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponse | None:
        if request.method in SCREEN_METHODS or request.path_info.startswith(API_PATH_PREFIX):
            return None
        return _not_allowed(request, view_methods(view_func))
