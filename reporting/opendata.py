"""The public page's open data: its datasets, their columns, the licence and the city.

One home for what a published file holds: every dataset's columns (name, type, meaning)
are listed here once, and the CSV, the JSON (records and its metadata object) and the data
dictionary page (/public/data/) are all written from this list, so they cannot disagree.
The rows are made from `reporting.selectors.public.public_records`, which copies only the
fields `initiatives.models.PUBLIC_FIELDS` allows: a field that is not published is an
empty cell (null in the JSON), like one where nothing is recorded — never a sentence.

Conventions of the 自治体標準オープンデータセット (デジタル庁): the first columns are
全国地方公共団体コード, 都道府県名 and 市区町村名; one value per cell; years as Western
numbers with the 和暦 beside them; dates as YYYY-MM-DD; codes beside their labels; UTF-8
(with BOM, so Excel opens it) and the file named <団体コード>_<dataset>.csv.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from initiatives.models import ProgressStatus
from portal_lib import era

# Column types, as the data dictionary and the JSON metadata name them.
TYPES: dict[str, Promise] = {
    "string": _("文字列"),
    "integer": _("整数"),
    "number": _("数値(小数を含む)"),
    "date": _("日付(YYYY-MM-DD)"),
    "code": _("コード(決まった値)"),
}


@dataclass(frozen=True)
class License:
    id: str
    name: Promise
    short: str
    url: str


LICENSES: dict[str, License] = {
    "cc-by-4.0": License(
        "cc-by-4.0",
        _("クリエイティブ・コモンズ 表示 4.0 国際 (CC BY 4.0)"),
        "CC BY 4.0",
        "https://creativecommons.org/licenses/by/4.0/deed.ja",
    ),
    "pdl-1.0": License(
        "pdl-1.0",
        _("公共データ利用規約(第1.0版) (PDL1.0)"),
        "PDL1.0",
        "https://www.digital.go.jp/resources/open_data/public_data_license_v1.0",
    ),
}


def current_license() -> License:
    return LICENSES[settings.OPEN_DATA_LICENSE]


@dataclass(frozen=True)
class Column:
    name: str  # the CSV header and the JSON key: data, in Japanese, never translated
    type: str  # a key of TYPES
    meaning: Promise
    codes: tuple[tuple[str, Any], ...] = ()  # a code column's values and their (lazy) labels


@dataclass(frozen=True)
class Dataset:
    slug: str  # the file name: /public/<slug>.csv and .json
    title: Promise
    description: Promise
    columns: tuple[Column, ...]
    rows: Callable[[list[dict[str, Any]], int], Iterator[dict[str, Any]]]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


CITY_COLUMNS = (
    Column(
        "全国地方公共団体コード",
        "code",
        _("市区町村を表す6桁のコード(総務省の全国地方公共団体コード、最後の1桁は検査数字)"),
    ),
    Column("都道府県名", "string", _("都道府県の名前")),
    Column("市区町村名", "string", _("市区町村の名前")),
    Column("ライセンス", "string", _("このデータの利用条件(ライセンス)の名前")),
)
YEAR_LABEL = _("年度の和暦表記(例: 令和8年度)")


def _city() -> dict[str, Any]:
    return {
        "全国地方公共団体コード": settings.LOCAL_GOV_CODE,
        "都道府県名": settings.LOCAL_GOV_PREFECTURE,
        "市区町村名": settings.LOCAL_GOV_NAME,
        "ライセンス": current_license().short,
    }


def _year_label(fy: int | None) -> str | None:
    return None if fy is None else era.era_label(fy, short=False)


def _progress_rows(records: list[dict[str, Any]], fiscal_year: int) -> Iterator[dict[str, Any]]:
    for r in records:
        progress = r.get("progress") or {}
        yield {
            **_city(),
            "計画名": r["plan"],
            "年度": fiscal_year,
            "年度表記": _year_label(fiscal_year),
            "基本方針番号": r["policy_number"],
            "基本方針名": r["policy_title"],
            "取り組み番号": r["code"],
            "取り組み名": r["title"],
            "取り組みの内容": r.get("description") or None,
            "進捗状況コード": progress.get("status_code"),
            "進捗状況": progress.get("status_label"),
            "進捗率": progress.get("percent"),
            "最終更新日": progress.get("updated_on"),
        }


def _project_rows(records: list[dict[str, Any]], fiscal_year: int) -> Iterator[dict[str, Any]]:
    for r in records:
        for p in r.get("projects", []):
            yield {
                **_city(),
                "取り組み番号": r["code"],
                "事業名": p["name"],
                "年度": p["fiscal_year"],
                "年度表記": _year_label(p["fiscal_year"]),
                "担当課": p["section"],
            }


def _indicator_rows(records: list[dict[str, Any]], fiscal_year: int) -> Iterator[dict[str, Any]]:
    for r in records:
        for ind in r.get("indicators", []):
            for v in ind["values"]:
                yield {
                    **_city(),
                    "取り組み番号": r["code"],
                    "指標名": ind["name"],
                    "単位": ind["unit"] or None,
                    "年度": v["year"],
                    "年度表記": _year_label(v["year"]),
                    "目標値": v["target"],
                    "実績値": v["actual"],
                }


INITIATIVE_CODE = Column(
    "取り組み番号", "string", _("計画の取り組みの番号(例: 2.1。基本方針番号.通し番号)")
)

DATASETS: dict[str, Dataset] = {
    d.slug: d
    for d in (
        Dataset(
            "progress",
            _("取り組みの進み具合"),
            _("公開している取り組みの一覧と、その年度の最新の進み具合。1行が1つの取り組みです。"),
            (
                *CITY_COLUMNS,
                Column("計画名", "string", _("計画の名前")),
                Column("年度", "integer", _("進み具合の年度(西暦。4月に始まる年度の年)")),
                Column("年度表記", "string", YEAR_LABEL),
                Column("基本方針番号", "integer", _("計画の基本方針の番号")),
                Column("基本方針名", "string", _("基本方針の名前")),
                INITIATIVE_CODE,
                Column("取り組み名", "string", _("取り組みの名前")),
                Column("取り組みの内容", "string", _("取り組みの内容(公開していないときは空)")),
                Column(
                    "進捗状況コード",
                    "code",
                    _("その年度の最新の進み具合のコード(記録がないとき、公開していないときは空)"),
                    tuple(ProgressStatus.choices),
                ),
                Column("進捗状況", "string", _("進捗状況コードの名前")),
                Column("進捗率", "integer", _("進み具合のおよその割合(0〜100、%)")),
                Column("最終更新日", "date", _("その年度の最新の進捗記録の日付")),
            ),
            _progress_rows,
        ),
        Dataset(
            "projects",
            _("すでに取り組んでいる事業"),
            _("取り組みごとに、計画の前からすでに進めている事業。1行が1つの事業です。"),
            (
                *CITY_COLUMNS,
                INITIATIVE_CODE,
                Column("事業名", "string", _("事業の名前")),
                Column(
                    "年度", "integer", _("事業の年度(西暦。計画の「R3」などの表記を数にしたもの)")
                ),
                Column("年度表記", "string", YEAR_LABEL),
                Column("担当課", "string", _("事業を担当する課の名前")),
            ),
            _project_rows,
        ),
        Dataset(
            "indicators",
            _("目標と実績(指標)"),
            _("取り組みの成果を測る指標の、年度ごとの目標値と実績値。1行が1つの指標の1年度です。"),
            (
                *CITY_COLUMNS,
                INITIATIVE_CODE,
                Column("指標名", "string", _("指標の名前")),
                Column("単位", "string", _("目標値と実績値の単位(件、% など)")),
                Column("年度", "integer", _("目標と実績の年度(西暦)")),
                Column("年度表記", "string", YEAR_LABEL),
                Column("目標値", "number", _("その年度の目標値(決まっていないときは空)")),
                Column("実績値", "number", _("その年度の実績値(まだないときは空)")),
            ),
            _indicator_rows,
        ),
    )
}


def attribution(dataset: Dataset, url: str) -> str:
    """How a user credits the city (the licence's 出典 example)."""
    lic = current_license()
    return f"出典:{settings.LOCAL_GOV_NAME}「{dataset.title}」({url})、{lic.short}({lic.url})"


def metadata(dataset: Dataset, **extra: Any) -> dict[str, Any]:
    """The JSON's metadata object: the city, the licence and every column."""
    lic = current_license()
    return {
        "title": f"{settings.LOCAL_GOV_NAME} DX推進計画 {dataset.title}",
        "description": str(dataset.description),
        "publisher": f"{settings.LOCAL_GOV_PREFECTURE}{settings.LOCAL_GOV_NAME}",
        "local_government_code": settings.LOCAL_GOV_CODE,
        "prefecture": settings.LOCAL_GOV_PREFECTURE,
        "municipality": settings.LOCAL_GOV_NAME,
        "license": {"id": lic.id, "name": str(lic.name), "url": lic.url},
        **extra,
        "columns": [
            {
                "name": c.name,
                "type": c.type,
                "description": str(c.meaning),
                **({"codes": {code: str(label) for code, label in c.codes}} if c.codes else {}),
            }
            for c in dataset.columns
        ],
    }
