"""The public progress page for citizens: no login, only what the secretariat published.

HTML, CSV and JSON are all rendered from public_records(), which copies only the
allowed keys, so a field that is not published never reaches any of the three.
"""

from __future__ import annotations

import csv
import io
import json

from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from initiatives.models import PUBLIC_FIELDS
from kahoku_dx import era
from kahoku_dx.spreadsheets import csv_safe
from plans.models import Plan
from plans.selectors import current_plan
from reporting.selectors.public import number_text, public_records
from reporting.selectors.schedule import schedule_matrix

PUBLIC_PAGE_SIZE = 30

CSV_COLUMNS = [
    ("code", "番号"),
    ("policy", "基本方針"),
    ("title", "取り組み"),
    ("description", "取り組みの内容"),
    ("fiscal_year", "年度"),
    ("status", "進み具合"),
    ("percent", "進捗率(%)"),
    ("updated_on", "最終更新日"),
    ("projects", "すでに取り組んでいる事業"),
    ("indicators", "目標と実績(指標)"),
]


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
            "basic_policies": list(plan.policies.order_by("number")) if plan else [],
            "years": [(y, era.short_header(y), y == fy) for y in years],
            "schedule_rows": rows,
            "fiscal_year_label": era.format_fiscal_year(fy),
            "policies": policies,
            "count": len(records),
            "page_obj": page,
        },
    )


def _csv_row(r: dict) -> list[str]:
    progress = r.get("progress") or {}
    projects = "; ".join(f"{p['year']} {p['name']}({p['section']})" for p in r.get("projects", []))
    indicators = "; ".join(
        f"{i['name']}"
        + "".join(
            f" {v['fiscal_year']} 目標{number_text(v['target']) or '-'}{i['unit']}"
            f" 実績{number_text(v['actual']) or '-'}{i['unit']}"
            for v in i["values"]
        )
        for i in r.get("indicators", [])
    )
    values = {
        "code": r["code"],
        "policy": r["policy"],
        "title": r["title"],
        "description": r.get("description", ""),
        "fiscal_year": progress.get("fiscal_year", ""),
        "status": progress.get("status", ""),
        "percent": "" if progress.get("percent") is None else str(progress["percent"]),
        "updated_on": progress.get("updated_on") or "",
        "projects": projects,
        "indicators": indicators,
    }
    return [values[key] for key, _ in CSV_COLUMNS]


@require_GET
def progress_csv(request: HttpRequest) -> HttpResponse:
    _, fy, records = _records()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([label for _, label in CSV_COLUMNS])
    for r in records:
        writer.writerow([csv_safe(v) for v in _csv_row(r)])
    # UTF-8 with BOM so that Excel on Windows opens it in the right encoding.
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="kahoku-dx-progress-{fy}.csv"'
    return response


@require_GET
def progress_json(request: HttpRequest) -> HttpResponse:
    plan, fy, records = _records()
    body = {
        "plan": plan.name if plan else None,
        "fiscal_year": fy,
        "fiscal_year_label": era.format_fiscal_year(fy),
        "generated_on": timezone.localdate().isoformat(),
        "fields": dict(PUBLIC_FIELDS),
        "initiatives": records,
    }
    return HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder),
        content_type="application/json; charset=utf-8",
    )
