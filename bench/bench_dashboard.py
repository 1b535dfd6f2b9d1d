"""Dashboard server time against the Django admin's initiative changelist, same data, same run.

    python bench/bench_dashboard.py                      # fresh SQLite file in a temp dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kahoku_bench python bench/bench_dashboard.py

Creates the schema, the plan and the bench data (manage.py generate_bench_data) unless
--reuse is given, then times each page with Django's test client (server time only: no
network, no browser) and prints median / max milliseconds and the query count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _counter(log: list[str]):
    def count(execute, sql, params, many, context):
        log.append(sql)
        return execute(sql, params, many, context)

    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--initiatives", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--reuse", action="store_true", help="use the data already in the DB")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL") and not os.environ.get("SQLITE_PATH"):
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kahoku_dx.settings")
    os.environ.setdefault("DEBUG", "false")

    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from initiatives.models import Initiative, ProgressEntry
    from workgroups.models import StaffProfile
    from workgroups.services import staff_create

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    if not args.reuse:
        t0 = time.perf_counter()
        call_command("migrate", verbosity=0)
        call_command("load_plan", verbosity=0)
        call_command(
            "generate_bench_data",
            initiatives=args.initiatives,
            entries=args.entries,
            reset=True,
        )
        print(f"data set up in {time.perf_counter() - t0:.1f}s")

    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username="bench-secretariat").first()
    if user is None:
        user = staff_create(username="bench-secretariat", role=StaffProfile.Role.SECRETARIAT)
    client = Client()
    client.force_login(user)

    fy = 2026
    pages = [
        ("dashboard (reporting:dashboard)", f"/plan/dashboard/?fy={fy}"),
        ("admin initiative changelist", "/admin/initiatives/initiative/"),
        ("admin changelist, all rows", "/admin/initiatives/initiative/?all="),
    ]
    db = connection.vendor
    history = ProgressEntry.history.count()
    print(
        f"database: {db}; initiatives: {Initiative.objects.count()}; "
        f"progress entries: {ProgressEntry.objects.count()} (history rows {history})"
    )
    print(f"{'page':34} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for label, url in pages:
        response = client.get(url)  # warm-up (templates, caches)
        assert response.status_code == 200, (url, response.status_code)
        counted: list[str] = []
        with connection.execute_wrapper(_counter(counted)):
            client.get(url)
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        print(f"{label:34} {statistics.median(times):10.1f} {max(times):8.1f} {len(counted):8d}")


if __name__ == "__main__":
    main()
