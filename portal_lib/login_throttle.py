"""Login throttling beside django-axes' per user-and-address lockout (issue 19, item 14).

django-axes counts failures per lockout parameter group, but compares every group with
one limit (AXES_FAILURE_LIMIT). The portal wants three limits:

- a user name from one address (`AXES_FAILURE_LIMIT`, 5): a colleague mistyping locks
  only themselves on their own machine;
- one address across user names (`LOGIN_IP_FAILURE_LIMIT`, 15): password spraying from
  one address over many names;
- one user name across addresses (`LOGIN_USERNAME_FAILURE_LIMIT`, 10): guessing one
  account's password from many addresses.

Every lock lasts the cool-off (`AXES_COOLOFF_MINUTES`) and then lifts by itself; nothing
locks forever. `PortalAxesHandler.get_failures` scales each group's count to the base
limit, so axes' single comparison `failures >= AXES_FAILURE_LIMIT` is true exactly when
one group has reached its own limit: floor(count * base / limit) >= base iff count >= limit.

A successful login clears only that user's failures from that address (axes would clear
every group, so an attacker holding one valid account could wipe the address's count of
failures against other names by logging in with it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

USER_AND_ADDRESS = ("username", "ip_address")
ADDRESS = ("ip_address",)
USER = ("username",)

# The groups in the order of settings.AXES_LOCKOUT_PARAMETERS.
LOCKOUT_PARAMETERS = [list(USER_AND_ADDRESS), ADDRESS[0], USER[0]]


def _group(parameter: str | Sequence[str]) -> tuple[str, ...]:
    return (parameter,) if isinstance(parameter, str) else tuple(parameter)


def group_limit(group: tuple[str, ...]) -> int:
    if group == ADDRESS:
        return settings.LOGIN_IP_FAILURE_LIMIT
    if group == USER:
        return settings.LOGIN_USERNAME_FAILURE_LIMIT
    return settings.AXES_FAILURE_LIMIT


class PortalAxesHandler(AxesDatabaseHandler):  # type: ignore[misc]  # axes ships no types
    """axes' database handler with one limit per lockout parameter group."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        base = settings.AXES_FAILURE_LIMIT
        groups = [_group(p) for p in settings.AXES_LOCKOUT_PARAMETERS]
        worst, tripped = 0, None
        for group, attempts in zip(
            groups, self.get_user_attempts(request, credentials), strict=True
        ):
            count = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            scaled = count * base // group_limit(group)
            worst = max(worst, scaled)
            if scaled >= base and tripped is None:
                tripped = group
        # The lockout page says which limit was reached (the first, in the settings' order).
        request.portal_lockout_group = tripped or USER_AND_ADDRESS  # type: ignore[attr-defined]
        return worst

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        username = get_client_username(request, credentials)
        address = request.axes_ip_address  # type: ignore[attr-defined]  # set by axes' middleware
        count: int
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=address).delete()
        return count


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The Japanese lockout page (AXES_LOCKOUT_CALLABLE), naming the limit that was reached."""
    group = getattr(request, "portal_lockout_group", USER_AND_ADDRESS)
    context = {
        "failure_limit": group_limit(group),
        "lockout_kind": {USER_AND_ADDRESS: "user_address", ADDRESS: "address", USER: "user"}[group],
        "cooloff_timedelta": get_cool_off(request),
    }
    return render(request, "registration/lockout.html", context, status=429)
