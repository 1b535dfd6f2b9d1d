"""The list pages made bounded for issue 13: a page at a time (the links keep the filters), or
a first part with the total and a link to the rest. Their query counts are pinned in
tests/pages/test_page_query_counts.py."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from initiatives.models import Initiative, ProgressEntry, Review
from initiatives.selectors import HOME_LIST_LIMIT, PROGRESS_PAGE_SIZE
from reporting.models import ReportSnapshot
from reporting.views.public import PUBLIC_PAGE_SIZE
from reporting.views.publication import PUBLICATION_PAGE_SIZE
from reporting.views.reports import REPORT_PAGE_SIZE
from tests.factory import PLAN_CODE, REVIEW_COMPLETE, initiative

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    monkeypatch.setattr("initiatives.views._today", lambda: TODAY)


def more_initiatives(personas, count: int, **fields) -> list[Initiative]:
    base = initiative("2.1")
    Initiative.objects.bulk_create(
        Initiative(
            policy=base.policy,
            number=100 + n,
            title=f"追加の取り組み{n}",
            working_group=personas.wg,
            **fields,
        )
        for n in range(count)
    )
    return list(Initiative.objects.filter(policy=base.policy, number__gte=100).order_by("number"))


def test_initiative_timeline_is_paginated_newest_first(client, personas):
    ini = initiative("2.1")
    ProgressEntry.objects.bulk_create(
        ProgressEntry(
            initiative=ini,
            entry_date=date(2026, 4, 1) + timedelta(days=k),
            fiscal_year=2026,
            status="on_track",
            percent=k,
            author=personas.member,
        )
        for k in range(PROGRESS_PAGE_SIZE * 2 + 5)
    )
    client.force_login(personas.member)
    url = reverse("initiatives:detail", args=[ini.pk])
    first = client.get(url)
    entries = list(first.context["entries"])
    assert len(entries) == PROGRESS_PAGE_SIZE
    assert entries[0].entry_date == date(2026, 4, 1) + timedelta(days=PROGRESS_PAGE_SIZE * 2 + 4)
    html = first.content.decode()
    assert f"全{PROGRESS_PAGE_SIZE * 2 + 5}件のうち、新しい順に1〜{PROGRESS_PAGE_SIZE}件目" in html
    assert 'href="?page=2"' in html
    last = client.get(url, {"page": 3})
    assert [e.percent for e in last.context["entries"]] == [4, 3, 2, 1, 0]
    # the latest of the year is still the newest entry, whatever page is shown
    assert f"{PROGRESS_PAGE_SIZE * 2 + 4}%</p>" in last.content.decode()


def test_publication_page_saves_only_the_rows_it_shows(client, personas):
    more_initiatives(personas, PUBLICATION_PAGE_SIZE)  # 13 + 50 = 63
    client.force_login(personas.secretariat)
    url = reverse("reporting:publication")
    first = client.get(url, {"plan": PLAN_CODE})
    assert len(first.context["rows"]) == PUBLICATION_PAGE_SIZE
    second = client.get(url, {"plan": PLAN_CODE, "page": 2})
    shown = [ini for ini, _ in second.context["rows"]]
    assert len(shown) == 13
    assert not {ini.pk for ini in shown} & {ini.pk for ini, _ in first.context["rows"]}
    html = second.content.decode()
    assert f'href="?plan={PLAN_CODE}&amp;page=1"' in html
    assert '<input type="hidden" name="page" value="2">' in html
    post = {"plan": PLAN_CODE, "page": "2"}
    for ini in shown:
        post[f"row-{ini.pk}"] = "1"
        post[f"public-{ini.pk}"] = "on"
    response = client.post(url, post)
    assert response.status_code == 302
    assert response["Location"] == f"{url}?plan={PLAN_CODE}&page=2"
    public = set(Initiative.objects.filter(is_public=True).values_list("pk", flat=True))
    assert public == {ini.pk for ini in shown}  # page 1's rows were not touched


def test_report_list_is_paginated_without_reading_the_reports(client, personas):
    plan = initiative("1.1").policy.plan
    big = {"initiatives": [{"title": "x" * 1000}] * 50}
    ReportSnapshot.objects.bulk_create(
        ReportSnapshot(plan=plan, fiscal_year=2026, title=f"第{n}回", data=big)
        for n in range(REPORT_PAGE_SIZE + 3)
    )
    client.force_login(personas.hq)
    url = reverse("reporting:report_list")
    with CaptureQueriesContext(connection) as ctx:
        first = client.get(url)
    assert len(first.context["snapshots"]) == REPORT_PAGE_SIZE
    reads = [q["sql"] for q in ctx.captured_queries if "initiatives_reportsnapshot" in q["sql"]]
    assert reads and all('"data"' not in sql.split(" FROM ")[0] for sql in reads)
    assert len(client.get(url, {"page": 2}).context["snapshots"]) == 3


def test_summary_is_a_document_shown_whole_with_its_files(client, personas):
    """The close-out report is read and printed whole (every initiative, for the council),
    its queries bounded by the plan (tests/pages/test_page_query_counts.py); the files hold the same."""
    more_initiatives(personas, 20)  # 13 + 20 = 33
    client.force_login(personas.hq)
    url = reverse("reporting:summary")
    html = client.get(url, {"plan": PLAN_CODE}).content.decode()
    assert html.count('class="summary-initiative"') == 33
    assert "追加の取り組み19" in html
    book = client.get(url, {"plan": PLAN_CODE, "format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(book.content))["最終年度の方針"]
    assert sheet.max_row == 1 + 33


def test_public_page_is_paginated_with_the_open_data_for_all(client, personas):
    more_initiatives(personas, PUBLIC_PAGE_SIZE + 5, is_public=True, public_fields=["description"])
    url = reverse("public:index")
    first = client.get(url)  # no login
    html = first.content.decode()
    assert html.count('class="public-initiative"') == PUBLIC_PAGE_SIZE
    assert f"全{PUBLIC_PAGE_SIZE + 5}件のうち1〜{PUBLIC_PAGE_SIZE}件目" in html
    second = client.get(url, {"page": 2}).content.decode()
    assert second.count('class="public-initiative"') == 5
    rows = client.get(reverse("public:csv")).content.decode("utf-8-sig").strip().splitlines()
    assert len(rows) == 1 + PUBLIC_PAGE_SIZE + 5


def test_home_lists_are_bounded_with_their_totals(client, personas):
    added = more_initiatives(personas, HOME_LIST_LIMIT + 10)
    Review.objects.bulk_create(
        Review(initiative=ini, fiscal_year=2026, state="submitted", **REVIEW_COMPLETE)
        for ini in added
    )
    client.force_login(personas.secretariat)
    response = client.get(reverse("home"))
    assert len(response.context["to_check"]) == HOME_LIST_LIMIT
    assert response.context["to_check_total"] == HOME_LIST_LIMIT + 10
    html = response.content.decode()
    assert (
        f"新しい年度から{HOME_LIST_LIMIT}件を表示しています（全{HOME_LIST_LIMIT + 10}件）" in html
    )
    assert "?fy=2026&amp;review=submitted" in html
    client.force_login(personas.member)  # 情報推進課WG: its 5 initiatives and the 60 added
    mine = client.get(reverse("home"))
    assert len(mine.context["my_initiatives"]) == HOME_LIST_LIMIT
    assert mine.context["my_total"] == HOME_LIST_LIMIT + 10 + 5
    assert f'href="/initiatives/?wg={personas.wg.pk}"' in mine.content.decode()
