"""Helpers for tests that run the portal as a real server process (gunicorn, runserver).

Such a process cannot use the suite's test database, so it gets a throwaway one of the same
kind: a PostgreSQL database beside the suite's when DATABASE_URL names one, else a SQLite
file in the test's tmp_path.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def exchange(
    conn: Any, method: str, path: str, data: str | None, headers: dict, cookies: dict
) -> tuple[Any, str]:
    """One request on ``conn`` (an http.client connection, closed after): the response and
    its text, with the cookies it sets kept in ``cookies`` (a test client's cookie jar)."""
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            cookies[name] = rest.split(";", 1)[0]
    conn.close()
    return response, text


@contextmanager
def throwaway_database(env: dict[str, str], tmp_path: Path, suffix: str) -> Iterator[Any]:
    """Point ``env`` at a fresh database; yields the parsed PostgreSQL settings (or None).
    The PostgreSQL database is dropped afterwards."""
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(tmp_path / f"{suffix}.sqlite3")
        yield None
        return
    pg = dj_database_url.parse(url)
    pg_args = ["-h", pg["HOST"] or "127.0.0.1", "-p", str(pg["PORT"] or 5432), "-U", pg["USER"]]
    name = f"{pg['NAME']}_{suffix}"
    subprocess.run(["dropdb", *pg_args, "--if-exists", name], check=True)
    subprocess.run(["createdb", *pg_args, name], check=True)
    env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + name
    try:
        yield pg
    finally:
        subprocess.run(["dropdb", *pg_args, "--if-exists", "--force", name], check=False)
