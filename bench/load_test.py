"""Load test: 50 simulated staff against gunicorn (2 workers) + PostgreSQL, large data set.

    .venv/bin/python bench/load_test.py [--duration 180] [--users 50] [--entries 30000]

Builds a throwaway database (kahoku_i6_bench unless --db), starts gunicorn as in
production (deploy/gunicorn.conf.py, DJANGO_ENV=production), logs every user in, then
for --duration seconds each user loops: home page, admin index, initiative list and
change forms, the progress list filtered to one initiative (30,000+ rows table), and
real HTTP writes — the admin's progress-entry add form, GET then POST. Think time
between clicks is 1–5 s (--think-min/--think-max). Prints p50/p95 latency per page,
errors (must be 0), and checks that every acknowledged write is in the database exactly once.
Only talks to 127.0.0.1. Exit status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

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
    parser.add_argument("--entries", type=int, default=30000, help="progress entries to generate")
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
    prepare_database(args.db, env, entries=args.entries, users=args.users)
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
                action = rng.choices(
                    ["home", "admin", "initiatives", "initiative", "progress_list", "write"],
                    weights=[25, 10, 15, 20, 15, 15],
                )[0]
                t = time.monotonic()
                if action == "home":
                    status, body = client.get("/")
                    record(action, t, status, 200, body)
                elif action == "admin":
                    status, body = client.get("/admin/")
                    record(action, t, status, 200, body)
                elif action == "initiatives":
                    status, body = client.get("/admin/initiatives/initiative/")
                    record(action, t, status, 200, body)
                elif action == "initiative":
                    status, body = client.get(f"/admin/initiatives/initiative/{ini}/change/")
                    record(action, t, status, 200, body)
                elif action == "progress_list":
                    status, body = client.get(
                        f"/admin/initiatives/progressentry/?initiative__id__exact={ini}"
                    )
                    record(action, t, status, 200, body)
                else:
                    status, body = client.get("/admin/initiatives/progressentry/add/")
                    if record("write_form", t, status, 200, body):
                        marker = f"bench-{run_id}-u{n:03d}-{i}"
                        t = time.monotonic()
                        status, body = client.post(
                            "/admin/initiatives/progressentry/add/",
                            {
                                "initiative": ini,
                                "entry_date": "2026-11-20",
                                "status": "on_track",
                                "percent": rng.randrange(100),
                                "done_text": marker,
                                "next_steps": "負荷試験",
                                "issues_text": "",
                                "author": "",
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
    if not args.keep_db:
        drop_database(args.db)

    total = sum(len(v) for v in latencies.values())
    every = [x for v in latencies.values() for x in v]
    print()
    print(
        f"== load test: {args.users} staff, {elapsed:.0f} s, gunicorn {args.workers} workers, "
        f"PostgreSQL, {progress_before} progress entries =="
    )
    print(f"{'page':<15}{'requests':>10}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for kind in [
        "login",
        "home",
        "admin",
        "initiatives",
        "initiative",
        "progress_list",
        "write_form",
        "write_post",
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
    ok = (
        not errors
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
