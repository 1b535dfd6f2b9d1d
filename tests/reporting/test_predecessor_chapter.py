"""「前計画の成果と課題」 drafted from the previous plan's data: a chapter of the next plan's
draft, filled by a button on the draft's screen, never overwriting edited text unasked."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from plans.models import Plan, PlanChapter
from reporting.services import drafting
from reporting.services.versions import plan_create_next
from tests.reporting.test_closing import APPROVED_ACT, EXPAND_NOTE, SECRET, six_years

pytestmark = pytest.mark.django_db
CODE = "kahoku-dx-r9-r13"
TITLE = drafting.PREDECESSOR_CHAPTER_TITLE


@pytest.fixture(autouse=True)
def _in_the_final_year():
    with time_machine.travel(datetime(2027, 2, 20, 10, tzinfo=ZoneInfo("Asia/Tokyo")), tick=False):
        yield


@pytest.fixture
def nxt(plan, personas) -> Plan:
    six_years(plan)
    return plan_create_next(
        actor=personas.secretariat,
        source=plan,
        code=CODE,
        name="第2期かほく市DX推進計画",
        theme="",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )


def _press(client, **data):
    return client.post(reverse("reporting:draft_predecessor_chapter", args=[CODE]), data)


def test_the_button_creates_the_chapter_from_the_data_and_it_is_edited_like_any(
    client, personas, nxt
):
    client.force_login(personas.secretariat)
    page = client.get(reverse("reporting:draft", args=[CODE])).content.decode()
    assert "「前計画の成果と課題」を前計画のデータから作成" in page
    before = set(nxt.latest_version.chapters.values_list("number", flat=True))
    response = _press(client)
    chapter = PlanChapter.objects.get(version__plan=nxt, title=TITLE)
    assert chapter.number == max(before) + 1
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "reporting:chapter_edit", args=[chapter.version_id, chapter.number]
    )
    body = chapter.body
    assert SECRET not in body
    for text in (
        "### 基本方針1 産業・生活のデジタル化",
        "### 基本方針4 安全・安心のデジタル基盤強化",
        "計画全体の進捗率は、R3 (2021) 7.5%(報告 3/13件)",
        "R8 (2026) 63.3%(報告 3/13件)",
        "目標 27件のうち 20件が完了(期限 R4 (2022)末までに 18件、期限後 2件)",
        "目標 20件のうち 2件が完了",
        "指標「電子申請の利用件数」は目標 600 に対し実績 660(A)",
        f"- 2.1 行政サービスのオンライン化(拡充): {EXPAND_NOTE}。",
        "継続 1件、拡充 1件、完了 1件、最終年度の振り返りが未承認 1件、最終年度の振り返りが未作成 9件",
        "指標「紙の申請書の削減率」の最終評価はCでした。",
    ):
        assert text in body, text
    assert APPROVED_ACT not in body  # the note says why; the Act text is the fallback
    # the years of the old plan are facts about it, not years of the new period to flag
    assert not [w for w in drafting.adoption_warnings(nxt) if TITLE in w]
    assert chapter.history.count() == 1
    assert chapter.history.first().history_user == personas.secretariat

    # edited like any chapter, on the chapter screen
    edit = reverse("reporting:chapter_edit", args=[chapter.version_id, chapter.number])
    client.post(edit, {"title": TITLE, "body": body + "\n事務局が加筆した文。", "version": 1})
    chapter.refresh_from_db()
    assert chapter.body.endswith("事務局が加筆した文。") and chapter.revision == 2

    # pressed again: the edited text is not replaced without a confirmation
    asked = _press(client).content.decode()
    chapter.refresh_from_db()
    assert chapter.body.endswith("事務局が加筆した文。")
    assert "置き換えますか" in asked and 'name="revision" value="2"' in asked
    # confirmed with the revision seen: replaced, the old text kept in the history
    _press(client, overwrite="1", revision="2")
    chapter.refresh_from_db()
    assert chapter.body == body and chapter.revision == 3
    assert chapter.history.count() == 3
    assert chapter.history.all()[1].body.endswith("事務局が加筆した文。")


def test_a_confirmation_given_on_an_old_revision_replaces_nothing(client, personas, nxt):
    client.force_login(personas.secretariat)
    _press(client)
    chapter = PlanChapter.objects.get(version__plan=nxt, title=TITLE)
    chapter.body = "誰かが書き換えた本文"
    chapter.revision = 5
    chapter.save()
    response = _press(client, overwrite="1", revision="4")
    chapter.refresh_from_db()
    assert chapter.body == "誰かが書き換えた本文"
    assert "ほかの職員が先にこの章を更新したため" in response.content.decode()


def test_only_the_secretariat_on_a_draft_with_a_predecessor(client, personas, nxt, plan):
    url = reverse("reporting:draft_predecessor_chapter", args=[CODE])
    assert client.post(url).status_code == 302  # anonymous: to the login
    client.force_login(personas.hq)
    assert client.post(url).status_code == 403
    client.force_login(personas.secretariat)
    assert client.get(url).status_code == 405
    # the plan in force is no draft: no button, and a post is refused with the reason
    page = client.get(reverse("reporting:draft", args=[plan.code])).content.decode()
    assert "前計画のデータから作成" not in page
    response = client.post(reverse("reporting:draft_predecessor_chapter", args=[plan.code]))
    assert response.status_code == 403
    assert not PlanChapter.objects.filter(title=TITLE).exists()


def test_the_drafted_chapter_is_printed_after_chapter_6_in_the_document_and_print_view(
    client, personas, nxt
):
    import io

    from docx import Document

    from reporting.documents.plan import plan_document
    from reporting.selectors.plan_content import document_content

    client.force_login(personas.secretariat)
    _press(client)
    chapter = PlanChapter.objects.get(version__plan=nxt, title=TITLE)
    version = chapter.version
    headings = [
        p.text
        for p in Document(io.BytesIO(plan_document(document_content(version)))).paragraphs
        if p.style.name == "Heading 1"
    ]
    numbered = [h for h in headings if h[:1].isdigit()]
    assert numbered[-2].startswith("6. ")
    assert numbered[-1] == f"{chapter.number}. {TITLE}"
    page = client.get(reverse("reporting:version_print", args=[version.pk])).content.decode()
    assert page.index('id="plan-chapter-6"') < page.index(f'id="plan-chapter-{chapter.number}"')
