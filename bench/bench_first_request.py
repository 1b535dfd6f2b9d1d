"""The first request of a fresh server process, warmed (kahoku_dx.wsgi) and not warmed.

    python bench/bench_first_request.py [--runs 5] [--path /accounts/login/]

Each run starts a new Python process that loads the application as gunicorn does and times
one GET of --path with Django's test client, alternately:
- warmed: ``import kahoku_dx.wsgi`` (which calls kahoku_dx.warmup.warm());
- cold: ``django.core.wsgi.get_wsgi_application()`` alone, as the WSGI module did before.
Prints min and median of the start (the import) and of the first request, and the load
average before and after. The login page reads no database; any other --path needs
DATABASE_URL (or SQLITE_PATH) pointing at a migrated database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kahoku_dx.settings")
os.environ["DEBUG"] = "false"
t = time.perf_counter()
if sys.argv[1] == "warmed":
    import kahoku_dx.wsgi
else:
    from django.core.wsgi import get_wsgi_application
    get_wsgi_application()
start = time.perf_counter() - t
import logging
logging.disable(logging.WARNING)
from django.conf import settings
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
from django.test import Client
t = time.perf_counter()
status = Client().get(sys.argv[2]).status_code
first = time.perf_counter() - t
print(json.dumps({"start": start, "first": first, "status": status}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--path", default="/accounts/login/")
    args = parser.parse_args()
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    results: dict[str, list[dict[str, float]]] = {"cold": [], "warmed": []}
    for n in range(args.runs):
        for kind in ("cold", "warmed") if n % 2 == 0 else ("warmed", "cold"):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, kind, args.path],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            assert row["status"] == 200, row
            results[kind].append(row)
    print(f"{'':8} {'start min/median ms':>20} {'first request min/median ms':>28}")
    for kind, rows in results.items():
        start = [r["start"] * 1000 for r in rows]
        first = [r["first"] * 1000 for r in rows]
        print(
            f"{kind:8} {min(start):9.0f} / {statistics.median(start):6.0f}"
            f" {min(first):17.0f} / {statistics.median(first):6.0f}"
        )
    cold = statistics.median(r["first"] for r in results["cold"])
    warm = statistics.median(r["first"] for r in results["warmed"])
    print(f"first request, warmed / cold: {warm / cold:.2f}")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
