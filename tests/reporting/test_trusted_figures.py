"""Issue 10: figures headquarters can trust.

Every aggregate says what it rests on (報告 n / 13件, 未報告 linked), the same figure on the
dashboard, the initiative list and the meeting report (screen and Excel); a fresh install
raises no false alarm; one count per countable target; grades wherever figures are.
"""

import re
from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from initiatives.models import (
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    Review,
    StandardSystem,
)
from portal_lib import xlsx_layout as xl
from reporting.models import ReportSnapshot
from reporting.services.loading import plan_load_file
from reporting.workbooks.meeting_report import snapshot_workbook
from tests.factory import PLAN_CODE, initiative, make_progress, make_review

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 24)  # FY2026 = 令和8年度
DASHBOARD = "/plan/dashboard/"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


def text_of(html, element_id):
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</(p|span|div|strong)>\s*(</p>|<)', html, re.S)
    assert m, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", m.group(1)).split())


def rollup_text(html, element_id):
    """The text of the element holding a rollup include (figure + basis)."""
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</p>', html, re.S)
    assert m, element_id
    return " ".join(re.sub(r"<[^>]+>", "", m.group(1)).split())


def screens(client, user):
    """The plan's figure on the dashboard, the initiative list and a new meeting report."""
    client.force_login(user)
    dash = client.get(DASHBOARD, {"plan": PLAN_CODE, "fy": "2026"}).content.decode()
    listing = client.get(reverse("initiatives:list"), {"fy": "2026"}).content.decode()
    response = client.post(
        reverse("reporting:report_create"), {"title": "本部会議", "fy": "R8"}, follow=True
    )
    report = response.content.decode()
    snapshot = ReportSnapshot.objects.latest("taken_at")
    return (
        rollup_text(dash, "overall-percent"),
        rollup_text(listing, "list-overall"),
        rollup_text(report, "report-overall"),
        snapshot,
    )


def excel_overall(snapshot):
    wb = load_workbook(BytesIO(snapshot_workbook(snapshot)))
    ws = wb["概要"]
    row = next(r for r in ws.iter_rows(min_row=6) if r[0].value == "計画全体")
    return row


# --- 1. the same figure, with what it rests on, on every page -----------------------------


def test_fresh_install_says_nobody_reported_and_raises_no_alarm(client, personas):
    dash, listing, report, snapshot = screens(client, personas.secretariat)
    for text in (dash, listing, report):
        assert text == "未報告 報告 0 / 13件・未報告 13件"
    cell = excel_overall(snapshot)
    # 進捗率 stays a number cell (empty here); 「未報告」 is in the 備考 column beside it.
    assert [c.value for c in cell[1:6]] == [None, "未報告", 0, 13, 13]

    client.force_login(personas.secretariat)
    html = client.get(DASHBOARD, {"plan": PLAN_CODE, "fy": "2026"}).content.decode()
    assert "0.0%" not in html and ">0%<" not in html
    # The 27 procedures are the national list, loaded but unconfirmed: no overdue alarm.
    assert text_of(html, "online-confirmed") == "27件中 確認済み0件"
    assert 'id="online-overdue"' not in html
    assert "期限を過ぎています" not in html
    assert 'id="systems-overdue"' not in html
    assert "事務局の確認待ち" in html
    d = client.get(DASHBOARD, {"plan": PLAN_CODE, "fy": "2026"}).context["dashboard"]
    assert (d.burnup.summary.registered, d.burnup.summary.overdue) == (27, 0)
    assert d.systems.overdue == [] and d.systems.summary.confirmed == 0

    page = client.get(reverse("initiatives:procedures")).content.decode()
    assert "27件中 確認済み0件" in page
    assert "超過" not in page
    assert page.count("国の指定手続") == 27
    response = client.get(reverse("initiatives:systems"))
    systems = response.content.decode()
    assert response.context["overdue_count"] == 0
    assert "badge-delayed" not in systems and "期限を" not in systems
    assert "遅れ（確認済みで未完了・期限超過）: 0 件" in systems
    assert systems.count("主管課未設定") == 20


def test_one_report_of_60_percent_is_1_of_13_everywhere(client, personas):
    make_progress(initiative("2.1"), status="on_track", percent=60, entry_date=date(2026, 10, 1))
    dash, listing, report, snapshot = screens(client, personas.secretariat)
    for text in (dash, listing, report):
        assert text == "60.0% 報告 1 / 13件・未報告 12件"
    cell = excel_overall(snapshot)
    assert cell[1].value == 0.6 and cell[1].number_format == xl.PERCENT_1DP_FORMAT
    assert [c.value for c in cell[2:6]] == [None, 1, 13, 12]

    # 未報告 12件 links to the list filtered to those twelve.
    client.force_login(personas.secretariat)
    html = client.get(DASHBOARD, {"plan": PLAN_CODE, "fy": "2026"}).content.decode()
    href = re.search(r'id="overall-percent".*?class="rollup-unreported" href="([^"]+)"', html, re.S)
    response = client.get(href.group(1).replace("&amp;", "&"))
    codes = [i.code for i in response.context["initiatives"]]
    assert len(codes) == 12 and "2.1" not in codes
    # Policy 2 rests on 1 of its 4; policy 1 has no report at all.
    d = client.get(DASHBOARD, {"plan": PLAN_CODE, "fy": "2026"}).context["dashboard"]
    policies = {g.key: g.rollup for g in d.policies}
    assert (str(policies[2].percent), policies[2].reported, policies[2].total) == ("60.0", 1, 4)
    assert (policies[1].percent, policies[1].reported) == (None, 0)
    table = html[html.index('id="policy-table"') :]
    row1 = table[table.index('data-policy="1"') : table.index('data-policy="2"')]
    assert "未報告" in row1 and "%" not in row1
    # The snapshot stores what the figure rests on.
    assert snapshot.data["overall"] == {
        "percent": "60.0",
        "counted": 1,
        "total": 13,
        "reported": 1,
        "unreported": 12,
    }


def test_all_reported_is_a_figure_without_unreported(client, personas):
    for n, ini in enumerate(Initiative.objects.filter(policy__plan__code=PLAN_CODE)):
        make_progress(ini, status="on_track", percent=10 * (n % 3 + 1), entry_date=date(2026, 9, 1))
    # 13 initiatives with 10, 20, 30, 10, ... : 5×10 + 4×20 + 4×30 = 250 / 13 = 19.23…
    dash, listing, report, snapshot = screens(client, personas.secretariat)
    for text in (dash, listing, report):
        assert text == "19.2% 報告 13 / 13件"
    cell = excel_overall(snapshot)
    assert cell[1].value == pytest.approx(0.192)
    assert [c.value for c in cell[2:6]] == [None, 13, 13, 0]


def test_an_old_snapshot_still_renders(client, personas):
    """Taken before reported/grades/reviews existed (schema 1): the screen and the Excel work."""
    make_progress(initiative("2.1"), status="on_track", percent=40, entry_date=date(2026, 10, 1))
    client.force_login(personas.secretariat)
    client.post(reverse("reporting:report_create"), {"title": "旧形式", "fy": "R8"})
    snapshot = ReportSnapshot.objects.get()
    data = snapshot.data
    data["schema"] = 1
    for key in ("grades", "grade_rule"):
        data.pop(key)
    for row in [data["overall"], *data["policies"], *data["working_groups"]]:
        for key in ("reported", "unreported", "grades", "key"):
            row.pop(key, None)
    for key in ("registered", "confirmed", "overdue"):
        data["online"].pop(key)
    for key in ("confirmed", "late", "difficult"):
        data["systems"].pop(key)
    for row in data["initiatives"]:
        for key in ("reported", "indicators", "review"):
            row.pop(key)
    snapshot.save()
    response = client.get(reverse("reporting:report_detail", args=[snapshot.pk]))
    assert response.status_code == 200
    assert rollup_text(response.content.decode(), "report-overall") == "40.0% 集計対象 1 / 13件"
    wb = load_workbook(BytesIO(snapshot_workbook(snapshot)))
    row = next(r for r in wb["概要"].iter_rows(min_row=6) if r[0].value == "計画全体")
    assert row[1].value == 0.4 and row[3].value is None  # reported unknown, not 0


# --- 2. one source of truth per countable target --------------------------------------------


def test_procedures_fixture_is_the_national_list_and_loads_idempotently(plan):
    procs = list(OnlineProcedure.objects.filter(target__code="online-procedures"))
    assert len(procs) == 27
    assert sum(p.category == "子育て" for p in procs) == 15
    assert sum(p.category == "介護" for p in procs) == 11
    assert {p.name for p in procs} >= {
        "児童手当等の受給資格及び児童手当の額についての認定請求",
        "保育施設等の利用申込",
        "要介護・要支援認定の申請",
        "罹災証明書の発行申請",
    }
    assert {(p.provenance, p.confirmation, p.status) for p in procs} == {
        ("national", "unconfirmed", "not_started")
    }
    # A confirmed row survives a reload (even --reset); nothing is created twice.
    first = OnlineProcedure.objects.get(number=1)
    first.status, first.online_on, first.confirmation = "online", date(2022, 9, 1), "confirmed"
    first.save()
    report = plan_load_file(reset=True)
    assert not report.changed
    first.refresh_from_db()
    assert (first.status, first.confirmation) == ("online", "confirmed")
    assert OnlineProcedure.objects.count() == 27


def _online(*numbers, day=date(2022, 12, 1)):
    OnlineProcedure.objects.filter(number__in=numbers).update(
        status="online", online_on=day, confirmation="confirmed"
    )


def test_the_procedure_count_agrees_on_dashboard_list_indicator_and_report(client, personas):
    _online(1, 2, 3, 4, 5)
    _online(6, day=date(2023, 6, 1))  # after R4年度末: counts from FY2023
    target = CountableTarget.objects.get(code="online-procedures")
    ind = Indicator.objects.create(
        initiative=initiative("2.1"), name="オンライン化した手続数", countable_target=target
    )
    IndicatorValue.objects.create(indicator=ind, fiscal_year=2022, target=27, actual=30)
    IndicatorValue.objects.create(indicator=ind, fiscal_year=2026, target=27)
    client.force_login(personas.secretariat)

    d = client.get(DASHBOARD, {"plan": PLAN_CODE, "fy": "2026"}).context["dashboard"]
    assert d.burnup.online == 6
    listing = client.get(reverse("initiatives:procedures"))
    assert listing.context["summary"].done == 6 and "6 / 27" in listing.content.decode()

    page = client.get(reverse("initiatives:detail", args=[initiative("2.1").pk]))
    html = page.content.decode()
    assert "手入力の実績 30 と不一致" in html  # R4: typed 30, counted 5
    rows = re.findall(
        r'<th scope="row">(令和\d+年度)[^<]*</th>\s*<td class="num">([^<]*)</td>\s*'
        r'<td class="num">\s*([^<\s]*)',
        html,
    )
    values = {fy: actual for fy, _, actual in rows}
    assert values["令和4年度"] == "5" and values["令和8年度"] == "6"

    client.post(reverse("reporting:report_create"), {"title": "本部会議", "fy": "R8"})
    snapshot = ReportSnapshot.objects.get()
    i21 = next(i for i in snapshot.data["initiatives"] if i["code"] == "2.1")
    assert i21["indicators"] == [
        {
            "name": "オンライン化した手続数",
            "unit": "",
            "target": "27",
            "actual": "6",
            "typed_actual": None,
            "grade": "C",
            "grade_label": "C(目標を下回る)",
        }
    ]
    assert snapshot.data["online"]["online"] == 6
    wb = load_workbook(BytesIO(snapshot_workbook(snapshot)))
    row = next(r for r in wb["指標"].iter_rows(min_row=6, values_only=True) if r[0] == "2.1")
    assert row[2:7] == ("オンライン化した手続数", None, 27, 6, "C(目標を下回る)")

    # The API shows and grades the same counted actual, not the typed one (FY2022: 30 typed,
    # 5 counted of 27: C, not A), in the detail and the list alike.
    api = APIClient()
    api.force_login(personas.secretariat)
    for year, actual in ((2022, 5), (2026, 6)):
        detail = api.get("/api/v1/initiatives/2.1/", {"fiscal_year": year}).json()
        listed = api.get("/api/v1/initiatives/", {"fiscal_year": year}).json()
        listed = next(i for i in listed["results"] if i["code"] == "2.1")
        for body in (detail, listed):
            (kpi,) = [k for k in body["indicators"] if k["name"] == "オンライン化した手続数"]
            assert (kpi["actual"], kpi["grade"]) == (actual, "C"), (year, body)


def test_overdue_counts_only_confirmed_procedures_after_the_deadline(client, personas):
    OnlineProcedure.objects.filter(number=3).update(confirmation="confirmed")  # not online
    _online(1)
    client.force_login(personas.secretariat)
    response = client.get(reverse("initiatives:procedures"))
    summary = response.context["summary"]
    assert (summary.done, summary.confirmed, summary.overdue) == (1, 2, 1)
    assert "期限を1334日超過（確認済みで未完了 1件）" in response.content.decode()


def test_late_migration_is_derived_and_difficult_systems_have_their_own_date(client, personas):
    deadline = date(2026, 3, 31)
    on_time = StandardSystem.objects.get(number=1)
    on_time.phase, on_time.migrated_on = "done", deadline
    on_time.save()
    late = StandardSystem.objects.get(number=2)
    late.phase, late.migrated_on = "done", date(2026, 4, 1)
    late.save()
    assert (on_time.migrated_late, on_time.timing_label) == (False, "期限内に移行")
    assert (late.migrated_late, late.timing_label) == (True, "期限後移行")

    difficult = StandardSystem.objects.select_related("group__target").get(number=18)
    difficult.difficult = True
    with pytest.raises(ValidationError) as exc:
        difficult.full_clean()
    assert exc.value.message_dict["planned_on"] == [
        "移行困難システムの場合は移行予定日を入力してください。"
    ]
    difficult.planned_on = date(2027, 3, 31)
    difficult.confirmation = "confirmed"
    difficult.full_clean()
    difficult.save()
    assert not difficult.is_overdue(TODAY)  # past R7年度末, but its own date is ahead
    assert difficult.is_overdue(date(2027, 4, 1))
    confirmed = StandardSystem.objects.select_related("group__target").get(number=19)
    confirmed.confirmation = "confirmed"
    assert confirmed.is_overdue(TODAY)

    client.force_login(personas.secretariat)
    d = client.get(DASHBOARD, {"plan": PLAN_CODE, "fy": "2026"}).context["dashboard"]
    assert [s.number for s in d.systems.migrated_late] == [2]
    assert [s.number for s in d.systems.difficult] == [18]
    assert d.systems.summary.late == 1
    html = client.get(reverse("initiatives:systems")).content.decode()
    assert html.count("期限後移行") == 1 and "移行困難システム" in html


def test_saving_a_system_does_not_confirm_it_the_confirm_button_does(client, personas):
    system = StandardSystem.objects.get(number=5)
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("initiatives:system_edit", args=[system.pk]),
        {"phase": "not_started", "difficult": "on", "planned_on": "2027-09-30", "version": "1"},
    )
    assert response.status_code == 302
    system.refresh_from_db()
    assert (system.confirmation, system.difficult, system.planned_on) == (
        "unconfirmed",
        True,
        date(2027, 9, 30),
    )
    response = client.post(
        reverse("initiatives:system_confirm", args=[system.pk]),
        {"confirmed": "1", "version": str(system.version)},
    )
    assert response.status_code == 302
    system.refresh_from_db()
    assert (system.confirmation, system.confirmed_by) == ("confirmed", personas.secretariat)


# --- 4. grades wherever figures are ---------------------------------------------------------


def _indicator(code, name, target, actual, fy=2026):
    ind = Indicator.objects.create(initiative=initiative(code), name=name)
    if target is not None or actual is not None:
        IndicatorValue.objects.create(indicator=ind, fiscal_year=fy, target=target, actual=actual)
    return ind


@time_machine.travel(datetime(2026, 12, 6, 10, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False)
def test_grade_distribution_per_policy_and_wg(client, personas):
    _indicator("2.1", "A指標", 10, 12)  # 120% -> A
    _indicator("2.2", "B指標", 10, "9.5")  # 95% -> B
    _indicator("2.3", "C指標", 10, 5)  # C
    _indicator("2.3", "未入力指標", 10, None)  # FY2026 still running -> 未評価
    _indicator("3.2", "前年度だけ", 10, 10, fy=2025)  # no FY2026 row -> 未評価
    client.force_login(personas.secretariat)
    d = client.get(DASHBOARD, {"plan": PLAN_CODE, "fy": "2026"}).context["dashboard"]
    policies = {g.key: {k: n for k, _, n in g.grades} for g in d.policies}
    assert policies[2] == {"A": 1, "B": 1, "C": 1, "D": 0, "none": 1}
    assert policies[3] == {"A": 0, "B": 0, "C": 0, "D": 0, "none": 1}
    assert policies[1] == {"A": 0, "B": 0, "C": 0, "D": 0, "none": 0}
    wgs = {g.label: {k: n for k, _, n in g.grades} for g in d.working_groups}
    assert wgs["情報推進課WG"] == {"A": 1, "B": 1, "C": 0, "D": 0, "none": 0}
    assert wgs["総務課WG"] == {"A": 0, "B": 0, "C": 0, "D": 0, "none": 1}

    client.post(reverse("reporting:report_create"), {"title": "本部会議", "fy": "R8"})
    snapshot = ReportSnapshot.objects.get()
    report = client.get(reverse("reporting:report_detail", args=[snapshot.pk])).content.decode()
    assert 'grade-count-A"><span class="badge grade grade-A">A</span> 1' in report
    wb = load_workbook(BytesIO(snapshot_workbook(snapshot)))
    rows = {r[0]: r for r in wb["取り組み別"].iter_rows(min_row=6, values_only=True)}
    assert rows["2.3"][10] == "C指標: C\n未入力指標: 未評価"
    assert rows["1.1"][10] == "指標なし"
    policy2 = next(
        r
        for r in wb["概要"].iter_rows(min_row=6, values_only=True)
        if r[0] and r[0].startswith("基本方針2")
    )
    assert policy2[6:11] == (1, 1, 1, 0, 1)  # A, B, C, D, 未評価


# --- the report's PDCA texts and its print layout -------------------------------------------


def test_report_includes_the_reviews_texts_approved_else_latest(client, personas):
    i21, i22 = initiative("2.1"), initiative("2.2")
    make_review(i21, state="submitted", plan_text="提出した計画", check_text="提出した評価")
    approved = make_review(
        i22, state="approved", plan_text="承認された計画", act_text="承認された改善"
    )
    # Returned after approval and being rewritten: the meeting reads the approved texts.
    approved.state, approved.plan_text = "returned", "書き直し中の計画"
    approved.save()
    client.force_login(personas.secretariat)
    client.post(reverse("reporting:report_create"), {"title": "本部会議", "fy": "R8"})
    snapshot = ReportSnapshot.objects.get()
    html = client.get(reverse("reporting:report_detail", args=[snapshot.pk])).content.decode()
    reviews = html[html.index('id="report-reviews"') :]
    assert "提出した計画" in reviews and "提出した評価" in reviews
    assert "承認された計画" in reviews and "承認された改善" in reviews
    assert "書き直し中の計画" not in reviews and "（承認時の内容）" in reviews

    wb = load_workbook(BytesIO(snapshot_workbook(snapshot)))
    ws = wb["PDCA振り返り"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=6, values_only=True)}
    assert rows["2.1"][2:7] == ("提出済", "提出した計画", None, "提出した評価", None)
    assert rows["2.2"][2:4] == ("差戻し(承認時の内容)", "承認された計画")
    assert set(rows) == {"2.1", "2.2"}


def test_report_excel_reads_as_a_printed_report(client, personas):
    make_progress(initiative("2.1"), status="on_track", percent=60, entry_date=date(2026, 10, 1))
    client.force_login(personas.secretariat)
    client.post(reverse("reporting:report_create"), {"title": "第3回本部会議", "fy": "R8"})
    wb = load_workbook(BytesIO(snapshot_workbook(ReportSnapshot.objects.get())))
    ws = wb["取り組み別"]
    assert ws["A1"].value == "第3回本部会議 取り組み別"
    assert ws["A2"].value.endswith("令和8年度 (2026年度)")
    assert ws["B3"].value.date() == TODAY and ws["B3"].number_format == xl.WAREKI_DATE_FORMAT
    for sheet in wb.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert int(sheet.page_setup.paperSize) == 9
        assert sheet.print_title_rows == "$5:$5"
    r21 = next(r for r in ws.iter_rows(min_row=6) if r[0].value == "2.1")
    assert r21[4].value == 0.6 and r21[4].number_format == xl.PERCENT_FORMAT
    assert r21[5].value.date() == date(2026, 10, 1)
    assert r21[5].number_format == xl.WAREKI_DATE_FORMAT
    assert r21[6].value == "報告済"
    r11 = next(r for r in ws.iter_rows(min_row=6) if r[0].value == "1.1")
    assert (r11[4].value, r11[5].value, r11[6].value) == (None, None, "未報告")


# --- 5. query counts stay bounded -----------------------------------------------------------


def _queries(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_queries_do_not_grow_with_indicators(client, personas):
    target = CountableTarget.objects.get(code="online-procedures")
    first = Indicator.objects.create(
        initiative=initiative("2.1"), name="手続数", countable_target=target
    )
    IndicatorValue.objects.create(indicator=first, fiscal_year=2026, target=27)
    client.force_login(personas.secretariat)
    params = {"plan": PLAN_CODE, "fy": "2026"}
    small = _queries(client, DASHBOARD, params)
    for ini in Initiative.objects.all():
        for n in range(3):
            ind = Indicator.objects.create(
                initiative=ini, name=f"指標{n}", countable_target=target if n == 0 else None
            )
            IndicatorValue.objects.create(indicator=ind, fiscal_year=2026, target=10, actual=n)
    _online(1, 2, 3)
    make_progress(initiative("1.1"), status="on_track", percent=30)
    large = _queries(client, DASHBOARD, params)
    assert small == large
    # the whole page, session, user, roles and plan picker included (indicators and their
    # values in one query; the counted rows are the boards' rows)
    assert large <= 12
    detail = reverse("initiatives:detail", args=[initiative("2.1").pk])
    Review.objects.create(initiative=initiative("2.1"), fiscal_year=2026)
    assert _queries(client, detail, {}) <= 20


def test_indicator_export_has_the_counted_actual_and_the_grade(personas):
    from initiatives.resources import IndicatorValueResource

    _online(1, 2, 3)
    target = CountableTarget.objects.get(code="online-procedures")
    linked = Indicator.objects.create(
        initiative=initiative("2.1"), name="手続数", countable_target=target
    )
    IndicatorValue.objects.create(indicator=linked, fiscal_year=2026, target=3, actual=30)
    _indicator("2.2", "閲覧数", 100, 80)
    dataset = IndicatorValueResource().export()
    rows = {r[1]: tuple(str(v) if v is not None else "" for v in r) for r in dataset}
    assert dataset.headers[-2:] == ["実績値(一覧から数えた件数)", "評価"]
    assert rows["手続数"][4:] == ("30.00", "", "3", "A")  # typed 30, counted 3 of 3: 100% → A
    assert rows["閲覧数"][4:] == ("80.00", "", "", "C")


def test_the_list_filters_to_unreported_initiatives(client, personas):
    make_progress(initiative("2.1"), status="on_track", percent=60)
    client.force_login(personas.secretariat)
    response = client.get(reverse("initiatives:list"), {"fy": "2026", "status": "none"})
    assert len(response.context["initiatives"]) == 12
    assert '<option value="none" selected>未報告(記録なし)</option>' in response.content.decode()
