"""A real OpenLDAP server (Debian's ``slapd``) for the directory-login tests.

Each `Slapd` has its own configuration (``slapd -f``), its own data in a temporary folder
(loaded with ``slapadd`` before it starts) and listens on a free loopback port; ``stop()``
ends the process it started, and nothing else. ``make test`` and ``.ci/run`` install the
packages (slapd, ldap-utils); a missing slapd fails the test, it is never skipped.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")

SUFFIX = "dc=city,dc=kahoku,dc=example"
PEOPLE = f"ou=職員,{SUFFIX}"
SERVICE_DN = f"cn=portal,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-account-pass"


@dataclass(frozen=True)
class DirectoryUser:
    uid: str
    password: str
    employee_number: str = ""
    mail: str = ""
    ou: str = ""
    name: str = ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _line(name: str, value: str) -> str:
    """One LDIF line; a value that is not plain ASCII is written in base64 (RFC 2849)."""
    if value.isascii():
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"


def _ldif(users: list[DirectoryUser]) -> str:
    entries = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: city\no: かほく市",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services",
        f"dn: {SERVICE_DN}\nobjectClass: person\ncn: portal\nsn: portal\n"
        f"userPassword: {SERVICE_PASSWORD}",
        f"{_line('dn', PEOPLE)}\nobjectClass: organizationalUnit\n{_line('ou', '職員')}",
    ]
    for u in users:
        lines = [
            _line("dn", f"uid={u.uid},{PEOPLE}"),
            "objectClass: inetOrgPerson",
            _line("uid", u.uid),
            _line("cn", u.name or u.uid),
            _line("sn", u.name or u.uid),
            _line("userPassword", u.password),
        ]
        for name, value in (("employeeNumber", u.employee_number), ("mail", u.mail), ("ou", u.ou)):
            if value:
                lines.append(_line(name, value))
        entries.append("\n".join(lines))
    return "\n\n".join(entries) + "\n"


class Slapd:
    """One slapd process with the given users under ``ou=職員``."""

    def __init__(self, root: Path, users: list[DirectoryUser]):
        for tool in (SLAPD, SLAPADD):
            if not Path(tool).exists():
                raise RuntimeError(
                    f"{tool} がありません: Debian の slapd と ldap-utils を入れてください "
                    "(make test が入れます)。"
                )
        self.root = root
        self.port = free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        data = root / "data"
        data.mkdir(parents=True)
        self.conf = root / "slapd.conf"
        self.conf.write_text(
            "\n".join(
                [
                    *(
                        f"include {SCHEMA / name}"
                        for name in ("core.schema", "cosine.schema", "inetorgperson.schema")
                    ),
                    f"pidfile {root / 'slapd.pid'}",
                    f"modulepath {MODULES}",
                    "moduleload back_mdb",
                    "database mdb",
                    "maxsize 16777216",
                    f'suffix "{SUFFIX}"',
                    f'rootdn "cn=admin,{SUFFIX}"',
                    "rootpw admin-pass",
                    f"directory {data}",
                    # Passwords are only ever compared by a bind; the service account reads
                    # the rest, as a city's read-only account on AD does.
                    "access to attrs=userPassword by anonymous auth by * none",
                    f'access to * by dn.exact="{SERVICE_DN}" read by self read by * none',
                ]
            )
            + "\n"
        )
        ldif = root / "data.ldif"
        ldif.write_text(_ldif(users), encoding="utf-8")
        subprocess.run(
            [SLAPADD, "-f", str(self.conf), "-l", str(ldif)],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def start(self) -> Slapd:
        # -d 0: stay in the foreground (the process is ours to end), logging nothing.
        self.process = subprocess.Popen(
            [SLAPD, "-f", str(self.conf), "-h", f"{self.uri}/", "-d", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd が起動しません: {self.process.stderr.read()!r}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd が10秒以内に応答しません。")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()
