"""The 新旧対照表 (reporting.selectors.comparison): 第1.0版 against the next plan's draft 第2.0版,
read back from the compare screen's Word file with python-docx, from its Excel file with
openpyxl, and once through LibreOffice as the command's PDF."""

from __future__ import annotations

import io
import subprocess

import docx
import openpyxl
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import reverse

from initiatives.models import Initiative
from plans.models import BasicPolicy, PlanVersion
from reporting.documents.comparison import comparison_docx
from reporting.selectors import comparison
from reporting.selectors.comparison import CUT, MAX_CELL_CHARS, comparison_table
from reporting.services.carry_over import plan_carry_over
from tests.reporting.test_plan_compare import _decide, _next_plan

pytestmark = pytest.mark.django_db

TITLE = "第2期かほく市DX推進計画 新旧対照表"
AFTER = "第2期かほく市DX推進計画 第2.0版(下書き)"
BEFORE = "かほく市DX推進計画 第1.0版(確定)"
PLACES = [
    "計画名",
    "理念(テーマ)",
    "計画期間",
    "第1章 章題",
    "第1章 第20段落",
    "第2章 章題",
    "第2章 第1段落",
    "第3章 章題",
    "第4章 第1段落",
    # the draft has no table 4-1 yet: its ten lines of 第1.0版 are removed (checked below)
    "取り組み2.2",
    "取り組み2.3",
    "取り組み2.3 既に取り組んでいる事業",
    "取り組み2.9",
]


@pytest.fixture
def drafted(personas):
    """The next plan's draft after carry-over (2.3 abolished), 2.2 extended, 2.9 added."""
    current = personas.wg.plan
    nxt = _next_plan(personas, current)
    _decide(current, **{"2_3": "abolish"})
    plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)
    changed = Initiative.objects.get(policy__plan=nxt, policy__number=2, number=2)
    changed.description += "(SNSも活用)"
    changed.save()
    policy2 = BasicPolicy.objects.get(plan=nxt, number=2)
    Initiative.objects.create(policy=policy2, number=9, title="生成AIの活用")
    v10 = PlanVersion.objects.get(plan=current, number="1.0")
    v20 = PlanVersion.objects.get(plan=nxt, number="2.0")
    return current, nxt, {"a": f"v{v10.pk}", "b": f"v{v20.pk}"}


def _runs(cell) -> list[tuple[str, bool]]:
    return [(r.text, bool(r.underline)) for p in cell.paragraphs for r in p.runs]


def _rows(document) -> dict[str, list]:
    (grid,) = document.tables
    return {row.cells[0].paragraphs[0].text: row.cells for row in grid.rows[1:]}


def test_the_word_file_has_title_columns_one_row_per_change_and_exact_underlines(
    client, personas, drafted
):
    current, nxt, params = drafted
    client.force_login(personas.hq)
    url = reverse("reporting:version_compare")
    page = client.get(url, params).content.decode()
    assert 'name="shinkyu" value="docx"' in page and 'name="shinkyu" value="pdf"' in page
    response = client.get(url, {**params, "shinkyu": "docx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    document = docx.Document(io.BytesIO(response.content))
    texts = [p.text for p in document.paragraphs]
    assert texts[:3] == [TITLE, f"改正後:{AFTER}", f"改正前:{BEFORE}"]
    assert texts[3].startswith("※下線は改正箇所を示します")
    assert "「(略)」は変更のない部分の省略" in texts[4]
    section = document.sections[0]
    assert section.page_width > section.page_height  # A4 landscape
    assert round(section.page_width.mm) == 297

    (grid,) = document.tables
    assert [c.text for c in grid.rows[0].cells] == ["箇所", "改正後", "改正前"]
    places = [row.cells[0].paragraphs[0].text for row in grid.rows[1:]]
    assert [p for p in places if not p.startswith("表4-1 ")] == PLACES
    assert len([p for p in places if p.startswith("表4-1 ")]) == 10
    rows = _rows(document)

    # The period: numbers replaced whole, only they underlined, on both sides.
    after, before = rows["計画期間"][1], rows["計画期間"][2]
    assert _runs(after) == [
        ("令和", False),
        ("9", True),
        ("年度 (", False),
        ("2027", True),
        ("年度)〜令和", False),
        ("13", True),
        ("年度 (", False),
        ("2031", True),
        ("年度)", False),
    ]
    assert [t for t, marked in _runs(before) if marked] == ["3", "2021", "8", "2026"]

    # A long description changed at its end: the unchanged part before is 「(略)」 but for
    # the sentence the change follows; only the added words are underlined.
    after, before = rows["取り組み2.2"][1], rows["取り組み2.2"][2]
    assert _runs(after) == [
        ("(略)", False),
        ("市全体の情報発信力の強化を図る。", False),
        ("(SNSも活用)", True),
        ("\n担当WG:情報推進課WG／主管課:情報推進課", False),
    ]
    assert _runs(before) == [
        ("(略)", False),
        ("市全体の情報発信力の強化を図る。", False),
        ("\n担当WG:情報推進課WG／主管課:情報推進課", False),
    ]

    # Removed (and why), added: the whole passage underlined on its side.
    place, after, before = rows["取り組み2.3"]
    assert place.paragraphs[1].text == "最終年度の振り返り:廃止"
    assert _runs(after) == [("(削除)", False)]
    ((removed, marked),) = _runs(before)
    assert marked and removed.startswith("取り組み2.3 マイナンバーカードの普及の促進")
    assert _runs(rows["取り組み2.9"][1]) == [("取り組み2.9 生成AIの活用", True)]
    assert _runs(rows["取り組み2.9"][2]) == [("(新設)", False)]

    # The other order, chosen on the screen: 改正前 on the left.
    response = client.get(url, {**params, "shinkyu": "docx", "order": "before-left"})
    document = docx.Document(io.BytesIO(response.content))
    assert [p.text for p in document.paragraphs[1:3]] == [f"改正前:{BEFORE}", f"改正後:{AFTER}"]
    assert [c.text for c in document.tables[0].rows[0].cells] == ["箇所", "改正前", "改正後"]
    assert _runs(_rows(document)["取り組み2.9"][1]) == [("(新設)", False)]
    # An unknown order is the usual one.
    response = client.get(url, {**params, "shinkyu": "docx", "order": "x"})
    header = docx.Document(io.BytesIO(response.content)).tables[0].rows[0].cells
    assert [c.text for c in header] == ["箇所", "改正後", "改正前"]


def test_the_screen_s_excel_form_has_the_columns_and_the_underlines(client, personas, drafted):
    current, nxt, params = drafted
    client.force_login(personas.secretariat)
    response = client.get(reverse("reporting:version_compare"), {**params, "shinkyu": "xlsx"})
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(response.content), rich_text=True)
    ws = wb["新旧対照表"]
    assert ws["A1"].value == TITLE
    assert (ws["A2"].value, ws["A3"].value) == (f"改正後:{AFTER}", f"改正前:{BEFORE}")
    assert [ws.cell(6, c).value for c in (1, 2, 3)] == ["箇所", "改正後", "改正前"]
    places = [ws.cell(r, 1).value for r in range(7, ws.max_row + 1)]
    assert [p for p in places if not p.startswith("表4-1 ")] == [
        "取り組み2.3\n最終年度の振り返り:廃止" if p == "取り組み2.3" else p for p in PLACES
    ]
    period = ws.cell(7 + places.index("計画期間"), 2).value
    assert [(b.text, b.font.u) for b in period if not isinstance(b, str)] == [
        ("9", "single"),
        ("2027", "single"),
        ("13", "single"),
        ("2031", "single"),
    ]
    assert str(period) == "令和9年度 (2027年度)〜令和13年度 (2031年度)"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$6:$6"

    # Read in English, the screen is English but the city's document stays Japanese.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("reporting:version_compare"), params).content.decode()
    assert "Revised on the left, before revision on the right" in page
    response = client.get(reverse("reporting:version_compare"), {**params, "shinkyu": "xlsx"})
    ws = openpyxl.load_workbook(io.BytesIO(response.content))["新旧対照表"]
    assert (ws["A2"].value, ws["A3"].value) == (f"改正後:{AFTER}", f"改正前:{BEFORE}")
    assert ws.cell(7 + places.index("計画期間"), 2).value == (
        "令和9年度 (2027年度)〜令和13年度 (2031年度)"
    )


def test_a_pdf_that_cannot_be_made_says_so_on_the_page(client, personas, settings, drafted):
    current, nxt, params = drafted
    settings.OFFICE_SOFFICE = "/nonexistent/soffice"
    client.force_login(personas.hq)
    response = client.get(reverse("reporting:version_compare"), {**params, "shinkyu": "pdf"})
    assert response.status_code == 503
    assert "PDF を作成できません: サーバーに LibreOffice がありません。" in (
        response.content.decode()
    )


def test_the_document_is_bounded_with_a_note(plan):
    v10 = PlanVersion.objects.get(plan=plan, number="1.0")
    before = comparison.source(f"v{v10.pk}")
    content = {**before.content, "plan": {**before.content["plan"], "name": "改"}}
    content["chapters"] = [
        {**c, "body": c["body"] + "\n\n" + "追加の段落です。" * 400} for c in content["chapters"]
    ]
    after = comparison.Source("x", plan, content)
    table = comparison_table(before, after, max_rows=3)
    assert table.total == len(content["chapters"]) + 1  # each chapter's new paragraph, the name
    assert len(table.rows) == 3
    assert table.cut_note == (
        f"変更箇所が{table.total}件あるため、最初の3件を掲載しています。"
        "残りは画面の「計画の比較」でご確認ください。"
    )
    document = docx.Document(io.BytesIO(comparison_docx(table)))
    assert f"※{table.cut_note}" in [p.text for p in document.paragraphs]
    assert len(document.tables[0].rows) == 1 + 3
    added = _runs(document.tables[0].rows[2].cells[1])  # the first chapter's new paragraph
    assert added[-1] == (CUT, False)
    assert sum(len(t) for t, _m in added[:-1]) == MAX_CELL_CHARS


@pytest.mark.slow
def test_the_command_writes_all_three_formats_and_the_pdf_reads_whole(personas, drafted, tmp_path):
    """The one LibreOffice conversion of this module: the command's PDF."""
    current, nxt, _params = drafted
    written = {}
    for fmt in ("docx", "xlsx", "pdf"):
        out = tmp_path / f"taisho.{fmt}"
        stdout = io.StringIO()
        call_command(
            "export_comparison",
            "--plan",
            current.code,
            "--from",
            "1.0",
            "--to",
            "draft",
            "--to-plan",
            nxt.code,
            "--format",
            fmt,
            "--output",
            str(out),
            stdout=stdout,
        )
        assert f"を {out} に書き出しました" in stdout.getvalue()
        written[fmt] = out
    assert written["docx"].read_bytes()[:2] == b"PK" and written["xlsx"].read_bytes()[:2] == b"PK"
    assert docx.Document(str(written["docx"])).paragraphs[0].text == TITLE
    assert openpyxl.load_workbook(written["xlsx"])["新旧対照表"]["A1"].value == TITLE
    info = subprocess.run(
        ["pdfinfo", str(written["pdf"])], capture_output=True, text=True, check=True
    ).stdout
    assert "Page size:       841.89 x 595.3" in info  # A4 landscape
    # LibreOffice spaces Latin letters and digits from kana and kanji, as Word does.
    text = subprocess.run(
        ["pdftotext", "-layout", str(written["pdf"]), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.replace(" ", "")
    for whole in (TITLE, f"改正後:{AFTER}", "取り組み2.9 生成AIの活用", "(新設)", "(削除)"):
        assert whole.replace(" ", "") in text
    assert "最終年度の振り返り:廃止" in text


@pytest.mark.parametrize(
    "args,message",
    [
        (["--plan", "nope", "--from", "1.0", "--to", "draft"], "計画「nope」が見つかりません。"),
        (
            ["--plan", "kahoku-dx-r3-r8", "--from", "9.9", "--to", "draft"],
            "計画「かほく市DX推進計画」に第9.9版はありません。版: 0.5、1.0",
        ),
        (
            ["--plan", "kahoku-dx-r3-r8", "--from", "0.5", "--to", "1.0"],
            "第0.5版の内容はこのポータルに記録されていません。",
        ),
    ],
)
def test_the_command_names_what_it_cannot_find(plan, tmp_path, args, message):
    out = tmp_path / "x.docx"
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("export_comparison", *args, "--output", str(out), stdout=io.StringIO())
    assert not out.exists()
