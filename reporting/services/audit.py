"""Keeping the audit trail to its retention (AUDIT_RETENTION_DAYS; `prune_audit`).

What goes: history rows (every kind of reporting.selectors.audit) and login records
(django-axes' AccessLog and AccessFailureLog) older than the retention. What stays, however
old: the latest history row of each object that still exists, so that who changed it last
(and when) is still known; an object deleted longer ago than the retention loses its rows,
its deletion row included. The unlock records are history rows of the person's profile and
follow the same rule. AccessAttempt (the lockout counters) is not a record: axes clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from reporting.selectors.audit import Kind, kinds

DELETE_CHUNK = 1000


@dataclass(frozen=True)
class PruneLine:
    label: str
    count: int


def history_to_prune(kind: Kind, cutoff: datetime) -> QuerySet[Model]:
    """``kind``'s history rows older than ``cutoff``, less each existing object's latest row."""
    history = kind.rows()
    latest = (
        history.filter(id=OuterRef("id"))
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    alive = kind.model._base_manager.filter(pk=OuterRef("id"))
    rows: QuerySet[Model] = history.filter(history_date__lt=cutoff).exclude(
        Q(history_id=Subquery(latest)) & Q(Exists(alive))
    )
    return rows


def _login_records(cutoff: datetime) -> list[tuple[str, QuerySet[Model]]]:
    from axes.models import AccessFailureLog, AccessLog

    return [
        ("ログイン成功の記録", AccessLog.objects.filter(attempt_time__lt=cutoff)),
        ("ログイン失敗の記録", AccessFailureLog.objects.filter(attempt_time__lt=cutoff)),
    ]


def _delete(qs: QuerySet[Model], key: str) -> None:
    """In chunks, through Django's delete (a history row's many-to-many rows go with it)."""
    while True:
        ids = list(qs.order_by().values_list(key, flat=True)[:DELETE_CHUNK])
        if not ids:
            return
        qs.model._default_manager.filter(**{f"{key}__in": ids}).delete()


def audit_prune(*, days: int, dry_run: bool, now: datetime | None = None) -> list[PruneLine]:
    """Count (``dry_run``) or delete what is older than ``days`` days; one line per kind with
    rows to prune, then the login records."""
    if days < 1:
        raise ValueError("days must be 1 or more")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    lines = []
    for kind in sorted(kinds().values(), key=lambda k: k.key):
        qs = history_to_prune(kind, cutoff)
        count = qs.count()
        if count and not dry_run:
            with transaction.atomic():
                _delete(qs, "history_id")
        if count:
            lines.append(PruneLine(kind.label, count))
    for label, qs in _login_records(cutoff):
        count = qs.count()
        if count and not dry_run:
            with transaction.atomic():
                _delete(qs, "pk")
        lines.append(PruneLine(label, count))
    return lines
