"""Shared by bench/load_test.py and bench/fault_test.py: a throwaway PostgreSQL database,
a large data set, gunicorn started as in production, and a small HTTP client.

`python bench/_site.py generate --entries N` runs inside Django (DATABASE_URL set by the
caller) and fills the database; everything else runs outside Django and talks HTTP/SQL.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG = {"host": "127.0.0.1", "port": "5432", "user": "postgres"}
BENCH_PASSWORD = "Kahoku-Bench-2026!"


# --- database ------------------------------------------------------------------------------


def pg_url(name: str) -> str:
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def pg_args() -> list[str]:
    return ["-h", PG["host"], "-p", PG["port"], "-U", PG["user"]]


def sql(name: str, query: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(
        host=PG["host"], port=PG["port"], user=PG["user"], dbname=name, autocommit=True
    ) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def site_env(db_name: str, static_root: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PORTAL_BASE_URL": "https://127.0.0.1",
        "DATABASE_URL": pg_url(db_name),
        "STATIC_ROOT": str(static_root),
        "LOG_LEVEL": "WARNING",  # keep the access log out of the figures' way
        "AXES_FAILURE_LIMIT": "1000",
    }
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def prepare_database(
    db_name: str, env: dict[str, str], *, entries: int, users: int, initiatives: int = 0
) -> None:
    """A fresh database with the plan, staff accounts and activity.

    With ``initiatives``, the plan-scale data set comes from issue 5's generate_bench_data
    (that many initiatives, ``entries`` progress entries with history, reviews, procedures)
    and the generator below adds only the staff; otherwise it spreads ``entries`` over the
    plan's own 13 initiatives (small and quick, for the fault test).
    """
    subprocess.run(["dropdb", *pg_args(), "--if-exists", "--force", db_name], check=True)
    subprocess.run(["createdb", *pg_args(), db_name], check=True)
    manage(env, "migrate", "--noinput")
    manage(env, "load_plan")
    manage(env, "collectstatic", "--noinput")
    if initiatives:
        print(
            manage(
                env,
                "generate_bench_data",
                "--initiatives",
                str(initiatives),
                "--entries",
                str(entries),
            ).strip()
        )
    command = [PYTHON, str(Path(__file__)), "generate", "--users", str(users)]
    command += ["--entries", "0", "--staff-only"] if initiatives else ["--entries", str(entries)]
    result = subprocess.run(
        command,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"data generation failed:\n{result.stderr}")
    print(result.stdout.strip())


def drop_database(db_name: str) -> None:
    subprocess.run(["dropdb", *pg_args(), "--if-exists", "--force", db_name], check=False)


def generate(entries: int, users: int, staff_only: bool = False) -> None:
    """A large data set: staff, years of progress entries (with history), reviews, indicators."""
    import random
    from datetime import date, timedelta

    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kahoku_dx.settings")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from simple_history.utils import bulk_create_with_history

    from initiatives.models import (
        Indicator,
        IndicatorValue,
        Initiative,
        ProgressEntry,
        ProgressStatus,
        Review,
    )
    from portal_lib import era
    from workgroups.models import StaffProfile
    from workgroups.services import staff_create

    rng = random.Random(2026)
    User = get_user_model()
    started = time.monotonic()
    hashed = make_password(BENCH_PASSWORD)
    with transaction.atomic():
        staff = []
        for i in range(1, users + 1):
            # Secretariat staff: they may log progress on every initiative and import Excel.
            user = staff_create(
                username=f"bench{i:03d}",
                role=StaffProfile.Role.SECRETARIAT,
                display_name=f"負荷試験 職員{i:03d}",
            )
            User.objects.filter(pk=user.pk).update(password=hashed)
            staff.append(user)
        for i in range(1, 301):
            staff_create(username=f"staff{i:03d}", display_name=f"職員{i:03d}")
        if staff_only:
            print(f"staff: {User.objects.count()} users ({users} secretariat bench users)")
            return

        initiatives = list(Initiative.objects.all())
        statuses = [ProgressStatus.NOT_STARTED, ProgressStatus.ON_TRACK, ProgressStatus.DELAYED]
        start = date(2021, 4, 1)
        span = (date(2026, 11, 30) - start).days
        batch = []
        # One entry per initiative and date (the model's unique constraint).
        taken = set(ProgressEntry.objects.values_list("initiative_id", "entry_date"))
        for n in range(entries):
            initiative = rng.choice(initiatives)
            day = start + timedelta(days=rng.randrange(span))
            while (initiative.pk, day) in taken:
                initiative = rng.choice(initiatives)
                day = start + timedelta(days=rng.randrange(span))
            taken.add((initiative.pk, day))
            batch.append(
                ProgressEntry(
                    initiative=initiative,
                    entry_date=day,
                    fiscal_year=era.fiscal_year_of(day),
                    status=rng.choice(statuses),
                    percent=rng.randrange(0, 100),
                    done_text=f"説明会・打合せを実施（記録{n}）。対象課と手順を確認した。",
                    next_steps="次回は運用手順書を更新する。",
                    author=rng.choice(staff),
                )
            )
        bulk_create_with_history(batch, ProgressEntry, batch_size=2000)

        reviews = [
            Review(initiative=ini, fiscal_year=fy, plan_text="計画", do_text="実行")
            for ini in initiatives
            for fy in range(2021, 2027)
        ]
        bulk_create_with_history(reviews, Review, batch_size=500)
        indicators = [
            Indicator(initiative=ini, name=f"指標{k}", unit="件", order=k)
            for ini in initiatives
            for k in range(1, 4)
        ]
        bulk_create_with_history(indicators, Indicator, batch_size=500)
        values = [
            IndicatorValue(indicator=ind, fiscal_year=fy, target=100, actual=rng.randrange(120))
            for ind in Indicator.objects.all()
            for fy in range(2021, 2027)
        ]
        bulk_create_with_history(values, IndicatorValue, batch_size=2000)
    print(
        f"data set: {User.objects.count()} users, {ProgressEntry.objects.count()} progress entries "
        f"(+{ProgressEntry.history.count()} history rows), {Review.objects.count()} reviews, "
        f"{IndicatorValue.objects.count()} indicator values, {len(initiatives)} initiatives "
        f"— generated in {time.monotonic() - started:.1f} s"
    )


# --- gunicorn ------------------------------------------------------------------------------


def start_gunicorn(env: dict[str, str], port: int, workers: int = 2) -> subprocess.Popen:
    log = open(ROOT / "test-artifacts" / f"gunicorn-{port}.log", "w")
    proc = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"],
        env={**env, "WEB_CONCURRENCY": str(workers)},
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(150):
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited; see test-artifacts/gunicorn-{port}.log")
        try:
            status, _ = Client(port).get("/healthz")
            if status == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.1)
    stop_gunicorn(proc)
    raise SystemExit("gunicorn did not become healthy")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def free_port(candidates: range) -> int:
    import socket

    for port in candidates:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise SystemExit(f"no free port in {candidates}")


# --- HTTP client ---------------------------------------------------------------------------


class Client:
    """One staff member's browser: keep-alive connections, cookies, CSRF, behind the TLS proxy.
    Talks to 127.0.0.1 only.

    Given several ports (several gunicorn instances behind one address), each request goes to
    the next one in turn, as a load balancer without sticky sessions sends them: the session
    cookie made on one instance must work on the other.
    """

    def __init__(self, port: int | list[int], timeout: float = 30):
        self.ports = list(port) if isinstance(port, (list, tuple)) else [port]
        self.port = self.ports[0]
        self.turn = 0
        self.last_port = self.port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conns: dict[int, http.client.HTTPConnection] = {}

    def _request(
        self,
        method: str,
        path: str,
        body: str | bytes | None,
        headers: dict[str, str],
        raw=False,
        same_origin=False,
    ):
        port = self.ports[self.turn % len(self.ports)]
        self.turn += 1
        self.last_port = port
        headers = {
            "Host": f"127.0.0.1:{port}",
            "X-Forwarded-Proto": "https",
            "Accept-Language": "ja",
            **headers,
        }
        if same_origin:
            headers["Origin"] = f"https://127.0.0.1:{port}"
            headers["Referer"] = f"https://127.0.0.1:{port}{path}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):
            conn = self.conns.get(port)
            if conn is None:
                conn = self.conns[port] = http.client.HTTPConnection(
                    "127.0.0.1", port, timeout=self.timeout
                )
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                content = response.read()
                text = content if raw else content.decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # gunicorn closed an idle keep-alive connection: reconnect once.
                # A POST is never resent: it could write twice.
                conn.close()
                del self.conns[port]
                if attempt == 2 or method != "GET":
                    raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            self.conns.pop(port, None)
        return response.status, text

    def get(self, path: str) -> tuple[int, str]:
        return self._request("GET", path, None, {})

    def get_bytes(self, path: str) -> tuple[int, bytes]:
        return self._request("GET", path, None, {}, raw=True)

    def post_file(self, path: str, field: str, filename: str, content: bytes) -> tuple[int, str]:
        """A multipart upload, as the browser sends a file input."""
        boundary = f"----kahoku{os.getpid()}{time.monotonic_ns()}"
        token = self.cookies.get("csrftoken", "")
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"'
                f"\r\n\r\n{token}\r\n"
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self._request("POST", path, body, headers, same_origin=True)

    def post(self, path: str, data: dict | list) -> tuple[int, str]:
        token = self.cookies.get("csrftoken", "")
        fields = list(data.items()) if isinstance(data, dict) else list(data)
        body = urlencode([("csrfmiddlewaretoken", token), *fields])
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self._request("POST", path, body, headers, same_origin=True)

    def login(self, username: str, password: str = BENCH_PASSWORD) -> int:
        self.get("/accounts/login/")
        status, _ = self.post("/accounts/login/", {"username": username, "password": password})
        return status


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def form_prefix(page: str) -> str:
    match = re.search(r'name="([\w-]+)-TOTAL_FORMS"', page)
    return match[1] if match else ""


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["generate"])
    parser.add_argument("--entries", type=int, default=30000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--staff-only", action="store_true")
    args = parser.parse_args()
    generate(args.entries, args.users, staff_only=args.staff_only)
