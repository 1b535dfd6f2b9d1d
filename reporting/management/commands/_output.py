"""Shared by the export commands (export_plan_document, export_comparison,
export_closing_report): the file to write, the document's making and the write, each
failure a CommandError in Japanese and a non-zero exit status."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.core.management.base import CommandError

from portal_lib.office import OfficeError


def output_path(value: str) -> Path:
    """The file to write; its folder must exist (checked before the document is made)."""
    output = Path(value)
    if not output.parent.is_dir():
        raise CommandError(f"書き出し先のフォルダ「{output.parent}」がありません。")
    return output


def make_document(make: Callable[[], bytes], *refusals: type[Exception]) -> bytes:
    """The document's bytes; a failed conversion (LibreOffice) or one of ``refusals`` is the
    command's error, with its own message."""
    caught: tuple[type[Exception], ...] = (OfficeError, *refusals)
    try:
        return make()
    except caught as exc:
        raise CommandError(str(exc)) from exc


def write_output(output: Path, data: bytes) -> None:
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise CommandError(f"{output} に書き出せません: {exc.strerror or exc}") from exc
