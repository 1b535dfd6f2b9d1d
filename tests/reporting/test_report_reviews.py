"""Issue 22: a meeting report freezes only reviews that were handed in (submitted, checked,
approved), each with its state; a draft's text never reaches the snapshot, the screen, the
short paper or the workbook; empty Plan/Do/Check/Act blocks are not shown; a 資料番号."""

import json
from datetime import date
from io import BytesIO

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from initiatives import workflow
from initiatives.models import Review
from reporting.models import ReportSnapshot
from reporting.selectors.meeting_reports import is_frozen_state, snapshot_view_data
from reporting.workbooks.meeting_report import snapshot_workbook
from tests.factory import REVIEW_COMPLETE, initiative, make_progress, make_review

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 24)
DRAFT = "【下書き・未確認】窓口の混雑は改善したと思う（内部メモ：課長に未確認）"
SENT_BACK = "【書き直し中】数字を確認してから再提出（内部メモ）"
DRAFT_GRADE_NOTE = "下書きの改善案"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


@pytest.fixture
def reviews(personas):
    make_progress(initiative("2.1"), status="on_track", percent=40, entry_date=date(2026, 10, 1))
    make_review(
        initiative("1.1"),
        state=Review.State.DRAFT,
        plan_text=DRAFT,
        check_text=DRAFT,
        act_text=DRAFT_GRADE_NOTE,
        self_grade="C",
        carry_over="continue",
    )
    make_review(initiative("1.2"), state=Review.State.RETURNED, plan_text=SENT_BACK, self_grade="D")
    make_review(initiative("2.1"), state=Review.State.SUBMITTED, **REVIEW_COMPLETE)
    make_review(
        initiative("2.2"),
        state=Review.State.CHECKED,
        **{**REVIEW_COMPLETE, "plan_text": "確認済みの計画", "self_grade": "A"},
    )
    # Approved with only two of the four texts written: the other two are not printed.
    make_review(
        initiative("2.3"),
        state=Review.State.APPROVED,
        plan_text="承認された計画",
        check_text="承認された評価",
        self_grade="B",
    )
    return personas


def create(client, user, **post):
    client.force_login(user)
    return client.post(
        reverse("reporting:report_create"),
        {"title": "第2回DX推進本部会議", "fy": "R8", "document_number": "資料2", **post},
    )


def rows_of(snapshot):
    return {i["code"]: i for i in snapshot.data["initiatives"]}


def test_frozen_states_come_from_the_workflow():
    # the states a review's text may still be written in are never frozen with their text
    assert [s for s in Review.State.values if is_frozen_state(s)] == [
        "submitted",
        "checked",
        "approved",
    ]
    assert not any(is_frozen_state(s) for s in workflow.EDITABLE_STATES)
    assert not is_frozen_state("") and not is_frozen_state(None)


def test_a_draft_never_enters_the_snapshot_and_a_handed_in_review_keeps_its_state(client, reviews):
    assert create(client, reviews.secretariat).status_code == 302
    snapshot = ReportSnapshot.objects.get()
    stored = json.dumps(snapshot.data, ensure_ascii=False)
    for text in (DRAFT, SENT_BACK, DRAFT_GRADE_NOTE, "内部メモ"):
        assert text not in stored
    rows = rows_of(snapshot)
    # The draft is its state only: no texts, no self grade, no decision.
    assert rows["1.1"]["review"] is None
    assert (rows["1.1"]["review_state_label"], rows["1.1"]["self_grade"]) == ("下書き", "")
    assert (rows["1.1"]["check_text"], rows["1.1"]["carry_over"]) == ("", "")
    assert rows["1.2"]["review"] is None and rows["1.2"]["review_state_label"] == "差戻し"
    assert rows["1.2"]["self_grade"] == ""
    # Handed-in reviews are frozen with their state and texts.
    assert {code: rows[code]["review"]["state"] for code in ("2.1", "2.2", "2.3")} == {
        "2.1": "submitted",
        "2.2": "checked",
        "2.3": "approved",
    }
    assert rows["2.2"]["review"]["plan_text"] == "確認済みの計画"
    assert rows["2.2"]["self_grade"] == "A"
    assert rows["1.3"]["review"] is None and rows["1.3"]["review_state_label"] == "未作成"
    # What waits for headquarters (the checked review) and the handed-in self grades.
    assert snapshot.data["approvals_waiting"] == ["2.2 " + initiative("2.2").title]
    assert snapshot.data["self_grades"] == [["A", 1], ["B", 2], ["C", 0], ["D", 0]]
    assert snapshot.data["schema"] == 3
    assert snapshot.document_number == "資料2"


def test_the_screen_shows_handed_in_reviews_with_their_state_and_no_empty_block(client, reviews):
    create(client, reviews.secretariat)
    snapshot = ReportSnapshot.objects.get()
    html = client.get(reverse("reporting:report_detail", args=[snapshot.pk])).content.decode()
    for text in (DRAFT, SENT_BACK, DRAFT_GRADE_NOTE, "内部メモ"):
        assert text not in html
    reviews_html = html[html.index('id="report-reviews"') :]
    sections = reviews_html.split('<section class="report-review"')[1:]
    assert len(sections) == 3  # 2.1, 2.2, 2.3; never the draft 1.1 nor the sent-back 1.2
    approved = next(s for s in sections if 'id="review-23"' in s)
    assert 'badge badge-approved review-state">承認済</span>' in approved
    assert "自己評価 B" in approved
    assert approved.count("<dt>") == 2  # Plan and Check; no empty Do/Act block of 「—」
    assert "Do(実行)" not in approved and "Act(改善)" not in approved and "—" not in approved
    assert 'badge badge-checked review-state">確認済</span>' in reviews_html
    assert 'badge badge-submitted review-state">提出済</span>' in reviews_html
    # 資料番号 at the top, 基準日 in 和暦, short labels kept whole, a link to the short paper.
    assert '<p class="report-docno" id="report-docno">' in html
    assert 'id="taken-on">令和8年11月24日(火)</span>' in html
    assert '<td class="label-cell report-reported">未報告</td>' in html
    assert f'href="/plan/reports/{snapshot.pk}/?mode=short"' in html


def test_the_short_paper_has_figures_and_waiting_approvals_and_no_review_text(client, reviews):
    create(client, reviews.secretariat)
    snapshot = ReportSnapshot.objects.get()
    client.force_login(reviews.hq)
    response = client.get(reverse("reporting:report_detail", args=[snapshot.pk]), {"mode": "short"})
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "reporting/report_short.html"
    html = response.content.decode()
    # No review text at all, handed in or not: the short paper is figures, grades and states.
    for text in (DRAFT, SENT_BACK, "確認済みの計画", "承認された計画", "承認された評価"):
        assert text not in html
    assert 'id="report-docno"><span class="visually-hidden">資料番号：</span>資料2</p>' in html
    assert '<p class="card-value" id="short-online">0 / 27</p>' in html
    assert '<p class="card-value" id="short-systems">0 / 20</p>' in html
    assert '<p class="card-value" id="short-approvals">1件</p>' in html
    assert f"<li>2.2 {initiative('2.2').title}</li>" in html
    assert 'id="short-overall"><span class="rollup-figure">40.0%</span>' in html
    assert "report-reviews" not in html
    # anything but "short" is the full report
    full = client.get(reverse("reporting:report_detail", args=[snapshot.pk]), {"mode": "x"})
    assert [t.name for t in full.templates][0] == "reporting/report_detail.html"


def test_the_workbook_holds_no_draft_and_keeps_the_self_grade(client, reviews):
    create(client, reviews.secretariat)
    snapshot = ReportSnapshot.objects.get()
    wb = load_workbook(BytesIO(snapshot_workbook(snapshot)))
    texts = [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value]
    assert not [t for t in texts if "内部メモ" in t or DRAFT_GRADE_NOTE in t]
    pdca = {r[0]: r for r in wb["PDCA振り返り"].iter_rows(min_row=6, values_only=True)}
    assert set(pdca) == {"2.1", "2.2", "2.3"}
    assert pdca["2.3"][2:8] == ("承認済", "承認された計画", None, "承認された評価", None, "B")
    by_initiative = {r[0]: r for r in wb["取り組み別"].iter_rows(min_row=6, values_only=True)}
    assert by_initiative["2.2"][7:9] == ("確認済", "A")  # 振り返り, 自己評価
    assert by_initiative["1.1"][7:10] == ("下書き", None, None)  # no draft grade or decision
    assert wb["概要"].oddHeader.right.text == "資料2"


def test_an_old_snapshot_holding_a_draft_is_hidden_then_cleaned_by_the_migration(client, reviews):
    create(client, reviews.secretariat)
    snapshot = ReportSnapshot.objects.get()
    # As a schema-2 report stored it: the draft's texts frozen with it.
    data = snapshot.data
    row = next(i for i in data["initiatives"] if i["code"] == "1.1")
    row["review"] = {
        "state": "draft",
        "state_label": "下書き",
        "approved_version": False,
        "self_grade": "C",
        "carry_over": "継続",
        "plan_text": DRAFT,
        "do_text": "",
        "check_text": DRAFT,
        "act_text": "",
    }
    row.update(check_text=DRAFT, self_grade="C", carry_over="継続")
    approved_then_returned = next(i for i in data["initiatives"] if i["code"] == "2.3")
    approved_then_returned["review"].update(state="returned", approved_version=True)
    for key in ("approvals_waiting", "self_grades"):
        data.pop(key)
    data["schema"] = 2
    snapshot.save()

    # Shown: never the draft, on the screen or in the workbook.
    view = {i["code"]: i for i in snapshot_view_data(snapshot.data)["initiatives"]}
    assert view["1.1"]["review"] is None and view["1.1"]["check_text"] == ""
    assert view["2.3"]["review"]["plan_text"] == "承認された計画"  # approved text stays
    client.force_login(reviews.hq)
    html = client.get(reverse("reporting:report_detail", args=[snapshot.pk])).content.decode()
    assert DRAFT not in html and "承認された計画" in html
    short = client.get(
        reverse("reporting:report_detail", args=[snapshot.pk]), {"mode": "short"}
    ).content.decode()
    assert DRAFT not in short and "この資料には記録がありません。" in short
    wb = load_workbook(BytesIO(snapshot_workbook(snapshot)))
    cells = [c.value for ws in wb.worksheets for r in ws.iter_rows() for c in r]
    assert DRAFT not in cells

    # Cleaned: migration 0013 takes the draft out of the stored JSON, nothing else.
    migration = __import__(
        "initiatives.migrations.0013_report_snapshots_drop_draft_reviews",
        fromlist=["drop_draft_reviews"],
    )
    # The migration runs on the models as they were at it (ReportSnapshot was initiatives'
    # then; it is reporting's since reporting 0004), on the same table.
    apps = (
        MigrationLoader(connection)
        .project_state(("initiatives", "0013_report_snapshots_drop_draft_reviews"))
        .apps
    )
    before = ReportSnapshot.objects.get().data
    migration.drop_draft_reviews(apps, None)
    after = ReportSnapshot.objects.get().data
    assert DRAFT not in json.dumps(after, ensure_ascii=False)
    cleaned = next(i for i in after["initiatives"] if i["code"] == "1.1")
    assert cleaned["review"] is None
    assert (cleaned["check_text"], cleaned["self_grade"], cleaned["carry_over"]) == ("", "", "")
    assert cleaned["review_state_label"] == "下書き"
    kept = next(i for i in after["initiatives"] if i["code"] == "2.3")
    assert kept["review"]["plan_text"] == "承認された計画"
    assert {k: v for k, v in after.items() if k != "initiatives"} == {
        k: v for k, v in before.items() if k != "initiatives"
    }
    migration.drop_draft_reviews(apps, None)  # a second run changes nothing
    assert ReportSnapshot.objects.get().data == after


def test_document_number_is_bounded_and_what_was_typed_is_kept(client, reviews):
    response = create(client, reviews.secretariat, document_number="資料" + "2" * 30)
    assert response.status_code == 400
    html = response.content.decode()
    assert "資料番号は20文字以内で入力してください。" in html
    assert 'value="第2回DX推進本部会議"' in html and 'value="R8"' in html
    response = create(client, reviews.secretariat, document_number="資料2\n別紙")
    assert "資料番号は1行で入力してください。" in response.content.decode()
    assert ReportSnapshot.objects.count() == 0
    # optional; an empty one prints nothing at the top right
    assert create(client, reviews.secretariat, document_number="  ").status_code == 302
    snapshot = ReportSnapshot.objects.get()
    assert snapshot.document_number == ""
    html = client.get(reverse("reporting:report_detail", args=[snapshot.pk])).content.decode()
    assert "report-docno" not in html
    listing = client.get(reverse("reporting:report_list")).content.decode()
    assert f'href="/plan/reports/{snapshot.pk}/?mode=short"' in listing
