"""Every list page: a number of queries that does not grow with the rows, pages that keep
the filters, and the initiative list bounded to one page (issue 13)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from initiatives.models import Initiative, ProgressEntry, Review, StandardSystem
from initiatives.views import INITIATIVE_PAGE_SIZE
from reporting.models import ReportSnapshot
from tests.factory import initiative, make_procedure, make_user

pytestmark = pytest.mark.django_db

LIST = reverse("initiatives:list")


@pytest.fixture(autouse=True)
def today(monkeypatch):
    monkeypatch.setattr("initiatives.views._today", lambda: date(2026, 11, 20))


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def _keep_only_one_initiative():
    keep = initiative("2.1")
    others = Initiative.objects.exclude(pk=keep.pk)
    ProgressEntry.objects.filter(initiative__in=others).delete()
    Review.objects.filter(initiative__in=others).delete()
    others.update(working_group=None)  # they leave the list's WG filter below
    return keep


def _add_initiatives(personas, count, start=100):
    base = initiative("2.1")
    for n in range(start, start + count):
        ini = Initiative.objects.create(
            policy=base.policy,
            number=n,
            title=f"追加の取り組み{n}",
            working_group=personas.wg,
            lead_section=base.lead_section,
        )
        ProgressEntry.objects.create(
            initiative=ini,
            entry_date=date(2026, 6, 1),
            fiscal_year=2026,
            status="on_track",
            percent=n % 100,
            author=personas.member,
        )
        Review.objects.create(initiative=ini, fiscal_year=2026)


def test_initiative_list_one_vs_many_pages_same_queries(client, personas):
    client.force_login(personas.leader)
    _keep_only_one_initiative()
    wg = {"wg": personas.wg.pk}
    one, response = _queries(client, LIST, wg)
    assert len(response.context["initiatives"]) == 1
    _add_initiatives(personas, INITIATIVE_PAGE_SIZE * 2 + 5)
    many, response = _queries(client, LIST, wg)
    assert len(response.context["initiatives"]) == INITIATIVE_PAGE_SIZE
    last, response = _queries(client, LIST, {**wg, "page": 3})
    assert len(response.context["initiatives"]) == 6  # 1 + 105 - 2 pages
    assert response.context["page_obj"].paginator.count == 106
    filtered, _ = _queries(client, LIST, {**wg, "status": "on_track", "review": "draft"})
    assert one == many == last == filtered
    # session, user, roles (1), filter choices (3) + the WG filter's own lookup, the roll-up
    # (2), the page's count and rows
    assert many <= 11
    assert _queries(client, LIST)[0] <= 10
    # the count above the table is of the whole filter, not of the page
    assert "106 件" in response.content.decode()


def test_initiative_list_pages_keep_the_filters(client, personas):
    client.force_login(personas.leader)
    _add_initiatives(personas, INITIATIVE_PAGE_SIZE + 10)
    params = {"fy": "R8", "wg": personas.wg.pk, "status": "on_track"}
    response = client.get(LIST, params)
    page = response.context["page_obj"]
    assert page.has_next()
    html = response.content.decode()
    assert f'href="?fy=R8&amp;wg={personas.wg.pk}&amp;status=on_track&amp;page=2"' in html
    second = client.get(LIST, {**params, "page": 2})
    shown = {ini.pk for ini in second.context["initiatives"]}
    first = {ini.pk for ini in page.object_list}
    assert shown and not shown & first
    assert all(ini.latest_status == "on_track" for ini in second.context["initiatives"])
    assert len(first | shown) == second.context["page_obj"].paginator.count
    # a page beyond the end shows the last page, not an error
    assert client.get(LIST, {**params, "page": 99}).context["page_obj"].number == 2
    assert client.get(LIST, {**params, "page": "x"}).context["page_obj"].number == 1


def test_initiative_list_subqueries_carry_no_default_ordering(personas):
    from initiatives.selectors import initiatives_for_list

    sql = str(initiatives_for_list(fiscal_year=2026, today=date(2026, 11, 20)).query)
    # Review's default ordering (-fiscal_year, initiative → policy → plan) is not in the
    # subqueries: the only joins to the plan are the outer query's own.
    assert sql.count('JOIN "plans_plan"') == 1
    # the list + 4 correlated subqueries (the latest entry's status, percent and date, the
    # last entry of any year); the year's review joined once for its three columns
    assert sql.count("SELECT") == 5
    assert sql.count('LEFT OUTER JOIN "initiatives_review"') == 1


def test_countable_lists_do_not_grow(client, personas):
    client.force_login(personas.member)
    procedures = reverse("initiatives:procedures")
    systems = reverse("initiatives:systems")
    make_procedure(1)
    few = [_queries(client, procedures)[0], _queries(client, systems)[0]]
    for n in range(2, 40):
        make_procedure(n, f"手続{n}")
    system = StandardSystem.objects.order_by("number").first()
    for n in range(100, 130):
        system.pk = None
        system.number = n
        system.name = f"システム{n}"
        system.save()
    many = [_queries(client, procedures)[0], _queries(client, systems)[0]]
    assert few == many
    assert max(many) <= 12


def test_report_and_staff_lists_do_not_grow(client, personas):
    client.force_login(personas.secretariat)
    reports = reverse("reporting:report_list")
    staff = reverse("workgroups:staff_list")
    plan = initiative("1.1").policy.plan
    ReportSnapshot.objects.create(plan=plan, fiscal_year=2026, title="第1回", taken_by=personas.hq)
    few = [_queries(client, reports)[0], _queries(client, staff)[0]]
    for n in range(2, 30):
        ReportSnapshot.objects.create(
            plan=plan, fiscal_year=2026, title=f"第{n}回", taken_by=personas.secretariat
        )
    for n in range(80):
        make_user(f"staff{n}", section="総務課")
    many_staff, response = _queries(client, staff)
    many = [_queries(client, reports)[0], many_staff]
    assert few == many
    assert max(many) <= 12
    assert response.context["page_obj"].paginator.num_pages > 1
