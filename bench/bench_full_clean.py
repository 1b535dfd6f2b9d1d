"""Does the import engine's hand-made FullClean still earn its place (issue 24)?

    BENCH_IMPORT_ROWS=10000 python bench/bench_full_clean.py

Times the confirm of a 10,000-row progress import (writer.bulk_import: read, validate,
write with history, one transaction) with the engine's ``FullClean`` and with the model's
own ``full_clean()`` in its place, alternating, and prints the medians, the difference as a
share of the import, and the machine load. The rule: keep the simpler one (full_clean)
unless FullClean saves more than 5 % of the import. Runs in a throw-away test database.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kahoku_dx.settings")

from bench.bench_excel import progress_rows  # noqa: E402

IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", 10_000))
REPEATS = max(3, int(os.environ.get("BENCH_REPEATS", 5)))


class PlainFullClean:
    """What FullClean stands in for: the model's own full_clean() on each object."""

    def __init__(self, model, exclude) -> None:
        self.exclude = list(exclude)

    def __call__(self, obj) -> None:
        obj.full_clean(exclude=self.exclude, validate_unique=False, validate_constraints=False)


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    settings.DEBUG = False
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from initiatives.models import ProgressEntry
        from plans.models import Plan
        from portal_lib.sheet_writing import stream_workbook
        from reporting.exchange import columns, engine, sheets, writer
        from reporting.services.loading import plan_load_file
        from workgroups.models import StaffProfile
        from workgroups.services import staff_create

        plan_load_file()
        plan = Plan.objects.get()
        user = staff_create(
            username="bench",
            password="bench-Pass-2026-x",
            role=StaffProfile.Role.SECRETARIAT,
            section=None,
            display_name="bench",
            email="bench@example.invalid",
        )
        codes = sorted(columns.Context.load(plan).initiatives)
        data = stream_workbook(
            [("進捗記録", sheets.PROGRESS.header(), progress_rows(codes, IMPORT_ROWS))]
        )
        tables = [ProgressEntry._meta.db_table, ProgressEntry.history.model._meta.db_table]

        def clear() -> None:
            with connection.cursor() as cur:
                if connection.vendor == "postgresql":
                    cur.execute("TRUNCATE " + ", ".join(tables))
                else:
                    for table in tables:
                        cur.execute(f'DELETE FROM "{table}"')

        hand_made = engine.FullClean
        # The validation alone, in CPU seconds (what machine load disturbs least): each of
        # IMPORT_ROWS new entries checked by FullClean and by full_clean().
        from datetime import date, timedelta

        inits = list(columns.Context.load(plan).initiatives.values())
        statuses = ["not_started", "on_track", "delayed", "on_track"]

        def entries() -> list:
            return [
                ProgressEntry(
                    initiative=inits[i % len(inits)],
                    entry_date=date(2021, 4, 1) + timedelta(days=i // len(inits)),
                    fiscal_year=2021,
                    status=statuses[i % 4],
                    percent=(i * 7) % 100,
                    done_text=f"実施内容 {i}",
                    next_steps="次の予定",
                    issues_text="特になし",
                    author=user,
                )
                for i in range(IMPORT_ROWS)
            ]

        cpu: dict[str, list[float]] = {"FullClean": [], "full_clean()": []}
        for _ in range(REPEATS):
            for name, cls in (("FullClean", hand_made), ("full_clean()", PlainFullClean)):
                objs = entries()
                check = cls(ProgressEntry, sheets.PROGRESS.fk_fields)
                t = time.process_time()
                for obj in objs:
                    check(obj)
                cpu[name].append(time.process_time() - t)
        for name, values in cpu.items():
            print(f"  validation only, {name:13s} median {statistics.median(values):6.3f} s CPU")
        if os.environ.get("BENCH_PART") == "validate":
            return
        times: dict[str, list[float]] = {"FullClean": [], "full_clean()": []}
        for n in range(REPEATS):
            order = list(times) if n % 2 == 0 else list(times)[::-1]
            for name in order:
                engine.FullClean = hand_made if name == "FullClean" else PlainFullClean
                t = time.perf_counter()
                writer.bulk_import(
                    slug="progress", plan=plan, data=data, filename="p.xlsx", user=user
                )
                times[name].append(time.perf_counter() - t)
                assert ProgressEntry.objects.count() == IMPORT_ROWS
                clear()
        engine.FullClean = hand_made
        med = {k: statistics.median(v) for k, v in times.items()}
        print(
            f"database: {connection.vendor}; {IMPORT_ROWS:,} rows, {REPEATS} repeats; "
            f"load average {os.getloadavg()}"
        )
        for name, values in times.items():
            print(f"  {name:13s} median {med[name]:6.2f} s (min {min(values):.2f} s)")
        saved = med["full_clean()"] - med["FullClean"]
        print(
            f"  FullClean saves {saved:.2f} s = {saved / med['full_clean()'] * 100:.1f} % "
            "of the import with full_clean()"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
