"""Behind the TLS proxy the lockout and the logs see the client, not 127.0.0.1 (issue 15).

Every production request reaches gunicorn from the proxy on 127.0.0.1. Before
TRUSTED_PROXIES, five wrong passwords from anyone locked that user name for everyone.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from kahoku_dx.settings import env_networks
from portal_lib.client_ip import client_address, parse_networks
from tests.factory import PASSWORD, make_user
from tests.project.test_deploy import PRODUCTION_ENV, _free_ports, _manage, _wait_healthy
from tests.servers import throwaway_database

PROXY = "127.0.0.1"
ATTACKER = "203.0.113.7"  # address A
COLLEAGUE = "198.51.100.9"  # address B


# --- the one function that decides ---------------------------------------------------------

LOCAL = parse_networks(["127.0.0.1"])
CHAIN = parse_networks(["127.0.0.1", "10.0.0.0/8", "::1"])


def test_without_trusted_proxies_the_header_is_never_read():
    assert client_address("127.0.0.1", ATTACKER, ()) == "127.0.0.1"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored():
    assert client_address("192.0.2.50", COLLEAGUE, LOCAL) == "192.0.2.50"
    assert client_address("192.0.2.50", f"{PROXY}, {COLLEAGUE}", CHAIN) == "192.0.2.50"


def test_through_the_trusted_proxy_the_client_is_the_address_it_appended():
    assert client_address(PROXY, ATTACKER, LOCAL) == ATTACKER
    # The client wrote the left part itself; only the proxy's own addition counts.
    assert client_address(PROXY, f"{COLLEAGUE}, {ATTACKER}", LOCAL) == ATTACKER
    assert client_address(PROXY, f" 1.2.3.4 ,{ATTACKER} ", LOCAL) == ATTACKER
    # No header at all (a check from the proxy host itself): the proxy's address.
    assert client_address(PROXY, None, LOCAL) == PROXY
    assert client_address(PROXY, "", LOCAL) == PROXY


def test_a_chain_of_trusted_proxies_is_skipped_from_the_right():
    # client -> load balancer 10.0.0.5 -> TLS proxy on this host -> gunicorn
    assert client_address(PROXY, f"{ATTACKER}, 10.0.0.5", CHAIN) == ATTACKER
    assert client_address(PROXY, f"9.9.9.9, {ATTACKER}, 10.0.0.5, 10.2.0.1", CHAIN) == ATTACKER
    # Only our own proxies on the way: the furthest of them.
    assert client_address(PROXY, "10.0.0.5, 10.0.0.6", CHAIN) == "10.0.0.5"
    # IPv6 peer and client.
    assert client_address("::1", "2001:db8::7", CHAIN) == "2001:db8::7"


def test_garbage_where_the_proxy_writes_is_not_believed():
    assert client_address(PROXY, f"{ATTACKER}, not-an-ip", LOCAL) == PROXY
    assert client_address(PROXY, f"{ATTACKER}, unknown", CHAIN) == PROXY


def test_trusted_proxies_setting_fails_loudly_on_a_bad_value(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    assert env_networks("TRUSTED_PROXIES") == ["127.0.0.1", "10.0.0.0/8"]
    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1,proxy.local")
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        env_networks("TRUSTED_PROXIES")
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert env_networks("TRUSTED_PROXIES") == []


# --- the lockout through the Django test client ---------------------------------------------


def _login(client, password, forwarded_for, remote=PROXY):
    return client.post(
        reverse("login"),
        {"username": "tanaka", "password": password},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


@pytest.mark.django_db
def test_five_failures_from_a_lock_the_user_only_for_a(client, plan, settings, caplog):
    settings.TRUSTED_PROXIES = [PROXY]
    make_user("tanaka", section="総務課")
    for _ in range(4):
        assert _login(client, "wrong-password", ATTACKER).status_code == 200
    assert _login(client, "wrong-password", ATTACKER).status_code == 429
    assert _login(client, PASSWORD, ATTACKER).status_code == 429
    # Forging another address to the left does not get A out of the lockout.
    assert _login(client, PASSWORD, f"{COLLEAGUE}, {ATTACKER}").status_code == 429
    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address) == ("tanaka", ATTACKER)

    caplog.set_level("INFO", logger="kahoku_dx.request")
    response = _login(client, PASSWORD, COLLEAGUE)
    assert response.status_code == 302 and response.url == reverse("home")
    line = [r for r in caplog.records if r.name == "kahoku_dx.request"][-1]
    assert (line.status, line.client_ip) == (302, COLLEAGUE)


@pytest.mark.django_db
def test_an_untrusted_peer_cannot_escape_the_lockout_by_rotating_the_header(client, plan, settings):
    settings.TRUSTED_PROXIES = [PROXY]
    make_user("tanaka", section="総務課")
    for n in range(5):
        response = _login(client, "wrong-password", f"192.0.2.{n}", remote="192.0.2.200")
    assert response.status_code == 429
    assert _login(client, PASSWORD, COLLEAGUE, remote="192.0.2.200").status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"192.0.2.200"}


# --- the same through real gunicorn ---------------------------------------------------------


class _ThroughProxy:
    """Requests as the TLS proxy sends them: from 127.0.0.1, with X-Forwarded-For."""

    def __init__(self, port: int, client: str):
        self.port, self.client = port, client
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.client,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = headers["Referer"] = f"https://127.0.0.1:{self.port}"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response.status

    def login(self, username: str, password: str) -> int:
        self.request("GET", "/accounts/login/")  # sets the CSRF cookie
        return self.request(
            "POST",
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": self.cookies["csrftoken"],
                "username": username,
                "password": password,
            },
        )


@pytest.fixture
def gunicorn_behind_proxy(tmp_path):
    """Production settings with TRUSTED_PROXIES=127.0.0.1, one gunicorn process."""
    env = {
        **PRODUCTION_ENV,
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(tmp_path / "static"),
        "SECRETARIAT_PASSWORD": "Kahoku-Proxy-Test-2026!",
        "TRUSTED_PROXIES": PROXY,
        "WEB_CONCURRENCY": "1",
    }
    with throwaway_database(env, tmp_path, "proxy"):
        for args in (
            ["migrate", "--noinput"],
            ["load_plan"],
            ["collectstatic", "--noinput"],
            ["create_secretariat", "--username", "jimu1", "--display-name", "事務局"],
        ):
            result = _manage(*args, env=env)
            assert result.returncode == 0, f"{args}: {result.stderr}"
        (port,) = _free_ports(1)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "deploy/gunicorn.conf.py",
                "--bind",
                f"{PROXY}:{port}",
            ],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _wait_healthy(port, proc)
            yield {"port": port, "proc": proc, "password": env["SECRETARIAT_PASSWORD"]}
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.mark.slow
def test_gunicorn_behind_the_proxy_locks_the_user_only_for_the_attackers_address(
    gunicorn_behind_proxy,
):
    port, password = gunicorn_behind_proxy["port"], gunicorn_behind_proxy["password"]
    attacker = _ThroughProxy(port, ATTACKER)
    statuses = [attacker.login("jimu1", "wrong-password") for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    assert attacker.login("jimu1", password) == 429

    assert _ThroughProxy(port, COLLEAGUE).login("jimu1", password) == 302

    proc = gunicorn_behind_proxy["proc"]
    proc.terminate()
    _, stderr = proc.communicate(timeout=20)
    logged = [
        (line["method"], line["status"], line["client_ip"])
        for line in map(json.loads, re.findall(r"^\{.*\}$", stderr, re.M))
        if line.get("logger") == "kahoku_dx.request" and line["path"] == "/accounts/login/"
    ]
    assert ("POST", 429, ATTACKER) in logged
    assert ("POST", 302, COLLEAGUE) in logged
    assert {ip for _, _, ip in logged} == {ATTACKER, COLLEAGUE}  # never the proxy's 127.0.0.1
