"""Load test: 50 simulated staff against two gunicorn instances on one PostgreSQL.

    .venv/bin/python bench/load_test.py --profile realistic   # the plan + six years of activity
    .venv/bin/python bench/load_test.py --profile stress      # 1,000 initiatives, 50,000 entries
        [--duration 180] [--users 50] [--instances 2] [--workers 2] [--settle 60]

Profiles: ``realistic`` is the plan as loaded (13 initiatives and the projects under way)
with six years (R3–R8) of progress entries, reviews and indicator values, spread over its
initiatives (--entries, default 3,000); ``stress`` is issue 5's generated plan of 1,000
initiatives with 50,000 entries (--initiatives/--entries override either). The p95 goal
per page is 200 ms on the realistic data and 800 ms on the stress data (--p95-goal).

Builds a throwaway database (kahoku_load_<profile> unless --db), starts --instances
gunicorn instances (each --workers sync workers) as in production (deploy/gunicorn.conf.py,
DJANGO_ENV=production) on one PostgreSQL, and sends each user's requests to the instances
in turn, like a load balancer without sticky sessions: the app must keep no state of its
own. Waits (up to --settle seconds) for the 1-minute load average to fall below 1 and prints
it before the run, then samples it every 5 s during the run. Logs every user in, then
for --duration seconds each user loops over the portal's own pages: home, the dashboard,
the initiative list and pages, table 4-1, and real HTTP writes through the progress form
(GET then POST). One of them, the secretariat clerk, also re-imports table 4-1 from Excel
every few clicks (export, edit one cell, preview, confirm). Think time
between clicks is 1–5 s (--think-min/--think-max). Prints p50/p95/p99 latency per page,
throughput, requests per instance, errors (must be 0), and checks that every acknowledged
write is in the database exactly once, with its history, and that every confirmed import is
in the cell's history. Only talks to 127.0.0.1. Exit status 1 if any check or goal fails.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import date, timedelta
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
    parser.add_argument("--profile", choices=sorted(PROFILES), default="realistic")
    parser.add_argument("--duration", type=float, default=180, help="seconds of load (default 180)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--entries", type=int, help="progress entries to generate")
    parser.add_argument(
        "--initiatives", type=int, help="initiatives to generate (0: the plan's own)"
    )
    parser.add_argument("--instances", type=int, default=2, help="gunicorn instances")
    parser.add_argument("--workers", type=int, default=2, help="sync workers per instance")
    parser.add_argument("--p95-goal", type=float, help="ms, every page (default by profile)")
    parser.add_argument(
        "--settle", type=float, default=60, help="seconds to wait for a quiet machine"
    )
    parser.add_argument("--db")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--think-min", type=float, default=1.0, help="seconds between clicks")
    parser.add_argument("--think-max", type=float, default=5.0)
    parser.add_argument(
        "--max-iterations", type=int, default=10000, help="per user, a safety bound"
    )
    args = parser.parse_args()
    profile = PROFILES[args.profile]
    initiatives = profile["initiatives"] if args.initiatives is None else args.initiatives
    entries = profile["entries"] if args.entries is None else args.entries
    goal = profile["p95_goal"] if args.p95_goal is None else args.p95_goal
    args.db = args.db or f"kahoku_load_{args.profile}"

    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    static_root = Path(tempfile.mkdtemp(prefix="kahoku-bench-static-"))
    env = site_env(args.db, static_root)
    print(f"preparing database {args.db} ...", flush=True)
    prepare_database(args.db, env, entries=entries, users=args.users, initiatives=initiatives)
    initiative_ids = [r[0] for r in sql(args.db, "SELECT id FROM initiatives_initiative")]
    # One progress entry per initiative and date (a model rule): each write takes a free
    # (initiative, date) of this fiscal year, so that a refused duplicate is not mistaken
    # for a lost write.
    taken = set(sql(args.db, "SELECT initiative_id, entry_date FROM initiatives_progressentry"))
    write_days = [date(2026, 4, 1) + timedelta(days=d) for d in range(0, 230)]
    progress_before = sql(args.db, "SELECT count(*) FROM initiatives_progressentry")[0][0]

    procs, ports = [], []
    try:
        for k in range(args.instances):
            port = free_port(range(8063 + 10 * k, 8073 + 10 * k))
            procs.append(start_gunicorn(env, port, workers=args.workers))
            ports.append(port)
            print(
                f"gunicorn instance {k + 1}: {args.workers} workers on 127.0.0.1:{port} "
                f"(pid {procs[-1].pid})",
                flush=True,
            )
    except BaseException:
        for proc in procs:
            stop_gunicorn(proc)
        raise
    load_before = wait_for_quiet(args.settle)
    print(f"load average before: {fmt_load(load_before)}", flush=True)
    load_during: list[tuple[float, float, float]] = []
    per_instance: dict[int, int] = defaultdict(int)

    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    written: list[str] = []
    lock = threading.Lock()
    run_id = f"{int(time.time())}"

    def record(
        kind: str,
        started: float,
        status: int,
        expected: int,
        detail: str = "",
        client: Client | None = None,
    ) -> bool:
        elapsed = (time.monotonic() - started) * 1000
        with lock:
            latencies[kind].append(elapsed)
            if client is not None:
                per_instance[client.last_port] += 1
            if status != expected:
                errors.append(f"{kind}: HTTP {status} (expected {expected}) {detail[:200]}")
                return False
        return True

    imported: list[str] = []

    def import_schedule(client: Client, marker: str) -> None:
        """Export table 4-1, change this plan's R8 cell of one line, preview, confirm."""
        t = time.monotonic()
        status, content = client.get_bytes("/excel/schedule/export/")
        if not record("import_export", t, status, 200, client=client):
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
        if not record("import_preview", t, status, 200, body, client):
            return
        token = re.search(r'name="token" value="([^"]+)"', body)
        if token is None:
            record("import_preview", t, 0, 200, "no preview token: " + body[:200])
            return
        t = time.monotonic()
        status, body = client.post("/excel/schedule/confirm/", {"token": token[1]})
        if record("import_confirm", t, status, 302, body, client):
            with lock:
                imported.append(marker)

    def staff_member(n: int, deadline: float) -> None:
        rng = random.Random(n)
        client = Client(ports)
        try:
            t = time.monotonic()
            record("login", t, client.login(f"bench{n:03d}"), 302, client=client)
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
                    record(action, t, status, 200, body, client)
                else:
                    with lock:
                        day = next(
                            (d for d in rng.sample(write_days, 40) if (ini, d) not in taken),
                            None,
                        )
                        if day is None:
                            continue
                        taken.add((ini, day))
                    form_path = f"/initiatives/{ini}/progress/new/"
                    status, body = client.get(form_path)
                    if record("write_form", t, status, 200, body, client):
                        marker = f"bench-{run_id}-u{n:03d}-{i}"
                        t = time.monotonic()
                        status, body = client.post(
                            form_path,
                            {
                                "entry_date": day.isoformat(),
                                "status": "on_track",
                                "percent": rng.randrange(100),
                                "done_text": marker,
                                "next_steps": "負荷試験",
                                "issues_text": "",
                                "version": "",
                            },
                        )
                        if record("write_post", t, status, 302, body, client):
                            with lock:
                                written.append(marker)
                time.sleep(rng.uniform(args.think_min, args.think_max))
        except Exception as exc:  # a dropped connection is an error to count, not a crash
            with lock:
                errors.append(f"user {n}: {type(exc).__name__}: {exc}")

    started = time.monotonic()
    deadline = started + args.duration
    sampler = threading.Thread(
        target=sample_load, args=(deadline, load_during), daemon=True, name="load-sampler"
    )
    sampler.start()
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
        for proc in procs:
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
        f"== load test, {args.profile} profile: {args.users} staff, {elapsed:.0f} s, "
        f"{args.instances} gunicorn instance(s) x {args.workers} workers, one PostgreSQL, "
        f"{len(initiative_ids)} initiatives, {progress_before} progress entries =="
    )
    print(f"machine: {os.cpu_count()} cores; load generator on the same machine")
    print(f"load average before: {fmt_load(load_before)}")
    if load_during:
        ones = [x[0] for x in load_during]
        print(
            f"load average during (1-min, {len(ones)} samples every 5 s): "
            f"min {min(ones):.2f}, median {percentile(ones, 50):.2f}, max {max(ones):.2f}"
        )
    header = f"{'page':<15}{'requests':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    print(header + f"  goal p95 <= {goal:g} ms")
    over_goal = []
    for kind in PAGES:
        values = latencies.get(kind, [])
        if values:
            p95 = percentile(values, 95)
            verdict = "ok" if p95 <= goal else "OVER"
            if p95 > goal:
                over_goal.append(kind)
            print(
                f"{kind:<15}{len(values):>10}{percentile(values, 50):>9.0f}{p95:>9.0f}"
                f"{percentile(values, 99):>9.0f}{max(values):>9.0f}  {verdict}"
            )
    print(
        f"{'all':<15}{total:>10}{percentile(every, 50):>9.0f}{percentile(every, 95):>9.0f}"
        f"{percentile(every, 99):>9.0f}{max(every):>9.0f}"
    )
    print(
        f"throughput: {total / elapsed:.1f} requests/s "
        f"(think time {args.think_min:g}–{args.think_max:g} s)"
    )
    print(
        "requests per instance: "
        + ", ".join(f"127.0.0.1:{port} {per_instance.get(port, 0)}" for port in ports)
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
    both_served = all(per_instance.get(port, 0) > 0 for port in ports)
    print(f"pages over the p95 goal: {', '.join(over_goal) or 'none'}")
    ok = (
        not errors
        and not over_goal
        and both_served
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


PROFILES = {
    "realistic": {"initiatives": 0, "entries": 3000, "p95_goal": 200.0},
    "stress": {"initiatives": 1000, "entries": 50000, "p95_goal": 800.0},
}
PAGES = [
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
]


def fmt_load(load: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in load)


def wait_for_quiet(settle: float) -> tuple[float, float, float]:
    """Wait until the 1-minute load average is below 1 (the data set was just built), at most
    ``settle`` seconds; return the load average at the start."""
    until = time.monotonic() + settle
    while os.getloadavg()[0] >= 1.0 and time.monotonic() < until:
        time.sleep(5)
    return os.getloadavg()


def sample_load(deadline: float, out: list) -> None:
    while time.monotonic() < deadline:
        time.sleep(5)
        out.append(os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
