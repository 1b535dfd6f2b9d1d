"""Backup and restore as docs/deploy.md describes them, checked by restoring into a fresh
database and comparing every table.

PostgreSQL (DATABASE_URL set): `pg_dump -Fc` of the test database, `pg_restore` into a
throwaway `<name>_restore` database, then every table's row count and content digest
compared. SQLite: `make_backup` (encrypted, ids kept), `migrate` + `restore_backup` into a
fresh file, then a `dumpdata` of the restored file compared with one of the original.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from initiatives.models import ProgressEntry
from portal_lib.backup_seal import new_key
from tests.factory import initiative, make_personas, make_progress, make_review

pytestmark = pytest.mark.slow

DUMPDATA_ARGS = [
    "--natural-foreign",
    "--exclude=contenttypes",
    "--exclude=auth.permission",
    "--exclude=sessions",
    "--exclude=admin.logentry",
]


def _activity() -> None:
    personas = make_personas()
    ini = initiative("2.1")
    make_progress(
        ini,
        author=personas.member,
        status="on_track",
        percent=40,
        done_text="説明会を2回開催（参加者「延べ58名」）",
    )
    make_review(ini)


@pytest.mark.django_db(transaction=True)  # committed rows: pg_dump reads from its own session
def test_backup_restores_the_same_data_into_a_fresh_database(plan, tmp_path):
    _activity()
    assert ProgressEntry.objects.count() == 1
    if connection.vendor == "postgresql":
        _postgres_round_trip(tmp_path)
    else:
        _sqlite_round_trip(tmp_path)


def _run(args: list[str], env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        args,
        env=env or os.environ.copy(),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{args[:2]}: {result.stderr}"
    return result.stdout


def _sqlite_round_trip(tmp_path) -> None:
    key = new_key()
    backup = tmp_path / "portal_lib.backup"
    with override_settings(BACKUP_ENCRYPTION_KEY=[key]):
        call_command("make_backup", f"--output={backup}")
    dump = tmp_path / "backup.json"
    call_command("dumpdata", *DUMPDATA_ARGS, "--indent=1", f"--output={dump}")

    env = {**os.environ, "SQLITE_PATH": str(tmp_path / "restored.sqlite3")}
    env.pop("DATABASE_URL", None)
    env["DJANGO_ENV"] = "development"
    env["BACKUP_ENCRYPTION_KEY"] = key
    manage = [sys.executable, "manage.py"]
    _run([*manage, "migrate", "--noinput"], env)
    _run([*manage, "restore_backup", str(backup)], env)
    refused = subprocess.run(
        [*manage, "restore_backup", str(backup)],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0
    assert "復元先のデータベースが空ではありません。" in refused.stderr
    again = tmp_path / "again.json"
    _run([*manage, "dumpdata", *DUMPDATA_ARGS, "--indent=1", f"--output={again}"], env)

    original = json.loads(_same_precision(dump.read_text(encoding="utf-8")))
    copy = json.loads(_same_precision(again.read_text(encoding="utf-8")))
    assert len(original) > 300
    missing = sorted(set(map(json.dumps, original)) - set(map(json.dumps, copy)))
    extra = sorted(set(map(json.dumps, copy)) - set(map(json.dumps, original)))
    assert (missing[:3], extra[:3]) == ([], [])
    assert len(copy) == len(original)
    entries = [o for o in copy if o["model"] == "initiatives.progressentry"]
    assert [e["fields"]["done_text"] for e in entries] == ["説明会を2回開催（参加者「延べ58名」）"]


def _same_precision(text: str) -> str:
    """dumpdata writes times to the millisecond and drops a fraction that is zero: a time
    whose microseconds were below 1,000 is written `…:54.000Z` once and `…:54Z` after the
    round trip. Both mean the same instant."""
    return re.sub(r'(T\d{2}:\d{2}:\d{2})(Z|[+-]\d{2}:\d{2})"', r'\1.000\2"', text)


def _postgres_round_trip(tmp_path) -> None:
    import psycopg

    db = connection.settings_dict
    source = db["NAME"]
    restore = source.removeprefix("test_") + "_restore"
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    common = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"]]
    dump = tmp_path / "backup.dump"
    _run(["pg_dump", *common, "--format=custom", f"--file={dump}", source], env)
    _run(["dropdb", *common, "--if-exists", restore], env)
    _run(["createdb", *common, restore], env)
    try:
        _run(
            [
                "pg_restore",
                *common,
                "--no-owner",
                "--exit-on-error",
                f"--dbname={restore}",
                str(dump),
            ],
            env,
        )
        original = _table_digests(psycopg, db, source)
        copy = _table_digests(psycopg, db, restore)
        assert copy == original
        assert original["initiatives_progressentry"][0] == 1
        assert original["initiatives_initiative"][0] > 10
        conninfo = _conninfo(db, restore)
        with psycopg.connect(conninfo) as conn:
            row = conn.execute("SELECT done_text FROM initiatives_progressentry").fetchone()
        assert row == ("説明会を2回開催（参加者「延べ58名」）",)
    finally:
        _run(["dropdb", *common, "--if-exists", restore], env)


def _conninfo(db: dict, name: str) -> str:
    parts = {
        "host": db["HOST"] or "127.0.0.1",
        "port": str(db["PORT"] or 5432),
        "user": db["USER"],
        "dbname": name,
    }
    if db.get("PASSWORD"):
        parts["password"] = db["PASSWORD"]
    return " ".join(f"{k}={v}" for k, v in parts.items())


def _table_digests(psycopg, db: dict, name: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of every row of every table."""
    out = {}
    with psycopg.connect(_conninfo(db, name)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        for table in tables:
            out[table] = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM "{table}" t'
            ).fetchone()
    return out
