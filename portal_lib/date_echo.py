"""The live echo of a typed date (static/js/era_date.js asks it on every pause in typing),
so that the browser never holds a second copy of how dates are read (`era.parse_date`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from portal_lib import era
from portal_lib.forms import EraDateField


@require_GET
@login_required
def date_echo(request: HttpRequest) -> JsonResponse:
    """``?value=R8.11.2`` → ``{"ok": true, "iso": "2026-11-02", "label": "令和8年11月2日(月)"}``,
    or ``{"ok": false, "error": "…"}`` with the same message the form would give."""
    value = request.GET.get("value", "").strip()
    if not value:
        return JsonResponse({"ok": False, "error": ""})
    if len(value) > EraDateField.MAX_LENGTH:
        return JsonResponse({"ok": False, "error": ""})
    try:
        day = era.parse_date(value)
    except era.EraError as exc:
        return JsonResponse({"ok": False, "error": str(exc)})
    return JsonResponse({"ok": True, "iso": day.isoformat(), "label": era.format_date(day)})
