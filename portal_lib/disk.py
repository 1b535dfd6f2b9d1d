"""Files the portal writes: whole or not at all, and a full disk is a 503, never a 500.

`write_atomic` writes through a temporary file in the same folder (the upload stash);
`storage_errors` turns a failed write into `StorageUnavailable`, which
`kahoku_dx.middleware.StorageFullMiddleware` answers with the Japanese 503 page;
`write_only_workbook` is a streamed openpyxl workbook whose temporary sheet files are
removed when building it fails (openpyxl itself keeps them until the process exits).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import openpyxl

try:  # openpyxl writes through lxml when it is installed; lxml reports a failed write so
    from lxml.etree import SerialisationError as _LxmlWriteError
except ImportError:  # pragma: no cover - without lxml, openpyxl raises OSError itself
    _LxmlWriteError = OSError


class StorageUnavailable(Exception):
    """A file the request needs could not be written (disk full, folder gone or read-only):
    answered with the Japanese 503 page (kahoku_dx.middleware.StorageFullMiddleware)."""


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all.

    The bytes go to a temporary file in the same folder, renamed into place only once
    complete: a full disk (or any other write error) leaves no partial file behind to fill
    the folder until the sweep, and a reader never sees half a file.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Inside: writing a file. Any failed write (ENOSPC, EDQUOT, EIO, a folder gone)
    becomes StorageUnavailable, answered with the 503 page."""
    try:
        yield
    except OSError as exc:
        raise StorageUnavailable(f"{what}: {exc}") from exc
    except _LxmlWriteError as exc:
        if not str(exc).startswith("IO_"):  # "IO_ENOSPC" and the like, from libxml2's writer
            raise
        raise StorageUnavailable(f"{what}: {exc}") from exc


def _discard_sheet_files(wb: Any) -> None:
    # openpyxl's write-only sheets stream to temporary files that only its atexit hook
    # removes; after a failure they would stay (and keep a full disk full) until then.
    from openpyxl.worksheet._writer import ALL_TEMP_FILES

    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        with suppress(Exception):
            writer.close()
        with suppress(OSError):
            os.remove(writer.out)
        with suppress(ValueError):
            ALL_TEMP_FILES.remove(writer.out)


@contextmanager
def write_only_workbook(what: str) -> Iterator[Any]:
    """``openpyxl.Workbook(write_only=True)``, built and saved inside the block."""
    wb = openpyxl.Workbook(write_only=True)
    try:
        with storage_errors(what):
            yield wb
    except BaseException:
        _discard_sheet_files(wb)
        raise
