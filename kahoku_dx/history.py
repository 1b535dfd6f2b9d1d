"""Saving and deleting with the audit trail's "who": the one place that names the history user.

django-simple-history reads ``_history_user`` from the instance; outside a request (imports,
management commands, services called from tests) nothing else tells it who made the change.
"""

from __future__ import annotations

from typing import Any


def save_with_user(obj: Any, user: Any) -> None:
    """Validate with the model's own rules (``full_clean``), then save with ``user`` in history."""
    obj.full_clean()
    if user is not None:
        obj._history_user = user
    obj.save()


def delete_with_user(obj: Any, user: Any) -> None:
    if user is not None:
        obj._history_user = user
    obj.delete()
