"""Pages list their data in a number of queries that does not grow with the rows."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from initiatives import services
from initiatives.models import Initiative, Review
from tests.factory import (
    REVIEW_COMPLETE,
    initiative,
    make_indicator,
    make_procedure,
    make_progress,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr("initiatives.views._today", lambda: date(2026, 11, 20))


def _queries(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(personas, start, count):
    """More initiatives in the member's WG, each with progress and a review in motion."""
    base = initiative("2.1")
    for n in range(start, start + count):
        ini = Initiative.objects.create(
            policy=base.policy,
            number=n,
            title=f"追加の取り組み{n}",
            working_group=personas.wg,
            lead_section=base.lead_section,
        )
        make_progress(ini, author=personas.member, percent=n % 100)
        make_progress(ini, author=personas.leader, entry_date=date(2026, 11, 1), percent=50)
        review = Review.objects.create(initiative=ini, fiscal_year=2026, **REVIEW_COMPLETE)
        services.review_submit(actor=personas.leader, review=review)


def test_list_and_home_do_not_grow_with_initiatives(client, personas):
    client.force_login(personas.leader)
    pages = [
        (reverse("initiatives:list"), {}),
        (reverse("initiatives:list"), {"status": "on_track", "review": "none", "stale_days": 3}),
        (reverse("home"), {}),
    ]
    _grow(personas, 10, 1)
    few = [_queries(client, url, **params) for url, params in pages]
    _grow(personas, 20, 15)
    many = [_queries(client, url, **params) for url, params in pages]
    assert few == many
    assert max(many) <= 12
    assert len(client.get(reverse("initiatives:list")).context["initiatives"]) == 13 + 16


def test_secretariat_and_hq_home_do_not_grow(client, personas):
    _grow(personas, 10, 1)
    client.force_login(personas.secretariat)
    few = _queries(client, reverse("home"))
    _grow(personas, 20, 10)
    assert _queries(client, reverse("home")) == few
    assert len(client.get(reverse("home")).context["to_check"]) == 11


def test_detail_does_not_grow_with_entries_indicators_reviews(client, personas):
    ini = initiative("2.1")
    client.force_login(personas.member)
    url = reverse("initiatives:detail", args=[ini.pk])

    def add(n):
        for i in range(n):
            day = date(2026, 4, 1) + timedelta(days=ini.progress_entries.count())
            make_progress(ini, author=personas.member, entry_date=day, percent=i)
            ind = make_indicator(ini, name=f"指標{ini.indicators.count()}")
            ind.values.create(fiscal_year=2026, target=10, actual=i)
            ind.values.create(fiscal_year=2025, target=10, actual=10)
        for fy in (2021, 2022, 2023, 2024, 2025):
            if not ini.reviews.filter(fiscal_year=fy).exists() and n:
                review = Review.objects.create(initiative=ini, fiscal_year=fy, **REVIEW_COMPLETE)
                services.review_submit(actor=personas.leader, review=review)
                services.review_check(actor=personas.secretariat, review=review)
                n -= 1

    add(1)
    few = _queries(client, url)
    add(12)
    assert _queries(client, url) == few
    # Session, user, roles, the initiative (with its latest entry of the year) and its
    # prefetches, the timeline's year counts and its page.
    assert few <= 17


def test_progress_edit_and_countable_lists_do_not_grow(client, personas):
    ini = initiative("2.1")
    entry = make_progress(ini, author=personas.member)
    client.force_login(personas.member)
    edit = reverse("initiatives:progress_edit", args=[ini.pk, entry.pk])
    make_procedure(1)
    few = [_queries(client, edit), _queries(client, reverse("initiatives:procedures"))]
    for i in range(5):
        services.progress_entry_update(
            actor=personas.member,
            entry=entry,
            version=i + 1,
            entry_date=date(2026, 10, 1),
            status="on_track",
            done_text=f"更新{i}",
        )
    for n in range(2, 20):
        make_procedure(n, f"手続{n}")
    many = [_queries(client, edit), _queries(client, reverse("initiatives:procedures"))]
    assert few == many
    assert _queries(client, reverse("initiatives:systems")) <= 8


def test_detail_timeline_shows_one_year_a_page_at_a_time(client, personas, monkeypatch):
    """Years of monthly entries stay a bounded page: the current year, 20 entries a page,
    older years one link away, each link with its count."""
    monkeypatch.setattr("initiatives.views._today", lambda: date(2026, 11, 20))
    ini = initiative("2.1")
    ini.progress_entries.all().delete()
    client.force_login(personas.member)
    url = reverse("initiatives:detail", args=[ini.pk])
    for i in range(45):
        make_progress(ini, author=personas.member, entry_date=date(2026, 4, 1) + timedelta(i))
    for i in range(3):
        make_progress(ini, author=personas.member, entry_date=date(2024, 5, 1) + timedelta(i))

    response = client.get(url)
    assert response.context["timeline_fy"] == 2026
    assert [e.entry_date for e in response.context["entries"]] == [
        date(2026, 4, 1) + timedelta(i) for i in range(44, 24, -1)
    ]
    years = dict(response.context["timeline_years"])
    assert years[2026] == 45 and years[2024] == 3 and years[2025] == 0
    body = response.content.decode()
    assert "1 / 3" in body and 'href="?fy=2024#progress"' in body

    last = client.get(url, {"fy": 2026, "page": 3})
    assert len(last.context["entries"]) == 5
    old = client.get(url, {"fy": 2024})
    assert [e.entry_date.year for e in old.context["entries"]] == [2024] * 3
    assert "令和8年4月26日" in body and "令和8年4月25日" not in body  # the newest 20
    assert "令和6年5月3日" not in body and "令和6年5月3日" in old.content.decode()
    # ?fy= in any form era reads, as on every page (plan_and_year); an unreadable one: default
    assert client.get(url, {"fy": "R6"}).context["timeline_fy"] == 2024
    assert client.get(url, {"fy": "R"}).context["timeline_fy"] == 2026
    many = _queries(client, url)
    assert _queries(client, url + "?fy=2024") == many
