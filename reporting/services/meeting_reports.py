"""Headquarters meeting reports, written: taking a snapshot (its data from
reporting.selectors.meeting_reports, stored as plain JSON in Japanese)."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import translation

from plans.models import Plan
from reporting.models import ReportSnapshot
from reporting.selectors.meeting_reports import snapshot_data

if TYPE_CHECKING:
    from portal_lib.users import PortalUser


def _plain_json(data: dict[str, Any]) -> dict[str, Any]:
    """A snapshot stores plain JSON text, in Japanese: labels that are lazy translations are
    rendered once, now, so the stored report never changes with the reader's language."""
    with translation.override("ja"):
        plain: dict[str, Any] = json.loads(
            json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
        )
    return plain


def report_snapshot_create(
    *,
    plan: Plan,
    fiscal_year: int,
    title: str,
    today: date,
    user: PortalUser,
    document_number: str = "",
) -> ReportSnapshot:
    with transaction.atomic():
        snapshot = ReportSnapshot(
            plan=plan,
            fiscal_year=fiscal_year,
            title=title.strip(),
            document_number=document_number.strip(),
            taken_on=today,
            taken_by=user,
            data=_plain_json(snapshot_data(plan=plan, fiscal_year=fiscal_year, today=today)),
        )
        snapshot.full_clean()
        snapshot.save()
    return snapshot
