"""Load test: 50 simulated staff against gunicorn (2 workers) + PostgreSQL, large data set.

    .venv/bin/python bench/load_test.py [--duration 180] [--users 50] [--initiatives 1000]
        [--entries 50000]

Builds a throwaway database (kahoku_i6_bench unless --db), starts gunicorn as in
production (deploy/gunicorn.conf.py, DJANGO_ENV=production), logs every user in, then
for --duration seconds each user loops over the portal's own pages: home, the dashboard,
the initiative list and pages, table 4-1, and real HTTP writes through the progress form
(GET then POST). One of them, the secretariat clerk, also re-imports table 4-1 from Excel
every few clicks (export, edit one cell, preview, confirm). Think time
between clicks is 1–5 s (--think-min/--think-max). Prints p50/p95 latency per page,
errors (must be 0), and checks that every acknowledged write is in the database exactly
once, with its history, and that every confirmed import is in the cell's history.
Only talks to 127.0.0.1. Exit status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import io
import random
import re
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _site import (
    ROOT,
    Client,
    drop_database,
    free_port,
    percentile,
    prepare_database,
    site_env,
    sql,
    start_gunicorn,
    stop_gunicorn,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=180, help="seconds of load (default 180)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--entries", type=int, default=50000, help="progress entries to generate")
    parser.add_argument("--initiatives", type=int, default=1000, help="initiatives to generate")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", default="kahoku_i6_bench")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--think-min", type=float, default=1.0, help="seconds between clicks")
    parser.add_argument("--think-max", type=float, default=5.0)
    parser.add_argument(
        "--max-iterations", type=int, default=10000, help="per user, a safety bound"
    )
    args = parser.parse_args()

    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    static_root = Path(tempfile.mkdtemp(prefix="kahoku-bench-static-"))
    env = site_env(args.db, static_root)
    print(f"preparing database {args.db} ...", flush=True)
    prepare_database(
        args.db, env, entries=args.entries, users=args.users, initiatives=args.initiatives
    )
    initiative_ids = [r[0] for r in sql(args.db, "SELECT id FROM initiatives_initiative")]
    progress_before = sql(args.db, "SELECT count(*) FROM initiatives_progressentry")[0][0]

    port = free_port(range(8063, 8065))
    proc = start_gunicorn(env, port, workers=args.workers)
    print(f"gunicorn: {args.workers} workers on 127.0.0.1:{port} (pid {proc.pid})", flush=True)

    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    written: list[str] = []
    lock = threading.Lock()
    run_id = f"{int(time.time())}"

    def record(kind: str, started: float, status: int, expected: int, detail: str = "") -> bool:
        elapsed = (time.monotonic() - started) * 1000
        with lock:
            latencies[kind].append(elapsed)
            if status != expected:
                errors.append(f"{kind}: HTTP {status} (expected {expected}) {detail[:200]}")
                return False
        return True

    imported: list[str] = []

    def import_schedule(client: Client, marker: str) -> None:
        """Export table 4-1, change this plan's R8 cell of one line, preview, confirm."""
        t = time.monotonic()
        status, content = client.get_bytes("/excel/schedule/export/")
        if not record("import_export", t, status, 200):
            return
        workbook = openpyxl.load_workbook(io.BytesIO(content))
        sheet = workbook.active
        rows = list(sheet.iter_rows())
        header = next(r for r in rows if r[0].value == "項目")
        column = [c.value for c in header].index("R8 (2026)")
        row = next(r for r in rows if r[0].value == "かほく市総合計画")
        row[column].value = marker
        buffer = io.BytesIO()
        workbook.save(buffer)
        t = time.monotonic()
        status, body = client.post_file(
            "/excel/schedule/import/", "file", "table41.xlsx", buffer.getvalue()
        )
        if not record("import_preview", t, status, 200, body):
            return
        token = re.search(r'name="token" value="([^"]+)"', body)
        if token is None:
            record("import_preview", t, 0, 200, "no preview token: " + body[:200])
            return
        t = time.monotonic()
        status, body = client.post("/excel/schedule/confirm/", {"token": token[1]})
        if record("import_confirm", t, status, 302, body):
            with lock:
                imported.append(marker)

    def staff_member(n: int, deadline: float) -> None:
        rng = random.Random(n)
        client = Client(port)
        try:
            t = time.monotonic()
            record("login", t, client.login(f"bench{n:03d}"), 302)
            for i in range(args.max_iterations):
                if time.monotonic() >= deadline:
                    break
                ini = rng.choice(initiative_ids)
                if n == 1 and i % 6 == 5:
                    # The first staff member is the secretariat clerk re-importing table 4-1.
                    import_schedule(client, f"負荷試験-{run_id}-{i}")
                    time.sleep(rng.uniform(args.think_min, args.think_max))
                    continue
                action = rng.choices(
                    ["home", "dashboard", "initiatives", "initiative", "schedule", "write"],
                    weights=[20, 10, 15, 20, 10, 25],
                )[0]
                t = time.monotonic()
                path = {
                    "home": "/",
                    "dashboard": "/plan/dashboard/",
                    "initiatives": "/initiatives/",
                    "initiative": f"/initiatives/{ini}/",
                    "schedule": "/plan/schedule/",
                }.get(action)
                if path is not None:
                    status, body = client.get(path)
                    record(action, t, status, 200, body)
                else:
                    form_path = f"/initiatives/{ini}/progress/new/"
                    status, body = client.get(form_path)
                    if record("write_form", t, status, 200, body):
                        marker = f"bench-{run_id}-u{n:03d}-{i}"
                        t = time.monotonic()
                        status, body = client.post(
                            form_path,
                            {
                                "entry_date": "2026-11-20",
                                "status": "on_track",
                                "percent": rng.randrange(100),
                                "done_text": marker,
                                "next_steps": "負荷試験",
                                "issues_text": "",
                                "version": "",
                            },
                        )
                        if record("write_post", t, status, 302, body):
                            with lock:
                                written.append(marker)
                time.sleep(rng.uniform(args.think_min, args.think_max))
        except Exception as exc:  # a dropped connection is an error to count, not a crash
            with lock:
                errors.append(f"user {n}: {type(exc).__name__}: {exc}")

    started = time.monotonic()
    deadline = started + args.duration
    threads = [
        threading.Thread(target=staff_member, args=(n, deadline), daemon=True)
        for n in range(1, args.users + 1)
    ]
    try:
        for th in threads:
            th.start()
            time.sleep(0.3)  # staff arrive over ~15 s, not all in one instant
        for th in threads:
            th.join(timeout=args.duration + 120)
        elapsed = time.monotonic() - started
    finally:
        stop_gunicorn(proc)

    markers = {
        r[0]
        for r in sql(
            args.db,
            "SELECT done_text FROM initiatives_progressentry WHERE done_text LIKE %s",
            (f"bench-{run_id}-%",),
        )
    }
    db_rows = sql(
        args.db,
        "SELECT count(*) FROM initiatives_progressentry WHERE done_text LIKE %s",
        (f"bench-{run_id}-%",),
    )[0][0]
    history_rows = sql(
        args.db,
        "SELECT count(*) FROM initiatives_historicalprogressentry WHERE done_text LIKE %s",
        (f"bench-{run_id}-%",),
    )[0][0]
    progress_after = sql(args.db, "SELECT count(*) FROM initiatives_progressentry")[0][0]
    cell_now = sql(
        args.db,
        "SELECT c.text FROM plans_schedulecell c JOIN plans_schedulerow r ON r.id = c.row_id"
        " JOIN plans_scheduleitem i ON i.id = r.item_id"
        " WHERE i.title = 'かほく市総合計画' AND c.fiscal_year = 2026",
    )
    import_history = sql(
        args.db,
        "SELECT count(*) FROM plans_historicalschedulecell WHERE text LIKE %s",
        (f"負荷試験-{run_id}-%",),
    )[0][0]
    if not args.keep_db:
        drop_database(args.db)

    total = sum(len(v) for v in latencies.values())
    every = [x for v in latencies.values() for x in v]
    print()
    print(
        f"== load test: {args.users} staff, {elapsed:.0f} s, gunicorn {args.workers} workers, "
        f"PostgreSQL, {len(initiative_ids)} initiatives, {progress_before} progress entries =="
    )
    print(f"{'page':<15}{'requests':>10}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for kind in [
        "login",
        "home",
        "dashboard",
        "initiatives",
        "initiative",
        "schedule",
        "write_form",
        "write_post",
        "import_export",
        "import_preview",
        "import_confirm",
    ]:
        values = latencies.get(kind, [])
        if values:
            print(
                f"{kind:<15}{len(values):>10}{percentile(values, 50):>10.0f}"
                f"{percentile(values, 95):>10.0f}{max(values):>10.0f}"
            )
    print(
        f"{'all':<15}{total:>10}{percentile(every, 50):>10.0f}{percentile(every, 95):>10.0f}"
        f"{max(every):>10.0f}"
    )
    print(
        f"throughput: {total / elapsed:.1f} requests/s "
        f"(think time {args.think_min:g}–{args.think_max:g} s)"
    )
    print(f"errors: {len(errors)}")
    for line in errors[:10]:
        print("  " + line)
    missing = set(written) - markers
    print(
        f"writes acknowledged (302): {len(written)}; rows in database: {db_rows}; "
        f"history rows: {history_rows}; missing: {len(missing)}; "
        f"progress entries {progress_before} -> {progress_after}"
    )
    last_import = imported[-1] if imported else None
    print(
        f"table 4-1 imports confirmed: {len(imported)}; history rows of the edited cell: "
        f"{import_history}; cell now holds the last import: "
        f"{bool(cell_now) and cell_now[0][0] == last_import}"
    )
    ok = (
        not errors
        and imported
        and cell_now
        and cell_now[0][0] == last_import
        and import_history == len(imported)
        and written
        and db_rows == len(written) == len(markers)
        and not missing
        and history_rows == len(written)
        and progress_after - progress_before == len(written)
    )
    print("RESULT: OK" if ok else "RESULT: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
