"""Who may open which plan object (house style: views never fetch by pk themselves)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from reporting.models import ReportSnapshot
from workgroups.access import roles_for

if TYPE_CHECKING:
    from portal_lib.users import RequestUser


def get_snapshot_for_user(user: RequestUser, pk: int) -> tuple[ReportSnapshot, bool]:
    """A meeting report: secretariat and HQ read it; only the secretariat makes them."""
    roles = roles_for(user)
    if not roles.oversees:
        raise Http404
    snapshot = (
        ReportSnapshot.objects.select_related("plan", "taken_by", "taken_by__profile")
        .filter(pk=pk)
        .first()
    )
    if snapshot is None:
        raise Http404("会議資料が見つかりません。")
    return snapshot, roles.secretariat
