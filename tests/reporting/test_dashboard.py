"""The dashboard's figures, the links behind them, permissions and the query count."""

from datetime import date
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from initiatives.models import Initiative, ProgressEntry
from tests.factory import (
    PLAN_CODE,
    initiative,
    make_indicator,
    make_online_procedure,
    make_progress,
    make_review,
    set_system_phase,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 24)  # FY2026 = 令和8年度
URL = "/plan/dashboard/"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


@pytest.fixture
def data(personas):
    """13 initiatives; four with progress in FY2026, three reviews, procedures, systems."""
    i21, i22, i31, i41 = (initiative(c) for c in ("2.1", "2.2", "3.1", "4.1"))
    make_progress(i21, status="on_track", percent=10, entry_date=date(2026, 5, 1))
    make_progress(i21, status="on_track", percent=40, entry_date=date(2026, 10, 1))
    make_progress(i21, status="delayed", percent=90, entry_date=date(2026, 3, 31))  # FY2025
    make_progress(i22, status="delayed", percent=20, entry_date=date(2026, 6, 1))
    make_progress(i31, status="done", entry_date=date(2026, 11, 1))
    make_progress(i41, status="cancelled", entry_date=date(2026, 11, 20))
    make_review(i21, state="draft")
    make_review(i22, state="submitted")
    make_review(i31, state="approved")
    make_review(i41, fiscal_year=2025, state="approved")  # another year: not counted
    make_online_procedure(1, online_on=date(2022, 6, 1))
    make_online_procedure(2, online_on=date(2023, 5, 1))
    make_online_procedure(3)
    set_system_phase(1, "done", migrated_on=date(2025, 12, 1))
    set_system_phase(9, "fit_gap")
    return personas


def get(client, user, **params):
    client.force_login(user)
    query = {"plan": PLAN_CODE, "fy": "2026", **params}
    return client.get(URL, query)


def text_of(html, element_id):
    import re

    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</(p|ul|ol|table|strong)>', html, re.S)
    assert m, element_id
    return re.sub(r"<[^>]+>", "", m.group(1))


def test_figures_match_the_data(client, data):
    response = get(client, data.secretariat)
    assert response.status_code == 200
    d = response.context["dashboard"]
    assert d.fiscal_year == 2026
    # 2.1 = 40 (latest of FY2026), 2.2 = 20, 3.1 done = 100, 4.1 cancelled = not counted.
    assert str(d.overall.percent) == "53.3"
    assert (d.overall.counted, d.overall.total) == (3, 13)
    policies = {g.key: g for g in d.policies}
    assert str(policies[2].rollup.percent) == "30.0"
    assert str(policies[3].rollup.percent) == "100.0"
    assert policies[1].rollup.percent is None
    assert policies[4].rollup.percent is None and policies[4].rollup.total == 1
    counts = {value: n for value, _, n in d.status_counts}
    assert counts == {
        "not_started": 0,
        "on_track": 1,
        "delayed": 1,
        "done": 1,
        "cancelled": 1,
        "none": 9,
    }
    reviews = {label: n for _, label, n in d.review_counts}
    assert reviews == {
        "下書き": 1,
        "提出済": 1,
        "差戻し": 0,
        "確認済": 0,
        "承認済": 1,
        "未作成": 10,
    }
    assert [i.code for i in d.delayed] == ["2.2"]
    # Default 60 days before 2026-11-24 = 2026-09-25: 2.2 (June) and the nine never logged.
    assert sorted(i.code for i in d.stale) == sorted(
        ["1.1", "1.2", "1.3", "2.2", "2.3", "2.4", "3.2", "3.3", "3.4", "3.5"]
    )
    wgs = {g.label: g for g in d.working_groups}
    # 情報推進課WG: 2.1 (40), 2.2 (20), 3.1 (100), 3.3 (none), 4.1 (cancelled)
    assert str(wgs["情報推進課WG"].rollup.percent) == "53.3"
    assert wgs["情報推進課WG"].rollup.total == 5

    html = response.content.decode()
    # The figure never stands alone: it says it rests on 4 of 13 and links the other 9.
    assert text_of(html, "overall-percent").split() == [
        "53.3%",
        "報告",
        "4",
        "/",
        "13件・未報告",
        "9件",
    ]
    assert "基本方針・WG・計画全体の進捗率は、中止を除く取り組みの平均です" in html
    assert text_of(html, "delayed-count").startswith("1")
    assert "2.2 情報発信の充実・強化" in html


def test_online_procedures_and_systems_board(client, data):
    d = get(client, data.secretariat).context["dashboard"]
    b = d.burnup
    # The national list of 27 is loaded with the plan; make_procedure overwrote 3 of them.
    assert (b.online, b.target_count, b.total, b.online_by_deadline) == (2, 27, 27, 1)
    assert (b.summary.confirmed, b.summary.overdue) == (3, 1)
    assert [(p.day, p.count) for p in b.points] == [(date(2022, 6, 1), 1), (date(2023, 5, 1), 2)]
    assert b.deadline == date(2023, 3, 31)
    s = d.systems
    assert (s.done, s.total) == (1, 20)
    assert s.deadline == date(2026, 3, 31)
    assert s.days_left == -238  # R7年度末 has passed on 2026-11-24
    # Only a confirmed system can be overdue: ⑨ (Fit&Gap, recorded); the 18 still at the
    # loaded 未着手 are unconfirmed, not late.
    assert [x.number for x in s.overdue] == [9]
    rows = {g.number: {v: len(systems) for v, _, systems in cells} for g, cells in s.rows()}
    assert rows[1]["done"] == 1 and rows[1]["not_started"] == 7
    assert rows[2]["fit_gap"] == 1 and rows[2]["not_started"] == 8
    assert rows[3]["not_started"] == 3
    html = get(client, data.secretariat).content.decode()
    assert "期限を238日過ぎています" in html
    assert "オンライン化済の手続は目標27件のうち2件です" in html  # the chart's text alternative
    assert '<svg class="chart-burnup"' in html and 'role="img"' in html


def test_days_left_before_the_deadline(client, data, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2025, 11, 24))
    response = get(client, data.secretariat, fy="2025")
    assert response.context["dashboard"].systems.days_left == 127
    assert response.context["dashboard"].systems.overdue == []
    assert "期限まであと127日" in response.content.decode()


def test_milestones_of_the_year_include_merged_cells(client, data):
    d = get(client, data.secretariat, fy="R7").context["dashboard"]
    texts = [c.text for c in d.milestones]
    assert "R7年度末までに標準化・共通化システム(ガバメント・クラウド)への移行完了" in texts
    assert "○" in texts
    d = get(client, data.secretariat, fy="R4").context["dashboard"]
    assert "年度末迄に27申請のオンライン化完了" in [c.text for c in d.milestones]
    assert "DX推進WG設置" in [c.text for c in d.milestones]


def test_any_year_of_the_plan_is_selectable_and_others_are_refused(client, data):
    response = get(client, data.hq, fy="令和3年度")
    assert response.context["dashboard"].fiscal_year == 2021
    response = get(client, data.hq, fy="R9")
    html = response.content.decode()
    assert "令和9年度 (2027年度)は「かほく市DX推進計画」の計画期間" in html
    assert response.context["dashboard"].fiscal_year == 2026  # falls back to the current year
    response = get(client, data.hq, stale_days="abc")
    assert "日数は半角数字で入力してください。" in response.content.decode()


def test_stale_days_is_a_parameter(client, data):
    d = get(client, data.secretariat, stale_days="200").context["dashboard"]
    # cutoff 2026-05-08: 2.1 (Oct), 2.2 (Jun), 3.1, 4.1 are recent enough
    assert "2.2" not in [i.code for i in d.stale]
    assert len(d.stale) == 9


def _links(html):
    import re

    return re.findall(r'<a class="count-link" href="([^"]+)">([^<]+)<', html)


def _query(href):
    parsed = urlparse(href.replace("&amp;", "&"))
    return parsed.path, {k: v[0] for k, v in parse_qs(parsed.query).items()}


def test_numbers_link_to_the_initiative_list_with_the_same_filters(client, data):
    html = get(client, data.secretariat).content.decode()
    list_path = reverse("initiatives:list")
    links = [(_query(href), value) for href, value in _links(html)]
    targets = {tuple(sorted(q.items())): value for (path, q), value in links if path == list_path}
    assert targets[(("fy", "2026"), ("status", "delayed"))] == "1"
    assert targets[(("fy", "2026"), ("status", "none"))] == "9"
    assert targets[(("fy", "2026"), ("review", "none"))] == "10"
    assert targets[(("fy", "2026"), ("review", "approved"))] == "1"
    assert targets[(("fy", "2026"), ("policy", "2"))] == "4"
    assert targets[(("fy", "2026"), ("policy", "2"), ("status", "delayed"))] == "1"
    wg = data.wg.pk
    assert targets[(("fy", "2026"), ("wg", str(wg)))] == "5"
    assert targets[(("fy", "2026"), ("stale_days", "60"))] == "10"
    assert targets[(("fy", "2026"),)] == "13"


@pytest.mark.parametrize(
    "params",
    [
        {"status": "delayed"},
        {"status": "none"},
        {"review": "none"},
        {"review": "draft"},
        {"policy": "2"},
        {"stale_days": "60"},
    ],
)
def test_the_list_behind_a_number_has_that_many_rows(client, data, params):
    """Follow the link: the initiative list (issue 3) shows exactly the dashboard's figure."""
    html = get(client, data.secretariat).content.decode()
    wanted = {"fy": "2026", **params}
    for href, value in _links(html):
        path, query = _query(href)
        if path == reverse("initiatives:list") and query == wanted:
            listed = client.get(href.replace("&amp;", "&"))
            assert listed.status_code == 200
            rows = len(listed.context["initiatives"])
            assert rows == int(value), (params, rows, value)
            assert f"{value} 件" in listed.content.decode()
            return
    pytest.fail(f"no link with {wanted}")


def test_recent_changes_show_who_when_what(client, data):
    html = get(client, data.secretariat).content.decode()
    d = get(client, data.secretariat).context["dashboard"]
    assert d.changes, "history should not be empty"
    assert d.changes == sorted(d.changes, key=lambda c: c.when, reverse=True)
    whats = [c.what for c in d.changes]
    assert any(w.startswith("4.1 令和8年11月20日(金) 中止") for w in whats)
    assert "進捗記録を作成" in html


@pytest.mark.parametrize("role", ["secretariat", "hq"])
def test_secretariat_and_hq_see_it(client, personas, role):
    client.force_login(getattr(personas, role))
    assert client.get(URL).status_code == 200


@pytest.mark.parametrize("role", ["leader", "member", "viewer"])
def test_staff_without_role_get_403(client, personas, role):
    client.force_login(getattr(personas, role))
    response = client.get(URL)
    assert response.status_code == 403


def test_anonymous_is_sent_to_login(client, plan):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def _count_queries(client, user):
    client.force_login(user)
    client.get(URL, {"plan": PLAN_CODE, "fy": "2026"})  # warm the session and caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, {"plan": PLAN_CODE, "fy": "2026"})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _dashboard_queries():
    """Queries of dashboard_for alone (the page adds the session, the user and roles,
    and the plan picker)."""
    from plans.models import Plan
    from reporting.selectors.dashboard import dashboard_for

    plan = Plan.objects.get(code=PLAN_CODE)
    with CaptureQueriesContext(connection) as ctx:
        dashboard_for(plan=plan, fiscal_year=2026, today=date(2026, 11, 20))
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_data(client, data):
    small = _count_queries(client, data.secretariat)
    small_dashboard = _dashboard_queries()
    from simple_history.utils import bulk_create_with_history

    entries = []
    for code in ("1.1", "1.2", "2.3", "3.2", "3.5"):
        ini = initiative(code)
        for day in range(1, 29):
            entries.append(
                ProgressEntry(
                    initiative=ini,
                    entry_date=date(2026, 7, day),
                    fiscal_year=2026,
                    status="on_track",
                    percent=day,
                    author=data.member,
                )
            )
    bulk_create_with_history(entries, ProgressEntry, default_user=data.member)
    for n in range(4, 28):
        make_online_procedure(n, online_on=date(2022, 4, 1 + n % 28))
    for code in ("1.1", "2.3", "3.2"):
        make_review(initiative(code), state="checked")
    large = _count_queries(client, data.secretariat)
    assert small == large
    assert small_dashboard == _dashboard_queries() <= 12
    base = initiative("2.1")

    def grow(numbers):  # more initiatives, each with progress, a review, an indicator
        for n in numbers:
            ini = Initiative.objects.create(policy=base.policy, number=n, title=f"追加{n}")
            make_progress(ini, author=data.member, percent=n % 100)
            make_review(ini, state="submitted")
            make_indicator(ini, name=f"指標{n}").values.create(
                fiscal_year=2026, target=10, actual=5
            )

    grow(range(100, 101))
    # the year's indicator values come joined to the indicators, not prefetched: no + 1
    assert _dashboard_queries() == small_dashboard
    grow(range(101, 141))
    assert _dashboard_queries() == small_dashboard <= 8
    # the page: session, user, the roles (one query) and the plan picker (one query)
    assert large == small_dashboard + 4
    assert _count_queries(client, data.secretariat) == large <= 12
    # recent changes: ONE query across the eight history tables, users joined
    assert len(get(client, data.secretariat).context["dashboard"].changes) == 15


def test_target_numbers_link_to_the_procedures_and_systems_lists(client, data):
    html = get(client, data.secretariat).content.decode()
    links = {}
    for href, value in _links(html):
        path, query = _query(href)
        links[(path, tuple(sorted(query.items())))] = (href.replace("&amp;", "&"), value)
    procedures = reverse("initiatives:procedures")
    systems = reverse("initiatives:systems")
    href, value = links[(procedures, (("status", "online"),))]
    assert value == "2"
    listed = client.get(href)
    assert len(listed.context["procedures"]) == 2
    href, value = links[(systems, (("group", "2"), ("phase", "fit_gap")))]
    assert value == "1"
    assert [s.number for s in client.get(href).context["systems"]] == [9]
    href, value = links[(systems, (("overdue", "1"),))]
    assert value == "1"
    assert len(client.get(href).context["systems"]) == 1
    href, value = links[(systems, (("phase", "not_started"),))]
    assert value == "18"


def test_a_planned_date_in_the_past_counts_as_overdue(client, data, monkeypatch):
    from initiatives.models import StandardSystem

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: date(2025, 11, 24))
    StandardSystem.objects.filter(number=5).update(planned_on=date(2025, 10, 1))
    d = get(client, data.secretariat, fy="2025").context["dashboard"]
    assert [s.number for s in d.systems.overdue] == []  # not confirmed: no alarm yet
    StandardSystem.objects.filter(number=5).update(confirmation="confirmed")
    d = get(client, data.secretariat, fy="2025").context["dashboard"]
    assert [s.number for s in d.systems.overdue] == [5]
