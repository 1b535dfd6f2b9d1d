"""The public progress page for citizens: no login, only what the secretariat published.

HTML, CSV and JSON are all rendered from public_records(), which copies only the
allowed keys, so a field that is not published never reaches any of the three. The files
are the open-data datasets of `reporting.opendata` (their columns, the licence, the city),
described on the data dictionary page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from plans.models import Plan
from plans.selectors import current_plan
from portal_lib import era
from portal_lib.sheet_writing import csv_safe
from reporting.access import policies_in_order
from reporting.opendata import DATASETS, TYPES, Dataset, attribution, current_license, metadata
from reporting.selectors.public import public_records
from reporting.selectors.schedule import schedule_matrix

PUBLIC_PAGE_SIZE = 30


def _plan_and_year() -> tuple[Plan | None, int]:
    fy = era.current_fiscal_year(timezone.localdate())
    return current_plan(fy), fy


def _records() -> tuple[Plan | None, int, list[dict]]:
    plan, fy = _plan_and_year()
    return plan, fy, public_records(plan, fy) if plan else []


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    plan, fy, records = _records()
    # The published initiatives a page at a time (all of them in the CSV and JSON files).
    page = Paginator(records, PUBLIC_PAGE_SIZE).get_page(request.GET.get("page"))
    policies: dict[str, list[dict]] = {}
    for r in page.object_list:
        policies.setdefault(r["policy"], []).append(r)
    # The plan itself is public from day one: theme, goal, the four basic policies and
    # table 4-1. Published initiatives follow once the secretariat publishes them.
    years, rows = schedule_matrix(plan, fy) if plan else ([], [])
    return render(
        request,
        "public/index.html",
        {
            "plan": plan,
            "basic_policies": policies_in_order(plan),
            "years": [(y, era.short_header(y), y == fy) for y in years],
            "schedule_rows": rows,
            "fiscal_year_label": era.format_fiscal_year(fy),
            "policies": policies,
            "count": len(records),
            "page_obj": page,
            **_open_data_context(),
        },
    )


def _dataset_rows(slug: str) -> tuple[Dataset, Plan | None, int, list[dict[str, Any]]]:
    dataset = DATASETS[slug]
    plan, fy, records = _records()
    return dataset, plan, fy, list(dataset.rows(records, fy))


def _absolute(path: str) -> str:
    """A link written into a file: from PORTAL_BASE_URL, never from the request's Host."""
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def _file_response(
    dataset: Dataset, body: bytes, content_type: str, fy: int, ext: str
) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    # 自治体標準オープンデータセット: <団体コード>_<name>.csv
    name = f"{settings.LOCAL_GOV_CODE}_dx_{dataset.slug}_{fy}.{ext}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    # The licence and the data dictionary, for a file that cannot say them itself (RFC 8288).
    dictionary = _absolute(reverse("public:data")) + f"#{dataset.slug}"
    response["Link"] = (
        f'<{current_license().url}>; rel="license", <{dictionary}>; rel="describedby"'
    )
    return response


def _write_csv(slug: str) -> HttpResponse:
    with translation.override("ja"):  # open data is the same file in every UI language
        dataset, _, fy, rows = _dataset_rows(slug)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(dataset.column_names)
        for row in rows:
            writer.writerow([csv_safe(row[name]) for name in dataset.column_names])
    # UTF-8 with BOM so that Excel on Windows opens it in the right encoding.
    body = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    return _file_response(dataset, body, "text/csv; charset=utf-8", fy, "csv")


def _write_json(slug: str) -> HttpResponse:
    with translation.override("ja"):
        dataset, plan, fy, rows = _dataset_rows(slug)
        body = {
            "metadata": metadata(
                dataset,
                plan=plan.name if plan else None,
                fiscal_year=fy,
                fiscal_year_label=era.era_label(fy, short=False),
                generated_on=timezone.localdate().isoformat(),
                attribution=attribution(dataset, _absolute(reverse("public:index"))),
                csv=_absolute(reverse(f"public:{URL_NAMES[slug][0]}")),
                dictionary=_absolute(reverse("public:data")) + f"#{dataset.slug}",
            ),
            "records": rows,
        }
        text = json.dumps(body, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)
    return _file_response(
        dataset, text.encode("utf-8"), "application/json; charset=utf-8", fy, "json"
    )


# URL names of each dataset's files (reporting/urls/public.py): progress keeps its old names.
URL_NAMES = {
    "progress": ("csv", "json"),
    "projects": ("projects_csv", "projects_json"),
    "indicators": ("indicators_csv", "indicators_json"),
}


def _file_view(slug: str, kind: str) -> Callable[[HttpRequest], HttpResponse]:
    write = _write_csv if kind == "csv" else _write_json

    @require_GET
    def view(request: HttpRequest) -> HttpResponse:
        return write(slug)

    view.__name__ = f"{slug}_{kind}"
    return view


progress_csv = _file_view("progress", "csv")
progress_json = _file_view("progress", "json")
projects_csv = _file_view("projects", "csv")
projects_json = _file_view("projects", "json")
indicators_csv = _file_view("indicators", "csv")
indicators_json = _file_view("indicators", "json")


def _downloads() -> list[dict[str, Any]]:
    return [
        {
            "dataset": d,
            "csv": reverse(f"public:{URL_NAMES[slug][0]}"),
            "json": reverse(f"public:{URL_NAMES[slug][1]}"),
            "columns": [
                {
                    "name": c.name,
                    "type_label": TYPES[c.type],
                    "meaning": c.meaning,
                    "codes": c.codes,
                }
                for c in d.columns
            ],
        }
        for slug, d in DATASETS.items()
    ]


def _open_data_context() -> dict[str, Any]:
    return {
        "open_data": _downloads(),
        "license": current_license(),
        "local_gov": {
            "code": settings.LOCAL_GOV_CODE,
            "prefecture": settings.LOCAL_GOV_PREFECTURE,
            "name": settings.LOCAL_GOV_NAME,
        },
        "attribution": attribution(DATASETS["progress"], _absolute(reverse("public:index"))),
    }


@require_GET
def data_dictionary(request: HttpRequest) -> HttpResponse:
    """/public/data/: every dataset, its files, and each column's name, type and meaning."""
    return render(request, "public/data.html", _open_data_context())
