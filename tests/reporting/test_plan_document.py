"""The plan as the published document: the .docx read back with python-docx, and the PDF the
server makes from it with LibreOffice (converted once for the module) read with poppler."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import docx
import pytest
from django.core.management import call_command
from django.db import transaction
from docx.enum.section import WD_ORIENT
from docx.enum.shape import WD_INLINE_SHAPE

from initiatives.models import Initiative, ProjectUnderWay
from plans.models import BasicPolicy, PlanChapter, PlanVersion
from reporting.documents.plan import plan_document
from reporting.selectors.plan_content import version_content
from tests.factory import PLAN_CODE, load_plan

pytestmark = pytest.mark.slow

CHAPTERS = [
    "1. かほく市DX推進計画の背景と目的",
    "2. かほく市DX推進計画の位置付け",
    "3. かほく市DX推進計画の推進体制",
    "4. 計画期間",
    "5. 基本方針",
    "6. 取組内容について",
]
CHAPTER_6_NOTE = (
    "(以下については既に取り組んでいる項目について分類するものであり、"
    "今後新たな取組等を検討し拡充するものです)"
)
SVG_BLIP = "{http://schemas.microsoft.com/office/drawing/2016/SVG/main}svgBlip"


def _export(out: Path, fmt: str) -> bytes:
    call_command(
        "export_plan_document",
        "--plan",
        PLAN_CODE,
        "--version",
        "1.0",
        "--format",
        fmt,
        "--output",
        str(out),
        stdout=io.StringIO(),
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def published(django_db_setup, django_db_blocker, tmp_path_factory):
    """第1.0版 written by the command as .docx and as PDF (one LibreOffice conversion), with
    what the data says must be in it; the database is left as it was."""
    tmp = tmp_path_factory.mktemp("plan")
    with django_db_blocker.unblock(), transaction.atomic():
        plan = load_plan()
        expected = {
            "policies": list(BasicPolicy.objects.filter(plan=plan).values_list("title", flat=True)),
            "initiatives": [
                f"取り組み{i.code} {i.title}" for i in Initiative.objects.filter(policy__plan=plan)
            ],
            "projects": [
                f"{p.era_label} {p.name}:{p.section.name}"
                for p in ProjectUnderWay.objects.filter(initiative__policy__plan=plan)
            ],
        }
        docx_data = _export(tmp / "plan.docx", "docx")
        pdf_data = _export(tmp / "plan.pdf", "pdf")
        transaction.set_rollback(True)
    pdf = tmp / "plan.pdf"
    pages = int(re.search(r"Pages:\s+(\d+)", _run("pdfinfo", str(pdf))).group(1))
    texts = [
        _run("pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-") for n in range(1, pages + 1)
    ]
    sizes = _run("pdfinfo", "-f", "1", "-l", str(pages), str(pdf))
    return {
        "docx": docx.Document(io.BytesIO(docx_data)),
        "pdf": pdf,
        "pdf_bytes": pdf_data,
        "pages": pages,
        "texts": texts,
        "flat": ["".join(t.split()) for t in texts],
        "sizes": re.findall(r"Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+)", sizes),
        "expected": expected,
    }


def _run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True).stdout


def _text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [c.text for c in row.cells]
    return "\n".join(parts)


# --- the .docx ------------------------------------------------------------------------------


def test_cover_contents_and_chapters_as_the_seed_numbers_them(published):
    document = published["docx"]
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["目次", *CHAPTERS]
    cover = [p.text for p in document.paragraphs[:11] if p.text]
    assert cover == ["かほく市DX推進計画", "【第1.0版】", "令和4年2月", "かほく市"]
    # contents: each chapter with a PAGEREF to a bookmark on its heading
    xml = document.element.xml
    for n in range(1, 7):
        assert f"PAGEREF _PlanChapter{n} \\h" in xml
        assert f'w:name="_PlanChapter{n}"' in xml
    # chapter 5 numbers each policy once (not 「1. 1. 産業・生活のデジタル化」)
    level3 = [p.text for p in document.paragraphs if p.style.name == "Heading 3"]
    assert level3 == [
        "1. 産業・生活のデジタル化",
        "2. 行政サービスの利便性向上",
        "3. 行政事務の効率化",
        "4. 安全・安心のデジタル基盤強化",
    ]
    assert not any(p.style.name == "List Number" for p in document.paragraphs)


def test_seed_text_whole_chapter_6_note_and_no_placeholders(published):
    document = published["docx"]
    paragraphs = [p.text for p in document.paragraphs]
    assert any(
        t.endswith("サービスのあり方に焦点を当ててデジタル・ガバメント推進方針が示されています。")
        for t in paragraphs
    )
    assert not any(t.endswith("サービスのあり方に") for t in paragraphs)
    six = paragraphs.index("6. 取組内容について")
    assert paragraphs[six + 1] == CHAPTER_6_NOTE
    text = _text(document)
    assert "原本を参照" not in text
    assert "令和3年度(2021年度)から令和8年度(2026年度)までとします" in text


def test_the_three_figures_are_vector_pictures_with_their_captions(published):
    document = published["docx"]
    shapes = document.inline_shapes
    assert [s.type for s in shapes] == [WD_INLINE_SHAPE.PICTURE] * 3
    for shape in shapes:
        assert 160 <= shape.width.mm <= 171  # the text width of the page
        blip = shape._inline.graphic.graphicData.pic.blipFill.blip
        (svg_blip,) = blip.iter(SVG_BLIP)
        rid = svg_blip.get(
            "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"
        )
        part = document.part.related_parts[rid]
        assert part.content_type == "image/svg+xml"
        assert part.blob.startswith(b"<svg")
        fallback = document.part.related_parts[blip.embed]
        assert fallback.content_type == "image/png"
    captions = [p.text for p in document.paragraphs if p.text.startswith("図")]
    assert captions == [
        "図2-1 DX推進計画の位置付け",
        "図3-1 推進体制と役割",
        "図3-2 推進本部及びWGの構成",
    ]
    svgs = [
        document.part.related_parts[
            next(s._inline.graphic.graphicData.pic.blipFill.blip.iter(SVG_BLIP)).get(
                "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"
            )
        ].blob.decode()
        for s in shapes
    ]
    # drawn from the data: the related plans, the bodies and the WGs with their sections
    assert "石川県デジタル化推進計画" in svgs[0] and "［上位計画］" in svgs[0]
    assert "事務局(情報推進課)" in svgs[1] and "DX推進WG(7グループ)" in svgs[1]
    assert "生活の安全・安心WG" in svgs[2] and "構成課:総務課、健康福祉課" in svgs[2]
    assert "令和4年2月現在" in svgs[2]


def test_table_4_1_on_a_landscape_section_as_a_real_table(published):
    document = published["docx"]
    orientations = [s.orientation for s in document.sections]
    assert orientations == [WD_ORIENT.PORTRAIT, WD_ORIENT.LANDSCAPE, WD_ORIENT.PORTRAIT]
    landscape = document.sections[1]
    assert landscape.page_width.mm == pytest.approx(297, abs=0.5)
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == [
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
    assert "w:vMerge" in xml and "w:tblHeader" in xml
    widths = [
        int(c.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}w"))
        for c in table._tbl.tblGrid
    ]
    assert widths[0] >= 62 * 56  # 項目 about 62 mm (twips), not squeezed
    # the table sits between the section breaks: after the one that ends portrait section 1
    body = list(document.element.body)
    breaks = [i for i, el in enumerate(body) if el.find(".//{*}sectPr") is not None]
    assert breaks[0] < body.index(table._tbl) < breaks[1]


def test_footer_has_a_page_field_and_the_cover_none(published):
    section = published["docx"].sections[0]
    footer = section.footer._element.xml
    assert '<w:instrText xml:space="preserve"> PAGE </w:instrText>' in footer
    assert section.different_first_page_header_footer is True
    assert section.first_page_footer.paragraphs[0].text == ""
    assert [s.different_first_page_header_footer for s in published["docx"].sections[1:]] == [
        False,
        False,
    ]


def test_every_policy_initiative_and_project_of_version_1_0(published):
    text = _text(published["docx"])
    expected = published["expected"]
    assert len(expected["policies"]) == 4
    assert len(expected["initiatives"]) == 13
    assert len(expected["projects"]) == 22
    for value in expected["policies"] + expected["initiatives"] + expected["projects"]:
        assert value in text, value
    assert "概要" in [c.text for t in published["docx"].tables[1:] for r in t.rows for c in r.cells]


# --- the PDF --------------------------------------------------------------------------------


def _chapter_pages(published) -> dict[str, int]:
    """Chapter heading -> the page it starts on (its first line), after the contents page."""
    out = {}
    for number, text in enumerate(published["texts"], start=1):
        first = next((line for line in text.splitlines() if line.strip()), "")
        squeezed = "".join(first.split())
        for chapter in CHAPTERS:
            if squeezed == "".join(chapter.split()):
                out[chapter] = number
    return out


def test_pdf_is_a4_with_table_4_1_on_the_one_landscape_page(published):
    assert 10 <= published["pages"] <= 16
    landscape = [int(n) for n, w, h in published["sizes"] if float(w) > float(h)]
    portrait = [
        (round(float(w)), round(float(h))) for n, w, h in published["sizes"] if float(w) < float(h)
    ]
    assert set(portrait) == {(595, 842)}
    assert len(landscape) == 1
    (page,) = landscape
    assert "表4-1スケジュール予定" in published["flat"][page - 1]
    assert "年度末迄に27申請のオンライン化完了" in published["flat"][page - 1]


def test_pdf_contents_page_numbers_are_where_the_chapters_are(published):
    pages = _chapter_pages(published)
    assert list(pages) == CHAPTERS
    contents = published["texts"][1]
    assert "目次" in contents
    for chapter, page in pages.items():
        line = next(
            line
            for line in contents.splitlines()
            if "".join(line.split()).startswith("".join(chapter.split()))
        )
        assert int(re.search(r"(\d+)\s*$", line).group(1)) == page, line
    # and the footer numbers each page as the contents count them
    for number in (2, pages[CHAPTERS[5]]):
        assert f"-{number}-" in published["flat"][number - 1]
    assert "-1-" not in published["flat"][0]  # the cover has no number


def test_pdf_figures_are_vectors_with_text_and_fonts_embedded(published):
    pdf = str(published["pdf"])
    images = _run("pdfimages", "-list", pdf).splitlines()[2:]
    assert images == []  # the figures are drawn, not pasted as pictures
    fonts = _run("pdffonts", pdf).splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # emb
    pages = _chapter_pages(published)
    chapter_2 = "".join(published["flat"][pages[CHAPTERS[1]] - 1 : pages[CHAPTERS[2]] - 1])
    assert "石川県デジタル化推進計画" in chapter_2 and "図2-1DX推進計画の位置付け" in chapter_2
    chapter_3 = "".join(published["flat"][pages[CHAPTERS[2]] - 1 : pages[CHAPTERS[3]] - 1])
    for text in (
        "かほく市DX推進本部",
        "事務局(情報推進課)",
        "生活の安全・安心WG",
        "図3-2推進本部及びWGの構成",
    ):
        assert text in chapter_3, text


def test_pdf_cuts_no_chosen_text(published):
    """Each of these is whole on one page (not split by a page or a cell too narrow)."""
    chosen = [
        "R7年度末までに標準化・共通化システム(ガバメント・クラウド)への移行完了",
        "次期基幹系情報システム(福祉系)更改機器賃貸借",
        "⑨選挙人名簿管理⑩国民年金⑪国民健康保険⑫後期高齢者医療",
        CHAPTER_6_NOTE,
        "サービスのあり方に焦点を当ててデジタル・ガバメント推進方針が示されています。",
        *[p.replace(" ", "") for p in published["expected"]["projects"]],
    ]
    for text in chosen:
        flat = "".join(text.split())
        assert any(flat in page for page in published["flat"]), text


# --- versions, drafts and bad input ---------------------------------------------------------


@pytest.mark.django_db
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
    assert any(t == "（決定前）" for _, t in paragraphs[:12])  # the cover of an undecided draft
    # chapter 2 lost its caption line: only the figures still placed remain
    assert len(document.inline_shapes) == 2


@pytest.mark.django_db
def test_command_refuses_an_unknown_version_and_a_version_without_content(plan, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="第9.9版が見つかりません"):
        call_command(
            "export_plan_document",
            "--plan",
            PLAN_CODE,
            "--version",
            "9.9",
            "--output",
            str(tmp_path / "x.docx"),
        )
    with pytest.raises(CommandError, match="第0.5版の内容はこのポータルに記録されていません"):
        call_command(
            "export_plan_document",
            "--plan",
            PLAN_CODE,
            "--version",
            "0.5",
            "--output",
            str(tmp_path / "x.docx"),
        )
    assert not (tmp_path / "x.docx").exists()
