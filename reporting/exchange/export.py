"""Export of the bulk sheets (xlsx and CSV) and their empty templates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from kahoku_dx.spreadsheets import (
    csv_bytes,
    csv_chunks,
    stream_workbook,
)
from plans.models import Plan
from reporting.exchange.columns import Spec


def export_rows(spec: Spec, plan: Plan) -> Iterator[list[Any]]:
    for obj in spec.queryset(plan).iterator(chunk_size=5000):
        yield [c.export(obj) for c in spec.columns]


def export_xlsx(spec: Spec, plan: Plan, target: IO[bytes] | None = None) -> bytes:
    """The sheet as bytes, or written to ``target`` (a binary file; returns b"")."""
    return stream_workbook([(spec.title, spec.header(), export_rows(spec, plan))], target)


def export_csv(spec: Spec, plan: Plan) -> bytes:
    return csv_bytes(spec.header(), export_rows(spec, plan))


def export_csv_chunks(spec: Spec, plan: Plan) -> Iterator[bytes]:
    """The CSV in pieces, read from the database as they are sent (a streamed response)."""
    return csv_chunks(spec.header(), export_rows(spec, plan))


def template_xlsx(spec: Spec) -> bytes:
    """An empty sheet with the headers, and a second sheet explaining each column."""
    guide = [[c.header, "必須" if c.required else "", c.hint or ""] for c in spec.columns] + [
        ["", "", ""],
        ["キー", "", "、".join(spec.column(k).header for k in spec.key if spec.column(k))],
        ["", "", "キーが同じ行は更新、ない行は追加されます。ファイルにない行は削除されません。"],
    ]
    return stream_workbook(
        [(spec.title, spec.header(), []), ("記入方法", ["列", "必須", "入力のしかた"], guide)]
    )
