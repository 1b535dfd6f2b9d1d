"""Table 4-1 as a fiscal-year matrix: merged cells, the current year, links, queries."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from plans.models import ScheduleCell, ScheduleItem, ScheduleRow
from tests.factory import initiative

pytestmark = pytest.mark.django_db
URL = "/plan/schedule/"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2025, 6, 1))  # R7


def _rows(html):
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr id=\"schedule-row-\d+\">(.*?)</tr>", body, re.S)


def test_matrix_with_current_year_and_merged_cells(client, personas):
    client.force_login(personas.viewer)  # any member of staff may read the plan
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    head = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert re.findall(r"<th scope=\"col\"[^>]*>(R\d) \(\d{4}\)", head) == [
        "R3",
        "R4",
        "R5",
        "R6",
        "R7",
        "R8",
    ]
    assert re.search(r'<th scope="col" class="current-fy"[^>]*>R7 \(2025\)', head)
    rows = _rows(html)
    assert len(rows) == 12  # 1 + 1 + 1 + 3 groups + 2 + 4 leases
    # Every line has 6 year positions: <td> count + colspans + positions covered from above.
    merged = next(r for r in rows if "ガバメント・クラウド" in r)
    assert 'rowspan="3"' in merged
    group2, group3 = rows[4], rows[5]
    assert group2.count("<td") == 5 and group3.count("<td") == 5  # R7 is covered by rowspan
    assert rows[1].count("<td") == 6  # DX推進計画: ○ every year
    # the current year is marked on body cells too
    assert 'class="current-fy planned" data-fy="2025"' in rows[1]
    # かほく市DX推進計画関連 is one item over two lines
    related = next(r for r in rows if "かほく市DX推進計画関連" in r)
    assert 'rowspan="2"' in related


def test_lines_link_to_their_initiative_or_target(client, personas):
    client.force_login(personas.secretariat)
    html = client.get(URL).content.decode()
    assert f'href="{reverse("initiatives:detail", args=[initiative("2.1").pk])}"' in html
    assert f'href="{reverse("initiatives:detail", args=[initiative("3.1").pk])}"' in html
    procedures = reverse("initiatives:procedures")
    assert f'<a href="{procedures}">行政手続のオンライン化(27申請)</a>' in html
    assert (
        f'<a href="{reverse("initiatives:systems")}?group=2">第2グループのシステム一覧</a>' in html
    )


def test_col_span_is_honoured(client, personas):
    row = ScheduleRow.objects.get(item__title="かほく市総合計画")
    ScheduleCell.objects.create(row=row, fiscal_year=2022, text="第3次総合計画策定", col_span=2)
    client.force_login(personas.secretariat)
    rows = _rows(client.get(URL).content.decode())
    assert 'colspan="2"' in rows[0] and rows[0].count("<td") == 5


def _count(client, user):
    client.force_login(user)
    client.get(URL)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_is_fixed(client, personas):
    small = _count(client, personas.secretariat)
    plan = personas.wg.plan
    for n in range(20):
        item = ScheduleItem.objects.create(plan=plan, order=100 + n, title=f"追加項目{n}")
        for line in (1, 2):
            row = ScheduleRow.objects.create(
                item=item, line=line, initiative=initiative("3.2") if line == 1 else None
            )
            ScheduleCell.objects.create(row=row, fiscal_year=2023, text=f"予定{n}-{line}")
    assert _count(client, personas.secretariat) == small


def test_anonymous_is_sent_to_login(client, plan):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
