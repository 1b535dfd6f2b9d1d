"""Import bounds benchmark (issue 15 item 1): peak memory and time of the big-file probes.

    python bench/bench_import_limits.py            # SQLite (in-memory test database)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kahoku_dx python bench/bench_import_limits.py

Builds the files of issue 15 in memory (the 2.46-million-row numeric sheet, 200,000 and
100,000 bad rows, a too-wide sheet, one shared string referenced 90,000 times, 150,000-row
CSV in UTF-8 and Shift_JIS, a valid 100,000-row sheet) and runs each through the import
engine in a forked child (tests/security/test_import_bounds.probe), printing the child's
peak RSS growth, CPU and wall time and the outcome. Goal: every probe <= PEAK_MB (120 MB,
issue 13) and the refusals <= 10 s.
Runs in a throw-away test database, so it never touches real data.
"""

from __future__ import annotations

import os
import sys
import time
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
        from initiatives.models import Initiative
        from reporting.exchange import engine, sheets
        from tests.factory import load_plan
        from tests.security import test_import_bounds as b

        plan = load_plan()
        codes = sorted(i.code for i in Initiative.objects.filter(policy__plan=plan))
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
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
