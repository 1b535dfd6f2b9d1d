"""The service that writes a validated import, with history (simple-history bulk helpers)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from initiatives.models import (
    Indicator,
)
from kahoku_dx.spreadsheets import (
    SpreadsheetError,
)
from plans.models import Plan
from reporting.exchange.engine import ImportResult, parse_import
from reporting.exchange.sheets import SPECS

BATCH_SIZE = 1000


def import_apply(result: ImportResult, *, user: Any) -> dict[str, int]:
    """Write a validated import: one transaction, bulk, with history naming ``user``."""
    with transaction.atomic():
        if result.new_indicators:
            bulk_create_with_history(
                result.new_indicators, Indicator, batch_size=BATCH_SIZE, default_user=user
            )
            for obj in result.to_create:
                obj.indicator = obj.indicator  # refresh the FK id now the indicator has a pk
        if result.to_create:
            bulk_create_with_history(
                result.to_create, result.spec.model, batch_size=BATCH_SIZE, default_user=user
            )
        if result.to_update:
            bulk_update_with_history(
                result.to_update,
                result.spec.model,
                result.update_fields,
                batch_size=BATCH_SIZE,
                default_user=user,
            )
    return result.counts()


def bulk_import(
    *,
    slug: str,
    plan: Plan,
    data: bytes,
    filename: str,
    user: Any,
    expected_fingerprint: str | None = None,
) -> ImportResult:
    """Parse, validate and write in one go (the confirm step of the preview screens)."""
    spec = SPECS[slug]
    with transaction.atomic():
        result = parse_import(spec, data, filename, plan=plan, user=user)
        if expected_fingerprint is not None and result.fingerprint != expected_fingerprint:
            raise SpreadsheetError(
                "プレビューの後にデータが変更されました。もう一度ファイルを読み込んで確認してください。"
            )
        import_apply(result, user=user)
    return result


def sheet_import(
    *, slug: str, plan: Plan, data: bytes, filename: str, user: Any, dry_run: bool = False
) -> ImportResult:
    """Parse, validate and (unless ``dry_run``) write: the management command's one call."""
    if dry_run:
        return parse_import(SPECS[slug], data, filename, plan=plan, user=user)
    return bulk_import(slug=slug, plan=plan, data=data, filename=filename, user=user)
