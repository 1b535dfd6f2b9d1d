"""Runtime corners found by probing (issue 15): the upload limit under runserver, and
concurrent approvals on SQLite.

Both only show with a real server, so each starts one: `manage.py runserver` for the
upload page, gunicorn with four worker processes for the approvals. The approvals test
runs on whichever database the suite runs on (SQLite, or PostgreSQL when DATABASE_URL
is set): on both, four simultaneous approvals give one approval and three clean
"already approved" messages.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import threading
from urllib.parse import urlencode

import pytest
from django.conf import settings

from tests.factory import PASSWORD, make_user
from tests.project.test_deploy import _free_ports, _wait_healthy
from tests.servers import exchange, throwaway_database
from workgroups.models import StaffProfile

pytestmark = pytest.mark.slow

TOO_LARGE_PAGE = "送信されたファイルが大きすぎます。"


def _dev_env(tmp_path, **extra: str) -> dict[str, str]:
    """Development settings on a throwaway database of the suite's kind."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "DATABASE_URL"}
    }
    env.update(SQLITE_PATH=str(tmp_path / "db.sqlite3"), LOG_FORMAT="plain", **extra)
    return env


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=180,
    )
    assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    return result


def _start(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, *args],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_healthy(port, proc)
    return proc


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        return proc.communicate(timeout=20)[1]
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[1]


# --- (a) an over-size upload under runserver ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("server", "closes"),
    [("gunicorn/23.0.0", True), ("WSGIServer/0.2 CPython/3.11.2", False)],
)
def test_413_closes_the_connection_only_where_the_server_allows_it(
    client, settings, server, closes
):
    """PEP 3333 forbids hop-by-hop headers from the application; wsgiref (runserver)
    enforces it with a bare 500 and drains the unread body itself. gunicorn honours
    `Connection: close`, which saves reading a huge body that nobody wants."""
    settings.MAX_UPLOAD_BYTES = 1024
    client.force_login(make_user("jimu", role=StaffProfile.Role.SECRETARIAT))
    response = client.generic(
        "POST",
        "/admin/initiatives/initiative/",
        b"x" * (1024 + 256 * 1024 + 1),
        content_type="multipart/form-data; boundary=zzz",
        SERVER_SOFTWARE=server,
    )
    assert response.status_code == 413
    assert TOO_LARGE_PAGE in response.content.decode()
    assert response.has_header("Connection") is closes


def test_runserver_answers_an_over_size_upload_with_the_japanese_413_page(tmp_path):
    env = _dev_env(tmp_path, MAX_UPLOAD_BYTES="1024")
    _manage("migrate", "--noinput", env=env)
    (port,) = _free_ports(1)
    proc = _start(
        ["manage.py", "runserver", "--noreload", "--skip-checks", f"127.0.0.1:{port}"], env, port
    )
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST",
            "/admin/initiatives/initiative/",
            body=b"x" * (1024 + 256 * 1024 + 1),
            headers={"Content-Type": "multipart/form-data; boundary=zzz"},
        )
        response = conn.getresponse()
        body = response.read().decode("utf-8")
        conn.close()
        assert response.status == 413, body
        assert response.getheader("Content-Type") == "text/html; charset=utf-8"
        assert TOO_LARGE_PAGE in body
        assert "アップロードできるファイルは0MBまでです。" not in body
        # The server carries on.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        stderr = _stop(proc)
    assert "Hop-by-hop header" not in stderr


# --- (b) concurrent approvals ---------------------------------------------------------------

SETUP = """
from initiatives.models import Review
from tests.factory import REVIEW_COMPLETE, initiative, make_personas
make_personas()
for code in ("2.1", "2.2", "2.3"):
    review = Review.objects.create(
        initiative=initiative(code), fiscal_year=2026, state="checked", **REVIEW_COMPLETE
    )
    print(review.pk)
"""
REPORT = """
from initiatives.models import Review, ReviewEvent
for review in Review.objects.order_by("pk"):
    print(review.state, ReviewEvent.objects.filter(review=review, to_state="approved").count())
"""
APPROVED = "振り返りを承認しました。以後は変更できません。"
ALREADY = "この振り返りは承認済のためロックされています。内容の変更や状態の変更はできません。"


class _Browser:
    """One member of HQ's browser: keeps its cookies, posts with the CSRF token."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode({"csrfmiddlewaretoken": self.cookies["csrftoken"], **body})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return exchange(conn, method, path, data, headers, self.cookies)


@pytest.fixture
def four_workers(tmp_path):
    """gunicorn with four worker processes: four database connections at once."""
    env = _dev_env(tmp_path, WEB_CONCURRENCY="4")
    with throwaway_database(env, tmp_path, "concurrent") as pg:
        _manage("migrate", "--noinput", env=env)
        _manage("load_plan", env=env)
        reviews = [
            int(pk) for pk in _manage("shell", "--no-imports", "-c", SETUP, env=env).stdout.split()
        ]
        (port,) = _free_ports(1)
        proc = _start(
            ["-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
            env,
            port,
        )
        try:
            yield {"port": port, "env": env, "reviews": reviews, "pg": pg}
        finally:
            _stop(proc)


def test_four_concurrent_approvals_give_one_approval_and_no_503(four_workers):
    """Three rounds (one review each) so that the requests really overlap at least once."""
    port = four_workers["port"]
    browsers = [_Browser(port) for _ in range(4)]
    for browser in browsers:
        browser.request("GET", "/accounts/login/")
        response, _ = browser.request(
            "POST", "/accounts/login/", {"username": "honbucho", "password": PASSWORD}
        )
        assert response.status == 302

    for pk in four_workers["reviews"]:
        for browser in browsers:
            browser.request("GET", f"/initiatives/reviews/{pk}/")  # as before clicking
        start = threading.Barrier(4)
        statuses: dict[int, int] = {}

        def approve(n: int, browser: _Browser, pk: int = pk, start=start, statuses=statuses):
            start.wait()
            response, _ = browser.request("POST", f"/initiatives/reviews/{pk}/approve/", {})
            statuses[n] = response.status

        threads = [threading.Thread(target=approve, args=item) for item in enumerate(browsers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        assert sorted(statuses.values()) == [302, 302, 302, 302], pk

        said = []
        for browser in browsers:
            _, page = browser.request("GET", f"/initiatives/reviews/{pk}/")
            said += re.findall(r'<div role="(?:alert|status)">([^<]+)</div>', page)
        assert sorted(said) == sorted([APPROVED, ALREADY, ALREADY, ALREADY]), pk

    report = _manage("shell", "--no-imports", "-c", REPORT, env=four_workers["env"])
    assert report.stdout.split() == ["approved", "1"] * 3
