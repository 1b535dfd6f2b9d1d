"""What a backup holds, how it is loaded, and the check that the restore kept every identity.

A backup keeps every primary key: history rows (django-simple-history) point at their object
by its id, so an object that came back under another id would take over another object's
history while every count stayed the same. Foreign keys are written as ids too, except to the
tables each database fills for itself (content types, permissions), which go by natural key.
Times keep their microseconds.

After loading, `verify` compares the database with the backup object by object: every row
at its primary key with the same fields, no row the backup does not have, and every history
row attached to the same object as in the backup. A file made by `dumpdata
--natural-primary` (the earlier documented backup) has no ids for objects with natural keys;
its history rows are then checked against the natural key their object had at its last
recorded change. Apps are found through the registry: this module imports none.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any, cast

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.core.management.color import no_style
from django.core.serializers import python
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models, transaction
from django.db.migrations.recorder import MigrationRecorder

# Not backed up: each database makes its own (content types, permissions) or they are
# short-lived (sessions) or only the admin's own log.
EXCLUDED_APPS = frozenset({"contenttypes", "sessions"})
EXCLUDED_MODELS = frozenset({"auth.permission", "admin.logentry"})
# Foreign keys to these go by natural key: their ids differ from one database to the next.
PER_DATABASE_MODELS = frozenset({"contenttypes.contenttype", "auth.permission"})


def backup_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model._meta.managed
        and not model._meta.proxy
        and model._meta.app_label not in EXCLUDED_APPS
        and model._meta.label_lower not in EXCLUDED_MODELS
    ]


class _Serializer(python.Serializer):
    """Django's Python serializer, with natural keys only towards per-database tables."""

    def _per_database(self, field: Any) -> bool:  # a relation field
        return field.remote_field.model._meta.label_lower in PER_DATABASE_MODELS

    def handle_fk_field(self, obj: Any, field: Any) -> None:
        self.use_natural_foreign_keys = self._per_database(field)
        super().handle_fk_field(obj, field)

    def handle_m2m_field(self, obj: Any, field: Any) -> None:
        self.use_natural_foreign_keys = self._per_database(field)
        super().handle_m2m_field(obj, field)


class _Encoder(DjangoJSONEncoder):
    """DjangoJSONEncoder cuts times to the millisecond; a backup keeps them whole."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def applied_migrations(using: str) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = defaultdict(list)
    for app, name in MigrationRecorder(connections[using]).applied_migrations():
        applied[app].append(name)
    return {app: sorted(names) for app, names in sorted(applied.items())}


def dump(using: str) -> tuple[bytes, dict[str, Any]]:
    """(the backup as JSON, its manifest), read in one consistent snapshot."""
    connection = connections[using]
    outermost = not connection.in_atomic_block
    with transaction.atomic(using=using):
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        objects: list[dict[str, Any]] = []
        counts: dict[str, int] = {}
        for model in backup_models():
            m2m = [f.name for f in model._meta.local_many_to_many if f.serialize]  # type: ignore[attr-defined]  # not in django-stubs
            rows = model._base_manager.using(using).order_by("pk").prefetch_related(*m2m)
            part = _Serializer().serialize(rows.iterator(chunk_size=2000))
            counts[model._meta.label_lower] = len(part)
            objects.extend(part)
        migrations = applied_migrations(using)
    text = json.dumps(objects, cls=_Encoder, ensure_ascii=False, indent=0)
    manifest = {
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(),
        "database": connection.vendor,
        "objects": len(objects),
        "models": counts,
        "migrations": migrations,
    }
    return text.encode("utf-8"), manifest


def non_empty_models(using: str) -> list[str]:
    return [
        model._meta.label_lower
        for model in backup_models()
        if model._base_manager.using(using).exists()
    ]


def load(objects: list[dict[str, Any]], *, using: str) -> int:
    """Save every object as it is (raw, ids kept), as `loaddata` does; returns the count."""
    connection = connections[using]
    count = 0
    with connection.constraint_checks_disabled():
        deferred = []
        for item in python.Deserializer(objects, using=using, handle_forward_references=True):
            item.save(using=using)
            if item.deferred_fields:
                deferred.append(item)
            count += 1
        for item in deferred:
            item.save_deferred_fields(using=using)
    tables = sorted({m._meta.db_table for m in backup_models()})
    connection.check_constraints(table_names=tables)
    return count


def reset_sequences(using: str) -> None:
    """Rows were saved with their ids: PostgreSQL's sequences must move past them, or the
    next new object collides. SQLite needs nothing (AUTOINCREMENT follows the largest id)."""
    connection = connections[using]
    statements = connection.ops.sequence_reset_sql(no_style(), backup_models())
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


# --- the check after loading -------------------------------------------------------------


def _is_history_model(model: type[models.Model]) -> bool:
    return hasattr(model, "instance_type") and model._meta.pk.name == "history_id"


class _Resolver:
    """A foreign-key value from the backup (an id, or a natural key) as the id it stands for
    in the database now."""

    def __init__(self, using: str):
        self.using = using
        self.cache: dict[tuple[str, tuple[Any, ...]], Any] = {}

    def __call__(self, field: Any, value: Any) -> Any:  # a relation field
        if value is None:
            return None
        target = field.target_field
        if not isinstance(value, list | tuple):
            return target.to_python(value)
        model = field.remote_field.model
        key = (model._meta.label_lower, tuple(value))
        if key not in self.cache:
            manager = model._default_manager.db_manager(self.using)
            try:
                self.cache[key] = getattr(manager.get_by_natural_key(*value), target.attname)
            except ObjectDoesNotExist:
                self.cache[key] = ("natural key not found", *value)
        return self.cache[key]


def _fields_of(model: type[models.Model], names: Iterable[str]) -> list[models.Field[Any, Any]]:
    # a backup names concrete fields only (no reverse relations, no generic keys)
    return [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in names]


def _backup_values(
    model: type[models.Model], fields: dict[str, Any], resolve: _Resolver
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in _fields_of(model, fields):
        value = fields[field.name]
        if field.many_to_many:
            out[field.name] = sorted((resolve(field, v) for v in value), key=repr)
        elif field.is_relation:
            out[field.name] = resolve(field, value)
        else:
            out[field.name] = None if value is None else field.to_python(value)
    return out


def _database_values(obj: models.Model, fields: list[models.Field[Any, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in fields:
        if field.many_to_many:
            related = getattr(obj, field.name).all()
            out[field.name] = sorted((r.pk for r in related), key=repr)
        elif field.is_relation:
            out[field.name] = getattr(obj, field.attname)
        else:
            value = field.value_from_object(obj)
            out[field.name] = None if value is None else field.to_python(value)
    return out


def _canonical(values: dict[str, Any]) -> str:
    return json.dumps(values, cls=_Encoder, sort_keys=True, ensure_ascii=False)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _natural(obj: models.Model, *, with_pk: bool = True) -> str:
    try:
        key = obj.natural_key()  # type: ignore[attr-defined]
    except (AttributeError, ObjectDoesNotExist):
        return f"pk={obj.pk}"
    return f"{tuple(key)} (pk={obj.pk})" if with_pk else str(tuple(key))


def verify(objects: list[dict[str, Any]], *, using: str) -> list[str]:
    """Every difference between the loaded database and the backup, in words."""
    resolve = _Resolver(using)
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in objects:
        by_model[item["model"].lower()].append(item)
    mismatches: list[str] = []
    loaded: dict[str, dict[Any, models.Model]] = {}
    backup_rows: dict[str, dict[Any, dict[str, Any]]] = {}
    pkless: set[str] = set()

    for model in backup_models():
        label = model._meta.label_lower
        items = by_model.pop(label, [])
        m2m = [f.name for f in model._meta.local_many_to_many if f.serialize]  # type: ignore[attr-defined]  # not in django-stubs
        rows = {o.pk: o for o in model._base_manager.using(using).prefetch_related(*m2m)}
        loaded[label] = rows
        with_pk = [i for i in items if "pk" in i]
        if len(with_pk) < len(items):
            pkless.add(label)
        backup_rows[label] = {}
        for item in with_pk:
            pk = model._meta.pk.to_python(item["pk"])
            expected = _backup_values(model, item["fields"], resolve)
            backup_rows[label][pk] = expected
            obj = rows.get(pk)
            if obj is None:
                mismatches.append(f"{label} pk={pk}: 復元後のデータベースにありません。")
                continue
            actual = _database_values(obj, _fields_of(model, item["fields"]))
            for name, value in expected.items():
                if actual[name] != value:
                    mismatches.append(
                        f"{label} pk={pk}: {name} がバックアップと違います"
                        f" ({_short(value)} → {_short(actual[name])})。"
                    )
        if label in pkless:
            mismatches.extend(_compare_without_ids(model, items, rows, resolve))
        else:
            for pk in sorted(rows.keys() - backup_rows[label].keys(), key=repr):
                mismatches.append(f"{label} pk={pk}: バックアップにない行が復元後にあります。")
    for label in sorted(by_model):
        mismatches.append(f"{label}: 復元の対象外か、このポータルにないモデルです。")

    for model in backup_models():
        if _is_history_model(model):
            mismatches.extend(_history_attachment(model, loaded, backup_rows, pkless))
    return mismatches


def _compare_without_ids(
    model: type[models.Model],
    items: list[dict[str, Any]],
    rows: dict[Any, models.Model],
    resolve: _Resolver,
) -> list[str]:
    """Objects a `--natural-primary` dump wrote without ids: the same contents, as a multiset."""
    names = sorted({name for item in items for name in item["fields"]})
    fields = _fields_of(model, names)
    expected = Counter(
        _canonical(_backup_values(model, {n: i["fields"].get(n) for n in names}, resolve))
        for i in items
    )
    actual = Counter(_canonical(_database_values(obj, fields)) for obj in rows.values())
    missing, extra = expected - actual, actual - expected
    if not missing and not extra:
        return []
    return [
        f"{model._meta.label_lower}: バックアップの {sum(missing.values())} 行が復元後になく、"
        f"バックアップにない {sum(extra.values())} 行があります。"
    ]


def _history_attachment(
    history_model: Any,  # simple-history's generated model (untyped)
    loaded: dict[str, dict[Any, models.Model]],
    backup_rows: dict[str, dict[Any, dict[str, Any]]],
    pkless: set[str],
) -> list[str]:
    """Each history row must belong to the same object after the restore as in the backup."""
    tracked = history_model.instance_type
    label, tracked_label = history_model._meta.label_lower, tracked._meta.label_lower
    id_name = tracked._meta.pk.attname
    history: dict[Any, Any] = loaded[label]  # simple-history rows (untyped)
    objects = loaded.get(tracked_label, {})
    if tracked_label in pkless:
        before = _owners_by_last_change(history.values(), tracked, objects)
    else:
        expected_objects = backup_rows.get(tracked_label, {})
    problems = []
    for history_id, expected_row in sorted(backup_rows[label].items()):
        row = history.get(history_id)
        if row is None:
            continue  # reported as a missing row already
        backup_id = expected_row[tracked._meta.pk.name]
        now = objects.get(getattr(row, id_name))
        if tracked_label in pkless:
            owner = before.get(backup_id)
            same = owner is now
            was_text = (
                f"{_natural(owner, with_pk=False)} (バックアップでの id={backup_id})"
                if owner is not None
                else f"id={backup_id} (削除済み)"
            )
        else:
            was = expected_objects.get(backup_id)
            fields = _fields_of(tracked, was) if was is not None else []
            same = (was is None and now is None) or (
                was is not None and now is not None and _database_values(now, fields) == was
            )
            was_text = _from_values(tracked, backup_id, was)
        if not same:
            problems.append(
                f"{label} history_id={history_id} ({row.history_date:%Y-%m-%d %H:%M:%S}, "
                f"{_who(row)}): バックアップでは {tracked_label} {was_text}"
                " の履歴ですが、復元後は"
                + (f" {_natural(now)} に付いています。" if now else "どの対象にも付いていません。")
            )
    return problems


def _who(row: models.Model) -> str:
    try:
        user = row.history_user  # type: ignore[attr-defined]
    except (AttributeError, ObjectDoesNotExist):
        return "利用者不明"
    return user.get_username() if user is not None else "利用者なし"


def _from_values(model: type[models.Model], pk: Any, values: dict[str, Any] | None) -> str:
    """The backup's object at `pk`, named by its natural key where it has one."""
    if values is None:
        return f"id={pk} (削除済み)"
    plain = {f.attname: values[f.name] for f in _fields_of(model, values) if not f.many_to_many}
    return _natural(model(pk=pk, **plain))


def _owners_by_last_change(
    rows: Iterable[Any], tracked: type[models.Model], objects: dict[Any, models.Model]
) -> dict[Any, models.Model | None]:
    """For a dump without ids: which object each old id was, by the natural key recorded in
    its latest history row (none if that row records the deletion)."""
    id_name = tracked._meta.pk.attname
    latest: dict[Any, Any] = {}
    for row in rows:
        key = (row.history_date, row.history_id)
        old = latest.get(getattr(row, id_name))
        if old is None or key > (old.history_date, old.history_id):
            latest[getattr(row, id_name)] = row
    by_natural = {}
    for obj in objects.values():
        try:
            by_natural[tuple(obj.natural_key())] = obj  # type: ignore[attr-defined]
        except ObjectDoesNotExist:
            continue
    owners: dict[Any, models.Model | None] = {}
    for old_id, row in latest.items():
        if row.history_type == "-":
            owners[old_id] = None
            continue
        try:
            natural = tuple(row.instance.natural_key())
        except (AttributeError, ObjectDoesNotExist):
            natural = None
        owners[old_id] = by_natural.get(natural) if natural is not None else None
    return owners


def first_lines(lines: list[str], limit: int | None = 10) -> str:
    shown = "\n".join(f"  - {line}" for line in lines[:limit])
    more = f"\n  … ほか {len(lines) - limit} 件" if limit and len(lines) > limit else ""
    return shown + more
