"""Import bounds benchmark (issue 15 item 1): peak memory and time of the big-file probes.

    python bench/bench_import_limits.py            # SQLite (in-memory test database)
    python bench/bench_import_limits.py --bombs-only   # only issue 19's structural bombs
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kahoku_dx python bench/bench_import_limits.py

Builds the files of issue 15 in memory (the 2.46-million-row numeric sheet, 200,000 and
100,000 bad rows, a too-wide sheet, one shared string referenced 90,000 times, 150,000-row
CSV in UTF-8 and Shift_JIS, a valid 100,000-row sheet) and runs each through the import
engine in a forked child (tests/security/test_import_bounds.probe), printing the child's
peak RSS growth, CPU and wall time and the outcome. Goal: every probe <= PEAK_MB (120 MB,
issue 13) and the refusals <= 10 s.

Then issue 19's structural bombs (merged ranges on the roster and table 4-1, a capitalised
xl/SharedStrings.xml, <dimension ref>, the admin's 3M-row CSV and 100,000-row xlsx), each
through the path it attacked, with the worker's and the reader process's peak and the wall
time (goal: <= 150 MB each, <= 10 s).
Runs in a throw-away test database, so it never touches real data.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kahoku_dx.settings")


def main() -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0)
    try:
        from reporting.exchange import engine, sheets
        from tests.factory import load_plan
        from tests.security import test_import_bounds as b

        plan = load_plan()
        codes = b.codes_for_valid_rows(plan, 100_000)
        cases = [
            (
                "2,460,000 numeric rows (issue 15)",
                "big.xlsx",
                lambda: b.raw_xlsx(b.numeric_rows(2_460_000)),
            ),
            ("200,000 bad rows", "bad.xlsx", lambda: b.raw_xlsx(b.bad_progress_rows(200_000))),
            ("100,000 bad rows", "bad.xlsx", lambda: b.raw_xlsx(b.bad_progress_rows(100_000))),
            (
                "45,000 x 25 cells",
                "wide.xlsx",
                lambda: b.raw_xlsx(b.numeric_rows(45_000, columns=25)),
            ),
            (
                "30 KB shared string x 90,000",
                "text.xlsx",
                lambda: b.raw_xlsx(b.shared_text_rows(90_000), shared=["課題" * 5000]),
            ),
            ("150,000-row CSV UTF-8", "big.csv", lambda: b.csv_rows(150_000).encode("utf-8-sig")),
            ("150,000-row CSV Shift_JIS", "big.csv", lambda: b.csv_rows(150_000).encode("cp932")),
            ("100,000 valid rows", "ok.xlsx", lambda: b.raw_xlsx(b.valid_rows(100_000, codes))),
        ]
        if "--bombs-only" in sys.argv:
            cases = []
        print(f"{'probe':34} {'file':>9} {'peak':>9} {'CPU':>7} {'wall':>7}  outcome")
        for label, name, build in cases:
            t = time.perf_counter()
            data = build()
            built = time.perf_counter() - t

            def run(data: bytes = data, name: str = name) -> dict:
                return engine.parse_import(sheets.PROGRESS, data, name, plan=plan).counts()

            out = b.probe(run)
            outcome = (
                "MemoryError"
                if "memory_error" in out
                else (out["messages"][-1][:40] + f" (total {out['total']:,})")
                if "messages" in out
                else str(out["value"])
            )
            ok = out.get("peak_mb", 999) <= b.PEAK_MB and out.get("seconds", 99) <= b.SECONDS
            print(
                f"{label:34} {len(data) / 1e6:7.1f}MB {out['peak_mb']:+7.0f}MB "
                f"{out['seconds']:6.1f}s {out['wall_seconds']:6.1f}s  {'OK ' if ok else 'OVER'} "
                f"{outcome}  (built in {built:.1f}s)"
            )
        structural_bombs(plan, codes)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def structural_bombs(plan: object, codes: list[str]) -> None:
    """Issue 19: the files that expand (merged ranges, <dimension>, capitalised shared
    strings) and the admin import's big files, each through the path it attacked. Prints
    the worker's peak RSS growth (the probe child), the reader process's own peak
    (sheet_reading.last_read; "killed" when its bound stopped it) and the wall time."""
    from initiatives.resources import SafeCSV, SafeXLSX
    from portal_lib import sheet_reading as ss
    from reporting import table41
    from reporting.exchange import engine, sheets
    from reporting.workbooks.table41 import export_schedule
    from tests.security import test_import_bounds as b
    from tests.security import test_upload_bombs as u
    from workgroups import roster

    def roster_preview(data: bytes) -> object:
        return roster.preview_roster(
            plan=plan, data=data, filename="m.xlsx", effective=date.today(), today=date.today()
        ).counts()

    def unchecked(parse: object) -> object:
        """The merged-range count switched off: what the reader's own bound costs alone."""

        def run(data: bytes) -> object:
            ss._SheetCounter._range = lambda *args: None  # type: ignore[method-assign]
            return parse(data)  # type: ignore[operator]  # (in the probe child only)

        return run

    cases = [
        ("roster merge A4:XFD1048576", lambda: u.roster_bomb("A4:XFD1048576"), roster_preview),
        ("roster merge A4:J100000", lambda: u.roster_bomb("A4:J100000"), roster_preview),
        (
            "table 4-1 merge AA100:AJ100000",
            lambda: u.rewrite(export_schedule(plan), u.add_merge("AA100:AJ100000")),
            lambda data: table41.preview_schedule(plan, data, "t.xlsx").counts(),
        ),
        (
            "SharedStrings.xml 100k chars x 3,000",
            u.capitalised_shared_strings,
            lambda data: engine.parse_import(sheets.PROGRESS, data, "p.xlsx", plan=plan).counts(),
        ),
        (
            "admin: SharedStrings.xml x 990",
            lambda: u.capitalised_shared_strings(990),
            lambda data: len(SafeXLSX().create_dataset(data)),
        ),
        (
            "admin: dimension A1:XFD20001",
            lambda: u.rewrite(u.progress_rows(20_000, codes), u.add_dimension("A1:XFD20001")),
            lambda data: len(SafeXLSX().create_dataset(data)),
        ),
        (
            "admin: dimension A1:XFD1000",
            lambda: u.rewrite(u.progress_rows(990, codes), u.add_dimension("A1:XFD1000")),
            lambda data: len(SafeXLSX().create_dataset(data)),
        ),
        (
            "admin: 3,000,000-row CSV",
            lambda: (",".join(b.HEADER) + "\r\n").encode() + b"1\r\n" * 3_000_000,
            lambda data: len(SafeCSV().create_dataset(data)),
        ),
        (
            "admin: 100,000-row xlsx",
            lambda: u.progress_rows(100_000, codes),
            lambda data: len(SafeXLSX().create_dataset(data)),
        ),
        (
            "check off: roster merge A4:J100000",
            lambda: u.roster_bomb("A4:J100000"),
            unchecked(roster_preview),
        ),
    ]
    print()
    print(f"{'structural bomb':38} {'file':>9} {'worker':>8} {'reader':>9} {'wall':>6}  outcome")
    for label, build, parse in cases:
        data = build()

        def run(data: bytes = data, parse: object = parse) -> dict:
            t0 = time.perf_counter()
            try:
                value: object = parse(data)  # type: ignore[operator]
            except (ss.SpreadsheetError, ValueError) as exc:
                value = " ".join(getattr(exc, "messages", None) or [str(exc)])
            return {"value": value, "wall": time.perf_counter() - t0, "reader": dict(ss.last_read)}

        out = b.probe(run)
        result = out.get("value", {})
        reader = result.get("reader", {})
        shown = "killed" if reader.get("killed") else f"{reader.get('peak_mb', 0):+.0f}MB"
        ok = (
            out.get("peak_mb", 999) <= u.PEAK_MB
            and (reader.get("killed") or reader.get("peak_mb", 999) <= u.PEAK_MB)
            and result.get("wall", 99) <= u.SECONDS
        )
        print(
            f"{label:38} {len(data) / 1e3:7.0f}KB {out.get('peak_mb', 0):+7.0f}MB {shown:>9} "
            f"{result.get('wall', 0):5.2f}s  {'OK ' if ok else 'OVER'} {str(result.get('value'))[:60]}"
        )


if __name__ == "__main__":
    main()
