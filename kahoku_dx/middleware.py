"""Project-wide middleware: request logging, upload limit, database outage, full disk,
disabled users."""

from __future__ import annotations

import errno
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

from kahoku_dx.client_ip import client_ip
from kahoku_dx.errors import StorageUnavailable, standalone_page
from kahoku_dx.logging import request_id_var

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
    cannot be kept (kahoku_dx.upload_stash raises StorageUnavailable for any write error,
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
