"""The plan-versions screens: lifecycle, chapters, the document and comparison, by role."""

from __future__ import annotations

import io
from datetime import date

import docx
import openpyxl
import pytest
import time_machine
from django.urls import reverse

from plans.models import BasicPolicy, Plan, PlanStatus, PlanVersion

pytestmark = pytest.mark.django_db
NEXT = {
    "action": "next",
    "plan": "kahoku-dx-r3-r8",
    "code": "kahoku-dx-r9-r13",
    "name": "第2期かほく市DX推進計画",
    "theme": "誰一人取り残さないデジタル化",
    "start_fy": "R9",
    "end_fy": "令和13年度",
    "version_number": "2.0",
}


def test_secretariat_drafts_edits_adopts_and_puts_in_force(client, personas):
    client.force_login(personas.secretariat)
    page = client.get(reverse("reporting:versions")).content.decode()
    assert "第1.0版" in page and "確定" in page and 'value="R9"' in page
    response = client.post(reverse("reporting:versions"), NEXT, follow=True)
    assert "次期計画「第2期かほく市DX推進計画」" in response.content.decode()
    nxt = Plan.objects.get(code="kahoku-dx-r9-r13")
    assert (nxt.start_fy, nxt.end_fy, nxt.status) == (2027, 2031, PlanStatus.DRAFT)
    draft = nxt.versions.get()
    url = reverse("reporting:chapter_edit", args=[draft.pk, 4])
    assert client.get(url).status_code == 200
    client.post(
        url, {"title": "計画期間", "body": "令和9年度から令和13年度までとします。", "version": "1"}
    )
    assert draft.chapters.get(number=4).body == "令和9年度から令和13年度までとします。"
    BasicPolicy.objects.create(plan=nxt, number=1, title="市民サービスのデジタル化")
    traveller = time_machine.travel(date(2027, 2, 20), tick=False)
    traveller.start()
    client.force_login(personas.secretariat)  # a new day, a new login
    client.post(
        reverse("reporting:versions"),
        {
            "action": "adopt",
            "plan": nxt.code,
            "adopted_on": "2027-02-20",
            "in_force_from": "2027-04-01",
            "summary": "",
        },
    )
    nxt.refresh_from_db()
    draft.refresh_from_db()
    assert nxt.status == PlanStatus.ADOPTED and draft.frozen_at is not None
    assert client.get(url).status_code == 403  # a frozen version's text is fixed
    page = client.get(reverse("reporting:versions")).content.decode()
    assert "決定（令和9年2月20日）" in page and "施行日（令和9年4月1日(木)）になると" in page
    traveller.stop()
    with time_machine.travel(date(2027, 4, 1), tick=False):
        client.force_login(personas.secretariat)
        client.post(reverse("reporting:versions"), {"action": "in_force", "plan": nxt.code})
    nxt.refresh_from_db()
    assert nxt.status == PlanStatus.IN_FORCE
    assert Plan.objects.get(code="kahoku-dx-r3-r8").status == PlanStatus.ENDED


def test_bad_next_plan_input_is_explained(client, personas):
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("reporting:versions"), {**NEXT, "start_fy": "R8", "code": "kahoku-dx-r3-r8"}
    )
    page = response.content.decode()
    assert "計画コード「kahoku-dx-r3-r8」はすでに使われています。" in page
    assert Plan.objects.count() == 1


def test_document_and_print_view(client, personas):
    client.force_login(personas.hq)
    version = PlanVersion.objects.get(number="1.0")
    response = client.get(reverse("reporting:version_document", args=[version.pk]))
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    document = docx.Document(io.BytesIO(response.content))
    assert any(p.text == "6. 取組内容について" for p in document.paragraphs)
    page = client.get(reverse("reporting:version_print", args=[version.pk])).content.decode()
    assert "R8 (2026)" in page and "年度末迄に27申請のオンライン化完了" in page
    assert "H30 河川カメラの設置及びWEB公開：都市建設課" in page


def test_compare_frozen_version_with_the_plan_now_and_as_excel(client, personas):
    from initiatives.models import Initiative

    ini = Initiative.objects.get(policy__number=3, number=1)
    old = ini.title
    ini.title = old + "の推進"
    ini.save()
    client.force_login(personas.secretariat)
    version = PlanVersion.objects.get(number="1.0")
    params = {"a": f"v{version.pk}", "b": "pkahoku-dx-r3-r8"}
    page = client.get(reverse("reporting:version_compare"), params).content.decode()
    assert "<td>3.1</td>" in page
    assert "<ins>の推進</ins>" in page
    response = client.get(reverse("reporting:version_compare"), {**params, "format": "xlsx"})
    ws = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    assert ("変更", "取り組み", "3.1", old + "の推進", "取り組み", old, old + "の推進") in rows
    assert ws.page_setup.orientation == "landscape"


@pytest.mark.parametrize("who,status", [("member", 403), ("viewer", 403), ("hq", 200)])
def test_versions_screens_by_role(client, personas, who, status):
    client.force_login(getattr(personas, who))
    assert client.get(reverse("reporting:versions")).status_code == status
    assert client.get(reverse("reporting:version_compare")).status_code == status


def test_hq_reads_but_cannot_draft(client, personas):
    client.force_login(personas.hq)
    assert client.post(reverse("reporting:versions"), NEXT).status_code == 403
    assert Plan.objects.count() == 1


def test_each_plan_section_has_its_own_field_ids(client, personas):
    """The adopt form of the draft and the revision form of the plan in force sit on one page:
    every id once, and each label names the field of its own plan (not the other's)."""
    import re

    client.force_login(personas.secretariat)
    client.post(reverse("reporting:versions"), NEXT)
    nxt = Plan.objects.get(code=NEXT["code"])
    BasicPolicy.objects.create(plan=nxt, number=1, title="市民サービスのデジタル化")
    page = client.get(reverse("reporting:versions")).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    section = page[page.index(f'id="plan-{nxt.pk}"') :]
    label = re.search(r'<label for="([^"]+)">主な変更内容', section).group(1)
    assert f'id="{label}"' in section and label.startswith(f"id_plan{nxt.pk}_")
    # A bad date is explained in the draft's own section, the input kept.
    response = client.post(
        reverse("reporting:versions"),
        {"action": "adopt", "plan": nxt.code, "adopted_on": "2027-13-01", "summary": "第2期"},
    )
    body = response.content.decode()
    own = body[body.index(f'id="plan-{nxt.pk}"') :]
    assert (
        "「2027-13-01」は日付として解釈できません。その日付はありません。" in own
        and "第2期</textarea>" in own
    )
