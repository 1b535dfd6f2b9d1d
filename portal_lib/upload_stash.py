"""Previewed uploads kept on the server until their one confirmation.

The uploaded bytes stay in a private temp directory under a random token, their SHA-256
kept in the session; the confirm POST carries only the token, so nothing the browser
re-posts is trusted. Used by every preview-then-confirm import (Excel sheets, table 4-1,
the staff roster).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from portal_lib.disk import StorageUnavailable, write_atomic

SESSION_KEY = "excel_imports"
UPLOAD_DIR = Path(settings.UPLOAD_STASH_DIR)  # /healthz watches its free space

STASH_MAX_AGE = 24 * 60 * 60  # seconds; abandoned previews are removed after this
# Previews one session may keep waiting at once (every import screen and the admin's share
# it): a new preview past this drops the session's oldest one, file and entry.
STASH_MAX_PENDING = 20


def sweep() -> None:
    cutoff = time.time() - STASH_MAX_AGE
    for path in UPLOAD_DIR.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def stash(request: HttpRequest, kind: str, data: bytes, filename: str, fingerprint: str) -> str:
    """Keep ``data`` for its confirmation; StorageUnavailable (a 503 page) if it cannot be
    written, with nothing left behind."""
    token = secrets.token_urlsafe(24)
    try:
        UPLOAD_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        sweep()
        write_atomic(UPLOAD_DIR / token, data)
    except OSError as exc:
        raise StorageUnavailable(f"upload stash: {exc}") from exc
    entries: dict[str, Any] = request.session.get(SESSION_KEY, {})
    entries[token] = {
        "kind": kind,
        "sha256": hashlib.sha256(data).hexdigest(),
        "filename": filename,
        "fingerprint": fingerprint,
    }
    for old in list(entries)[:-STASH_MAX_PENDING]:
        del entries[old]
        (UPLOAD_DIR / old).unlink(missing_ok=True)
    request.session[SESSION_KEY] = entries
    return token


_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}")


def claim(request: HttpRequest, kind: str, token: str) -> tuple[bytes, dict[str, Any]] | Any:
    """Claim a previewed upload for its one confirmation; or the message to show instead.

    The claim is ``os.rename`` of the stashed file to ``<token>.claimed``: a rename is atomic,
    so of any number of concurrent confirms (double click, two tabs, a retrying proxy)
    exactly one finds the file and the others get ALREADY_DONE. A database row with a unique
    constraint would do the same but needs a migration; a lock on the plan row only
    serialises the writers, and the second would then write again. The stash directory is
    already where the confirm reads the file from, so every app process that can serve the
    confirm shares it.
    """
    entry = request.session.get(SESSION_KEY, {}).get(token)
    if not entry or entry["kind"] != kind or not _TOKEN_RE.fullmatch(token):
        return EXPIRED
    path = UPLOAD_DIR / token
    claimed = UPLOAD_DIR / f"{token}.claimed"
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        if claimed.exists() or (UPLOAD_DIR / f"{token}.done").exists():
            return ALREADY_DONE
        return EXPIRED
    data = claimed.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        forget(request, token)
        return EXPIRED
    return data, entry


def release(token: str) -> None:
    """Give a claim back after a confirmation that failed unexpectedly and wrote nothing."""
    try:
        os.rename(UPLOAD_DIR / f"{token}.claimed", UPLOAD_DIR / token)
    except OSError:
        pass


def forget(request: HttpRequest, token: str, *, done: bool = False) -> None:
    """Drop a stash. After a confirmation that wrote, a marker stays (swept after
    STASH_MAX_AGE) so that a late second confirm says ALREADY_DONE, not "expired"."""
    stash = request.session.get(SESSION_KEY, {})
    stash.pop(token, None)
    request.session[SESSION_KEY] = stash
    if not _TOKEN_RE.fullmatch(token):
        return
    if done:
        (UPLOAD_DIR / f"{token}.done").touch()
    for name in (token, f"{token}.claimed"):
        (UPLOAD_DIR / name).unlink(missing_ok=True)


@contextmanager
def confirming(
    request: HttpRequest, token: str, *, refusals: tuple[type[BaseException], ...] = ()
) -> Iterator[None]:
    """Around the write of a claimed upload, the one rule of every confirm: written, the
    stash is forgotten with its done-marker; refused (one of ``refusals``: nothing written,
    the person is told why), it is forgotten; failed otherwise (nothing written), the claim
    is given back so that the same preview may be confirmed again. The exception goes on."""
    try:
        yield
    except BaseException as exc:
        if isinstance(exc, refusals):
            forget(request, token)
        else:
            release(token)
        raise
    forget(request, token, done=True)


EXPIRED = _(
    "確認の期限が切れたか、ファイルが見つかりません。もう一度ファイルを選んで読み込んでください。"
)
ALREADY_DONE = "この取り込みはすでに実行されました。"
