"""Installing without internet (LGWAN): `make bundle` on this machine, then the bundle's
install script inside a network namespace with no network at all (`unshare --net`), the
package index switched off and pointed at an address where nothing answers. The installed
portal must pass `check --deploy` with production settings and answer /healthz.

One test, about a minute (most of it pip installing ~40 wheels and the migrations); on the
PostgreSQL run it migrates a throwaway PostgreSQL database through its Unix socket (a
socket file reaches across network namespaces, 127.0.0.1 does not).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tarfile
from pathlib import Path

import pytest
from django.conf import settings

from tests.servers import throwaway_database

pytestmark = pytest.mark.slow

POSTGRES_SOCKET_DIR = "/var/run/postgresql"


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def _pins(requirements: Path) -> set[str]:
    pins = set()
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            name = re.sub(r"\[.*\]", "", name)
            pins.add(f"{re.sub(r'[-_.]+', '-', name).lower()}=={version}")
    return pins


def test_bundle_installs_with_no_network_and_passes_the_deploy_check(tmp_path):
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PIP_") and k not in {"DATABASE_URL", "DEBUG", "SQLITE_PATH"}
    }
    built = _run(["make", "-s", "bundle", f"DIST={tmp_path / 'dist'}"], base, settings.BASE_DIR)
    assert built.returncode == 0, built.stdout + built.stderr
    (archive,) = (tmp_path / "dist").glob("kahoku-dx-bundle-*.tar.gz")
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "server", filter="data")
    (bundle,) = (tmp_path / "server").iterdir()
    assert (bundle / "staticfiles" / "staticfiles.json").is_file()  # collected, hashed names
    assert (bundle / "deploy" / "install-offline.sh").is_file()

    env = {
        **base,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "dx-portal.city.kahoku.example",
        "PORTAL_BASE_URL": "https://dx-portal.city.kahoku.example",
        # The index is off, and were it asked anyway, nothing answers there.
        "PIP_NO_INDEX": "1",
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
    }
    with throwaway_database(env, tmp_path, "offline") as pg:
        if pg:
            assert os.path.isdir(POSTGRES_SOCKET_DIR), f"{POSTGRES_SOCKET_DIR} がありません"
            socket_dir = POSTGRES_SOCKET_DIR.replace("/", "%2F")
            name = env["DATABASE_URL"].rsplit("/", 1)[1]
            env["DATABASE_URL"] = f"postgres://{pg['USER']}@{socket_dir}/{name}"

        # The namespace really has no network: not even this machine's PostgreSQL port.
        probe = _run(
            [
                "unshare",
                "--net",
                "python3",
                "-c",
                "import socket;socket.create_connection(('127.0.0.1', 5432), timeout=3)",
            ],
            env,
            bundle,
        )
        assert probe.returncode != 0 and "unreachable" in probe.stderr, probe.stderr

        installed = _run(["unshare", "--net", "bash", "deploy/install-offline.sh"], env, bundle)
        assert installed.returncode == 0, installed.stdout + installed.stderr
        assert "System check identified no issues" in installed.stdout
        assert "インストールが終わりました" in installed.stdout

        python = str(bundle / ".venv" / "bin" / "python")
        # Exactly the pinned versions, from the bundle's own virtualenv.
        freeze = _run(
            [python, "-m", "pip", "freeze"], {**env, "PIP_CONFIG_FILE": os.devnull}, bundle
        )
        frozen = {
            re.sub(r"[-_.]+", "-", n).lower() + "==" + v
            for n, _, v in (line.partition("==") for line in freeze.stdout.split())
        }
        assert _pins(bundle / "requirements.txt") <= frozen
        where = _run([python, "-c", "import django; print(django.__file__)"], env, bundle)
        assert where.stdout.startswith(str(bundle / ".venv")), where.stdout

        check = _run(
            [python, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env, bundle
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert "System check identified no issues (0 silenced)." in check.stdout
        served = _run(
            [
                python,
                "manage.py",
                "shell",
                "--no-imports",
                "-c",
                "from django.test import Client; from django.templatetags.static import static;"
                "r = Client().get('/healthz', HTTP_HOST='dx-portal.city.kahoku.example');"
                "print(r.status_code, r.json()['checks']['database'], static('css/dashboard.css'))",
            ],
            env,
            bundle,
        )
        status, database, css = served.stdout.split()
        assert (status, database) == ("200", "ok"), served.stdout + served.stderr
        assert re.fullmatch(r"/static/css/dashboard\.[0-9a-f]{12}\.css", css)

    # A file changed after the build (on the way to the server) stops the install at once.
    (bundle / "BUNDLE-INFO").write_text((bundle / "BUNDLE-INFO").read_text() + "x\n")
    tampered = _run(["bash", "deploy/install-offline.sh"], env, bundle)
    assert tampered.returncode != 0
    assert "バンドルのファイルが壊れているか、書き換えられています。" in tampered.stderr
