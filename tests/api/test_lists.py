"""The initiative, procedure and system lists: content, numbers, filters and pagination."""

from __future__ import annotations

from datetime import date

import pytest

from initiatives.models import IndicatorValue
from tests.api.conftest import session_client, token_client
from tests.factory import (
    initiative,
    make_indicator,
    make_online_procedure,
    make_progress,
    make_review,
    set_system_phase,
)

pytestmark = pytest.mark.django_db


def test_initiative_list_item(personas, hq_account):
    i21 = initiative("2.1")
    make_progress(i21, status="on_track", percent=60, entry_date=date(2026, 10, 1))
    make_progress(i21, status="delayed", percent=90, entry_date=date(2026, 3, 1))  # FY2025
    make_review(i21, state="submitted")
    ind = make_indicator(i21, unit="件", baseline=5)
    IndicatorValue.objects.create(indicator=ind, fiscal_year=2026, target=27, actual="25.50")
    IndicatorValue.objects.create(indicator=ind, fiscal_year=2025, target=10, actual=1)
    body = token_client(hq_account[1]).get("/api/v1/initiatives/", {"fiscal_year": "令和8年度"})
    body = body.json()
    assert body["count"] == 13 and body["previous"] is None
    item = next(r for r in body["results"] if r["code"] == "2.1")
    assert item["policy"] == {"number": 2, "title": "行政サービスの利便性向上"}
    assert item["working_group"] == {"id": personas.wg.pk, "name": "情報推進課WG"}
    assert item["status"] == "on_track" and item["status_label"] == "順調"
    assert item["progress_percent"] == 60
    assert item["latest_date"] == "2026-10-01"
    assert item["review_state"] == "submitted" and item["review_state_label"] == "提出済"
    assert item["indicators"] == [
        {
            "name": "オンライン申請件数",
            "unit": "件",
            "direction": "higher",
            "baseline": 5,
            "target": 27,
            "actual": 25.5,
            "achievement_percent": 94.4,
            "grade": "B",
            "grade_label": "B(概ね目標どおり)",
        }
    ]
    untouched = next(r for r in body["results"] if r["code"] == "1.1")
    assert (untouched["status"], untouched["progress_percent"], untouched["latest_date"]) == (
        None,
        None,
        None,
    )
    assert untouched["review_state"] is None and untouched["indicators"] == []


def test_indicator_without_a_value_for_the_year_is_ungraded_then_d(personas):
    ind = make_indicator(initiative("2.1"))
    IndicatorValue.objects.create(indicator=ind, fiscal_year=2025, target=10, actual=20)
    client = session_client(personas.member)
    item = client.get("/api/v1/initiatives/2.1/", {"fiscal_year": "2026"}).json()
    # FY2026 still runs (TODAY): 未評価; FY2024 has ended without a value: D
    assert (item["indicators"][0]["target"], item["indicators"][0]["grade"]) == (None, "ungraded")
    assert item["indicators"][0]["grade_label"] == "未評価"
    item = client.get("/api/v1/initiatives/2.1/", {"fiscal_year": "2024"}).json()
    assert (item["indicators"][0]["grade"], item["indicators"][0]["grade_label"]) == (
        "D",
        "D(評価できない)",
    )
    item = client.get("/api/v1/initiatives/2.1/", {"fiscal_year": "R7"}).json()
    assert (item["indicators"][0]["actual"], item["indicators"][0]["grade"]) == (20, "A")


def test_initiative_detail(personas):
    body = session_client(personas.viewer).get("/api/v1/initiatives/2.1/").json()
    assert body["code"] == "2.1"
    assert body["title"] == initiative("2.1").title
    assert "description" in body and body["weight"] is None


def test_initiative_filters(personas):
    make_progress(initiative("2.1"), status="delayed", percent=20)
    make_review(initiative("3.1"), state="approved")
    client = session_client(personas.hq)

    def codes(**params):
        return [r["code"] for r in client.get("/api/v1/initiatives/", params).json()["results"]]

    assert codes(policy=2) == ["2.1", "2.2", "2.3", "2.4"]
    assert codes(status="delayed") == ["2.1"]
    assert len(codes(status="none")) == 12
    assert codes(review="approved") == ["3.1"]
    assert codes(working_group=personas.other_wg.pk) == ["3.2", "3.4"]
    response = client.get("/api/v1/initiatives/", {"status": "late"})
    assert response.status_code == 400 and "late" in response.json()["status"][0]


def test_pagination_and_its_bounds(personas):
    client = session_client(personas.hq)
    first = client.get("/api/v1/initiatives/", {"page_size": 5}).json()
    assert (first["count"], len(first["results"])) == (13, 5)
    assert "page=2" in first["next"]
    last = client.get("/api/v1/initiatives/", {"page_size": 5, "page": 3}).json()
    assert len(last["results"]) == 3 and last["next"] is None
    assert len(client.get("/api/v1/initiatives/", {"page_size": 200}).json()["results"]) == 13
    for bad in ("0", "201", "1000", "-1", "abc"):
        response = client.get("/api/v1/initiatives/", {"page_size": bad})
        assert response.status_code == 400
        assert response.json()["page_size"] == [
            f"page_size は1から200までの整数で指定してください(「{bad}」)。"
        ]
    response = client.get("/api/v1/initiatives/", {"page": 99})
    assert response.status_code == 404
    assert response.json()["detail"] == "ページ「99」はありません。"


def test_default_page_size_is_fifty(personas):
    for n in range(1, 28):
        make_online_procedure(n)
    body = session_client(personas.hq).get("/api/v1/procedures/").json()
    assert body["count"] == 27 and len(body["results"]) == 27
    body = session_client(personas.hq).get("/api/v1/systems/", {"page_size": 8}).json()
    assert body["count"] == 20 and len(body["results"]) == 8


def test_procedures(personas):
    make_online_procedure(2, online_on=date(2023, 5, 1))
    make_online_procedure(1, online_on=date(2022, 6, 1))
    results = session_client(personas.member).get("/api/v1/procedures/").json()["results"]
    # the national list of 27 ships with the plan; two were recorded (and so confirmed)
    assert [r["number"] for r in results] == list(range(1, 28))
    assert results[0]["status"] == "online" and results[0]["status_label"] == "オンライン化済"
    assert results[0]["online_on"] == "2022-06-01" and results[0]["confirmed"] is True
    assert (results[2]["confirmed"], results[2]["provenance"]) == (False, "国の指定手続")
    assert results[2]["overdue"] is False  # unconfirmed rows never raise an alarm


def test_systems(personas):
    set_system_phase(1, "done", migrated_on=date(2025, 12, 1))
    results = session_client(personas.member).get("/api/v1/systems/").json()["results"]
    assert [r["number"] for r in results] == list(range(1, 21))
    first, ninth = results[0], results[8]
    assert (first["marker"], first["group"], first["phase"]) == ("①", 1, "done")
    assert first["migrated_on"] == "2025-12-01" and first["overdue"] is False
    assert first["migrated_late"] is False and first["confirmed"] is True
    # R7年度末 has passed, but nobody has confirmed system ⑨'s state: no false alarm
    assert ninth["group"] == 2 and ninth["overdue"] is False and ninth["confirmed"] is False
