"""portal_lib.compiled: a values() queryset compiled once per key, run again on every call.

What it must never do: return another call's rows (stale data), reuse a statement across
threads (a connection belongs to one thread), or grow without bound."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, DecimalField, F, IntegerField, Max, Sum, Value
from django.test.utils import CaptureQueriesContext

from initiatives.models import ProgressEntry, ProgressStatus
from plans.models import BasicPolicy
from portal_lib import compiled
from tests.factory import initiative, make_progress, make_user

pytestmark = pytest.mark.django_db
_DECIMAL = DecimalField(max_digits=12, decimal_places=2)


@pytest.fixture(autouse=True)
def _fresh_store():
    compiled.forget()
    yield
    compiled.forget()


def _policies(plan):
    return BasicPolicy.objects.filter(plan=plan).order_by("number").values("pk", "number", "title")


def test_rows_equal_the_orm_read_and_each_call_reads_the_database_again(plan):
    calls = []

    def build():
        calls.append(1)
        return _policies(plan)

    first = compiled.values_rows(("policies", plan.pk), build)
    assert first == list(_policies(plan))
    assert len(first) == 4
    BasicPolicy.objects.create(plan=plan, number=9, title="追加の基本方針")
    with CaptureQueriesContext(connection) as queries:
        second = compiled.values_rows(("policies", plan.pk), build)
    assert len(calls) == 1  # composed once ...
    assert len(queries) == 1  # ... and read again: the new policy is there
    assert second == list(_policies(plan))
    assert second[-1]["title"] == "追加の基本方針"


def test_a_new_key_composes_its_own_statement(plan):
    numbers = {}
    for number in (1, 2):
        numbers[number] = compiled.values_rows(
            ("one policy", plan.pk, number),
            lambda n=number: _policies(plan).filter(number=n),
        )
    assert [r["number"] for r in numbers[1]] == [1]
    assert [r["number"] for r in numbers[2]] == [2]


def test_converters_run_dates_and_decimals_come_back_typed(plan):
    ini = initiative("1.1")
    make_progress(ini, entry_date=date(2026, 6, 1), status=ProgressStatus.ON_TRACK, percent=40)
    make_progress(ini, entry_date=date(2026, 7, 1), status=ProgressStatus.DELAYED, percent=45)

    def build():
        return (
            ProgressEntry.objects.filter(initiative=ini)
            .values("initiative_id")
            .annotate(
                n=Count("pk"),
                last=Max("entry_date"),
                weighted=Sum(F("percent") * Value(Decimal("1.50")), output_field=_DECIMAL),
            )
            .order_by()
        )

    rows = compiled.values_rows(("typed", ini.pk), build)
    assert rows == list(build())
    assert rows[0]["last"] == date(2026, 7, 1)
    assert rows[0]["weighted"] == Decimal("127.50")
    assert isinstance(rows[0]["weighted"], Decimal)


def test_a_union_and_a_queryset_that_matches_nothing(plan):

    def union():
        kind = Value(0, output_field=IntegerField())
        a = _policies(plan).filter(number=1).order_by().annotate(k=kind).values("pk", "k")
        b = _policies(plan).filter(number=2).order_by().annotate(k=kind).values("pk", "k")
        return a.union(b, all=True).order_by("pk")

    assert compiled.values_rows(("union", plan.pk), union) == list(union())
    assert len(compiled.values_rows(("union", plan.pk), union)) == 2
    # pk__in=[] can match nothing: Django skips the database; so does the store.
    with CaptureQueriesContext(connection) as queries:
        assert compiled.values_rows(("none",), lambda: _policies(plan).filter(pk__in=[])) == []
        assert compiled.values_rows(("none",), lambda: _policies(plan).filter(pk__in=[])) == []
    assert len(queries) == 0


def test_the_store_is_bounded_least_recently_used_first_out(monkeypatch, plan):
    monkeypatch.setattr(compiled, "MAX_COMPILED", 3)
    built = []

    def builder(n):
        def build():
            built.append(n)
            return _policies(plan).filter(number=n)

        return build

    for n in (1, 2, 3):
        compiled.values_rows(("n", n), builder(n))
    compiled.values_rows(("n", 1), builder(1))  # 1 is now the most recently used
    compiled.values_rows(("n", 4), builder(4))  # pushes out 2, the least recently used
    assert len(compiled._store.compiled) == 3
    compiled.values_rows(("n", 1), builder(1))
    compiled.values_rows(("n", 2), builder(2))
    assert built == [1, 2, 3, 4, 2]


@pytest.mark.django_db(transaction=True)
def test_each_thread_compiles_for_its_own_connection(plan):
    key = ("policies", plan.pk)
    mine = compiled.values_rows(key, lambda: _policies(plan))
    seen = {}

    def other():
        try:
            seen["rows"] = compiled.values_rows(key, lambda: _policies(plan))
            seen["store"] = dict(compiled._store.compiled)
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen["rows"] == mine
    ours = compiled._store.compiled[("values", "default", key)]
    theirs = seen["store"][("values", "default", key)]
    assert theirs.connection is not ours.connection


def test_int_args_are_put_in_their_places_without_composing_again(plan):
    """A statement that names a changing whole number (a user's pk) is composed once, and each
    call reads its own rows."""
    calls = []

    def build(number):
        calls.append(number)
        return _policies(plan).filter(number=number)

    for number in (3, 1, 4, 2, 3):
        rows = compiled.values_rows(("policy by number", plan.pk), build, int_args=(number,))
        assert rows == list(_policies(plan).filter(number=number))
        assert [r["number"] for r in rows] == [number]
    assert len(calls) == 2  # composed once, twice over: with 3 and with 4, to find its place
    # A number no row has: no rows, not the rows of an earlier call.
    assert compiled.values_rows(("policy by number", plan.pk), build, int_args=(99,)) == []


def test_int_args_twice_in_a_statement_and_beside_equal_constants(plan):
    """Both places of an argument are filled; a constant equal to a caller's value (the
    number 1 of the LIMIT-like filter below) is left alone."""

    def build(number):
        return (
            BasicPolicy.objects.filter(plan=plan, number__gte=number, number__lte=number)
            .filter(number__gte=1)
            .order_by()
            .values("number")
        )

    for number in (1, 2, 4):
        rows = compiled.values_rows("twice", build, int_args=(number,))
        assert rows == [{"number": number}]


def test_a_statement_that_drops_or_reshapes_its_int_arg_is_never_kept(plan):
    """An argument that never reaches the parameters, or changes the statement's text, cannot
    be put in its place: each call is composed with its own value (correct, not kept)."""
    calls = []

    def ignores(number):
        calls.append(number)
        return _policies(plan)

    for number in (1, 2):
        assert compiled.values_rows("ignored", ignores, int_args=(number,)) == list(_policies(plan))
    assert len(calls) == 4

    def reshapes(number):
        qs = _policies(plan)
        return qs.filter(number=number) if number % 2 else qs.filter(number__lte=number)

    for number in (1, 2, 3, 4):
        expected = (
            list(_policies(plan).filter(number=number))
            if number % 2
            else list(_policies(plan).filter(number__lte=number))
        )
        assert compiled.values_rows("reshaped", reshapes, int_args=(number,)) == expected


def test_two_equal_int_args_each_find_their_own_place(plan):
    def build(low, high):
        return _policies(plan).filter(number__gte=low, number__lte=high)

    for low, high in ((2, 2), (1, 3), (3, 3), (4, 1)):
        rows = compiled.values_rows("range", build, int_args=(low, high))
        assert rows == list(_policies(plan).filter(number__gte=low, number__lte=high))


# --- objects(): model instances, as list(queryset) gives them -----------------------------


def _same_objects(got, expected, related=()):
    assert [type(o) for o in got] == [type(o) for o in expected]
    assert [o.pk for o in got] == [o.pk for o in expected]
    for a, b in zip(got, expected, strict=True):
        assert a.__dict__.keys() - {"_state"} == b.__dict__.keys() - {"_state"}
        for name in a.__dict__.keys() - {"_state"}:
            assert getattr(a, name) == getattr(b, name), name
        assert a._state.adding is False and a._state.db == b._state.db
        for path in related:
            x, y = a, b
            for part in path.split("__"):
                x, y = getattr(x, part), getattr(y, part)
            assert (x.pk if x is not None else None) == (y.pk if y is not None else None), path
            if x is not None:
                assert x.__dict__.keys() - {"_state"} == y.__dict__.keys() - {"_state"}


def test_objects_equal_list_of_the_queryset_with_select_related_and_annotations(plan):
    author = make_user("compiled-author")
    first = initiative("1.1")
    make_progress(first, author=author, entry_date=date(2026, 5, 1), percent=10)
    make_progress(initiative("2.1"), author=None, entry_date=date(2026, 6, 1))  # NULL author

    def build():
        return (
            ProgressEntry.objects.filter(initiative__policy__plan=plan)
            .select_related("initiative__policy", "author")
            .annotate(policy_number=F("initiative__policy__number"))
            .order_by("entry_date")
        )

    with CaptureQueriesContext(connection) as queries:
        got = compiled.objects(("entries", plan.pk), build)
    assert len(queries) == 1
    _same_objects(got, list(build()), related=("initiative__policy", "author"))
    assert [e.policy_number for e in got] == [1, 2]
    assert got[1].author is None
    # Read again: new rows are there, and the instances are new ones.
    make_progress(first, author=author, entry_date=date(2026, 7, 1))
    again = compiled.objects(("entries", plan.pk), build)
    _same_objects(again, list(build()), related=("initiative__policy", "author"))
    assert len(again) == 3 and again[0] is not got[0]
    # The instances behave as the ORM's: saved back, they update their own row.
    again[0].percent = 20
    again[0].save(update_fields=["percent"])
    assert ProgressEntry.objects.get(pk=again[0].pk).percent == 20


def test_objects_with_deferred_fields_and_int_args(plan):
    def build(number):
        return BasicPolicy.objects.filter(plan=plan, number=number).only("number")

    for number in (2, 4, 1):
        got = compiled.objects("policy only number", build, int_args=(number,))
        _same_objects(got, list(build(number)))
        assert got[0].get_deferred_fields() == {*list(build(number))[0].get_deferred_fields()}
        assert got[0].title == BasicPolicy.objects.get(plan=plan, number=number).title


def test_objects_refuses_prefetch_related_and_reads_nothing_for_an_empty_filter(plan):
    with pytest.raises(ValueError):
        compiled.objects("prefetch", lambda: BasicPolicy.objects.prefetch_related("initiatives"))
    with CaptureQueriesContext(connection) as queries:
        assert compiled.objects("none", lambda: BasicPolicy.objects.filter(pk__in=[])) == []
    assert len(queries) == 0


def _prepared_runs(marker: str) -> int | None:
    """How often PostgreSQL ran the statement prepared on this connection whose text holds
    ``marker`` (None: none is prepared here; two would fail)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT custom_plans + generic_plans FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            [f"%{marker}%"],
        )
        rows = cursor.fetchall()
    assert len(rows) <= 1, rows
    return rows[0][0] if rows else None


def test_prepare_reads_the_same_rows_through_the_counted_cursor(plan, settings):
    """prepare=True: the same rows (converters included), each read seen by the query
    counters; on PostgreSQL the statement is prepared on the connection and run prepared
    from then on, Django's own statements are not, and DB_PREPARED_STATEMENTS=False (a
    pooler that cannot keep them) turns it off. On SQLite it changes nothing."""
    make_progress(initiative("1.1"), entry_date=date(2026, 5, 1), percent=40)

    def build(number):
        return (
            BasicPolicy.objects.filter(plan=plan, number__gte=number)
            .annotate(prepared_probe_total=Sum(Value(Decimal("1.25"), output_field=_DECIMAL)))
            .annotate(prepared_probe_last=Max("initiatives__progress_entries__entry_date"))
            .order_by("number")
            .values("number", "title", "prepared_probe_total", "prepared_probe_last")
        )

    for run, number in enumerate((1, 3, 2, 1, 1, 4, 2), start=1):
        with CaptureQueriesContext(connection) as queries:
            got = compiled.values_rows("prepared", build, int_args=(number,), prepare=True)
        # Counted and logged as Django logs its own reads: the SQL with the values in it.
        assert len(queries) == 1
        assert '"plans_basicpolicy"."number" >= ' + str(number) in queries[0]["sql"]
        assert got == list(build(number))
        if number == 1:
            assert got[0]["prepared_probe_last"] == date(2026, 5, 1)
            assert type(got[0]["prepared_probe_total"]) is Decimal  # the converter ran
        if connection.vendor == "postgresql":
            assert _prepared_runs("prepared_probe_last") == run
    objects = compiled.objects(
        "prepared objects",
        lambda: BasicPolicy.objects.filter(plan=plan).select_related("plan").order_by("number"),
        prepare=True,
    )
    assert [(p.number, p.plan.code) for p in objects] == [(n, plan.code) for n in (1, 2, 3, 4)]
    if connection.vendor != "postgresql":
        return
    # Django's own reads of the same queryset, run as often (list(build(n)) above), were
    # never prepared: _prepared_runs found one statement with the marker, not two.
    # Another connection (here: another thread's) prepares it for itself; with
    # DB_PREPARED_STATEMENTS off (a pooler that cannot keep them), nothing is prepared.
    seen = {}

    def other():
        try:
            for switch in (True, False):
                settings.DB_PREPARED_STATEMENTS = switch
                got = compiled.values_rows("prepared", build, int_args=(2,), prepare=True)
                seen[switch] = (got == list(build(2)), _prepared_runs("prepared_probe_last"))
                connection.close()
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == {True: (True, 1), False: (True, None)}
