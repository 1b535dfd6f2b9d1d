"""A server process is warm before its first request (kahoku_dx/warmup.py): the WSGI module
imports the URLconf with every view, compiles the common templates and loads the catalogues
at start, so the first visitor of each gunicorn worker (after every deploy and every
``max_requests`` recycling) does not wait for them."""

from __future__ import annotations

import json
import subprocess
import sys

from django.conf import settings

PROBE = r"""
import json, sys, time
import kahoku_dx.wsgi  # what gunicorn imports
from django.template import engines
from django.urls import get_resolver
from django.utils.translation import trans_real
engine = engines["django"].engine
cached = set()
for loader in engine.template_loaders:
    cached |= {key.split("-")[0] for key in getattr(loader, "get_template_cache", {})}
print(json.dumps({
    "views": sorted(m for m in sys.modules if m.endswith(".views") or ".views." in m),
    "populated": get_resolver()._populated,
    "templates": sorted(cached),
    "catalogues": sorted(trans_real._translations),
}))
"""


def _probe(env_extra: dict[str, str]) -> dict:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "kahoku_dx.settings",
        "DEBUG": "false",
        "SQLITE_PATH": "/nonexistent/dir/no.sqlite3",  # no database is read at start
        **env_extra,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_wsgi_module_warms_the_process_without_a_database():
    state = _probe({})
    assert "reporting.views.dashboard" in state["views"]
    assert "initiatives.views" in state["views"]
    assert state["populated"] is True
    for name in ("base.html", "registration/login.html", "reporting/dashboard.html"):
        assert name in state["templates"], state["templates"]
    assert {"ja", "en"} <= set(state["catalogues"])


def test_a_failing_warm_up_does_not_stop_the_worker():
    """A broken piece is logged; the worker still starts (its first request loads it)."""
    probe = PROBE.replace(
        "import kahoku_dx.wsgi  # what gunicorn imports",
        "import django.urls\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError('no urlconf')\n"
        "django.urls.get_resolver = boom\n"
        "import kahoku_dx.warmup\n"
        "kahoku_dx.warmup.get_resolver = boom\n"
        "import kahoku_dx.wsgi",
    )
    done = subprocess.run(
        [sys.executable, "-c", probe.split("print(json.dumps")[0] + "print('started')"],
        cwd=settings.BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "kahoku_dx.settings",
            "DEBUG": "false",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("started")
    assert "warm-up failed" in done.stderr
