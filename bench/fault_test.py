"""Fault test: PostgreSQL stops in the middle of use, then comes back.

    .venv/bin/python bench/fault_test.py [--outage 10] [--dry-run]

Starts gunicorn (2 workers, production settings) on a throwaway database (kahoku_i6_fault),
logs in staff who keep reading pages and writing multi-row records (an indicator with
three yearly values, one admin POST, one transaction), then stops PostgreSQL with
`pg_ctlcluster --skip-systemctl-redirect 15 main stop` for --outage seconds (at most 18)
and starts it again — always, in a `finally` block. Shows:
- during the outage every request fails cleanly: HTTP 503 with the Japanese page and no
  technical detail (never a 500, never a dropped connection);
- nothing is half-written: every indicator has exactly its three values, and every
  write that was acknowledged is in the database;
- the service comes back by itself (same gunicorn processes, same sessions).
Needs root (pg_ctlcluster). Stopping PostgreSQL disturbs everything else on the machine
that uses it: keep the outage short. `--dry-run` runs everything but the stop.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _site import (
    PG,
    ROOT,
    Client,
    drop_database,
    form_prefix,
    free_port,
    prepare_database,
    site_env,
    sql,
    start_gunicorn,
    stop_gunicorn,
)

JAPANESE_503 = "ただいまデータベースに接続できません。しばらくしてから再度お試しください。"
LEAKS = [
    "OperationalError",
    "InterfaceError",
    "psycopg",
    "Traceback",
    "connection to server",
    "5432",
]
CLUSTER = {"version": "15", "name": "main"}


def pg_ctl(action: str) -> None:
    extra = ["-m", "fast"] if action == "stop" else []
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", CLUSTER["version"], CLUSTER["name"], action]
        + extra,
        check=True,
    )


def pg_ready() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", PG["port"]]).returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=10, help="seconds PostgreSQL is down")
    parser.add_argument("--before", type=float, default=8)
    parser.add_argument("--after", type=float, default=15)
    parser.add_argument("--db", default="kahoku_i6_fault")
    parser.add_argument("--dry-run", action="store_true", help="do not stop PostgreSQL")
    parser.add_argument(
        "--cluster",
        default="15/main:5432",
        help="PostgreSQL cluster to stop, version/name:port (a private rehearsal cluster, e.g. "
        "15/rehearsal:5439, disturbs nobody)",
    )
    args = parser.parse_args()
    version_name, _, port_text = args.cluster.partition(":")
    CLUSTER["version"], _, CLUSTER["name"] = version_name.partition("/")
    PG["port"] = port_text or "5432"
    outage = min(args.outage, 18.0)

    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    env = site_env(args.db, Path(tempfile.mkdtemp(prefix="kahoku-fault-static-")))
    print(f"preparing database {args.db} ...", flush=True)
    prepare_database(args.db, env, entries=2000, users=8)
    initiative_ids = [r[0] for r in sql(args.db, "SELECT id FROM initiatives_initiative")]
    port = free_port(range(8065, 8067))
    proc = start_gunicorn(env, port, workers=2)
    workers_before = _children(proc.pid)

    events: list[tuple[float, str, str, int, str]] = []  # (t, phase, kind, status, note)
    acknowledged: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()
    phase = {"name": "before"}
    stop = threading.Event()
    t0 = time.monotonic()

    def note(kind: str, status: int, body: str) -> str:
        if status == 503 and kind == "healthz":
            health = json.loads(body)
            ok = health["failing"] == ["database"] and health["checks"]["database"] == "unavailable"
            return "clean 503" if ok else f"unexpected health body {body[:100]}"
        if status == 503:
            if JAPANESE_503 not in body:
                return "503 without the Japanese page"
            leaked = [w for w in LEAKS if w in body]
            return f"leak: {leaked}" if leaked else "clean 503"
        return ""

    def log(kind: str, status: int, body: str) -> None:
        with lock:
            events.append(
                (time.monotonic() - t0, phase["name"], kind, status, note(kind, status, body))
            )

    def reader(n: int) -> None:
        client = Client(port, timeout=20)
        client.login(f"bench{n:03d}")
        i = 0
        while not stop.is_set():
            path = [
                "/",
                "/admin/initiatives/initiative/",
                f"/admin/initiatives/initiative/{initiative_ids[i % len(initiative_ids)]}/change/",
            ][i % 3]
            try:
                status, body = client.get(path)
                if status == 302:
                    status = -302  # a read redirected means: sent to the login page, session lost
                log("read", status, body)
            except OSError as exc:
                log("read", -1, f"{type(exc).__name__}")
            i += 1
            time.sleep(0.3)

    def writer(n: int) -> None:
        client = Client(port, timeout=20)
        client.login(f"bench{n:03d}")
        i = 0
        while not stop.is_set():
            marker = f"fault-u{n}-{i}"
            try:
                status, page = client.get("/admin/initiatives/indicator/add/")
                if status != 200:
                    log("write", status, page)
                else:
                    prefix = form_prefix(page)
                    data = [
                        ("initiative", initiative_ids[i % len(initiative_ids)]),
                        ("name", marker),
                        ("unit", "件"),
                        ("direction", "higher"),
                        ("baseline", ""),
                        ("baseline_fy", ""),
                        ("order", "0"),
                        (f"{prefix}-TOTAL_FORMS", "3"),
                        (f"{prefix}-INITIAL_FORMS", "0"),
                        (f"{prefix}-MIN_NUM_FORMS", "0"),
                        (f"{prefix}-MAX_NUM_FORMS", "1000"),
                    ]
                    for k, fy in enumerate((2024, 2025, 2026)):
                        data += [
                            (f"{prefix}-{k}-fiscal_year", fy),
                            (f"{prefix}-{k}-target", "10"),
                            (f"{prefix}-{k}-actual", str(k + 5)),
                            (f"{prefix}-{k}-note", ""),
                        ]
                    # One POST: the indicator and its three yearly values, one transaction.
                    status, body = client.post("/admin/initiatives/indicator/add/", data)
                    log("write", status, body)
                    with lock:
                        (acknowledged if status == 302 else refused).append(marker)
            except OSError as exc:
                log("write", -1, type(exc).__name__)
                with lock:
                    refused.append(marker)
            i += 1
            time.sleep(0.2)

    def health() -> None:
        client = Client(port, timeout=5)
        while not stop.is_set():
            try:
                status, body = client.get("/healthz")
                log("healthz", status, body)
            except OSError:
                log("healthz", -1, "")
            time.sleep(0.5)

    threads = [threading.Thread(target=reader, args=(n,)) for n in (1, 2, 3)]
    threads += [threading.Thread(target=writer, args=(n,)) for n in (4, 5, 6)]
    threads += [threading.Thread(target=health)]
    stopped_at = started_at = ready_at = None
    down_at = 0.0
    try:
        for th in threads:
            th.start()
        time.sleep(args.before)
        phase["name"] = "outage"
        stopped_at = time.monotonic() - t0
        if not args.dry_run:
            print(f"[{stopped_at:5.1f}s] stopping PostgreSQL", flush=True)
            pg_ctl("stop")
            down_at = time.monotonic() - t0
            print(f"[{down_at:5.1f}s] PostgreSQL is down", flush=True)
        time.sleep(outage)
    finally:
        # Always bring PostgreSQL back, whatever happened above.
        if not args.dry_run and not pg_ready():
            pg_ctl("start")
        started_at = time.monotonic() - t0
        print(f"[{started_at:5.1f}s] PostgreSQL started", flush=True)
    for _ in range(100):
        if pg_ready():
            break
        time.sleep(0.1)
    ready_at = time.monotonic() - t0
    phase["name"] = "after"
    time.sleep(args.after)
    stop.set()
    for th in threads:
        th.join(timeout=30)
    workers_after = _children(proc.pid)
    stop_gunicorn(proc)

    # --- figures and checks ---
    values = sql(
        args.db,
        "SELECT i.name, count(v.id) FROM initiatives_indicator i "
        "LEFT JOIN initiatives_indicatorvalue v ON v.indicator_id = i.id "
        "WHERE i.name LIKE 'fault-%%' GROUP BY i.name",
    )
    in_db = {name: n for name, n in values}
    half_written = {name: n for name, n in in_db.items() if n != 3}
    lost = [m for m in acknowledged if m not in in_db]
    refused_but_saved = [m for m in refused if m in in_db]
    drop_database(args.db)

    print()
    print(
        f"== fault test: PostgreSQL {'NOT stopped (dry run)' if args.dry_run else 'stopped'} "
        f"at {stopped_at:.1f}s (down at {down_at:.1f}s), started at {started_at:.1f}s, "
        f"accepting at {ready_at:.1f}s: unavailable for {ready_at - stopped_at:.1f}s =="
    )
    for name in ("before", "outage", "after"):
        counts = Counter((k, s) for _, p, k, s, _n in events if p == name)
        print(f"{name:<7} " + ", ".join(f"{k} {s}: {c}" for (k, s), c in sorted(counts.items())))
    outage_events = [e for e in events if e[1] == "outage"]
    bad_outage = [
        e for e in outage_events if e[3] not in (200, 302, 503) or e[4] not in ("", "clean 503")
    ]
    clean_503 = sum(1 for e in outage_events if e[4] == "clean 503")
    after = [e for e in events if e[1] == "after"]
    first_ok = next((e[0] for e in after if e[2] == "healthz" and e[3] == 200), None)
    recovered_from = first_ok if first_ok is not None else float("inf")
    bad_after = [e for e in after if e[0] > recovered_from + 1.0 and e[3] not in (200, 302)]
    bad_before = [e for e in events if e[1] == "before" and e[3] not in (200, 302)]
    print(
        f"outage: {len(outage_events)} responses, {clean_503} clean Japanese 503 pages, "
        f"{len(bad_outage)} bad (500, leak, dropped connection, lost session)"
    )
    for e in bad_outage[:5]:
        print(f"   {e}")
    if first_ok is not None:
        print(
            f"recovery: /healthz 200 again {first_ok - started_at:.1f}s after PostgreSQL start; "
            f"{len(bad_after)} failures after that; gunicorn workers unchanged: "
            f"{workers_before == workers_after} ({len(workers_after)} workers, no restart)"
        )
    else:
        print("recovery: /healthz never answered 200 again")
    print(
        f"writes: {len(acknowledged)} acknowledged (302), all in database: {not lost}; "
        f"{len(refused)} POSTs refused; refused but saved anyway: {len(refused_but_saved)}; "
        f"indicators in database: {len(in_db)}, half-written (not exactly 3 values): "
        f"{len(half_written)}"
    )
    ok = (
        not bad_before
        and not bad_outage
        and (args.dry_run or clean_503 > 0)
        and first_ok is not None
        and not bad_after
        and not lost
        and not half_written
        and not refused_but_saved
        and workers_before == workers_after
        and len(acknowledged) > 0
    )
    print("RESULT: OK" if ok else "RESULT: FAILED")
    return 0 if ok else 1


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return sorted(int(x) for x in out.split())


if __name__ == "__main__":
    raise SystemExit(main())
