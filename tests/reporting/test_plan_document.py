"""The plan as the published document: .docx read back with python-docx, and by LibreOffice."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from django.core.management import call_command

from initiatives.models import Initiative, ProjectUnderWay
from plans.models import BasicPolicy, PlanChapter, PlanVersion
from reporting.document import plan_document
from reporting.plan_content import version_content
from tests.factory import PLAN_CODE

pytestmark = pytest.mark.django_db


def _export(tmp_path: Path) -> docx.document.Document:
    out = tmp_path / "plan.docx"
    call_command(
        "export_plan_document",
        "--plan",
        PLAN_CODE,
        "--version",
        "1.0",
        "--output",
        str(out),
        stdout=io.StringIO(),
    )
    return docx.Document(str(out))


def _text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


def test_document_has_the_plan_s_chapters_as_real_headings(plan, tmp_path):
    document = _export(tmp_path)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == [
        "目次",
        "1. かほく市DX推進計画の背景と目的",
        "2. かほく市DX推進計画の位置付け",
        "3. かほく市DX推進計画の推進体制",
        "4. 計画期間",
        "5. 基本方針",
        "6. 取組内容について",
    ]
    assert document.paragraphs[6].text == "かほく市DX推進計画"  # the cover's title
    assert any(p.text == "【第1.0版】" for p in document.paragraphs[:10])
    assert any(p.text == "令和4年2月" for p in document.paragraphs[:12])
    xml = document.element.xml
    assert 'TOC \\o "1-2"' in xml  # a real table-of-contents field
    text = _text(document)
    # the source's typo 令和8年度(2023年度) is corrected; chapter text comes from the plan
    assert "令和3年度(2021年度)から令和8年度(2026年度)までとします" in text
    assert "デジタル・ガバメント実行計画" in text


def test_document_carries_every_policy_initiative_and_project(plan, tmp_path):
    text = _text(_export(tmp_path))
    for policy in BasicPolicy.objects.filter(plan=plan):
        assert policy.title in text
    initiatives = Initiative.objects.filter(policy__plan=plan)
    assert initiatives.count() == 13
    for ini in initiatives:
        assert f"取り組み{ini.code} {ini.title}" in text
    projects = ProjectUnderWay.objects.filter(initiative__policy__plan=plan)
    assert projects.count() == 22
    for project in projects:
        assert f"{project.era_label} {project.name}:{project.section.name}" in text


def test_table_4_1_is_a_real_table_with_years_and_merged_cells(plan, tmp_path):
    document = _export(tmp_path)
    (table,) = document.tables
    header = [c.text for c in table.rows[0].cells]
    assert header == [
        "項目",
        "副項目",
        "R3 (2021)",
        "R4 (2022)",
        "R5 (2023)",
        "R6 (2024)",
        "R7 (2025)",
        "R8 (2026)",
    ]
    xml = table._tbl.xml
    assert "w:vMerge" in xml  # 項目 merged down over its rows, the R7 milestone over 3 groups
    assert "w:tblHeader" in xml  # header repeated on every page
    texts = {c.text for row in table.rows for c in row.cells}
    assert "年度末迄に27申請のオンライン化完了" in texts
    assert any("ガバメント・クラウド" in t for t in texts)


def test_frozen_version_prints_as_adopted_and_a_draft_prints_its_edited_text(plan, personas):
    from plans.models import PlanStatus
    from reporting.services.versions import plan_create_next

    version = PlanVersion.objects.get(plan=plan, number="1.0")
    assert version.frozen_at is not None  # frozen as loaded
    chapter = PlanChapter.objects.get(version=version, number=2)
    chapter.body += "\n\n### 追記"
    chapter.save()
    frozen = docx.Document(io.BytesIO(plan_document(version_content(version))))
    assert "追記" not in [p.text for p in frozen.paragraphs]

    nxt = plan_create_next(
        actor=personas.secretariat,
        source=plan,
        code="kahoku-dx-r9-r13",
        name="第2期かほく市DX推進計画",
        theme=plan.theme,
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )
    assert nxt.status == PlanStatus.DRAFT
    draft = nxt.versions.get()
    assert draft.frozen_at is None
    new_chapter = draft.chapters.get(number=2)  # copied from 第1.0版, to be rewritten
    new_chapter.body = "令和9年度からの計画です。\n\n### 新しい節\n\n- 箇条書き"
    new_chapter.save()
    document = docx.Document(io.BytesIO(plan_document(version_content(draft))))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert ("Normal", "令和9年度からの計画です。") in paragraphs
    assert ("Heading 2", "新しい節") in paragraphs
    assert ("List Bullet", "箇条書き") in paragraphs
    assert any(t == "【第2.0版】" for _, t in paragraphs)


def test_libreoffice_converts_the_document_to_pdf(plan, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (soffice) is required: make browser installs it"
    source = tmp_path / "plan.docx"
    source.write_bytes(
        plan_document(version_content(PlanVersion.objects.get(plan=plan, number="1.0")))
    )
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    pdf = tmp_path / "plan.pdf"
    assert result.returncode == 0, result.stderr
    assert pdf.exists() and pdf.stat().st_size > 10_000
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, timeout=60
    ).stdout
    flat = "".join(text.split())  # pdftotext spaces Latin runs inside Japanese text
    assert "表4-1スケジュール予定" in flat
    assert "6.取組内容について" in flat
    assert "年度末迄に27申請のオンライン化完了" in flat
