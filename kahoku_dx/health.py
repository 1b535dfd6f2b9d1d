"""`/healthz` for load balancers and monitoring: no login, no session, JSON only.

200 when every dependency answers; 503 naming the failing ones in ``failing``:
``database`` (a query), ``cache`` (Redis, when REDIS_URL is set: a fresh value written and
read back; the cache itself degrades silently, so this is where an outage shows), and
``upload_folder`` (where previews are kept: writable, and at least UPLOAD_MIN_FREE_MB free;
its free space is reported either way).
"""

from __future__ import annotations

import logging
import secrets
import shutil
import tempfile

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from portal_lib import upload_stash

log = logging.getLogger("kahoku_dx.health")

MB = 1024 * 1024


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log.error("health check: database unavailable: %s", type(exc).__name__)
        return "unavailable"
    return "ok"


def _cache() -> str:
    value = secrets.token_hex(8)
    try:
        cache.set("healthz", value, 10)
        if cache.get("healthz") == value:
            return "ok"
    except Exception as exc:  # any cache client error (connection, timeout) means "down"
        log.error("health check: cache unavailable: %s", type(exc).__name__)
        return "unavailable"
    log.error("health check: cache unavailable: the value written was not read back")
    return "unavailable"


def _upload_folder() -> tuple[str, int | None]:
    """(state, free MB): "ok", "unwritable" or "low_space"."""
    folder = upload_stash.UPLOAD_DIR
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-"):
            pass
        free_mb = shutil.disk_usage(folder).free // MB
    except OSError as exc:
        log.error("health check: upload folder not writable: %s", exc)
        return "unwritable", None
    if free_mb < settings.UPLOAD_MIN_FREE_MB:
        log.error("health check: upload folder has %s MB free", free_mb)
        return "low_space", free_mb
    return "ok", free_mb


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database()}
    if settings.REDIS_URL:
        checks["cache"] = _cache()
    checks["upload_folder"], free_mb = _upload_folder()
    failing = [name for name, state in checks.items() if state != "ok"]
    body: dict = {"status": "unavailable" if failing else "ok", "checks": checks}
    if failing:
        body["failing"] = failing
    body["upload_folder_free_mb"] = free_mb
    return JsonResponse(body, status=503 if failing else 200)
