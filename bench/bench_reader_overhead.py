"""What the bounded reader process costs a normal upload (issue 19): a ratio, not a time.

    python bench/bench_reader_overhead.py [--runs 5]

Builds valid sheets of 1,000, 10,000 and 100,000 rows (eight columns, text, numbers and
dates, as the progress sheet has) and reads each whole, alternately, in two ways:
- baseline: the same checks and reader run in this process (`_read_job`, what every upload
  did before issue 19);
- bounded: `read_upload`, which runs them in a forked child under RLIMIT_AS / RLIMIT_CPU
  and streams the rows back through a pipe.
Prints the median wall time of each over --runs runs, the ratio bounded / baseline, and the
load average before and after, so a figure from a busy machine can be told apart.
Needs no database.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kahoku_dx.settings")


def _sheet(rows: int) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("進捗")
    ws.append(["取り組み番号", "記録日", "状況", "内容", "件数", "目標", "担当課", "備考"])
    start = date(2026, 4, 1)
    for i in range(rows):
        ws.append(
            [
                f"{i % 4 + 1}.{i % 9 + 1}",
                start + timedelta(days=i % 300),
                "実施中",
                f"打合せ{i}",
                i % 97,
                100,
                "情報推進課",
                None,
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def main() -> None:
    import django

    django.setup()
    from portal_lib.sheet_reading import ImportLimits, _read_job, read_upload

    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
    limits = ImportLimits.from_settings()
    print(f"load average before: {os.getloadavg()}  cores: {os.cpu_count()}  runs: {runs}")
    print(f"{'rows':>8} {'baseline s':>11} {'bounded s':>10} {'ratio':>6}")
    for rows in (1_000, 10_000, 100_000):
        data = _sheet(rows)
        base, bounded = [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            n_base = sum(1 for _ in _read_job(data, "p.xlsx", False, limits, "calamine"))
            base.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            n_bounded = sum(1 for _ in read_upload(data, "p.xlsx", limits=limits))
            bounded.append(time.perf_counter() - t0)
        assert n_bounded > 0 and n_base > 0
        b, r = statistics.median(base), statistics.median(bounded)
        print(f"{rows:>8,} {b:>11.3f} {r:>10.3f} {r / b:>6.2f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
