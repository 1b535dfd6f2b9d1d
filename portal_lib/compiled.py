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
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

MAX_COMPILED = 64


@dataclass(frozen=True)
class _Compiled:
    connection: BaseDatabaseWrapper
    compiler: SQLCompiler | None  # None: the queryset can match nothing (EmptyResultSet)
    sql: str
    params: tuple[Any, ...]
    names: tuple[str, ...]
    # where each of the call's int_args stands in params: {index in params: index in args}
    slots: dict[int, int] = field(default_factory=dict)


class _Store(threading.local):
    def __init__(self) -> None:
        self.compiled: OrderedDict[tuple[str, Hashable], _Compiled] = OrderedDict()


_store = _Store()


def _compile(queryset: QuerySet[Any, Any]) -> _Compiled:
    query = queryset.query
    connection = connections[queryset.db]
    # The names ValuesIterable gives the columns of a values() queryset.
    if query.selected:
        names = tuple(query.selected)
    else:
        names = (*query.extra_select, *query.values_select, *query.annotation_select)
    compiler = query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _Compiled(connection, None, "", (), names)
    return _Compiled(connection, compiler, sql, tuple(params), names)


def _with_slots(
    build: Callable[..., QuerySet[Any, dict[str, Any]]], int_args: tuple[int, ...]
) -> tuple[_Compiled, bool]:
    """``build(*int_args)`` compiled, and whether it can be kept: composed a second time with
    other numbers, the same SQL whose parameters differ exactly where the arguments stand
    (constants that happen to equal an argument stay put). A statement whose text depends on
    the numbers, or which drops one of them, is run as composed, not kept."""
    first = _compile(build(*int_args))
    # Each argument moved by its own amount, so that equal arguments are told apart.
    others = tuple(a + i + 1 if a < 2**31 - 64 else a - i - 1 for i, a in enumerate(int_args))
    second = _compile(build(*others))
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


def values_rows(
    key: Hashable,
    build: Callable[..., QuerySet[Any, dict[str, Any]]],
    *,
    using: str = "default",
    int_args: tuple[int, ...] = (),
) -> list[dict[str, Any]]:
    """The rows of ``build(*int_args)`` (a values() queryset), as dicts, compiled once per
    ``key``.

    ``int_args``: whole numbers that change from call to call (a user's pk) and are not in
    the key: each call puts its own in their places among the kept statement's parameters
    (see _with_slots)."""
    store = _store.compiled
    slot = (using, key)
    compiled = store.get(slot)
    if compiled is None or compiled.connection is not connections[using]:
        keep = True
        if int_args:
            compiled, keep = _with_slots(build, int_args)
        else:
            compiled = _compile(build())
        if keep:
            store[slot] = compiled
            while len(store) > MAX_COMPILED:
                store.popitem(last=False)
    else:
        store.move_to_end(slot)
    if compiled.compiler is None:
        return []
    params = compiled.params
    if compiled.slots:
        given = list(params)
        for at, arg in compiled.slots.items():
            given[at] = int_args[arg]
        params = tuple(given)
    with compiled.connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        fetched = cursor.fetchall()
    names = compiled.names
    return [
        dict(zip(names, row, strict=True))
        for row in compiled.compiler.results_iter(results=[fetched])
    ]


def forget() -> None:
    """Drop this thread's compiled statements (tests; after a schema change)."""
    _store.compiled.clear()
