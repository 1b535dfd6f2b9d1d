"""Dashboard server time against the Django admin's initiative changelist, same data, same run.

    python bench/bench_dashboard.py                      # fresh SQLite file in a temp dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kahoku_bench python bench/bench_dashboard.py

Creates the schema, the plan and the bench data (manage.py generate_bench_data) unless
--reuse is given, then times each page with Django's test client (server time only: no
network, no browser) and prints min / median milliseconds, the query count and the page size; each pair of
pages is requested ``--runs`` (≥ 3) times, the order alternated, with DEBUG off. On
PostgreSQL the tables are vacuumed and analysed first (as autovacuum leaves a production
database); the machine's load average is printed before and after.
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
    parser.add_argument("--runs", type=int, default=5, help="at least 3")
    parser.add_argument("--reuse", action="store_true", help="use the data already in the DB")
    args = parser.parse_args()
    args.runs = max(3, args.runs)

    if not os.environ.get("DATABASE_URL") and not os.environ.get("SQLITE_PATH"):
        os.environ["SQLITE_PATH"] = str(Path(tempfile.mkdtemp()) / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kahoku_dx.settings")
    os.environ["DEBUG"] = "false"

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
        # Start from empty tables: flush is TRUNCATE on PostgreSQL (SQLite: a fresh file).
        call_command("flush", interactive=False, verbosity=0)
        call_command("load_plan", verbosity=0)
        call_command(
            "generate_bench_data",
            initiatives=args.initiatives,
            entries=args.entries,
        )
        print(f"data set up in {time.perf_counter() - t0:.1f}s")
    if connection.vendor == "postgresql":
        # A production database's tables have statistics and a visibility map (autovacuum);
        # freshly bulk-loaded ones have neither until autovacuum comes by, which makes the
        # timings depend on when it did. Give them both, the same for every side of an A/B.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    from django.contrib import admin
    from django.contrib.auth import get_user_model

    settings.DEBUG = False  # no query log, production templates: a production process's figures
    import logging

    logging.getLogger("kahoku_dx.request").setLevel(logging.WARNING)  # one line per request
    user = get_user_model().objects.filter(username="bench-secretariat").first()
    if user is None:
        user = staff_create(username="bench-secretariat", role=StaffProfile.Role.SECRETARIAT)
    client = Client()
    client.force_login(user)

    fy = 2026
    count = Initiative.objects.count()
    # The admin changelist shows every initiative only up to list_max_show_all (default
    # 200): raise it so that "all" is the same number of initiatives the dashboard rolls up.
    admin.site._registry[Initiative].list_max_show_all = count + 1
    pairs = [
        (
            ("dashboard", f"/plan/dashboard/?fy={fy}"),
            ("admin changelist, all initiatives", "/admin/initiatives/initiative/?all="),
        ),
        (
            ("initiative list, page 1", "/initiatives/"),
            ("admin changelist, page 1", "/admin/initiatives/initiative/"),
        ),
    ]
    db = connection.vendor
    history = ProgressEntry.history.count()
    print(
        f"database: {db}; DEBUG={settings.DEBUG}; initiatives: {count}; "
        f"progress entries: {ProgressEntry.objects.count()} (history rows {history}); "
        f"{args.runs} runs per page, order alternated"
    )

    def fetch(url: str) -> tuple[float, int, int]:
        counted: list[str] = []
        with connection.execute_wrapper(_counter(counted)):
            t = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - t) * 1000
        assert response.status_code == 200, (url, response.status_code)
        return elapsed, len(counted), len(response.content)

    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"{'page':36} {'min ms':>8} {'median ms':>10} {'queries':>8} {'KB':>6}")
    for pair in pairs:
        for _, url in pair:
            fetch(url)  # warm-up (templates, caches)
        results: dict[str, list[tuple[float, int, int]]] = {label: [] for label, _ in pair}
        for n in range(args.runs):
            for label, url in pair if n % 2 == 0 else pair[::-1]:
                results[label].append(fetch(url))
        for label, _ in pair:
            times = [r[0] for r in results[label]]
            queries = {r[1] for r in results[label]}
            size = results[label][0][2] / 1024
            print(
                f"{label:36} {min(times):8.1f} {statistics.median(times):10.1f} "
                f"{'/'.join(map(str, sorted(queries))):>8} {size:6.0f}"
            )
        a, b = (statistics.median(r[0] for r in results[label]) for label, _ in pair)
        print(f"  ratio {pair[0][0]} / {pair[1][0]}: {a / b:.2f}")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
