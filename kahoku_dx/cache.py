"""The Redis cache, degraded to "nothing cached" while Redis is unreachable.

The cache only ever holds what can be rebuilt or forgotten (sessions are in the database),
so a Redis outage must cost speed, never a 500. Every cache user gets Django's DummyCache
answers while a Redis call fails: a read misses, a write is dropped, ``add`` says True,
``incr`` raises ValueError (a missing key). Throttles and rate limits therefore let requests
through during an outage rather than refusing everyone. /healthz (kahoku_dx.health) tells
the operator: it writes and reads back a fresh value, which a degraded cache cannot.

django-redis's IGNORE_EXCEPTIONS does the same, but would bring a second Redis client
library for one switch; this wraps Django's own backend.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

log = logging.getLogger("kahoku_dx.cache")

# One line per process per interval, not one per cache call.
LOG_EVERY_SECONDS = 60.0
_last_logged = 0.0


def _outage(exc: Exception) -> None:
    global _last_logged
    now = time.monotonic()
    if now - _last_logged >= LOG_EVERY_SECONDS:
        _last_logged = now
        log.error("cache unavailable, continuing without it: %s", type(exc).__name__)


class TolerantRedisCacheClient(RedisCacheClient):
    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        try:
            return super().add(key, value, timeout)
        except RedisError as exc:
            _outage(exc)
            return True

    def get(self, key: Any, default: Any) -> Any:
        try:
            return super().get(key, default)
        except RedisError as exc:
            _outage(exc)
            return default

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        try:
            super().set(key, value, timeout)
        except RedisError as exc:
            _outage(exc)

    def touch(self, key: Any, timeout: Any) -> bool:
        try:
            return super().touch(key, timeout)
        except RedisError as exc:
            _outage(exc)
            return False

    def delete(self, key: Any) -> bool:
        try:
            return super().delete(key)
        except RedisError as exc:
            _outage(exc)
            return False

    def get_many(self, keys: Any) -> dict[Any, Any]:
        try:
            return super().get_many(keys)
        except RedisError as exc:
            _outage(exc)
            return {}

    def has_key(self, key: Any) -> bool:
        try:
            return super().has_key(key)
        except RedisError as exc:
            _outage(exc)
            return False

    def incr(self, key: Any, delta: int) -> int:
        try:
            return super().incr(key, delta)
        except RedisError as exc:
            _outage(exc)
            raise ValueError(f"Key '{key}' not found.") from exc

    def set_many(self, data: Any, timeout: Any) -> None:
        try:
            super().set_many(data, timeout)
        except RedisError as exc:
            _outage(exc)

    def delete_many(self, keys: Any) -> None:
        try:
            super().delete_many(keys)
        except RedisError as exc:
            _outage(exc)

    def clear(self) -> bool:
        try:
            return super().clear()
        except RedisError as exc:
            _outage(exc)
            return False


class TolerantRedisCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache that degrades instead of raising."""

    def __init__(self, server: Any, params: dict[str, Any]):
        super().__init__(server, params)
        self._class = TolerantRedisCacheClient
