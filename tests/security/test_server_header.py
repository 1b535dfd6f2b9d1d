"""Probe 15 (the header part): production gunicorn sent `Server: gunicorn`.

gunicorn has no setting for it; deploy/gunicorn.conf.py drops the header from the
response head gunicorn writes. Checked against a real gunicorn started with that file.
"""

from __future__ import annotations

import os
import socket

import pytest

from tests.security.live_site import Browser, gunicorn

pytestmark = pytest.mark.slow


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_gunicorn_sends_no_server_header(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DJANGO_ENV", "DATABASE_URL"}},
        "DEBUG": "false",
        "SQLITE_PATH": str(tmp_path / "empty.sqlite3"),
        "UPLOAD_STASH_DIR": str(tmp_path / "imports"),
    }
    with gunicorn(env) as port:
        for path, status in (("/healthz", 200), ("/accounts/login/", 200), ("/", 302)):
            response, _ = Browser(port).request("GET", path)
            assert response.status == status
            headers = {name.lower() for name, _ in response.getheaders()}
            assert "server" not in headers, (path, response.getheaders())
            assert "date" in headers  # the rest of gunicorn's head is still there

        # gunicorn's own answers (a request it cannot parse) never carried one; still none.
        head = _raw(port, b"NOT HTTP\r\n\r\n").split(b"\r\n\r\n", 1)[0]
        assert head.startswith(b"HTTP/1.1 400")
        assert b"\r\nserver:" not in head.lower()

        # HTTP/1.0 and HEAD take the same path.
        head = _raw(port, b"HEAD /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200")
        assert b"\r\nserver:" not in head.lower()
