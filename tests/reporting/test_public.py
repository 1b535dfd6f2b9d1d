"""The public page shows only published initiatives and fields, in HTML, CSV and JSON."""

import csv
import io
import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from initiatives.models import Indicator, IndicatorValue, Initiative, ProgressEntry
from tests.factory import initiative, make_progress

pytestmark = pytest.mark.django_db

SECRET_DESCRIPTION = "内部検討中の非公開メモ:ベンダー見積り比較"
SECRET_PROJECT = "R3 電子申請サービス開始"  # a project of 2.1 (projects not published)
HIDDEN_TITLE = "外部からの不正アクセスへの対応"  # 4.1 stays unpublished


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2026, 11, 24))


@pytest.fixture
def published(plan):
    i21 = initiative("2.1")
    i21.description = SECRET_DESCRIPTION
    i21.is_public = True
    i21.public_fields = ["progress", "indicators"]
    i21.save()
    make_progress(i21, status="on_track", percent=55, entry_date=date(2026, 10, 1))
    indicator = Indicator.objects.create(initiative=i21, name="オンライン化手続数", unit="件")
    IndicatorValue.objects.create(indicator=indicator, fiscal_year=2026, target=27, actual=25)
    i22 = initiative("2.2")
    i22.is_public = True
    i22.public_fields = ["description", "projects"]
    i22.save()
    i41 = initiative("4.1")
    i41.public_fields = ["description"]  # fields chosen, but the initiative is not public
    i41.save()
    return i21, i22


def test_html_shows_only_published_fields(client, published):
    response = client.get(reverse("public:index"))  # no login
    assert response.status_code == 200
    html = response.content.decode()
    assert "行政サービスのオンライン化" in html and "情報発信の充実・強化" in html
    assert "順調" in html and "およそ55%" in html
    assert "オンライン化手続数" in html
    assert "インターネットを利活用した情報発信" in html  # 2.2 publishes its description
    assert SECRET_DESCRIPTION not in html
    assert "電子申請サービス開始" not in html  # 2.1's projects are not published
    assert HIDDEN_TITLE not in html


def test_csv_is_utf8_with_bom_and_hides_the_same(client, published):
    response = client.get(reverse("public:csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][4:7] == ["計画名", "年度", "年度表記"]
    records = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["取り組み番号"] for r in records] == ["2.1", "2.2"]
    r21, r22 = records
    assert r21["進捗状況"] == "順調" and r21["進捗率"] == "55"
    assert r21["取り組みの内容"] == ""  # not published for 2.1
    assert r22["進捗状況"] == "" and r22["進捗率"] == ""  # 2.2 publishes no progress
    assert "インターネットを利活用した情報発信" in r22["取り組みの内容"]
    assert SECRET_DESCRIPTION not in text and HIDDEN_TITLE not in text
    projects = client.get(reverse("public:projects_csv")).content.decode("utf-8-sig")
    assert "電子申請サービス開始" not in projects  # 2.1's projects are not published
    assert [r.split(",")[4] for r in projects.splitlines()[1:]] == ["2.2"] * (
        len(projects.splitlines()) - 1
    )
    indicators = client.get(reverse("public:indicators_csv")).content.decode("utf-8-sig")
    assert indicators.splitlines()[1].endswith(",2.1,オンライン化手続数,件,2026,令和8年度,27,25")


def test_json_has_only_the_published_keys(client, published):
    response = client.get(reverse("public:json"))
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert body["metadata"]["fiscal_year"] == 2026
    by_code = {r["取り組み番号"]: r for r in body["records"]}
    assert set(by_code) == {"2.1", "2.2"}
    assert by_code["2.1"]["取り組みの内容"] is None
    assert by_code["2.2"]["進捗状況コード"] is None and by_code["2.2"]["進捗率"] is None
    assert by_code["2.1"]["進捗率"] == 55
    # Open data: targets and actuals are JSON numbers.
    indicators = json.loads(client.get(reverse("public:indicators_json")).content)["records"]
    assert [(r["取り組み番号"], r["目標値"], r["実績値"]) for r in indicators] == [("2.1", 27, 25)]
    assert type(indicators[0]["目標値"]) is int
    text = response.content.decode()
    assert SECRET_DESCRIPTION not in text and HIDDEN_TITLE not in text


def test_unknown_field_keys_are_ignored(client, published):
    Initiative.objects.filter(pk=published[0].pk).update(public_fields=["issues_text", "progress"])
    ProgressEntry.objects.filter(initiative=published[0]).update(issues_text="非公開の課題メモ")
    body = json.loads(client.get(reverse("public:json")).content)
    r21 = next(r for r in body["records"] if r["取り組み番号"] == "2.1")
    assert r21["進捗状況"] == "順調" and r21["取り組みの内容"] is None
    for name in ("public:json", "public:csv", "public:indicators_json", "public:projects_json"):
        text = client.get(reverse(name)).content.decode("utf-8-sig")
        assert "非公開の課題メモ" not in text, name
        assert "オンライン化手続数" not in text, name  # indicators are no longer chosen


def test_nothing_published(client, plan):
    html = client.get(reverse("public:index")).content.decode()
    assert "現在、公開している取り組みはありません。" in html


def _count(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "name",
    [
        "public:index",
        "public:data",
        "public:csv",
        "public:json",
        "public:projects_csv",
        "public:projects_json",
        "public:indicators_csv",
        "public:indicators_json",
    ],
)
def test_query_count_is_fixed(client, published, name):
    url = reverse(name)
    small = _count(client, url)
    for ini in Initiative.objects.all():
        ini.is_public = True
        ini.public_fields = ["description", "progress", "projects", "indicators"]
        ini.save()
        make_progress(ini, status="on_track", percent=30, entry_date=date(2026, 11, 1))
        ind = Indicator.objects.create(initiative=ini, name=f"指標{ini.pk}")
        IndicatorValue.objects.create(indicator=ind, fiscal_year=2025, target=1, actual=1)
    assert _count(client, url) == small


def test_write_methods_are_refused(client, plan):
    assert client.post(reverse("public:index")).status_code == 405


def test_secretariat_marks_publication(client, personas):
    i31 = initiative("3.1")
    client.force_login(personas.secretariat)
    url = reverse("reporting:publication")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "plan": i31.policy.plan.code,
            f"row-{i31.pk}": "1",
            f"public-{i31.pk}": "on",
            f"field-{i31.pk}-description": "on",
            f"field-{i31.pk}-progress": "on",
        },
    )
    assert response.status_code == 302
    i31.refresh_from_db()
    assert i31.is_public is True
    assert i31.public_fields == ["description", "progress"]
    assert i31.history.first().history_user == personas.secretariat
    html = client.get(reverse("public:index")).content.decode()
    assert "自治体の情報システムの標準化・共通化" in html


@pytest.mark.parametrize("role", ["hq", "leader", "viewer"])
def test_publication_is_secretariat_only(client, personas, role):
    client.force_login(getattr(personas, role))
    assert client.get(reverse("reporting:publication")).status_code == 403
    assert client.post(reverse("reporting:publication")).status_code == 403
    client.logout()
    response = client.get(reverse("reporting:publication"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_csv_cells_cannot_become_formulas(client, published):
    Initiative.objects.filter(pk=published[1].pk).update(description="=1+2 と書かれた説明")
    text = client.get(reverse("public:csv")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    row = next(dict(zip(rows[0], r, strict=True)) for r in rows[1:] if "2.2" in r)
    assert row["取り組みの内容"] == "'=1+2 と書かれた説明"


def test_fractional_and_zero_values_as_numbers_and_as_text(client, published):
    indicator = Indicator.objects.create(initiative=published[0], name="満足度", unit="%")
    IndicatorValue.objects.create(indicator=indicator, fiscal_year=2026, target="80.5", actual=0)
    IndicatorValue.objects.create(indicator=indicator, fiscal_year=2025, target=None, actual=None)
    body = json.loads(client.get(reverse("public:indicators_json")).content)
    values = [r for r in body["records"] if r["指標名"] == "満足度"]
    assert [(v["目標値"], v["実績値"]) for v in values] == [(None, None), (80.5, 0)]
    text = client.get(reverse("public:indicators_csv")).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [r[-4:] for r in rows[1:] if "満足度" in r]
    assert cells == [["2025", "令和7年度", "", ""], ["2026", "令和8年度", "80.5", "0"]]
    html = client.get(reverse("public:index")).content.decode()
    assert '<td class="num">80.50</td><td class="num">0</td>' in html
    assert '<td class="num">—</td><td class="num">—</td>' in html
