"""Excel benchmark (issue 4): prints figures; not a timed test.

    python bench/bench_excel.py            # SQLite (in-memory test database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kahoku_dx python bench/bench_excel.py

Runs in a throw-away test database (test_<name>), so it never touches real data.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kahoku_dx.settings")

IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", 10_000))
BIG_ROWS = int(os.environ.get("BENCH_BIG_ROWS", 100_000))


def progress_rows(codes: list[str], n: int) -> list[list]:
    start = date(2021, 4, 1)
    statuses = ["未着手", "順調", "遅れ", "順調"]
    return [
        [
            codes[i % len(codes)],
            start + timedelta(days=i // len(codes)),
            statuses[i % 4],
            (i * 7) % 100,
            f"実施内容 {i}",
            "次の予定",
            "特になし",
        ]
        for i in range(n)
    ]


def reader_child(path: str, engine: str) -> None:
    """Runs in a fresh process so that ru_maxrss is this reader's own peak."""
    import resource
    import tracemalloc

    import django

    django.setup()
    from kahoku_dx.spreadsheets import iter_rows, validate_upload

    data = Path(path).read_bytes()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t = time.perf_counter()
    kind = validate_upload(data, "big.xlsx")
    checks = time.perf_counter() - t
    count = sum(1 for _ in iter_rows(data, kind, engine=engine))
    elapsed = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"  {engine:9s}: {count:,} rows in {elapsed:.2f} s (safety checks {checks:.2f} s), "
        f"Python-heap peak {peak / 2**20:.1f} MiB, process peak RSS {peak_rss / 1024:.0f} MiB "
        f"(+{(peak_rss - base) / 1024:.0f} MiB over Django start-up; file {len(data) / 2**20:.1f} MiB)"
    )


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import setup_test_environment
    from import_export.formats.base_formats import XLSX

    setup_test_environment()
    settings.MAX_UPLOAD_BYTES = 200 * 1024 * 1024
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from initiatives.models import ProgressEntry
        from initiatives.resources import ProgressEntryResource
        from kahoku_dx.spreadsheets import stream_workbook
        from plans.models import Plan
        from reporting.exchange import columns, export, sheets, writer
        from reporting.exchange.engine import parse_import
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
        print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")

        rows = progress_rows(codes, IMPORT_ROWS)
        data = stream_workbook([("進捗記録", sheets.PROGRESS.header(), rows)])

        def clear() -> None:
            ProgressEntry.objects.all().delete()  # records "-" history rows, so clear after
            ProgressEntry.history.all().delete()

        # --- ours: read + validate + bulk write with history ------------------------------
        t = time.perf_counter()
        result = parse_import(sheets.PROGRESS, data, "p.xlsx", plan=plan, user=user)
        t_validate = time.perf_counter() - t
        writer.import_apply(result, user=user)
        ours = time.perf_counter() - t
        assert ProgressEntry.objects.count() == IMPORT_ROWS
        assert ProgressEntry.history.filter(history_user=user).count() == IMPORT_ROWS
        clear()

        # --- django-import-export default row-by-row import of the same file ------------
        t = time.perf_counter()
        dataset = XLSX().create_dataset(data)
        res = ProgressEntryResource().import_data(dataset, dry_run=False, raise_errors=True)
        theirs = time.perf_counter() - t
        assert not res.has_validation_errors() and ProgressEntry.objects.count() == IMPORT_ROWS
        their_history = ProgressEntry.history.count()
        clear()

        print(f"\n{IMPORT_ROWS:,}-row progress import (read, validate, write, history):")
        print(
            f"  ours (parse_import + bulk_create_with_history): {ours:.2f} s = "
            f"{IMPORT_ROWS / ours:,.0f} rows/s (validation {t_validate:.2f} s)"
        )
        print(
            f"  django-import-export default import_data:          {theirs:.2f} s = "
            f"{IMPORT_ROWS / theirs:,.0f} rows/s ({their_history:,} history records)"
        )
        print(f"  ratio: {theirs / ours:.1f}x")

        # --- 100,000-row read: bounded memory -----------------------------------------
        big = stream_workbook(
            [("進捗記録", sheets.PROGRESS.header(), progress_rows(codes, BIG_ROWS))]
        )
        path = Path(os.environ.get("TMPDIR", "/tmp")) / "kahoku_bench_big.xlsx"
        path.write_bytes(big)
        print(f"\n{BIG_ROWS:,}-row file read (streaming, after the safety checks):")
        for engine in ("calamine", "openpyxl"):
            subprocess.run([sys.executable, __file__, "--read", str(path), engine], check=True)
        path.unlink()

        # --- 100,000-row export ------------------------------------------------------------
        inits = columns.Context.load(plan).initiatives
        objs = [
            ProgressEntry(
                initiative=inits[r[0]],
                entry_date=r[1],
                fiscal_year=r[1].year - (r[1].month < 4),
                status="on_track",
                percent=r[3],
                done_text=r[4],
                next_steps=r[5],
            )
            for r in progress_rows(codes, BIG_ROWS)
        ]
        with transaction.atomic():
            ProgressEntry.objects.bulk_create(objs, batch_size=2000)  # setup only
        t = time.perf_counter()
        ours_x = export.export_xlsx(sheets.PROGRESS, plan)
        ours_export = time.perf_counter() - t
        t = time.perf_counter()
        qs = ProgressEntry.objects.select_related("initiative__policy")
        theirs_x = XLSX().export_data(ProgressEntryResource().export(queryset=qs))
        theirs_export = time.perf_counter() - t
        print(f"\n{BIG_ROWS:,}-row progress export to xlsx:")
        print(
            f"  ours (openpyxl write-only, safe cells): {ours_export:.2f} s = "
            f"{BIG_ROWS / ours_export:,.0f} rows/s ({len(ours_x) / 2**20:.1f} MiB)"
        )
        print(
            f"  django-import-export export + XLSX:     {theirs_export:.2f} s = "
            f"{BIG_ROWS / theirs_export:,.0f} rows/s ({len(theirs_x) / 2**20:.1f} MiB)"
        )
        print(f"  ratio: {theirs_export / ours_export:.1f}x")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--read":
        reader_child(sys.argv[2], sys.argv[3])
    else:
        main()
