"""The service that writes a validated import, with history (simple-history bulk helpers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from plans.models import Plan
from portal_lib.sheet_reading import SpreadsheetError
from reporting.exchange.engine import Batch, ImportResult, parse_import
from reporting.exchange.sheets import SPECS

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

BATCH_SIZE = 2000  # rows per INSERT / UPDATE statement
# PostgreSQL's SQLSTATE for a unique constraint (uniq_progress_date and the like) refusing a row.
UNIQUE_VIOLATION = "23505"


def already_registered_message() -> str:
    return gettext(
        "取り込もうとした行の一部は、同時に行われた別の取り込みによってすでに登録されています。"
        "もう一度ファイルを読み込んで、内容を確認してください。"
    )


def is_unique_violation(exc: IntegrityError) -> bool:
    """True when a unique constraint refused a row (the database's own check, reached when
    two imports passed the preview's check at once), not some other integrity rule."""
    if getattr(exc.__cause__, "sqlstate", None) == UNIQUE_VIOLATION:  # psycopg
        return True
    return str(exc).startswith("UNIQUE constraint failed")  # SQLite


def write_batch(batch: Batch, *, user: PortalUser | None) -> None:
    """Write one validated chunk, in bulk, with history naming ``user``. Runs inside the
    import's transaction (``bulk_import``)."""
    if batch.linked_new:
        # Saved first; the rows that name them pick up their ids when they are saved.
        bulk_create_with_history(
            batch.linked_new, type(batch.linked_new[0]), batch_size=BATCH_SIZE, default_user=user
        )
    if batch.to_create:
        bulk_create_with_history(
            batch.to_create, batch.spec.model, batch_size=BATCH_SIZE, default_user=user
        )
    if batch.to_update:
        bulk_update_with_history(
            batch.to_update,
            batch.spec.model,
            batch.update_fields,
            batch_size=BATCH_SIZE,
            default_user=user,
        )


def bulk_import(
    *,
    slug: str,
    plan: Plan,
    data: bytes,
    filename: str,
    user: PortalUser | None,
    expected_fingerprint: str | None = None,
) -> ImportResult:
    """Parse, validate and write in one transaction (the confirm step of the preview screens,
    and the management command). Chunks are written as they are validated; a problem in any
    row, or a fingerprint that is not the preview's, rolls every chunk back."""
    spec = SPECS[slug]
    try:
        # The IntegrityError is caught outside the block, so the whole import (or its
        # savepoint) is rolled back first: PostgreSQL refuses every statement after an error
        # until then.
        with transaction.atomic():
            result = parse_import(
                spec,
                data,
                filename,
                plan=plan,
                user=user,
                write=lambda batch: write_batch(batch, user=user),
            )
            if expected_fingerprint is not None and result.fingerprint != expected_fingerprint:
                raise SpreadsheetError(
                    "プレビューの後にデータが変更されました。もう一度ファイルを読み込んで確認してください。"
                )
    except IntegrityError as exc:
        # Another import of the same rows (a separate preview of the same sheet) committed
        # between this one's check and its INSERT.
        if not is_unique_violation(exc):
            raise
        raise SpreadsheetError(already_registered_message()) from exc
    return result


def sheet_import(
    *,
    slug: str,
    plan: Plan,
    data: bytes,
    filename: str,
    user: PortalUser | None,
    dry_run: bool = False,
) -> ImportResult:
    """Parse, validate and (unless ``dry_run``) write: the management command's one call."""
    if dry_run:
        return parse_import(SPECS[slug], data, filename, plan=plan, user=user)
    return bulk_import(slug=slug, plan=plan, data=data, filename=filename, user=user)
