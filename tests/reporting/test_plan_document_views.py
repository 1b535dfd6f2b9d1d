"""The plan document's screens (PDF download, print view), the figures' data as at a version's
date, and the data migration that mends the first loads' text. One LibreOffice conversion."""

from __future__ import annotations

import subprocess
from datetime import date
from importlib import import_module

import pytest
from django.apps import apps
from django.test import override_settings
from django.urls import reverse

from plans.models import PlanChapter, PlanVersion
from reporting.selectors.plan_content import document_content, organisation_as_of, plan_content
from workgroups.models import ExternalAdvisor, SectionName, WorkingGroup, WorkingGroupName

pytestmark = pytest.mark.django_db


@pytest.mark.slow
def test_pdf_download_for_headquarters(client, personas, tmp_path):
    client.force_login(personas.hq)
    version = PlanVersion.objects.get(number="1.0")
    response = client.get(reverse("reporting:version_pdf", args=[version.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "%E3%80%90%E7%AC%AC1.0%E7%89%88%E3%80%91.pdf" in response["Content-Disposition"]
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(response.content)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "A4" in info.stdout
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "年度末迄に27申請のオンライン化完了" in "".join(text.split())


@override_settings(OFFICE_SOFFICE="/nonexistent/soffice")
def test_pdf_without_libreoffice_returns_to_the_versions_screen_with_the_reason(client, personas):
    client.force_login(personas.secretariat)
    version = PlanVersion.objects.get(number="1.0")
    response = client.get(reverse("reporting:version_pdf", args=[version.pk]), follow=True)
    assert response.redirect_chain == [(reverse("reporting:versions"), 302)]
    assert (
        "PDF を作成できません: サーバーに LibreOffice がありません。" in response.content.decode()
    )


def test_pdf_refuses_a_version_without_content_and_a_member(client, personas):
    v05 = PlanVersion.objects.get(number="0.5")
    client.force_login(personas.hq)
    assert client.get(reverse("reporting:version_pdf", args=[v05.pk])).status_code == 404
    client.force_login(personas.member)
    v10 = PlanVersion.objects.get(number="1.0")
    assert client.get(reverse("reporting:version_pdf", args=[v10.pk])).status_code == 403


def test_versions_screen_offers_word_pdf_and_print(client, personas):
    client.force_login(personas.hq)
    version = PlanVersion.objects.get(number="1.0")
    page = client.get(reverse("reporting:versions")).content.decode()
    for name in ("version_document", "version_pdf", "version_print"):
        assert reverse(f"reporting:{name}", args=[version.pk]) in page


def test_print_view_draws_the_figures_and_merges_table_4_1(client, personas):
    client.force_login(personas.hq)
    version = PlanVersion.objects.get(number="1.0")
    page = client.get(reverse("reporting:version_print", args=[version.pk])).content.decode()
    assert page.count('<figure class="plan-figure"><svg') == 3
    assert "図3-2 推進本部及びWGの構成</figcaption>" in page
    assert "原本を参照" not in page
    assert 'class="plan-landscape"' in page and "css/plan_document.css" in page
    # 項目 spans its lines; the R7 milestone spans the three groups' rows
    assert '<th scope="rowgroup" rowspan="2">かほく市DX推進計画関連</th>' in page
    assert 'rowspan="3">R7年度末までに標準化・共通化システム' in page
    assert "(以下については既に取り組んでいる項目について分類するものであり" in page
    assert "<li>H30 河川カメラの設置及びWEB公開：都市建設課</li>" in page
    assert page.count("<h2>6. 取組内容について</h2>") == 1
    assert "1. 1." not in page


def test_figures_show_the_bodies_as_at_the_version_s_date(plan):
    """Names as they were, WGs dissolved before the date left out, advisors then appointed."""
    wg = WorkingGroup.objects.get(plan=plan, name="総務課WG")
    WorkingGroupName.objects.create(
        working_group=wg, previous_name="総務課WG", name="行政改革WG", valid_from=date(2024, 4, 1)
    )
    wg.name = "行政改革WG"
    wg.save()
    gone = WorkingGroup.objects.get(plan=plan, name="長寿介護課WG")
    gone.dissolved_on = date(2021, 10, 1)
    gone.save()
    section = wg.lead_section
    SectionName.objects.create(
        section=section, previous_name="総務課", name="総務企画課", valid_from_fy=2024
    )
    section.name = "総務企画課"
    section.save()
    ExternalAdvisor.objects.create(
        plan=plan, name="地域情報化アドバイザー", start_date=date(2021, 4, 1)
    )
    ExternalAdvisor.objects.create(plan=plan, name="後任の専門家", start_date=date(2024, 4, 1))

    org = organisation_as_of(plan, date(2022, 2, 1))
    names = [w["name"] for w in org["working_groups"]]
    assert "総務課WG" in names and "行政改革WG" not in names
    assert "長寿介護課WG" not in names
    assert (
        next(w for w in org["working_groups"] if w["name"] == "総務課WG")["lead_section"]
        == "総務課"
    )
    assert [a["name"] for a in org["advisors"]] == ["地域情報化アドバイザー"]
    assert org["secretariat"] == "情報推進課"
    assert org["headquarters"]["members"][0] == {
        "role": "chief",
        "role_label": "本部長",
        "title": "市長",
    }
    # the frozen 第1.0版 reads them as at its date (令和4年2月)
    content = document_content(PlanVersion.objects.get(plan=plan, number="1.0"))
    assert content["organisation"]["as_of"] == "2022-02-01"
    assert "総務課WG" in [w["name"] for w in content["organisation"]["working_groups"]]
    assert "organisation" not in plan_content(plan)  # comparing contents does not read them
    later = organisation_as_of(plan, date(2024, 6, 1))
    assert "行政改革WG" in [w["name"] for w in later["working_groups"]]
    assert [a["name"] for a in later["advisors"]] == ["地域情報化アドバイザー", "後任の専門家"]


def test_migration_mends_only_text_in_the_known_broken_form(plan):
    migration = import_module("reporting.migrations.0003_plan_text_as_published")
    version = PlanVersion.objects.get(plan=plan, number="1.0")
    one = version.chapters.get(number=1)
    two = version.chapters.get(number=2)
    # as the first loads left it
    one.body = one.body.replace(
        "サービスのあり方に焦点を当てて", "サービスのあり方に\n\n焦点を当てて"
    )
    one.save()
    two.body = two.body.replace(
        "図2-1 DX推進計画の位置付け", "（図2-1 DX推進計画の位置付け：図は原本を参照）"
    )
    two.save()
    version.chapters.filter(number=6).delete()
    content = version.content
    content["chapters"] = [c for c in content["chapters"] if c["number"] != 6]
    content["chapters"][1]["body"] = two.body
    version.content = content
    version.save()
    # a chapter staff rewrote keeps its text
    three = version.chapters.get(number=3)
    three.body = "（図3-1 推進体制と役割：図は原本を参照してください）"
    three.save()

    migration.forwards(apps, None)

    version.refresh_from_db()
    one.refresh_from_db()
    two.refresh_from_db()
    three.refresh_from_db()
    assert "サービスのあり方に焦点を当てて" in one.body
    assert two.body.endswith("\n\n図2-1 DX推進計画の位置付け")
    assert three.body == "（図3-1 推進体制と役割：図は原本を参照してください）"
    six = version.chapters.get(number=6)
    assert six.title == "取組内容について" and six.body.startswith("(以下については")
    frozen = {c["number"]: c for c in version.content["chapters"]}
    assert frozen[2]["body"].endswith("\n\n図2-1 DX推進計画の位置付け")
    assert frozen[6]["body"] == six.body
    # twice changes nothing
    before = (version.content, PlanChapter.objects.filter(version=version).count())
    migration.forwards(apps, None)
    version.refresh_from_db()
    assert (version.content, PlanChapter.objects.filter(version=version).count()) == before
