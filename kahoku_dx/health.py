"""`/healthz` for load balancers and monitoring: no login, no session, JSON only."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger("kahoku_dx.health")


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        log.error("health check: database unavailable: %s", type(exc).__name__)
        return False
    return True


def _cache() -> bool:
    try:
        cache.set("healthz", "ok", 10)
        return cache.get("healthz") == "ok"
    except Exception as exc:  # any cache client error (connection, timeout) means "down"
        log.error("health check: cache unavailable: %s", type(exc).__name__)
        return False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": "ok" if _database() else "unavailable"}
    if settings.REDIS_URL:
        checks["cache"] = "ok" if _cache() else "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
