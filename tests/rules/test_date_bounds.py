"""A date's bounds (portal_lib.date_bounds) hold on every path that writes it, with one message
that states them in 和暦: the progress form, the service (the admin saves through the same
model rule), the Excel import; a review's due date through the round-opening form and the
service; a plan's decision date through the adopt service.

The JSON API (reporting/api) is read-only: it writes no date, so it has none to refuse.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from initiatives import services
from initiatives.models import ProgressEntry, Review
from portal_lib import date_bounds
from portal_lib.sheet_reading import SpreadsheetError
from reporting.exchange import engine, sheets
from tests.factory import initiative

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 6)  # a Sunday in 令和8年度; the plan runs 令和3年度 to 令和8年度
PROGRESS_BOUNDS = (
    "令和3年4月1日(木)から令和8年12月6日(日)までの日付にしてください。"
    "(計画期間は令和3年度から令和8年度まで。今日より後の日付は記録できません)"
)


@pytest.fixture(autouse=True)
def today():
    moment = datetime(2026, 12, 6, 12, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    with time_machine.travel(moment, tick=False):
        yield


# (typed, as the message names it)
OUT_OF_BOUNDS = [
    ("9999-12-31", "9999-12-31(金)"),
    ("2026-12-07", "令和8年12月7日(月)"),  # tomorrow
    ("R8.12.20", "令和8年12月20日(日)"),
    ("2021/3/31", "令和3年3月31日(水)"),  # the day before the plan's period
]


def _refusal(shown: str) -> str:
    return f"進捗の記録日「{shown}」は範囲外です。{PROGRESS_BOUNDS}"


@pytest.mark.parametrize(("typed", "shown"), OUT_OF_BOUNDS)
def test_progress_form_refuses_a_date_outside_the_plan_or_after_today(
    client, personas, typed, shown
):
    ini = initiative("2.1")
    client.force_login(personas.member)
    response = client.post(
        reverse("initiatives:progress_create", args=[ini.pk]),
        {"entry_date": typed, "status": "on_track", "percent": "10"},
    )
    assert response.status_code == 200
    assert _refusal(shown) in response.context["form"].errors["entry_date"][0]
    assert not ProgressEntry.objects.filter(initiative=ini).exists()


@pytest.mark.parametrize(("typed", "shown"), OUT_OF_BOUNDS)
def test_excel_import_refuses_the_same_dates_with_the_same_message(plan, typed, shown):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "進捗入力"
    ws.append(sheets.PROGRESS.header())
    ws.append(["2.1", typed, "順調", 10])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(SpreadsheetError) as exc:
        engine.parse_import(sheets.PROGRESS, buf.getvalue(), "p.xlsx", plan=plan, today=TODAY)
    [message] = exc.value.messages  # one problem, on the date's own cell
    assert message.startswith("シート「進捗入力」2行目 B列(日付)の「")
    assert message.endswith(f"」: {_refusal(shown)}")


def test_service_refuses_what_the_form_refuses(personas):
    ini = initiative("2.1")
    with pytest.raises(ValidationError) as exc:
        services.progress_entry_create(
            actor=personas.member, initiative=ini, entry_date=date(2026, 12, 7), status="on_track"
        )
    assert exc.value.message_dict["entry_date"] == [_refusal("令和8年12月7日(月)")]


def test_dates_within_bounds_are_kept_through_form_and_import(client, plan, personas):
    ini = initiative("2.1")
    client.force_login(personas.member)
    response = client.post(
        reverse("initiatives:progress_create", args=[ini.pk]),
        {"entry_date": "令和8年12月6日", "status": "on_track"},
        follow=True,
    )
    assert "令和8年12月6日(日)の進捗を記録しました。" in response.content.decode()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(sheets.PROGRESS.header())
    ws.append(["2.1", "R3.4.1", "順調", 10])
    buf = io.BytesIO()
    wb.save(buf)
    result = engine.parse_import(sheets.PROGRESS, buf.getvalue(), "p.xlsx", plan=plan)
    assert result.counts()["added"] == 1
    assert ProgressEntry.objects.get(initiative=ini).entry_date == TODAY


def test_review_due_date_bounds_through_round_form_and_service(client, personas):
    bounds = "令和8年4月1日(水)から令和9年6月30日(水)までの日付にしてください。"
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("initiatives:reviews_open"),
        {"fiscal_year": "R8", "due_date": "R9.7.1"},
        follow=True,
    )
    assert bounds in response.content.decode()
    assert not Review.objects.filter(fiscal_year=2026).exists()
    with pytest.raises(ValidationError) as exc:
        services.reviews_open(
            actor=personas.secretariat, fiscal_year=2026, due_date=date(2026, 3, 31)
        )
    assert bounds in exc.value.message_dict["due_date"][0]
    # Up to the end of the next June is accepted (the results and 決算 are known by then).
    created, _ = services.reviews_open(
        actor=personas.secretariat, fiscal_year=2026, due_date=date(2027, 6, 30)
    )
    assert created > 0


def test_plan_decision_date_is_not_after_today():
    bounds = date_bounds.plan_decision(TODAY)
    assert bounds.check(TODAY) == TODAY
    with pytest.raises(date_bounds.DateOutOfBounds) as exc:
        bounds.check(date(2026, 12, 7))
    assert "令和8年12月6日(日)までの日付にしてください。" in str(exc.value)


def test_progress_bounds_are_built_once_per_plan_day_and_language():
    """date_bounds.progress_entry keeps the bounds it built (an import asks twice a row):
    the same plan, day and language give the same bounds; another day or language its own."""
    from datetime import date as _date
    from types import SimpleNamespace

    from django.utils import translation

    from portal_lib import date_bounds

    plan = SimpleNamespace(start_fy=2021, end_fy=2026)
    day = _date(2026, 12, 7)
    with translation.override("ja"):
        ja = date_bounds.progress_entry(plan, day)
        assert date_bounds.progress_entry(plan, day) is ja  # built once
        assert "計画期間は" in ja.why
    with translation.override("en"):
        en = date_bounds.progress_entry(plan, day)
        assert en is not ja
        assert en.why.startswith("the plan runs from")
    other_day = date_bounds.progress_entry(plan, _date(2026, 12, 8))
    assert other_day.last == _date(2026, 12, 8) and ja.last == day
