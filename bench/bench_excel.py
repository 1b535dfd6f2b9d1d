"""Excel benchmark (issue 4): prints figures; not a timed test.

    python bench/bench_excel.py            # SQLite (in-memory test database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kahoku_dx python bench/bench_excel.py

Runs in a throw-away test database (test_<name>), so it never touches real data.
"""

from __future__ import annotations

import io
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
REPEATS = max(3, int(os.environ.get("BENCH_REPEATS", 3)))
EXPORT_ONLY = os.environ.get("BENCH_EXPORT_ONLY") == "1"  # part 3 alone


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


def reset_peak() -> None:
    """Make ru_maxrss count from the memory in use now: collect, give the free heap back,
    reset the high-water mark (Linux /proc/self/clear_refs). Without it a child counts from
    its start-up's (or its parent's) high-water mark and can reuse freed memory unseen."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def reader_child(path: str, engine: str) -> None:
    """Runs in a fresh process so that ru_maxrss is this reader's own peak."""
    import resource
    import tracemalloc

    import django

    django.setup()
    from portal_lib.sheet_reading import iter_rows, validate_upload

    data = Path(path).read_bytes()
    reset_peak()
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


def forked(fn):
    """Run ``fn`` in a forked child: (its result, its peak RSS growth in MiB, seconds)."""
    import json
    import resource

    from django.db import connection

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(read)
            if connection.vendor == "postgresql":
                connection.connection = None  # a socket of its own
            reset_peak()
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            t = time.perf_counter()
            value = fn()
            seconds = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            with os.fdopen(write, "w") as fh:
                json.dump([value, (after - before) / 1024, seconds], fh)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as fh:
        text = fh.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0 and text, "child failed"
    return tuple(__import__("json").loads(text))


def stats(times: list[float]) -> str:
    import statistics

    return f"min {min(times):7.2f} s, median {statistics.median(times):7.2f} s"


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def export_part(plan, inits, codes) -> float:
    """Part 3: the BIG_ROWS-row progress export with its print layout (export_xlsx) against
    django-import-export's export of the same rows; each run in a forked child (peak RSS
    growth), REPEATS times in alternating order. Returns the ratio of the medians."""
    import statistics
    import tempfile

    from django.conf import settings
    from django.db import transaction
    from import_export.formats.base_formats import XLSX

    from initiatives.models import ProgressEntry
    from initiatives.resources import ProgressEntryResource
    from reporting.exchange import export, sheets

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
    del objs

    def ours_export() -> int:
        with tempfile.TemporaryFile() as fh:
            export.export_xlsx(sheets.PROGRESS, plan, fh)
            return fh.tell()

    def ours_csv() -> int:
        return sum(len(b) for b in export.export_csv_chunks(sheets.PROGRESS, plan))

    def theirs_export() -> int:
        qs = ProgressEntry.objects.select_related("initiative__policy")
        return len(XLSX().export_data(ProgressEntryResource().export(queryset=qs)))

    runs: dict[str, list[tuple[int, float, float]]] = {
        "ours xlsx": [],
        "ours csv": [],
        "import-export xlsx": [],
    }
    fns = {"ours xlsx": ours_export, "ours csv": ours_csv, "import-export xlsx": theirs_export}
    names = list(runs)
    print(f"\n{BIG_ROWS:,}-row progress export, DEBUG={settings.DEBUG}, load before: {load()}")
    for n in range(REPEATS):
        for name in names if n % 2 == 0 else names[::-1]:  # alternate the order
            runs[name].append(forked(fns[name]))
    print(f"  load after: {load()}")
    print(f"  (each run in a forked child; {REPEATS} runs each; peak RSS growth):")
    for name in names:
        size = runs[name][0][0]
        times = [r[2] for r in runs[name]]
        peaks = [r[1] for r in runs[name]]
        print(
            f"  {name:20s} {stats(times)}, peak RSS +{statistics.median(peaks):.0f} MiB median "
            f"(max +{max(peaks):.0f}), {size / 2**20:.1f} MiB; runs "
            + " ".join(f"{t:.1f}" for t in times)
        )
    med = {k: statistics.median(r[2] for r in v) for k, v in runs.items()}
    ratio = med["ours xlsx"] / med["import-export xlsx"]
    peak = max(r[1] for r in runs["ours xlsx"])
    print(
        f"  export ratio (medians) export_xlsx / import-export = {ratio:.2f} (goal <= 0.5), "
        f"export_xlsx peak RSS +{peak:.0f} MiB (goal <= 60)"
    )
    return ratio


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.test.utils import setup_test_environment
    from import_export.formats.base_formats import XLSX

    setup_test_environment()
    settings.DEBUG = False  # no query log: the figures are a production process's
    settings.MAX_UPLOAD_BYTES = 200 * 1024 * 1024
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from python_calamine import CalamineWorkbook
        from simple_history.utils import bulk_create_with_history

        from initiatives.models import ProgressEntry, ProgressStatus
        from initiatives.resources import ProgressEntryResource
        from plans.models import Plan
        from portal_lib.sheet_writing import stream_workbook
        from reporting.exchange import columns, sheets, writer
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
        print(
            f"database: {connection.vendor} ({connection.settings_dict['NAME']}); "
            f"DEBUG={settings.DEBUG}; {IMPORT_ROWS:,} import rows, {BIG_ROWS:,} export rows, "
            f"{REPEATS} repeats"
        )

        if EXPORT_ONLY:
            export_part(plan, columns.Context.load(plan).initiatives, codes)
            return
        rows = progress_rows(codes, IMPORT_ROWS)
        data = stream_workbook([("進捗記録", sheets.PROGRESS.header(), rows)])
        tables = [ProgressEntry._meta.db_table, ProgressEntry.history.model._meta.db_table]

        def clear() -> None:
            """Empty the entries and their history without .delete() (no "-" history rows,
            no per-row work): TRUNCATE on PostgreSQL, DELETE without WHERE on SQLite
            (its truncate optimisation)."""
            with connection.cursor() as cur:
                if connection.vendor == "postgresql":
                    cur.execute("TRUNCATE " + ", ".join(tables))
                else:
                    for table in tables:
                        cur.execute(f'DELETE FROM "{table}"')  # model table names, not input

        status_of = {str(label): value for value, label in ProgressStatus.choices}
        inits = columns.Context.load(plan).initiatives

        def project() -> None:
            """What the confirm button runs: read, validate every row, write in chunks with
            history, in one transaction."""
            writer.bulk_import(slug="progress", plan=plan, data=data, filename="p.xlsx", user=user)
            assert ProgressEntry.history.filter(history_user=user).count() == IMPORT_ROWS

        def floor() -> None:
            """The least any importer of this file must do: read it (calamine) and write
            the rows with their history in bulk; no validation, no messages."""
            sheet = (
                CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
            )
            objs = [
                ProgressEntry(
                    initiative=inits[r[0]],
                    entry_date=r[1],
                    fiscal_year=r[1].year - (r[1].month < 4),
                    status=status_of[r[2]],
                    percent=int(r[3]),
                    done_text=r[4],
                    next_steps=r[5],
                    issues_text=r[6],
                    author=user,
                )
                for r in sheet[1:]
            ]
            with transaction.atomic():
                bulk_create_with_history(objs, ProgressEntry, batch_size=2000, default_user=user)

        def import_export() -> None:
            dataset = XLSX().create_dataset(data)
            res = ProgressEntryResource().import_data(dataset, dry_run=False, raise_errors=True)
            assert not res.has_validation_errors()

        times: dict[str, list[float]] = {"project": [], "floor": [], "import-export": []}
        order = list(times)
        for n in range(REPEATS):
            for name in order if n % 2 == 0 else order[::-1]:  # alternate the order
                fn = {"project": project, "floor": floor, "import-export": import_export}[name]
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
                assert ProgressEntry.objects.count() == IMPORT_ROWS, name
                clear()

        print(f"\n{IMPORT_ROWS:,}-row progress import (read, validate, write, history):")
        for name, label in (
            ("project", "project (writer.bulk_import)"),
            ("floor", "floor (calamine + bulk_create_with_history)"),
            ("import-export", "django-import-export import_data"),
        ):
            med = sorted(times[name])[len(times[name]) // 2]
            print(f"  {label:45s} {stats(times[name])} = {IMPORT_ROWS / med:,.0f} rows/s")

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

        # --- 100,000-row export: time and peak memory, each in a forked child ------------
        export_ratio = export_part(plan, inits, codes)

        # --- 100,000-row import: preview and confirm, peak memory in a forked child --------
        clear()  # the export's rows go (TRUNCATE on PostgreSQL)
        big_upload = big  # the same file as the read above

        def ours_preview() -> int:
            r = parse_import(sheets.PROGRESS, big_upload, "big.xlsx", plan=plan, user=user)
            return r.counts()["added"]

        def ours_confirm() -> int:
            writer.bulk_import(
                slug="progress", plan=plan, data=big_upload, filename="big.xlsx", user=user
            )
            return ProgressEntry.objects.count()

        print(f"\n{BIG_ROWS:,}-row progress import (forked child each; peak RSS growth):")
        for name, fn in (
            ("preview (parse_import)", ours_preview),
            ("confirm (bulk_import)", ours_confirm),
        ):
            count, peak, seconds = forked(fn)
            print(f"  {name:24s} {seconds:7.2f} s, peak RSS +{peak:.0f} MiB ({count:,} rows)")
        clear()

        med = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
        print("\nratios (medians; < 1 means faster):")
        print(f"  import: project / floor         = {med['project'] / med['floor']:.2f}")
        print(
            f"  import: project / import-export = {med['project'] / med['import-export']:.3f}"
            f" (import-export / project = {med['import-export'] / med['project']:.0f}x)"
        )
        print(f"  export: project / import-export = {export_ratio:.2f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--read":
        reader_child(sys.argv[2], sys.argv[3])
    else:
        main()
