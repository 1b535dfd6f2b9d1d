"""A fixed number of queries per API request whatever the data: 1 initiative or 40 more."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from initiatives.models import Indicator, IndicatorValue, Initiative, Review
from reporting.api.accounts import service_account_create
from tests.api.conftest import session_client, token_client
from tests.factory import initiative, make_online_procedure, make_progress, set_system_phase
from workgroups.models import WorkingGroup

pytestmark = pytest.mark.django_db

# The most any endpoint may take; each is pinned exactly by the few == many comparison.
MAX_QUERIES = {
    "/api/v1/initiatives/": 7,
    "/api/v1/initiatives/1.1/": 6,
    "/api/v1/procedures/": 4,
    "/api/v1/systems/": 4,
}
SUMMARY_MAX_QUERIES = 12  # dashboard_for without the recent changes, auth and scope


def _queries(client, url, django_assert_max_num_queries, limit, **params):
    with django_assert_max_num_queries(limit):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url, {"fiscal_year": "2026", "page_size": 200, **params})
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response.json()


def _first_use(client):
    """A token's first call also records its last use (one UPDATE, then at most once a
    minute): make it before counting, so that every counted call is an ordinary one."""
    assert client.get("/api/v1/procedures/").status_code == 200


def _with_indicators(ini, n=2):
    make_progress(ini, status="on_track", percent=40, entry_date=date(2026, 6, 1))
    make_progress(ini, status="on_track", percent=50, entry_date=date(2026, 9, 1))
    Review.objects.create(initiative=ini, fiscal_year=2026)
    for k in range(n):
        ind = Indicator.objects.create(initiative=ini, name=f"指標{k}")
        IndicatorValue.objects.create(indicator=ind, fiscal_year=2026, target=10, actual=k)
        IndicatorValue.objects.create(indicator=ind, fiscal_year=2025, target=10, actual=k)


def _grow(wg, count):
    base = initiative("1.1")
    for n in range(100, 100 + count):
        ini = Initiative.objects.create(
            policy=base.policy, number=n, title=f"追加の取り組み{n}", working_group=wg
        )
        _with_indicators(ini, 3)


def test_lists_do_not_grow_with_initiatives(personas, django_assert_max_num_queries):
    wg = WorkingGroup.objects.get(name="産業振興課WG")
    _, key = service_account_create(
        actor=personas.secretariat, username="bi-sangyo", display_name="産業", working_group=wg
    )
    client = token_client(key)
    _first_use(client)
    _with_indicators(initiative("1.1"), 1)
    make_online_procedure(1, online_on=date(2022, 6, 1))
    few = {}
    for url, limit in MAX_QUERIES.items():
        few[url], body = _queries(client, url, django_assert_max_num_queries, limit)
    assert body["count"] == 0  # the systems belong to 情報推進課WG, not to this account
    one = client.get("/api/v1/initiatives/").json()
    assert one["count"] == 1 and len(one["results"][0]["indicators"]) == 1

    _grow(wg, 40)
    for n in range(2, 28):
        make_online_procedure(n, online_on=date(2022, 7, 1))
    set_system_phase(1, "done", migrated_on=date(2025, 12, 1))
    many = {}
    for url, limit in MAX_QUERIES.items():
        many[url], body = _queries(client, url, django_assert_max_num_queries, limit)
    assert many == few
    listed = client.get("/api/v1/initiatives/", {"page_size": 200}).json()
    assert listed["count"] == 41
    assert all(len(r["indicators"]) == 3 for r in listed["results"] if r["code"] != "1.1")


def test_the_same_for_staff_by_session(personas, django_assert_max_num_queries):
    client = session_client(personas.member)
    _with_indicators(initiative("2.1"), 1)
    few, _ = _queries(client, "/api/v1/initiatives/", django_assert_max_num_queries, 11)
    _grow(WorkingGroup.objects.get(name="産業振興課WG"), 30)
    many, body = _queries(client, "/api/v1/initiatives/", django_assert_max_num_queries, 11)
    assert few == many and body["count"] == 43


def test_summary_does_not_grow(personas, hq_account, django_assert_max_num_queries):
    client = token_client(hq_account[1])
    _first_use(client)
    _with_indicators(initiative("2.1"), 1)
    few, body = _queries(
        client, "/api/v1/summary/", django_assert_max_num_queries, SUMMARY_MAX_QUERIES
    )
    assert body["reported"] == 1
    _grow(WorkingGroup.objects.get(name="産業振興課WG"), 40)
    for n in range(1, 28):
        make_online_procedure(n, online_on=date(2022, 7, 1))
    many, body = _queries(
        client, "/api/v1/summary/", django_assert_max_num_queries, SUMMARY_MAX_QUERIES
    )
    assert few == many
    assert (body["initiatives"], body["reported"], body["grades"]["C"]) == (53, 41, 121)
