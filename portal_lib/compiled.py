"""values() querysets whose SQL is compiled once and run many times.

Building and compiling a large queryset (a UNION ALL of nine history tables, a GROUP BY with
the year's latest progress) costs Django more CPU than the database needs to answer it: at
a few dozen initiatives the dashboard spent most of its time composing SQL whose text and
parameters depend only on a few values (the plan, the fiscal year, today). ``values_rows``
keeps the compiled SQL, its parameters and its column converters under a key naming those
values, and runs the same statement again: every call still reads the database, so the rows
are always current; only the composing is skipped.

The caller's key must name every value the queryset is built from (a value missing from the
key would reuse another call's parameters), except whole numbers passed as ``int_args``
(a user's pk), which each call puts in their places; the tests compare each keyed read with the
plain ORM read of the same queryset. The store is per thread (a connection belongs to one
thread) and per database alias, and holds at most MAX_COMPILED statements (least recently
used first out). Not for querysets whose SQL depends on data read while building them.

``prepare=True`` (PostgreSQL; a no-op elsewhere): the statement is sent through a
server-binding cursor that prepares it on its connection at its first run; PostgreSQL plans
each of its first five runs and from then on keeps one generic plan where that costs no
more than planning each time. For statements whose planning costs more than their run:
the dashboard's nine-table recent changes took 5–8 ms to plan and ~1 ms to run. Only for
statements the tests run on PostgreSQL: Django's SQL is not always preparable (its
parameters in GROUP BY, Django ticket #20516), which shows as an error on the first run.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Model, QuerySet

# ModelIterable's own helper (private: the stubs do not declare it).
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.db.models.sql.compiler import SQLCompiler

MAX_COMPILED = 64
M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Objects:
    """How ModelIterable turns a row into a model instance (with its select_related objects
    and annotations), worked out once with the statement."""

    model: type[Model]
    init_list: list[str]
    start: int
    end: int
    populators: list[Any]  # django.db.models.query.RelatedPopulator
    annotations: dict[str, int]

    def build(self, db: str, row: Any) -> Model:
        obj = self.model.from_db(db, self.init_list, row[self.start : self.end])
        for populator in self.populators:
            populator.populate(row, obj)
        for name, at in self.annotations.items():
            setattr(obj, name, row[at])
        return obj


@dataclass(frozen=True)
class _Compiled:
    connection: BaseDatabaseWrapper
    compiler: SQLCompiler | None  # None: the queryset can match nothing (EmptyResultSet)
    sql: str
    params: tuple[Any, ...]
    names: tuple[str, ...]
    objects: _Objects | None = None  # for objects(): how a row becomes a model instance
    # where each of the call's int_args stands in params: {index in params: index in args}
    slots: dict[int, int] = field(default_factory=dict)


class _Store(threading.local):
    def __init__(self) -> None:
        self.compiled: OrderedDict[tuple[str, str, Hashable], _Compiled] = OrderedDict()


_store = _Store()


def _compile(queryset: QuerySet[Any, Any], *, as_objects: bool) -> _Compiled:
    query = queryset.query
    connection = connections[queryset.db]
    # The names ValuesIterable gives the columns of a values() queryset.
    if query.selected:
        names = tuple(query.selected)
    else:
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
    # QuerySet's private state, which the stubs do not declare.
    prefetch = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
    known = queryset._known_related_objects  # type: ignore[attr-defined]
    if as_objects and (prefetch or known):
        # Both are filled in by ModelIterable or after it, from other queries.
        raise ValueError("compiled.objects() takes no prefetch_related() or related manager")
    compiler = query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()  # also fills compiler.select and klass_info
    except EmptyResultSet:
        return _Compiled(connection, None, "", (), names)
    objects = None
    if as_objects:
        # As ModelIterable.__iter__ (Django 5.2) works them out for each read.
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        objects = _Objects(
            model=klass_info["model"],
            init_list=[f[0].target.attname for f in select[start:end]],
            start=start,
            end=end,
            populators=get_related_populators(klass_info, select, queryset.db),
            annotations=dict(compiler.annotation_col_map or {}),
        )
    return _Compiled(connection, compiler, sql, tuple(params), names, objects)


def _with_slots(
    build: Callable[..., QuerySet[Any, Any]], int_args: tuple[int, ...], *, as_objects: bool
) -> tuple[_Compiled, bool]:
    """``build(*int_args)`` compiled, and whether it can be kept: composed a second time with
    other numbers, the same SQL whose parameters differ exactly where the arguments stand
    (constants that happen to equal an argument stay put). A statement whose text depends on
    the numbers, or which drops one of them, is run as composed, not kept."""
    first = _compile(build(*int_args), as_objects=as_objects)
    # Each argument moved by its own amount, so that equal arguments are told apart.
    others = tuple(a + i + 1 if a < 2**31 - 64 else a - i - 1 for i, a in enumerate(int_args))
    second = _compile(build(*others), as_objects=as_objects)
    if first.compiler is None or first.sql != second.sql:
        return first, False
    pairs = {(a, b): i for i, (a, b) in enumerate(zip(int_args, others, strict=True))}
    slots: dict[int, int] = {}
    for at, (p, q) in enumerate(zip(first.params, second.params, strict=True)):
        if p == q:
            continue
        if (p, q) not in pairs:
            return first, False
        slots[at] = pairs[(p, q)]
    if set(slots.values()) != set(range(len(int_args))):
        return first, False
    return replace(first, slots=slots), True


def _read(
    key: Hashable,
    build: Callable[..., QuerySet[Any, Any]],
    using: str,
    int_args: tuple[int, ...],
    *,
    as_objects: bool,
    prepare: bool = False,
) -> tuple[_Compiled, list[Any]]:
    """The kept (or newly composed) statement of ``key`` and its rows, converted."""
    store = _store.compiled
    slot = ("objects" if as_objects else "values", using, key)
    compiled = store.get(slot)
    if compiled is None or compiled.connection is not connections[using]:
        keep = True
        if int_args:
            compiled, keep = _with_slots(build, int_args, as_objects=as_objects)
        else:
            compiled = _compile(build(), as_objects=as_objects)
        if keep:
            store[slot] = compiled
            while len(store) > MAX_COMPILED:
                store.popitem(last=False)
    else:
        store.move_to_end(slot)
    if compiled.compiler is None:
        return compiled, []
    params = compiled.params
    if compiled.slots:
        given = list(params)
        for at, arg in compiled.slots.items():
            given[at] = int_args[arg]
        params = tuple(given)
    with _cursor(compiled.connection, prepare=prepare) as cursor:
        cursor.execute(compiled.sql, params)
        fetched = cursor.fetchall()
    return compiled, list(compiled.compiler.results_iter(results=[fetched]))


def _cursor(connection: BaseDatabaseWrapper, *, prepare: bool) -> CursorWrapper:
    """The connection's cursor; with ``prepare`` on PostgreSQL, one that binds its
    parameters on the server and asks psycopg to prepare each statement (Django turns
    psycopg's own automatic preparing off, for connection poolers), wrapped as
    connection.cursor() wraps its own: the execute wrappers (query counts, the request
    log) and the debug log see it."""
    if not prepare or connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        connection.validate_thread_sharing()
        pg = connection.connection
        if pg.prepare_threshold is None:
            # Django sets None (prepare nothing, for poolers), under which psycopg ignores
            # prepare=True too. Django's own cursors bind on the client and never prepare;
            # with the largest threshold nothing is prepared for having run often, only
            # what this cursor asks for.
            pg.prepare_threshold = _ONLY_WHEN_ASKED
        raw = _preparing_cursor_class()(pg)
        if connection.queries_logged:
            return _LoggedPreparedCursor(raw, connection)
        return connection.make_cursor(raw)


class _LoggedPreparedCursor(CursorDebugWrapper):
    """Django's debug wrapper (DEBUG, CaptureQueriesContext) for the preparing cursor. A
    prepared run carries no query text for last_executed_query() to read back (it logged
    None), so the statement is logged with its values put in by the driver, the text Django's
    own cursors log."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        ops: Any = self.db.ops  # the PostgreSQL backend's: compose_sql is psycopg's mogrify
        with self.debug_sql(ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)


_ONLY_WHEN_ASKED = 2**31 - 1


@functools.cache
def _preparing_cursor_class() -> type[Any]:
    import psycopg  # the PostgreSQL driver: imported on this path only

    class PreparingCursor(psycopg.Cursor[Any]):
        """psycopg's server-binding cursor, preparing what it executes (named statements
        per connection, at most ``prepared_max``, least recently used deallocated)."""

        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> PreparingCursor:
            super().execute(query, params, **{**kwargs, "prepare": True})
            return self

    return PreparingCursor


def values_rows(
    key: Hashable,
    build: Callable[..., QuerySet[Any, dict[str, Any]]],
    *,
    using: str = "default",
    int_args: tuple[int, ...] = (),
    prepare: bool = False,
) -> list[dict[str, Any]]:
    """The rows of ``build(*int_args)`` (a values() queryset), as dicts, compiled once per
    ``key``.

    ``int_args``: whole numbers that change from call to call (a user's pk) and are not in
    the key: each call puts its own in their places among the kept statement's parameters
    (see _with_slots). ``prepare``: see the module's docstring."""
    compiled, rows = _read(key, build, using, int_args, as_objects=False, prepare=prepare)
    names = compiled.names
    return [dict(zip(names, row, strict=True)) for row in rows]


def objects(
    key: Hashable,
    build: Callable[..., QuerySet[M]],
    *,
    using: str = "default",
    int_args: tuple[int, ...] = (),
    prepare: bool = False,
) -> list[M]:
    """The model instances of ``build(*int_args)`` (select_related objects and annotations
    included, as list(queryset) gives them), compiled once per ``key``; ``int_args`` as for
    values_rows. Not for prefetch_related() or a related manager's querysets."""
    compiled, rows = _read(key, build, using, int_args, as_objects=True, prepare=prepare)
    if compiled.objects is None:
        return []
    made = compiled.objects
    return [made.build(using, row) for row in rows]  # type: ignore[misc]


def forget() -> None:
    """Drop this thread's compiled statements (tests; after a schema change)."""
    _store.compiled.clear()
