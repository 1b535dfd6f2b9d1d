"""Probe 5: a Redis outage must degrade, never fail.

Before: sessions were `cached_db` when REDIS_URL was set, so with Redis down every request
carrying a session cookie (login and /healthz included) answered 500. Now sessions live in
the database and the cache backend answers "nothing cached" while Redis is unreachable;
/healthz names the cache as the failing dependency.

The test starts a redis-server of its own on a free loopback port and the portal under
gunicorn with the production config, configured from the environment like a deployment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.security.live_site import Browser, RedisServer, gunicorn
from tests.servers import throwaway_database

pytestmark = pytest.mark.slow

PASSWORD = "Kahoku-Outage-Test-2026!"


def _manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"{args}: {result.stderr}"


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site(tmp_path, redis_server):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "DEBUG"}},
        "DEBUG": "false",
        "REDIS_URL": redis_server.url,
        "SECRETARIAT_PASSWORD": PASSWORD,
        "UPLOAD_STASH_DIR": str(tmp_path / "imports"),
    }
    with throwaway_database(env, tmp_path, "cache_outage"):
        _manage(env, "migrate", "--noinput")
        _manage(env, "load_plan")
        _manage(env, "create_secretariat", "--username", "jimu1", "--display-name", "事務局 一郎")
        with gunicorn(env) as port:
            yield port


def _healthz(port: int) -> tuple[int, dict]:
    response, body = Browser(port).request("GET", "/healthz")
    return response.status, json.loads(body)


def test_pages_login_and_healthz_survive_a_redis_outage(site, redis_server):
    port = site
    alice = Browser(port)
    response, _ = alice.login("jimu1", PASSWORD)
    assert response.status == 302
    response, page = alice.request("GET", "/")
    assert response.status == 200 and "事務局 一郎" in page
    status, body = _healthz(port)
    assert status == 200 and body["checks"]["cache"] == "ok"

    redis_server.stop()

    # The logged-in session still works: its page, another page, and /healthz with the cookie.
    response, page = alice.request("GET", "/")
    assert response.status == 200, page[:300]
    assert "事務局 一郎" in page
    response, page = alice.request("GET", "/initiatives/")
    assert response.status == 200, page[:300]
    response, body = alice.request("GET", "/healthz")
    assert response.status == 503
    assert response.getheader("Content-Type") == "application/json"
    health = json.loads(body)
    assert health["status"] == "unavailable"
    assert health["failing"] == ["cache"]
    assert health["checks"]["cache"] == "unavailable"
    assert health["checks"]["database"] == "ok"

    # A new login works too, and its session is usable at once.
    bob = Browser(port)
    response, page = bob.login("jimu1", PASSWORD)
    assert response.status == 302, page[:300]
    response, page = bob.request("GET", "/")
    assert response.status == 200 and "事務局 一郎" in page

    # Redis comes back on the same port: the cache is used again, nothing to restart.
    redis_server.start()
    status, body = _healthz(port)
    assert (status, body["checks"]["cache"]) == (200, "ok")
    assert "failing" not in body
    for browser in (alice, bob):
        response, page = browser.request("GET", "/")
        assert response.status == 200 and "事務局 一郎" in page


def test_the_cache_answers_nothing_cached_while_redis_is_down(redis_server):
    """What a throttle, a rate limit or any other cache user sees during the outage:
    Django's DummyCache semantics (misses, writes dropped), never an exception."""
    from django.core.cache import caches
    from django.test import override_settings

    from kahoku_dx.settings import redis_cache

    with override_settings(CACHES={"default": redis_cache(redis_server.url)}):
        cache = caches["default"]
        cache.set("probe", 41)
        cache.incr("probe")
        assert cache.get("probe") == 42

        redis_server.stop()
        assert cache.get("probe") is None
        assert cache.get("probe", "missing") == "missing"
        cache.set("probe", 1)  # dropped, no exception
        assert cache.add("other", 1) is True
        assert cache.get_many(["probe", "other"]) == {}
        assert cache.get_or_set("computed", lambda: "fresh") == "fresh"
        assert cache.has_key("probe") is False
        assert cache.delete("probe") is False
        assert cache.set_many({"a": 1}) == []
        cache.delete_many(["a", "b"])
        assert cache.touch("probe") is False
        with pytest.raises(ValueError):
            cache.incr("probe")  # a missing key, as DummyCache says

        redis_server.start()
        cache.set("probe", 7)
        assert cache.get("probe") == 7
        cache.clear()
