"""The next plan drafted on screens: every action through the real screens as the
secretariat, refusals, chapter facts from the data, the successor's text, warnings."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import docx
import pytest
import time_machine
from django.urls import reverse

from initiatives.models import Indicator, IndicatorValue, Initiative, ProjectUnderWay
from plans import services as plan_services
from plans.models import (
    BasicPolicy,
    NationalItem,
    Plan,
    PlanChapter,
    PlanStatus,
    ScheduleCell,
    ScheduleItem,
    ScheduleRow,
)
from plans.selectors import plan_is_editable
from reporting.selectors.plan_content import plan_content, version_content
from reporting.services import drafting
from reporting.services.versions import plan_adopt, plan_create_next, plan_revision_open
from tests.factory import make_progress
from workgroups.models import Section, WorkingGroup

pytestmark = pytest.mark.django_db
CODE = "kahoku-dx-r9-r13"


@pytest.fixture
def nxt(personas) -> Plan:
    """The R9–R13 draft, with two policies, a WG, and one initiative carried in."""
    source = Plan.objects.get(code="kahoku-dx-r3-r8")
    plan = plan_create_next(
        actor=personas.secretariat,
        source=source,
        code=CODE,
        name="第2期かほく市DX推進計画",
        theme="",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )
    # the city's WGs continued into the new plan with it (workgroups.services.bodies_continue)
    assert {"情報推進課WG", "総務課WG"} <= set(
        WorkingGroup.objects.filter(plan=plan).values_list("name", flat=True)
    )
    for number, title in ((1, "産業・生活のデジタル化"), (2, "行政サービスの利便性向上")):
        BasicPolicy.objects.create(plan=plan, number=number, title=title)
    return plan


def _url(name: str, *args) -> str:
    return reverse(f"reporting:{name}", args=[CODE, *args])


def test_secretariat_drafts_policies_and_initiatives_on_screens(client, personas, nxt):
    client.force_login(personas.secretariat)
    page = client.get(_url("draft")).content.decode()
    assert "第2期かほく市DX推進計画の下書き" in page and "基本方針1 産業・生活のデジタル化" in page

    # A policy added, edited, moved up, and (empty) abolished.
    response = client.post(
        _url("draft_policy_new"),
        {"title": "安全・安心のデジタル基盤強化", "summary": "基盤を強くする"},
        follow=True,
    )
    assert "基本方針「基本方針3 安全・安心のデジタル基盤強化」を保存しました。" in (
        response.content.decode()
    )
    third = BasicPolicy.objects.get(plan=nxt, number=3)
    client.post(
        _url("draft_policy", third.pk),
        {"number": "3", "title": "デジタル基盤の強化", "heading": "", "summary": "概要"},
    )
    third.refresh_from_db()
    assert (third.title, third.summary) == ("デジタル基盤の強化", "概要")
    client.post(_url("draft_action", "policy", third.pk, "up"))
    third.refresh_from_db()
    assert third.number == 2
    assert BasicPolicy.objects.get(plan=nxt, title="行政サービスの利便性向上").number == 3
    taken = client.post(_url("draft_policy", third.pk), {"number": "1", "title": "x"})
    assert "基本方針1はすでにあります。" in taken.content.decode()

    # An initiative added with its WG, flag and upper-plan tags; edited, moved, abolished.
    policy1 = BasicPolicy.objects.get(plan=nxt, number=1)
    wg = WorkingGroup.objects.get(plan=nxt, name="情報推進課WG")
    other_wg = WorkingGroup.objects.get(plan=nxt, name="総務課WG")
    item = NationalItem.objects.get(number=5)
    data = {
        "policy": policy1.pk,
        "number": "",
        "title": "行政手続のオンライン化",
        "description": "すべての手続をオンラインで",
        "flag": "national_priority",
        "national_items": [item.pk],
        "working_group": wg.pk,
        "lead_section": Section.objects.get(name="情報推進課").pk,
    }
    response = client.post(_url("draft_initiative_new"), data)
    assert response.status_code == 302
    ini = Initiative.objects.get(policy=policy1, title="行政手続のオンライン化")
    assert (ini.number, ini.working_group, ini.flag) == (1, wg, "national_priority")
    assert list(ini.national_items.all()) == [item]
    assert ini.history.first().history_user == personas.secretariat
    second = client.post(_url("draft_initiative_new"), {**data, "title": "窓口のデジタル化"})
    assert second.status_code == 302
    # Moved to the other policy and the other WG in one edit (number: next free there).
    client.post(
        _url("draft_initiative", ini.pk),
        {**data, "policy": third.pk, "working_group": other_wg.pk, "version": ini.version},
    )
    ini.refresh_from_db()
    assert (ini.policy, ini.number, ini.working_group) == (third, 1, other_wg)
    # A stale form (the version it was opened at) is refused, the input kept.
    stale = client.post(
        _url("draft_initiative", ini.pk), {**data, "title": "古い内容", "version": "1"}
    )
    assert "ほかの職員が先にこの取り組みを更新したため" in stale.content.decode()
    ini.refresh_from_db()
    assert ini.title == "行政手続のオンライン化"
    # A policy with initiatives cannot be abolished.
    response = client.post(_url("draft_action", "policy", third.pk, "delete"), follow=True)
    assert "には取り組みがあるため削除できません" in response.content.decode()
    # Reorder within policy 1: add another and move it up.
    client.post(_url("draft_initiative_new"), {**data, "title": "三つ目"})
    win = Initiative.objects.get(policy=policy1, title="窓口のデジタル化")
    last = Initiative.objects.get(policy=policy1, title="三つ目")
    assert (win.number, last.number) == (2, 3)  # numbers stay as given (1 moved away)
    client.post(_url("draft_action", "initiative", last.pk, "up"))
    win.refresh_from_db()
    last.refresh_from_db()
    assert (last.number, win.number) == (2, 3)
    client.post(_url("draft_action", "initiative", last.pk, "delete"))
    assert not Initiative.objects.filter(pk=last.pk).exists()


def test_carried_initiative_abolished_unless_it_has_progress(client, personas, nxt):
    client.force_login(personas.secretariat)
    policy = BasicPolicy.objects.get(plan=nxt, number=2)
    old = Initiative.objects.get(policy__plan__code="kahoku-dx-r3-r8", policy__number=2, number=1)
    carried = Initiative.objects.create(policy=policy, number=1, title=old.title, carried_from=old)
    ProjectUnderWay.objects.create(
        initiative=carried,
        era_label="R3",
        fiscal_year=2021,
        name="電子申請",
        section=Section.objects.get(name="情報推進課"),
    )
    kept = Initiative.objects.create(policy=policy, number=2, title="進捗のある取り組み")
    with time_machine.travel(date(2027, 5, 1), tick=False):  # never dated after today
        make_progress(kept, entry_date=date(2027, 5, 1))
    response = client.post(_url("draft_action", "initiative", kept.pk, "delete"), follow=True)
    assert "取り組み2.2には進捗記録または振り返りがあるため削除できません。" in (
        response.content.decode()
    )
    assert Initiative.objects.filter(pk=kept.pk).exists()
    client.post(_url("draft_action", "initiative", carried.pk, "delete"))
    assert not Initiative.objects.filter(pk=carried.pk).exists()
    assert Initiative.objects.filter(pk=old.pk).exists()  # the old plan keeps its own


def test_projects_and_indicators_with_targets_per_year(client, personas, nxt):
    client.force_login(personas.secretariat)
    policy = BasicPolicy.objects.get(plan=nxt, number=1)
    ini = Initiative.objects.create(policy=policy, number=1, title="オンライン化")
    section = Section.objects.get(name="情報推進課")
    for name in ("電子申請の拡大", "キャッシュレス決済"):
        response = client.post(
            _url("draft_project_new", ini.pk),
            {"era_label": "R9", "name": name, "section": section.pk},
        )
        assert response.status_code == 302
    bad = client.post(
        _url("draft_project_new", ini.pk), {"era_label": "X9", "name": "n", "section": section.pk}
    )
    assert bad.status_code == 200 and ProjectUnderWay.objects.filter(initiative=ini).count() == 2
    cash = ProjectUnderWay.objects.get(initiative=ini, name="キャッシュレス決済")
    assert cash.fiscal_year == 2027
    client.post(_url("draft_action", "project", cash.pk, "up"))
    assert [p.name for p in ini.projects.order_by("order")] == [
        "キャッシュレス決済",
        "電子申請の拡大",
    ]
    client.post(
        _url("draft_project", cash.pk),
        {"era_label": "R10", "name": "キャッシュレス", "section": section.pk},
    )
    cash.refresh_from_db()
    assert (cash.name, cash.fiscal_year) == ("キャッシュレス", 2028)
    client.post(_url("draft_action", "project", cash.pk, "delete"))
    assert not ProjectUnderWay.objects.filter(pk=cash.pk).exists()

    form = client.get(_url("draft_indicator_new", ini.pk)).content.decode()
    assert "target_2027" in form and "target_2031" in form and "target_2026" not in form
    response = client.post(
        _url("draft_indicator_new", ini.pk),
        {
            "name": "オンライン申請件数",
            "unit": "件",
            "direction": "higher",
            "baseline": "120",
            "baseline_fy": "R8",
            "target_2027": "150",
            "target_2031": "300",
        },
    )
    assert response.status_code == 302
    ind = Indicator.objects.get(initiative=ini)
    assert (ind.baseline, ind.baseline_fy) == (Decimal("120"), 2026)
    targets = dict(
        IndicatorValue.objects.filter(indicator=ind).values_list("fiscal_year", "target")
    )
    assert targets == {2027: Decimal("150"), 2031: Decimal("300")}
    page = client.get(_url("draft")).content.decode()
    assert "基準値 120（R8 (2026)）" in page and "R9 (2027)：150" in page
    client.post(
        _url("draft_indicator", ind.pk),
        {
            "version": ind.version,
            "name": "オンライン申請件数",
            "unit": "件",
            "direction": "higher",
            "target_2027": "160",
        },
    )
    targets = dict(
        IndicatorValue.objects.filter(indicator=ind).values_list("fiscal_year", "target")
    )
    assert targets[2027] == Decimal("160") and targets[2031] is None
    IndicatorValue.objects.filter(indicator=ind, fiscal_year=2027).update(actual=10)
    response = client.post(_url("draft_action", "indicator", ind.pk, "delete"), follow=True)
    assert "には実績値があるため削除できません" in response.content.decode()


def test_table_41_items_rows_and_cells_of_the_new_period(client, personas, nxt):
    client.force_login(personas.secretariat)
    assert "表4-1に項目・行がありません" in client.get(_url("draft")).content.decode()
    client.post(_url("draft_item_new"), {"title": "かほく市DX推進計画"})
    client.post(_url("draft_item_new"), {"title": "オンライン申請"})
    first, second = ScheduleItem.objects.filter(plan=nxt).order_by("order")
    client.post(_url("draft_item", first.pk), {"title": "第2期かほく市DX推進計画"})
    first.refresh_from_db()
    assert first.title == "第2期かほく市DX推進計画"
    client.post(_url("draft_action", "item", second.pk, "up"))
    second.refresh_from_db()
    assert second.order == 1
    ini = Initiative.objects.create(
        policy=BasicPolicy.objects.get(plan=nxt, number=1), number=1, title="オンライン化"
    )
    response = client.post(
        _url("draft_row_new", second.pk),
        {
            "sub_title": "子育て・介護",
            "initiative": ini.pk,
            "cell_2027_text": "○",
            "cell_2027_kind": "text",
            "cell_2028_text": "全手続のオンライン化",
            "cell_2028_kind": "text",
            "cell_2028_span": "2",
        },
    )
    assert response.status_code == 302
    row = ScheduleRow.objects.get(item=second)
    cells = {c.fiscal_year: (c.kind, c.text, c.col_span) for c in row.cells.all()}
    assert cells == {2027: ("marker", "○", 1), 2028: ("text", "全手続のオンライン化", 2)}
    assert row.initiative == ini
    bad = client.post(
        _url("draft_row", row.pk),
        {"sub_title": "子育て・介護", "cell_2029_text": "予定", "cell_2029_kind": "status"},
    )
    assert (
        "R11 (2029): 状況は リース中、リース最終年、(再リース) のいずれかを入力してください。"
        in (bad.content.decode())
    )
    assert not ScheduleCell.objects.filter(row=row, fiscal_year=2029).exists()
    overlap = client.post(
        _url("draft_row", row.pk),
        {
            "sub_title": "子育て・介護",
            "cell_2028_text": "全手続",
            "cell_2028_span": "3",
            "cell_2029_text": "○",
        },
    )
    assert "R10 (2028)のセルは3年度分に結合されているため、R11 (2029)には入力できません。" in (
        overlap.content.decode()
    )
    client.post(_url("draft_row", row.pk), {"sub_title": "子育て", "cell_2028_text": ""})
    row.refresh_from_db()
    assert row.sub_title == "子育て" and not row.cells.exists() and row.initiative is None
    page = client.get(_url("draft")).content.decode()
    assert "表4-1に項目・行がありません" not in page and "R13 (2031)" in page
    client.post(_url("draft_action", "row", row.pk, "delete"))
    client.post(_url("draft_action", "item", first.pk, "delete"))
    assert list(ScheduleItem.objects.filter(plan=nxt)) == [second]
    assert not ScheduleRow.objects.filter(pk=row.pk).exists()


def test_adopted_plan_refuses_writes(client, personas, nxt):
    client.force_login(personas.secretariat)
    policy = BasicPolicy.objects.get(plan=nxt, number=1)
    with time_machine.travel(datetime(2027, 2, 20, 10, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False):
        plan_adopt(actor=personas.secretariat, plan=nxt, adopted_on=date(2027, 2, 20))
    nxt.refresh_from_db()
    assert not plan_is_editable(nxt)
    response = client.post(_url("draft_policy", policy.pk), {"number": "1", "title": "変更"})
    assert response.status_code == 403
    assert "決定済みのため、内容を変更できません" in response.content.decode()
    response = client.post(_url("draft_action", "policy", policy.pk, "delete"))
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.title == "産業・生活のデジタル化"
    # The in-force R3–R8 plan (第0.5版 never frozen, older than 第1.0版) is not a draft.
    r8 = Plan.objects.get(code="kahoku-dx-r3-r8")
    assert not plan_is_editable(r8)
    page = client.get(reverse("reporting:draft", args=[r8.code])).content.decode()
    assert "決定済みのため" in page and "基本方針を追加" not in page


def test_only_the_secretariat(client, personas, nxt):
    policy = BasicPolicy.objects.get(plan=nxt, number=1)
    for user in (personas.hq, personas.leader):
        client.force_login(user)
        assert client.get(_url("draft")).status_code == 403
        assert client.post(_url("draft_policy", policy.pk), {"title": "x"}).status_code == 403
        assert client.post(_url("draft_action", "policy", policy.pk, "delete")).status_code == 403
    client.logout()
    assert client.get(_url("draft")).status_code == 302
    client.force_login(personas.secretariat)
    assert client.get(_url("draft_action", "policy", policy.pk, "delete")).status_code == 405
    assert client.get(reverse("reporting:draft", args=["no-such-plan"])).status_code == 404
    other = BasicPolicy.objects.get(plan__code="kahoku-dx-r3-r8", number=1)
    assert client.get(_url("draft_policy", other.pk)).status_code == 404


def test_successor_text_no_longer_states_the_old_period(nxt):
    source = Plan.objects.get(code="kahoku-dx-r3-r8")
    text = PlanChapter.objects.get(version__plan=source, version__number="1.0", number=4).body
    assert "令和3年度(2021年度)から令和8年度(2026年度)まで" in text
    new = drafting.successor_chapter_text(text, source)
    assert "令和8年度" not in new and "令和3年度" not in new and "{計画期間}" in new
    # The seed's own spelling (with its typo) and the other spellings.
    seed = "令和3年度(2021年度)から令和8年度(2023年度)までとします。R3〜R8。令和３年度（２０２１年度）～令和８年度"
    assert drafting.successor_chapter_text(seed, source) == (
        "{計画期間}とします。{開始年度}〜{終了年度}。{開始年度}～{終了年度}"
    )
    chapter2 = PlanChapter.objects.get(version__plan=source, version__number="1.0", number=2).body
    new2 = drafting.successor_chapter_text(chapter2, source)
    assert "「{計画名}【{版}】」" in new2 and "かほく市DX推進計画【第1.0版】" not in new2
    # plan_create_next starts the draft's chapters from the successor text; shown from its data.
    assert "{計画期間}" in nxt.versions.get().chapters.get(number=4).body
    content = version_content(nxt.versions.get())
    body = next(c["body"] for c in content["chapters"] if c["number"] == 4)
    assert "令和9年度（2027年度）から令和13年度（2031年度）まで" in body and "{" not in body


def test_placeholders_rendered_from_the_data(client, personas, nxt):
    version = nxt.versions.get()
    chapter = version.chapters.get(number=2)
    chapter.body = (
        "「{計画名}【{版}】」は{計画期間}の計画です。{開始年度}に始まり{終了年度}に終わります。"
        "基本方針は{基本方針の数}つ、取り組みは{取り組みの数}件です。決定日:｛決定日｝"
    )
    chapter.save()
    Initiative.objects.create(
        policy=BasicPolicy.objects.get(plan=nxt, number=1), number=1, title="一つ目"
    )
    expected = (
        "「第2期かほく市DX推進計画【第2.0版】」は令和9年度（2027年度）から令和13年度（2031年度）まで"
        "の計画です。令和9年度（2027年度）に始まり令和13年度（2031年度）に終わります。"
        "基本方針は2つ、取り組みは1件です。決定日:（決定前）"
    )
    client.force_login(personas.secretariat)
    page = client.get(reverse("reporting:version_print", args=[version.pk])).content.decode()
    assert expected in page
    response = client.get(reverse("reporting:version_document", args=[version.pk]))
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(response.content)).paragraphs)
    assert expected in text
    # Adopted: the decision date is stated, and the frozen text keeps the filled facts.
    with time_machine.travel(datetime(2027, 2, 20, 10, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False):
        plan_adopt(actor=personas.secretariat, plan=nxt, adopted_on=date(2027, 2, 20))
    version.refresh_from_db()
    frozen = next(c["body"] for c in version.content["chapters"] if c["number"] == 2)
    assert frozen.endswith("決定日:令和9年2月20日") and "{" not in frozen
    assert plan_content(nxt, version=version)["chapters"][1]["body"] == frozen


def test_adoption_warnings(client, personas, nxt):
    version = nxt.versions.get()
    chapter = version.chapters.get(number=4)
    chapter.body += "\n\nまた、R7年度末までの移行に続き、２０３２年度に見直します。令和2年(2020年)7月17日閣議決定。"
    chapter.save()
    policy = BasicPolicy.objects.get(plan=nxt, number=1)
    Initiative.objects.create(
        policy=policy,
        number=1,
        title="WGのない取り組み",
        description="令和4年度末までに手続をオンライン化する。令和10年度に見直す。",
    )
    warnings = drafting.adoption_warnings(nxt)
    text = "\n".join(warnings)
    assert (
        "第4章「計画期間」に計画期間(令和9年度（2027年度）〜令和13年度（2031年度）)の外の年度"
        "(令和7年度（2025年度）、令和14年度（2032年度）)が書かれています:"
        "「また、R7年度末までの移行に続き、２０３２年度に見直します。」"
    ) in text
    assert "令和2年" not in text  # a calendar date of history is not a fiscal year
    assert "第2章「第2期かほく市DX推進計画の位置付け」" in text  # 令和3年度で定める本計画は…
    assert (
        "取り組み1.1「WGのない取り組み」の概要に計画期間(令和9年度（2027年度）〜令和13年度"
        "（2031年度）)の外の年度(令和4年度（2022年度）)が書かれています:"
        "「令和4年度末までに手続をオンライン化する。」"
    ) in warnings
    assert "令和10年度に見直す" not in text
    assert "表4-1に項目・行がありません(見出し行だけです)。" in warnings
    assert "取り組み1.1「WGのない取り組み」の担当WGが決まっていません。" in warnings
    assert "取り組み1.1「WGのない取り組み」に指標(KPI)がありません。" in warnings
    assert "基本方針2「行政サービスの利便性向上」に取り組みがありません。" in warnings
    client.force_login(personas.secretariat)
    page = client.get(_url("draft")).content.decode()
    assert "R7年度末までの移行に続き" in page and "担当WGが決まっていません" in page
    # and above the adopt form on the versions page
    page = client.get(reverse("reporting:versions")).content.decode()
    assert "決定前に確認してください" in page and "R7年度末までの移行に続き" in page


def test_draft_revision_of_an_adopted_plan_is_editable(personas, nxt):
    with time_machine.travel(datetime(2027, 2, 20, 10, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False):
        plan_adopt(actor=personas.secretariat, plan=nxt, adopted_on=date(2027, 2, 20))
    nxt.refresh_from_db()
    assert nxt.status == PlanStatus.ADOPTED and not plan_is_editable(nxt)
    plan_revision_open(actor=personas.secretariat, plan=nxt, number="2.1", summary="改定")
    assert plan_is_editable(nxt)
    assert drafting.draft_version(nxt).number == "2.1"
    policy = plan_services.policy_save(
        actor=personas.secretariat, plan=nxt, number=None, title="改定で追加"
    )
    assert policy.number == 3


def test_overview_queries_do_not_grow_with_the_draft(client, personas, nxt):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(personas.secretariat)
    section = Section.objects.get(name="情報推進課")
    wg = WorkingGroup.objects.get(plan=nxt, name="情報推進課WG")

    def add(n: int) -> None:
        policy = BasicPolicy.objects.get(plan=nxt, number=1)
        ini = Initiative.objects.create(
            policy=policy, number=n, title=f"取り組み{n}", working_group=wg
        )
        ind = Indicator.objects.create(initiative=ini, name="件数")
        IndicatorValue.objects.create(indicator=ind, fiscal_year=2027, target=1)
        ProjectUnderWay.objects.create(
            initiative=ini, era_label="R9", fiscal_year=2027, name="事業", section=section
        )
        item = ScheduleItem.objects.create(plan=nxt, order=n, title=f"項目{n}")
        row = ScheduleRow.objects.create(item=item, line=1, initiative=ini)
        ScheduleCell.objects.create(row=row, fiscal_year=2027, text="○", kind="marker")

    add(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(_url("draft")).status_code == 200
    for n in range(2, 7):
        add(n)
    with CaptureQueriesContext(connection) as many:
        page = client.get(_url("draft")).content.decode()
    assert "取り組み1.6 取り組み6" in page
    assert len(many) == len(one)


def test_new_row_form_takes_a_milestone_typed_without_touching_the_kind(client, personas, nxt):
    """The browser posts every select as shown: the kind defaults to マイルストーン (a ○ still
    becomes 記号), so a text typed in a cell is saved, not refused as a bad 記号."""
    client.force_login(personas.secretariat)
    client.post(_url("draft_item_new"), {"title": "子育て手続のワンストップ化"})
    item = ScheduleItem.objects.get(plan=nxt)
    form = client.get(_url("draft_row_new", item.pk)).context["form"]
    shown = {name: form[name].value() for name in form.fields if name.endswith("_kind")}
    assert set(shown.values()) == {ScheduleCell.Kind.TEXT}, shown
    response = client.post(
        _url("draft_row_new", item.pk),
        {**shown, "sub_title": "妊娠・出産", "cell_2027_text": "対象手続の洗い出し"},
    )
    assert response.status_code == 302
    cell = ScheduleCell.objects.get(row__item=item)
    assert (cell.fiscal_year, cell.kind, cell.text) == (2027, "text", "対象手続の洗い出し")
