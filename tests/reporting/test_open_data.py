"""The public page's open data is publishable as open data: typed columns, one value per
cell, the city's 全国地方公共団体コード and the licence in every row, empty cells where
nothing is recorded, and a data dictionary that lists exactly the files' columns."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from initiatives.models import Indicator, IndicatorValue, ProgressStatus
from portal_lib.local_gov_code import check_digit, parse_local_gov_code
from reporting.opendata import DATASETS
from tests.factory import initiative, make_progress

pytestmark = pytest.mark.django_db

FILES = {
    "progress": ("public:csv", "public:json"),
    "projects": ("public:projects_csv", "public:projects_json"),
    "indicators": ("public:indicators_csv", "public:indicators_json"),
}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
SECRET_DESCRIPTION = "内部検討中の非公開メモ"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2026, 11, 24))


@pytest.fixture
def published(plan):
    """2.1: progress and indicators; 2.2: description and projects; 3.1: progress, of which
    nothing is recorded yet; 4.1 not public."""
    i21 = initiative("2.1")
    i21.description = SECRET_DESCRIPTION
    i21.is_public = True
    i21.public_fields = ["progress", "indicators"]
    i21.save()
    make_progress(i21, status="on_track", percent=55, entry_date=date(2026, 10, 1))
    indicator = Indicator.objects.create(initiative=i21, name="オンライン化手続数", unit="件")
    IndicatorValue.objects.create(indicator=indicator, fiscal_year=2026, target=27, actual=25)
    IndicatorValue.objects.create(indicator=indicator, fiscal_year=2025, target="20.5", actual=None)
    i22 = initiative("2.2")
    i22.is_public = True
    i22.public_fields = ["description", "projects"]
    i22.save()
    i31 = initiative("3.1")
    i31.is_public = True
    i31.public_fields = ["progress"]
    i31.save()
    return i21, i22, i31


def _csv(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return response, rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _json(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return response, json.loads(response.content)


class _Columns(HTMLParser):
    """The data dictionary page: each dataset table's column names (the row headers)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[str]] = {}
        self._table = None
        self._in_row_header = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and (attrs.get("id") or "").startswith("columns-"):
            self._table = attrs["id"].removeprefix("columns-")
            self.tables[self._table] = []
        if tag == "th" and attrs.get("scope") == "row" and self._table:
            self._in_row_header = True
            self.tables[self._table].append("")

    def handle_endtag(self, tag):
        if tag == "th":
            self._in_row_header = False
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._in_row_header:
            self.tables[self._table][-1] += data.strip()


def test_dictionary_and_files_list_the_same_columns(client, published):
    page = client.get(reverse("public:data"))
    assert page.status_code == 200
    parser = _Columns()
    parser.feed(page.content.decode())
    assert set(parser.tables) == set(FILES) == set(DATASETS)
    for slug, (csv_name, json_name) in FILES.items():
        _, header, rows = _csv(client, csv_name)
        _, body = _json(client, json_name)
        meta_columns = [c["name"] for c in body["metadata"]["columns"]]
        assert header == meta_columns == parser.tables[slug], slug
        assert rows, slug  # each file has rows here, so the keys below are checked
        assert all(list(r) == header for r in body["records"]), slug
        assert len(body["records"]) == len(rows), slug
        for column in body["metadata"]["columns"]:
            assert column["type"] in {"string", "integer", "number", "date", "code"}
            assert column["description"], (slug, column["name"])


def test_every_row_carries_the_city_and_the_licence(client, published):
    for slug, (csv_name, json_name) in FILES.items():
        response, header, rows = _csv(client, csv_name)
        assert header[:4] == ["全国地方公共団体コード", "都道府県名", "市区町村名", "ライセンス"]
        assert {
            (r["全国地方公共団体コード"], r["都道府県名"], r["市区町村名"], r["ライセンス"])
            for r in rows
        } == {("172090", "石川県", "かほく市", "CC BY 4.0")}, slug
        assert response["Link"].startswith(
            '<https://creativecommons.org/licenses/by/4.0/deed.ja>; rel="license", '
            f'<{settings.PORTAL_BASE_URL}/public/data/#{slug}>; rel="describedby"'
        )
        assert f'filename="172090_dx_{slug}_2026.csv"' in response["Content-Disposition"]
        _, body = _json(client, json_name)
        meta = body["metadata"]
        assert meta["local_government_code"] == "172090"
        assert (meta["prefecture"], meta["municipality"]) == ("石川県", "かほく市")
        assert meta["license"] == {
            "id": "cc-by-4.0",
            "name": "クリエイティブ・コモンズ 表示 4.0 国際 (CC BY 4.0)",
            "url": "https://creativecommons.org/licenses/by/4.0/deed.ja",
        }
        assert meta["attribution"].startswith(f"出典:かほく市「{DATASETS[slug].title}」(")
        assert (meta["fiscal_year"], meta["fiscal_year_label"]) == (2026, "令和8年度")
        codes = {r["全国地方公共団体コード"] for r in body["records"]}
        assert codes == {"172090"}  # a string: a code keeps its leading zeros (01…)


def test_values_are_typed_one_to_a_cell(client, published):
    _, _, rows = _csv(client, "public:csv")
    assert [r["取り組み番号"] for r in rows] == ["2.1", "2.2", "3.1"]
    r21 = rows[0]
    assert (r21["年度"], r21["年度表記"]) == ("2026", "令和8年度")
    assert (r21["基本方針番号"], r21["基本方針名"]) == ("2", "行政サービスの利便性向上")
    assert r21["取り組み名"] == "行政サービスのオンライン化"
    assert (r21["進捗状況コード"], r21["進捗状況"], r21["進捗率"]) == ("on_track", "順調", "55")
    assert r21["最終更新日"] == "2026-10-01"
    assert r21["取り組みの内容"] == ""  # not published for 2.1
    _, body = _json(client, "public:json")
    j21 = body["records"][0]
    assert (j21["年度"], j21["基本方針番号"], j21["進捗率"]) == (2026, 2, 55)
    assert j21["取り組みの内容"] is None

    _, _, indicators = _csv(client, "public:indicators_csv")
    assert [
        (r["年度"], r["年度表記"], r["目標値"], r["実績値"], r["単位"]) for r in indicators
    ] == [
        ("2025", "令和7年度", "20.5", "", "件"),
        ("2026", "令和8年度", "27", "25", "件"),
    ]
    _, body = _json(client, "public:indicators_json")
    assert [(r["年度"], r["目標値"], r["実績値"]) for r in body["records"]] == [
        (2025, 20.5, None),
        (2026, 27, 25),
    ]

    _, _, projects = _csv(client, "public:projects_csv")
    assert {r["取り組み番号"] for r in projects} == {"2.2"}  # only 2.2 publishes its projects
    first = projects[0]
    assert re.fullmatch(r"\d{4}", first["年度"]) and first["年度表記"].endswith("年度")
    assert first["事業名"] and first["担当課"]

    status_codes = {s.value for s in ProgressStatus}
    for slug, (csv_name, json_name) in FILES.items():
        _, _, rows = _csv(client, csv_name)
        _, body = _json(client, json_name)
        types = {c.name: c.type for c in DATASETS[slug].columns}
        for row, record in zip(rows, body["records"], strict=True):
            for name, value in row.items():
                assert "; " not in value, (slug, name, value)  # no list joined in a cell
                if value == "":
                    assert record[name] is None, (slug, name)
                    continue
                kind = types[name]
                if kind == "integer":
                    assert re.fullmatch(r"-?\d+", value) and type(record[name]) is int
                elif kind == "number":
                    assert float(value) == record[name] and type(record[name]) in {int, float}
                elif kind == "date":
                    assert ISO_DATE.fullmatch(value) and record[name] == value
                else:
                    assert record[name] == value
            assert re.fullmatch(r"\d+\.\d+", row["取り組み番号"])  # a number, no name with it
            if "年度" in row:
                assert re.fullmatch(r"20\d\d", row["年度"]), (slug, row["年度"])
            if row.get("進捗状況コード"):
                assert row["進捗状況コード"] in status_codes
            if "基本方針名" in row:
                assert not re.match(r"\d", row["基本方針名"])


def test_nothing_recorded_is_an_empty_cell_never_a_sentence(client, published):
    _, _, rows = _csv(client, "public:csv")
    r31 = next(r for r in rows if r["取り組み番号"] == "3.1")
    assert [r31[k] for k in ("進捗状況コード", "進捗状況", "進捗率", "最終更新日")] == [""] * 4
    assert r31["年度"] == "2026"  # the file's year is always there
    _, body = _json(client, "public:json")
    j31 = next(r for r in body["records"] if r["取り組み番号"] == "3.1")
    assert [j31[k] for k in ("進捗状況コード", "進捗状況", "進捗率", "最終更新日")] == [None] * 4
    for name in ("public:csv", "public:json"):
        text = client.get(reverse(name)).content.decode("utf-8-sig")
        assert "まだ記録がありません" not in text
        assert SECRET_DESCRIPTION not in text
    # The page for people still says it in words.
    assert "まだ記録がありません" in client.get(reverse("public:index")).content.decode()


def test_files_are_japanese_whatever_the_page_language(client, published):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    _, _, rows = _csv(client, "public:csv")
    assert rows[0]["進捗状況"] == "順調" and rows[0]["年度表記"] == "令和8年度"
    _, body = _json(client, "public:json")
    assert body["metadata"]["columns"][0]["description"].startswith("市区町村を表す6桁")
    page = client.get(reverse("public:data")).content.decode()
    assert '<code lang="ja">進捗状況コード</code>' in page  # the column's name is data
    assert "Creative Commons Attribution 4.0 International (CC BY 4.0)" in page
    assert "Status code of the latest progress in that fiscal year" in page


def test_licence_and_code_shown_on_the_public_page(client, published):
    html = client.get(reverse("public:index")).content.decode()
    assert (
        '<a href="https://creativecommons.org/licenses/by/4.0/deed.ja" rel="license">'
        "クリエイティブ・コモンズ 表示 4.0 国際 (CC BY 4.0)</a>" in html
    )
    assert f'href="{reverse("public:data")}"' in html
    assert f'href="{reverse("public:projects_csv")}"' in html
    assert '<span lang="ja">石川県かほく市</span>' in html
    assert "172090" in html


def test_the_public_data_licence_when_chosen(client, published, settings):
    settings.OPEN_DATA_LICENSE = "pdl-1.0"
    pdl = "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0"
    response, _, rows = _csv(client, "public:projects_csv")
    assert {r["ライセンス"] for r in rows} == {"PDL1.0"}
    assert response["Link"].startswith(f'<{pdl}>; rel="license"')
    _, body = _json(client, "public:json")
    assert body["metadata"]["license"]["name"] == "公共データ利用規約(第1.0版) (PDL1.0)"
    html = client.get(reverse("public:data")).content.decode()
    assert f'<a href="{pdl}" rel="license">公共データ利用規約(第1.0版) (PDL1.0)</a>' in html


def test_local_government_code_and_its_check_digit():
    assert [check_digit(c) for c in ("17209", "13101", "01100")] == ["0", "6", "2"]
    assert parse_local_gov_code(" 172090 ") == "172090"
    with pytest.raises(ValueError) as bad:
        parse_local_gov_code("172091")
    assert str(bad.value) == (
        "全国地方公共団体コード '172091' の検査数字が合いません (17209 なら 172090)。"
    )
    for wrong in ("17209", "１７２０９０", "17209a"):
        with pytest.raises(ValueError, match="半角数字6桁"):
            parse_local_gov_code(wrong)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"LOCAL_GOV_CODE": "172091"},
            "LOCAL_GOV_CODE: 全国地方公共団体コード '172091' の検査数字",
        ),
        ({"OPEN_DATA_LICENSE": "cc-by-sa"}, "は cc-by-4.0 か pdl-1.0 を指定してください。"),
    ],
)
def test_settings_refuse_a_wrong_code_or_licence(env, message):
    result = subprocess.run(
        [sys.executable, "-c", "import kahoku_dx.settings"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=60,
    )
    assert result.returncode != 0
    assert message in result.stderr
