"""Headquarters meeting reports: a snapshot stays as it was; print and Excel."""

from datetime import date
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from initiatives.models import ProgressEntry, Review
from portal_lib.sheet_writing import csv_safe
from reporting.models import ReportSnapshot
from tests.factory import initiative, make_progress, make_review

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 24)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


@pytest.fixture
def data(personas):
    i21 = initiative("2.1")
    make_progress(i21, status="on_track", percent=40, entry_date=date(2026, 10, 1))
    make_review(i21, state="submitted", self_grade="B", carry_over="continue")
    return personas


def create(client, user, **post):
    client.force_login(user)
    return client.post(
        reverse("reporting:report_create"), {"title": "第1回DX推進本部会議", "fy": "R8", **post}
    )


def test_snapshot_is_created_and_stays_fixed(client, data):
    response = create(client, data.secretariat)
    snapshot = ReportSnapshot.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:report_detail", args=[snapshot.pk])
    assert snapshot.fiscal_year == 2026 and snapshot.taken_on == TODAY
    assert snapshot.taken_by == data.secretariat
    html = client.get(response["Location"]).content.decode()
    assert 'id="report-overall"><span class="rollup-figure">40.0%' in html
    assert "報告 1 / 13件" in html
    assert "提出済" in html

    # The data moves on: more progress, the review is approved, a title changes.
    i21 = initiative("2.1")
    make_progress(i21, status="done", entry_date=date(2026, 11, 20))
    Review.objects.filter(initiative=i21).update(state="approved")
    i21.title = "名称変更後の取り組み"
    i21.save()

    snapshot.refresh_from_db()
    html = client.get(reverse("reporting:report_detail", args=[snapshot.pk])).content.decode()
    assert 'id="report-overall"><span class="rollup-figure">40.0%' in html
    assert "行政サービスのオンライン化" in html and "名称変更後の取り組み" not in html
    row = next(i for i in snapshot.data["initiatives"] if i["code"] == "2.1")
    assert row["percent"] == 40 and row["review_state_label"] == "提出済"
    # while a new snapshot sees the new state
    create(client, data.secretariat, title="第2回")
    second = ReportSnapshot.objects.get(title="第2回")
    assert second.data["overall"]["percent"] == "100.0"


def test_report_is_printable_on_a4(client, data):
    create(client, data.secretariat)
    snapshot = ReportSnapshot.objects.get()
    html = client.get(reverse("reporting:report_detail", args=[snapshot.pk])).content.decode()
    assert 'class="no-print"' in html  # links and buttons are hidden when printed
    with open("static/css/portal.css", encoding="utf-8") as fh:
        css = fh.read()
    # A4 landscape through the named page `wide` (printed for real in tests/e2e/test_layout.py)
    assert '<body class="page-wide">' in html
    assert "@page wide { size: A4 landscape;" in css and "@media print" in css
    assert "css/dashboard.css" in html


def test_excel_download(client, data):
    create(client, data.secretariat)
    snapshot = ReportSnapshot.objects.get()
    i21 = initiative("2.1")
    ProgressEntry.objects.filter(initiative=i21).delete()  # data moves on; Excel does not
    client.force_login(data.hq)
    response = client.get(reverse("reporting:report_excel", args=[snapshot.pk]))
    assert response.status_code == 200
    assert "attachment;" in response["Content-Disposition"]
    wb = load_workbook(BytesIO(response.content))
    assert wb.sheetnames == ["概要", "取り組み別", "指標", "PDCA振り返り"]
    assert wb["概要"]["A1"].value == "第1回DX推進本部会議 概要"
    rows = list(wb["取り組み別"].iter_rows(values_only=True))
    assert rows[4][:7] == ("番号", "取り組み", "担当WG", "状況", "進捗率", "最終記録日", "報告")
    r21 = next(r for r in rows if r[0] == "2.1")
    assert (
        r21[3] == "順調"
        and r21[4] == 0.4
        and r21[7] == "提出済"
        and r21[8] == "B"
        and r21[9] == "継続"
    )


def test_formula_text_is_stored_as_text(client, data):
    i21 = initiative("2.1")
    Review.objects.filter(initiative=i21).update(check_text='=HYPERLINK("http://x","y")')
    create(client, data.secretariat)
    snapshot = ReportSnapshot.objects.get()
    response = client.get(reverse("reporting:report_excel", args=[snapshot.pk]))
    wb = load_workbook(BytesIO(response.content))
    r21 = next(r for r in wb["取り組み別"].iter_rows() if r[0].value == "2.1")
    assert r21[11].value == '=HYPERLINK("http://x","y")'
    assert r21[11].data_type == "s"  # a text cell, never evaluated as a formula
    assert csv_safe("-1+2") == "'-1+2" and csv_safe("a\x01b") == "ab" and csv_safe(3) == "3"


def test_bad_input_keeps_what_was_typed(client, data):
    response = create(client, data.secretariat, title="本部会議", fy="R12")
    assert response.status_code == 400
    html = response.content.decode()
    assert "令和12年度 (2030年度)を含む計画がありません。" in html
    assert 'value="本部会議"' in html and 'value="R12"' in html
    response = create(client, data.secretariat, title="", fy="令和3年2月")
    html = response.content.decode()
    assert "表題を入力してください。" in html
    assert "「令和3年2月」は年月を表しており、年度ではありません。" in html
    assert ReportSnapshot.objects.count() == 0


def test_permissions(client, data):
    create(client, data.secretariat)
    snapshot = ReportSnapshot.objects.get()
    detail = reverse("reporting:report_detail", args=[snapshot.pk])
    # HQ reads but does not create
    client.force_login(data.hq)
    assert client.get(reverse("reporting:report_list")).status_code == 200
    assert client.get(detail).status_code == 200
    assert (
        client.post(reverse("reporting:report_create"), {"title": "x", "fy": "R8"}).status_code
        == 403
    )
    # staff without a role
    client.force_login(data.viewer)
    for url in (
        reverse("reporting:report_list"),
        detail,
        reverse("reporting:report_excel", args=[1]),
    ):
        assert client.get(url).status_code == 403
    # GET on the write
    client.force_login(data.secretariat)
    assert client.get(reverse("reporting:report_create")).status_code == 405
    assert (
        client.get(reverse("reporting:report_detail", args=[snapshot.pk + 99])).status_code == 404
    )
    client.logout()
    response = client.get(detail)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert ReportSnapshot.objects.count() == 1


def test_report_list_survives_a_deleted_author(client, data):
    """taken_by is SET_NULL: the list must still render when the author's account is gone."""
    author = data.viewer
    create(client, data.secretariat)
    ReportSnapshot.objects.update(taken_by=author)
    author.delete()
    client.force_login(data.secretariat)
    response = client.get(reverse("reporting:report_list"))
    assert response.status_code == 200
    assert "第1回DX推進本部会議" in response.content.decode()
