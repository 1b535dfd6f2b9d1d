"""Every object's history, keyed by what the object is rather than by its id.

Run in the source database (in the test) and in the restored one (in a child process:
`manage.py shell -c "from tests.security.restore_snapshot import main; main()"`), the two
snapshots must be equal: each history row (history_id, date, user, type, every recorded
field) belongs to the object with the same identity — its natural key, or all its fields —
and each object has the same history rows.
"""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.db import models


def _history_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if hasattr(m, "instance_type") and m._meta.pk.name == "history_id"
    ]


def _ref(obj: models.Model | None) -> Any:
    """A related object by what it is: its natural key where it has one, else its id."""
    if obj is None:
        return None
    if hasattr(obj, "natural_key"):
        return [obj._meta.label_lower, *map(str, obj.natural_key())]
    return [obj._meta.label_lower, "pk", str(obj.pk)]


def _value(obj: models.Model, field: models.Field) -> Any:
    if field.is_relation:
        try:
            return _ref(getattr(obj, field.name))
        except field.remote_field.model.DoesNotExist:
            return ["missing", str(getattr(obj, field.attname))]
    value = field.value_from_object(obj)
    return None if value is None else str(value)


def identity(obj: models.Model) -> str:
    if hasattr(obj, "natural_key"):
        return json.dumps(_ref(obj), ensure_ascii=False)
    fields = {f.name: _value(obj, f) for f in obj._meta.concrete_fields if not f.primary_key}
    return json.dumps([obj._meta.label_lower, fields], ensure_ascii=False, sort_keys=True)


def snapshot() -> dict[str, Any]:
    rows: dict[str, Any] = {}
    history_of: dict[str, list[int]] = {}
    for history_model in _history_models():
        tracked = history_model.instance_type
        id_name = tracked._meta.pk.attname
        objects = {o.pk: identity(o) for o in tracked._base_manager.all()}
        for ident in objects.values():
            history_of.setdefault(ident, [])
        recorded = [
            f for f in history_model._meta.concrete_fields if f.name not in {"history_id", id_name}
        ]
        for row in history_model._base_manager.order_by("history_id"):
            owner = objects.get(getattr(row, id_name))
            key = f"{history_model._meta.label_lower}:{row.history_id}"
            rows[key] = {
                "object": owner,
                "history_date": row.history_date.isoformat(),
                "history_user": _ref(row.history_user),
                **{f.name: _value(row, f) for f in recorded},
            }
            if owner is not None:
                history_of[owner].append(row.history_id)
    return {"rows": rows, "history_of": history_of}


def main() -> None:
    print(json.dumps(snapshot(), ensure_ascii=False, sort_keys=True))
