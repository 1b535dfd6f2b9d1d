"""Reading a 100,000-row upload, safety checks included (issue 24): a time and a ratio.

    python bench/bench_upload_read.py [--rows 100000] [--runs 5] [--variant inline|shared|both]
                                      [--profile]

Generates the progress bulk sheet as bench/bench_excel.py does (its `progress_rows`, the
sheet's header; the initiative codes from the plan fixture, so no database is needed) in
two variants: "inline", the portal's own export (`stream_workbook`: openpyxl write-only,
inline strings), and "shared", the same rows written with XlsxWriter's normal mode the way
Excel saves a workbook (a shared-strings table, cells ``<c r="A2" t="s"><v>7</v></c>``,
rows with ``spans="1:7"``). For each variant (default both) it times, alternately, --runs
times each (DEBUG off):
- total: what the import path calls, `portal_lib.sheet_reading.read_upload` with the
  settings' limits (every check and the calamine read in the bounded reader process, rows
  streamed back), consumed to the last row;
- checks: the checks alone, `validate_upload` (in this process).
Prints min and median wall time of each, the median CPU time (both processes for the
total), the ratios checks / total (medians) and `uptime` before and after. ``--seconds``
(default 60) raises the reader's wall-clock bound for the run: on a busy machine the
default 8 s can stop a reading that only waits for a core. Goal: total <= 3 s, checks <= 20 % of it. ``--profile`` prints a cProfile of the
checks instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kahoku_dx.settings")


def initiative_codes() -> list[str]:
    """The plan's initiative codes ("1.1", "2.3", ...) as the bulk sheet carries them."""
    plan = json.loads((ROOT / "fixtures" / "kahoku_dx_plan.json").read_text(encoding="utf-8"))
    return sorted(
        f"{policy['number']}.{item['number']}"
        for policy in plan["policies"]
        for item in policy["initiatives"]
    )


def build_file(rows: int, variant: str = "inline") -> bytes:
    from bench_excel import progress_rows

    from portal_lib.sheet_writing import stream_workbook
    from reporting.exchange import sheets

    header, data = sheets.PROGRESS.header(), progress_rows(initiative_codes(), rows)
    if variant == "inline":
        return stream_workbook([("進捗記録", header, data)])
    import io

    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("進捗記録")
    dates = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, header)
    for i, row in enumerate(data, start=1):
        ws.write_row(i, 0, row[:1])
        ws.write_datetime(i, 1, row[1], dates)
        ws.write_row(i, 2, row[2:])
    wb.close()
    return out.getvalue()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--variant", choices=["inline", "shared", "both"], default="both")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from portal_lib.sheet_reading import ImportLimits, read_upload, validate_upload

    settings.DEBUG = False
    # On a busy machine the default wall-clock bound (8 s) can stop a reading that is only
    # waiting for a core: --seconds raises it for the measurement (the bound is not timed).
    settings.IMPORT_READER_SECONDS = args.seconds
    limits = ImportLimits.from_settings()
    variants = ["inline", "shared"] if args.variant == "both" else [args.variant]
    for variant in variants:
        data = build_file(args.rows, variant)
        print(
            f"\n[{variant}] {args.rows:,}-row progress sheet, {len(data) / 2**20:.2f} MiB; "
            f"DEBUG={settings.DEBUG}; limits {limits.max_rows:,} rows / "
            f"{limits.max_cells:,} cells; reader bound {settings.IMPORT_READER_MEMORY_MB} MB / "
            f"{settings.IMPORT_READER_SECONDS} s"
        )
        measure(data, args, limits, read_upload, validate_upload)


def measure(data: bytes, args: Any, limits: Any, read_upload: Any, validate_upload: Any) -> None:
    print(f"load before: {uptime()}")

    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.runcall(validate_upload, data, "big.xlsx", limits=limits)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
        return

    from portal_lib.sheet_reading import last_read

    cpu: dict[str, list[float]] = {"total (read_upload)": [], "checks (validate_upload)": []}

    def total() -> int:
        t = time.process_time()
        n = sum(1 for _ in read_upload(data, "big.xlsx", allow_csv=True, limits=limits))
        # CPU of both processes: this one (unpickling the rows) and the reader process
        cpu["total (read_upload)"].append(time.process_time() - t + last_read["cpu_seconds"])
        return n

    def checks() -> int:
        t = time.process_time()
        kind = validate_upload(data, "big.xlsx", allow_csv=True, limits=limits)
        cpu["checks (validate_upload)"].append(time.process_time() - t)
        return 1 if kind else 0

    fns = {"total (read_upload)": total, "checks (validate_upload)": checks}
    times: dict[str, list[float]] = {name: [] for name in fns}
    counts: dict[str, int] = {}
    names = list(fns)
    for n in range(args.runs):
        for name in names if n % 2 == 0 else names[::-1]:  # alternate the order
            t = time.perf_counter()
            counts[name] = fns[name]()
            times[name].append(time.perf_counter() - t)
    rows_read = counts["total (read_upload)"]
    assert rows_read == args.rows + 1, rows_read  # the header and every data row

    print(f"\n{args.runs} runs each ({rows_read:,} rows read, header included):")
    for name in names:
        print(
            f"  {name:26s} wall min {min(times[name]):6.2f} s, "
            f"median {statistics.median(times[name]):6.2f} s; "
            f"CPU median {statistics.median(cpu[name]):6.2f} s"
        )
    med_total = statistics.median(times[names[0]])
    med_checks = statistics.median(times[names[1]])
    cpu_ratio = statistics.median(cpu[names[1]]) / statistics.median(cpu[names[0]])
    print(
        f"\nratio checks / total (wall medians) = {med_checks / med_total:.2f}, "
        f"(CPU medians) = {cpu_ratio:.2f} (goal: total <= 3 s, ratio <= 0.20)"
    )
    print(f"load after: {uptime()}")


if __name__ == "__main__":
    main()
