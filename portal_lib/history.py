"""Saving and deleting with the audit trail's "who": the one place that names the history user.

django-simple-history reads ``_history_user`` from the instance; outside a request (imports,
management commands, services called from tests) nothing else tells it who made the change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portal_lib.users import PortalUser


def set_history_user(obj: Any, user: PortalUser | None, *, reason: str = "") -> Any:
    """Name ``user`` (and ``reason``) in the history row the next write of ``obj`` records:
    for a write the caller makes itself (a save with update_fields, a many-to-many set, an
    import library's save). ``user`` None leaves simple-history's own guess (the request's)."""
    if user is not None:
        obj._history_user = user
    if reason:
        obj._change_reason = reason
    return obj


def save_with_user(obj: Any, user: PortalUser | None) -> None:
    """Validate with the model's own rules (``full_clean``), then save with ``user`` in history."""
    obj.full_clean()
    set_history_user(obj, user)
    obj.save()


def delete_with_user(obj: Any, user: PortalUser | None) -> None:
    set_history_user(obj, user)
    obj.delete()
