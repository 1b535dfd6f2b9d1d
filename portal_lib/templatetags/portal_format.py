"""Display helpers for fiscal years, statuses and people (Japanese office conventions)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from portal_lib import era
from portal_lib.people import display_name

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

register = template.Library()


@register.filter
def fy(value: Any) -> str:
    """2026 -> "令和8年度 (2026年度)"."""
    try:
        return era.format_fiscal_year(int(value))
    except (TypeError, ValueError):
        return ""


@register.filter
def fy_short(value: Any) -> str:
    """2026 -> "R8 (2026)"."""
    try:
        return era.short_header(int(value))
    except (TypeError, ValueError):
        return ""


@register.filter
def translated(value: Any) -> str:
    """A Japanese source text held in a variable (a rule marked with gettext_noop, a label
    stored in a report snapshot) in the current language.

    {% translate variable %} cannot do this for texts containing "%": it looks them up
    with "%" doubled, which is how templates store msgids, not how Python code does.
    """
    return _(str(value)) if value else ""


@register.filter
def badge(value: Any) -> str:
    """A status value as its CSS badge class: "not_started" -> "badge-not-started"."""
    return f"badge-{str(value or 'none').replace('_', '-')}"


@register.filter
def person(user: PortalUser | None) -> str:
    """A user as staff know them: the profile's display name, else the login name."""
    if user is None:
        return _("(削除されたユーザー)")
    return display_name(user)


@register.filter
def minutes(value: Any) -> int | str:
    """A timedelta as whole minutes, rounded up (used for the lockout cool-off)."""
    try:
        seconds = value.total_seconds()
    except AttributeError:
        return ""
    return max(1, int(-(-seconds // 60)))


def _local_day(value: Any) -> date | None:
    """A date, or the local day of a moment (an aware datetime is shown in Japan's time)."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value if isinstance(value, date) else None


@register.filter
def wareki(value: Any) -> str:
    """A date as the portal shows it: 2026-11-02 -> "令和8年11月2日(月)" (portal_lib.era)."""
    day = _local_day(value)
    return era.format_date(day) if day else ""


@register.filter
def wareki_time(value: Any) -> str:
    """A moment as the portal shows it, in Japan's time: "令和8年12月7日(月) 09:33"."""
    if not isinstance(value, datetime):
        return wareki(value)
    moment = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{era.format_date(moment.date())} {moment:%H:%M}"


@register.filter
def wareki_full(value: Any) -> str:
    """和暦 with 西暦, where space allows: "令和8年11月2日(月)(2026年)"."""
    day = _local_day(value)
    return era.format_date_both(day) if day else ""
