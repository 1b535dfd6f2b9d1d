"""Real processes for the outage probes: a redis-server of the test's own, gunicorn with
the production config, and a small cookie-keeping HTTP client.

Ports are picked by the kernel (bind to port 0), so these tests never take the shared
Redis on 6379 or another helper's server.
"""

from __future__ import annotations

import http.client
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings

from tests.servers import exchange

REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int, payload: bytes, expect: bytes) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(payload)
            return sock.recv(64).startswith(expect)
    except OSError:
        return False


class RedisServer:
    """A throwaway redis-server on a loopback port, nothing saved to disk."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            if _answers(self.port, b"PING\r\n", b"+PONG"):
                return
            time.sleep(0.05)
        raise AssertionError(f"redis-server :{self.port} が起動しません。")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc = None
        for _ in range(100):
            if not _answers(self.port, b"PING\r\n", b"+PONG"):
                return
            time.sleep(0.05)
        raise AssertionError(f"redis-server :{self.port} が止まりません。")


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[int]:
    """gunicorn with deploy/gunicorn.conf.py (one worker) on a free port; yields the port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py"],
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"},
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(200):
            if proc.poll() is not None:
                raise AssertionError(f"gunicorn が終了しました: {proc.stderr.read()}")
            if _answers(port, b"GET /healthz HTTP/1.0\r\n\r\n", b"HTTP/1."):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"gunicorn :{port} が起動しません。")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Browser:
    """Keeps cookies; plain HTTP to a server on 127.0.0.1."""

    def __init__(self, port: int, host: str | None = None):
        self.port = port
        self.host = host or f"127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: dict | None = None
    ) -> tuple[http.client.HTTPResponse, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": self.host}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = f"http://{self.host}{path}"
        return exchange(conn, method, path, data, headers, self.cookies)

    def login(self, username: str, password: str) -> tuple[http.client.HTTPResponse, str]:
        _, page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        return self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password},
        )
