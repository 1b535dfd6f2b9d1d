"""The 新旧対照表: the changed passages of a plan, 改正後 beside 改正前, changes underlined.

Cities revise a plan with this table: one row per changed passage (a chapter's paragraph, a
basic policy, an initiative, a project under way, an indicator, a line of table 4-1), the
place it stands in (箇所), the passage as it will read and as it read. The changed tokens are
underlined on both sides (added or rewritten in 改正後, removed or rewritten in 改正前) and
long unchanged stretches are shortened to 「(略)」 with the sentence around each change kept.

Items are matched by ``content_diff.keyed_items`` and diffed by ``content_diff.FieldChange``
(the tokenizer, the bounds and the time budget the screen uses), so the table and the screen
never disagree. The table is bounded: at most ``MAX_ROWS`` rows and ``MAX_CELL_CHARS``
characters a cell, with a note saying what was left out. The same rows are written as Word
(.docx, A4 landscape), PDF (LibreOffice from that .docx) and Excel (.xlsx).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import openpyxl
from django.utils import translation
from django.utils.translation import gettext
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Font

from initiatives.models import ENDING_DECISIONS, CarryOverDecision
from plans.models import PlanChapter
from portal_lib import era, xlsx_layout
from portal_lib.office import convert_to_pdf
from portal_lib.sheet_writing import clean_text, save_workbook, set_cell
from reporting import docx_parts
from reporting.comparison import Source
from reporting.content_diff import LINE_DIFF_MAX_WORK, DiffBudget, FieldChange, _work, keyed_items

MAX_ROWS = 300  # rows a document holds; past it, a note and the screen for the rest
MAX_CELL_CHARS = 2_000  # characters a cell shows; past it, 「(以下略)」
OMIT = "(略)"
OMIT_OVER = 80  # an unchanged stretch longer than this is shortened to 「(略)」
CONTEXT = 40  # kept beside a change: back to the sentence's start / on to its end if nearer
CONTEXT_SHORT = 20  # … else this many characters
NEW, GONE, CUT = "(新設)", "(削除)", "(以下略)"

AFTER_LEFT, BEFORE_LEFT = "after-left", "before-left"
ORDERS = (AFTER_LEFT, BEFORE_LEFT)


def order_choices() -> list[tuple[str, str]]:
    """The screen's choice of column order (in the reader's language; the document itself is
    always in Japanese, the language the city publishes it in)."""
    return [
        (AFTER_LEFT, gettext("改正後を左、改正前を右")),
        (BEFORE_LEFT, gettext("改正前を左、改正後を右")),
    ]


def legend() -> list[str]:
    return [
        (
            "下線は改正箇所を示します(改正後の欄は追加・変更後の部分、"
            "改正前の欄は削除・変更前の部分)。"
        ),
        (
            "「(略)」は変更のない部分の省略、「(新設)」は新たに設ける箇所、"
            "「(削除)」は削る箇所を示します。"
        ),
    ]


@dataclass(frozen=True)
class Piece:
    text: str
    marked: bool = False  # a change: underlined


@dataclass
class Row:
    place: str  # 箇所: 第4章 第1段落, 基本方針2, 取り組み2.1 …
    after: list[Piece]
    before: list[Piece]
    note: str = ""


@dataclass
class ComparisonTable:
    title: str
    after_label: str
    before_label: str
    rows: list[Row] = field(default_factory=list)
    total: int = 0  # changed passages found (rows holds at most MAX_ROWS of them)

    @property
    def cut_note(self) -> str:
        if self.total <= len(self.rows):
            return ""
        return (
            f"変更箇所が{self.total:,}件あるため、最初の{len(self.rows):,}件を掲載しています。"
            "残りは画面の「計画の比較」でご確認ください。"
        )


# --------------------------------------------------------------------------------------------
# Passages: what a row compares
# --------------------------------------------------------------------------------------------


@dataclass
class _Passage:
    place: str
    text: str
    order: tuple[Any, ...]
    note: str = ""


def _lines(*parts: Any) -> str:
    return "\n".join(str(p) for p in parts if p not in (None, ""))


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value)


def _fiscal_year(fy: Any) -> str:
    try:
        return era.format_fiscal_year(int(fy))
    except (TypeError, ValueError, era.EraError):
        return f"{fy}年度"


def _code_order(code: str) -> tuple[int, int]:
    policy, _dot, number = code.partition(".")
    return (int(policy) if policy.isdigit() else 0, int(number) if number.isdigit() else 0)


def _passages(content: dict[str, Any]) -> dict[str, _Passage]:
    """Every passage but the chapters' paragraphs, by the key it is matched on."""
    items = keyed_items(content)
    out: dict[str, _Passage] = {}
    plan = content.get("plan", {})
    for i, (name, label) in enumerate(
        [
            ("name", "計画名"),
            ("theme", "理念(テーマ)"),
            ("goal", "目標"),
            ("period", "計画期間"),
        ]
    ):
        out[f"plan:{name}"] = _Passage(label, _number(plan.get(name)), (0, i))
    rows: dict[str, list[dict[str, Any]]] = {}
    for cell in items["cells"].values():
        rows.setdefault(cell["label"], []).append(cell)
    for i, (label, cells) in enumerate(rows.items()):
        text = _lines(
            label,
            *(
                f"{_fiscal_year(c['fiscal_year'])}:{c.get('text', '')}"
                + (f"({c['col_span']}年度分)" if c.get("col_span", 1) > 1 else "")
                + (f"({c['row_span']}行分)" if c.get("row_span", 1) > 1 else "")
                for c in cells
            ),
        )
        out[f"table:{label}"] = _Passage(f"表4-1 {label}", text, (2, i))
    for key, p in items["policies"].items():
        text = _lines(
            f"{key} {p.get('title', '')}",
            p.get("heading"),
            p.get("summary"),
            p.get("classification"),
        )
        out[f"policy:{key}"] = _Passage(key, text, (3, p["number"], 0, 0, 0))
    for code, ini in items["initiatives"].items():
        staff = "／".join(
            s
            for s in (
                f"担当WG:{ini['working_group']}" if ini.get("working_group") else "",
                f"主管課:{ini['lead_section']}" if ini.get("lead_section") else "",
            )
            if s
        )
        text = _lines(
            f"取り組み{code} {ini.get('title', '')}",
            f"【{ini['flag']}】" if ini.get("flag") else "",
            ini.get("description"),
            staff,
        )
        note = ""
        if ini.get("final_decision") in ENDING_DECISIONS:
            note = f"最終年度の振り返り:{CarryOverDecision(ini['final_decision']).label}"
        out[f"initiative:{code}"] = _Passage(
            f"取り組み{code}", text, (3, *_code_order(code), 0, 0), note
        )
    for n, (key, pr) in enumerate(items["projects"].items()):
        code = pr["where"]
        text = f"{pr.get('era_label', '')} {pr.get('name', '')}:{pr.get('section', '')}"
        out[f"project:{key}"] = _Passage(
            f"取り組み{code} 既に取り組んでいる事業",
            text.strip(),
            (3, *_code_order(code), 1, n),
        )
    for n, (key, ind) in enumerate(items["indicators"].items()):
        code = key.split(" ", 1)[0]
        unit = "、".join(s for s in (ind.get("unit"), ind.get("direction")) if s)
        targets = "、".join(
            f"{_fiscal_year(fy)} {_number(v)}" for fy, v in sorted(ind.get("targets", {}).items())
        )
        text = _lines(
            ind.get("name", "") + (f"({unit})" if unit else ""),
            f"基準値:{_number(ind.get('baseline'))}({_fiscal_year(ind.get('baseline_fy'))})"
            if ind.get("baseline") is not None
            else "",
            f"目標値:{targets}" if targets else "",
        )
        out[f"indicator:{key}"] = _Passage(
            f"取り組み{code} 指標", text, (3, *_code_order(code), 2, n)
        )
    return out


def _blocks(chapter: dict[str, Any] | None) -> list[str]:
    if chapter is None:
        return []
    shown = {"h": "{}", "li": "・{}", "p": "{}"}
    return [shown[kind].format(text) for kind, text in PlanChapter(body=chapter["body"]).blocks()]


def _chapter_pairs(
    before: dict[str, Any], after: dict[str, Any]
) -> list[tuple[_Passage | None, _Passage | None]]:
    """Each chapter's title, and its paragraphs aligned: a paragraph rewritten in place is one
    row, one added or removed is a row of its own."""
    a = {c["number"]: c for c in before.get("chapters", [])}
    b = {c["number"]: c for c in after.get("chapters", [])}
    out: list[tuple[_Passage | None, _Passage | None]] = []
    for number in sorted(set(a) | set(b)):
        chapter = f"第{number}章"
        title = f"{chapter} 章題"
        old, new = a.get(number), b.get(number)
        out.append(
            (
                _Passage(title, old["title"], (1, number, -1)) if old else None,
                _Passage(title, new["title"], (1, number, -1)) if new else None,
            )
        )
        old_blocks, new_blocks = _blocks(old), _blocks(new)
        if _work(old_blocks, new_blocks) > LINE_DIFF_MAX_WORK:
            opcodes = [("replace", 0, len(old_blocks), 0, len(new_blocks))]
        else:
            matcher = difflib.SequenceMatcher(None, old_blocks, new_blocks, autojunk=False)
            opcodes = matcher.get_opcodes()
        for tag, i1, i2, j1, j2 in opcodes:
            if tag == "equal":
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                place = f"{chapter} 第{(j if j < j2 else i) + 1}段落"
                out.append(
                    (
                        _Passage(place, old_blocks[i], (1, number, i)) if i < i2 else None,
                        _Passage(place, new_blocks[j], (1, number, j)) if j < j2 else None,
                    )
                )
    return out


def _all_pairs(
    before: dict[str, Any], after: dict[str, Any]
) -> list[tuple[_Passage | None, _Passage | None]]:
    a, b = _passages(before), _passages(after)
    pairs = [(a.get(k), b.get(k)) for k in list(a) + [k for k in b if k not in a]]
    changed = [
        (old, new)
        for old, new in pairs
        if (old.text if old else None) != (new.text if new else None)
    ]
    chapters = [(old, new) for old, new in _chapter_pairs(before, after) if old or new]
    chapters = [
        (old, new)
        for old, new in chapters
        if (old.text if old else None) != (new.text if new else None)
    ]
    # In the plan's order: the plan's facts, the chapters, table 4-1, then each basic policy
    # with its initiatives and their projects and indicators.
    changed.sort(key=lambda pair: (pair[1] or pair[0]).order)  # type: ignore[union-attr]
    head = [p for p in changed if (p[1] or p[0]).order[0] == 0]  # type: ignore[union-attr]
    rest = [p for p in changed if (p[1] or p[0]).order[0] != 0]  # type: ignore[union-attr]
    return head + chapters + rest


# --------------------------------------------------------------------------------------------
# Rows: pieces with the changes marked and the unchanged stretches shortened
# --------------------------------------------------------------------------------------------


def _lead(text: str) -> str:
    """What is kept of an unchanged stretch after a change: on to its sentence's end (。 or a
    line's end) if near, else to a 、, else a few characters."""
    for marks in (("。", "\n"), ("、",)):
        ends = [i for i in (text.find(m, 0, CONTEXT) for m in marks) if i >= 0]
        if ends:
            return text[: min(ends) + 1]
    return text[:CONTEXT_SHORT]


def _tail(text: str) -> str:
    """What is kept before a change: back to its sentence's start if near, else to a 、."""
    # A mark just before the change ends the sentence kept, it does not start it.
    start, end = max(0, len(text) - CONTEXT), len(text) - 1
    for marks in (("。", "\n"), ("、",)):
        begins = [i for i in (text.rfind(m, start, end) for m in marks) if i >= 0]
        if begins:
            return text[max(begins) + 1 :]
    return text[-CONTEXT_SHORT:]


def _shortened(text: str, *, first: bool, last: bool) -> list[Piece]:
    """An unchanged stretch: whole when short, else the sentence by each change and 「(略)」."""
    if len(text) <= OMIT_OVER:
        return [Piece(text)]
    lead = "" if first else _lead(text)
    tail = "" if last else _tail(text)
    if len(lead) + len(OMIT) + len(tail) >= len(text):
        return [Piece(text)]
    return [Piece(p) for p in (lead, OMIT, tail) if p]


def _bounded(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    left = MAX_CELL_CHARS
    for piece in pieces:
        if len(piece.text) > left:
            if left:
                out.append(Piece(piece.text[:left], piece.marked))
            out.append(Piece(CUT))
            break
        out.append(piece)
        left -= len(piece.text)
    return out


def _row(old: _Passage | None, new: _Passage | None, budget: DiffBudget) -> Row:
    shown = new or old
    assert shown is not None
    change = FieldChange(shown.place, old.text if old else "", new.text if new else "", budget)
    ops = change.ops
    after: list[Piece] = []
    before: list[Piece] = []
    for n, (op, text) in enumerate(ops):
        if op == "equal":
            same = _shortened(text, first=n == 0, last=n == len(ops) - 1)
            after += same
            before += same
        elif op == "insert":
            after.append(Piece(text, marked=True))
        else:
            before.append(Piece(text, marked=True))
    note = "\n".join(str(s) for s in ((old.note if old else ""), change.note) if s)
    return Row(
        place=shown.place,
        after=_bounded(after) if new else [Piece(GONE)],
        before=_bounded(before) if old else [Piece(NEW)],
        note=note,
    )


def comparison_table(
    before: Source, after: Source, *, max_rows: int = MAX_ROWS, budget: DiffBudget | None = None
) -> ComparisonTable:
    """The 新旧対照表 from ``before`` (改正前) to ``after`` (改正後), in Japanese whatever the
    reader's language: it is the city's document (labels, 和暦, the notes alike)."""
    with translation.override("ja"):
        pairs = _all_pairs(before.content, after.content)
        budget = budget or DiffBudget()
        return ComparisonTable(
            title=f"{after.content.get('plan', {}).get('name', '')} 新旧対照表",
            after_label=str(after.label),
            before_label=str(before.label),
            rows=[_row(old, new, budget) for old, new in pairs[:max_rows]],
            total=len(pairs),
        )


def _columns(table: ComparisonTable, order: str) -> list[tuple[str, str, str]]:
    """(header, label, which) of the two text columns in the chosen order."""
    after = ("改正後", table.after_label, "after")
    before = ("改正前", table.before_label, "before")
    return [before, after] if order == BEFORE_LEFT else [after, before]


def filename(table: ComparisonTable, extension: str) -> str:
    return f"{table.title}.{extension}"


# --------------------------------------------------------------------------------------------
# Word, PDF, Excel
# --------------------------------------------------------------------------------------------

PLACE_WIDTH, TEXT_WIDTH = Mm(45), Mm(106)  # A4 landscape within 20 mm margins: 257 mm
KEEP_TOGETHER_CHARS = 600  # a row this short is kept on one page; a longer one may run on


def _write(paragraph: Any, pieces: list[Piece]) -> None:
    for piece in pieces:
        run = paragraph.add_run(docx_parts.text(piece.text))
        if piece.marked:
            run.font.underline = True


def comparison_docx(table: ComparisonTable, *, order: str = AFTER_LEFT) -> bytes:
    document = docx_parts.new_document(landscape=True, font_size=10)
    docx_parts.page_number_footer(document.sections[0], table.title)
    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(docx_parts.text(table.title))
    run.bold, run.font.size = True, Pt(14)
    columns = _columns(table, order)
    for header, label, _which in columns:
        document.add_paragraph(docx_parts.text(f"{header}:{label}"))
    for line in legend():
        paragraph = document.add_paragraph(docx_parts.text(f"※{line}"))
        paragraph.runs[0].font.size = Pt(9)
    if table.cut_note:
        paragraph = document.add_paragraph(docx_parts.text(f"※{table.cut_note}"))
        paragraph.runs[0].bold = True

    grid = document.add_table(rows=1, cols=3)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    widths = [PLACE_WIDTH, TEXT_WIDTH, TEXT_WIDTH]
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width  # the grid LibreOffice lays out by; Word reads the cells'
    headers = ["箇所"] + [c[0] for c in columns]
    for cell, header, width in zip(grid.rows[0].cells, headers, widths, strict=True):
        cell.width = width
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        cell.paragraphs[0].add_run(header).bold = True
        docx_parts.shade(cell)
    docx_parts.repeat_header(grid.rows[0])
    if not table.rows:
        cells = grid.add_row().cells
        merged = cells[0].merge(cells[2])
        merged.paragraphs[0].add_run("違いはありません。")
    for row in table.rows:
        added = grid.add_row()
        if sum(len(p.text) for p in row.after + row.before) <= KEEP_TOGETHER_CHARS:
            docx_parts.cant_split(added)
        cells = added.cells
        for cell, width in zip(cells, widths, strict=True):
            cell.width = width
        cells[0].paragraphs[0].add_run(docx_parts.text(row.place))
        if row.note:
            cells[0].add_paragraph().add_run(docx_parts.text(row.note)).font.size = Pt(8)
        for cell, (_h, _l, which) in zip(cells[1:], columns, strict=True):
            _write(cell.paragraphs[0], row.after if which == "after" else row.before)
    docx_parts.table_font_size(grid, 9)
    return docx_parts.docx_bytes(document)


def comparison_pdf(table: ComparisonTable, *, order: str = AFTER_LEFT) -> bytes:
    """The .docx as PDF (LibreOffice); raises portal_lib.office.OfficeError."""
    return convert_to_pdf(comparison_docx(table, order=order), suffix=".docx")


UNDERLINE = InlineFont(u="single")


def _rich(pieces: list[Piece]) -> Any:
    parts = [(clean_text(p.text), p.marked) for p in pieces if p.text]
    if not any(marked for _t, marked in parts):
        return "".join(t for t, _m in parts)
    return CellRichText([TextBlock(UNDERLINE, t) if marked else t for t, marked in parts])


HEADER_ROW = 6


def comparison_workbook(table: ComparisonTable, *, order: str = AFTER_LEFT) -> bytes:
    """The table as an office prints it: A4 landscape, header repeated, underlines kept."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "新旧対照表"
    columns = _columns(table, order)
    top = [table.title] + [f"{h}:{label}" for h, label, _w in columns]
    top.append("\n".join(f"※{line}" for line in legend()))
    top.append(f"※{table.cut_note}" if table.cut_note else "")
    for r, value in enumerate(top, start=1):
        if value:
            cell = set_cell(ws, r, 1, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=3)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    for col, header in enumerate(["箇所"] + [c[0] for c in columns], start=1):
        set_cell(ws, HEADER_ROW, col, header)
    r = HEADER_ROW
    for row in table.rows:
        r += 1
        set_cell(ws, r, 1, row.place + (f"\n{row.note}" if row.note else ""))
        for col, (_h, _l, which) in enumerate(columns, start=2):
            set_cell(ws, r, col, _rich(row.after if which == "after" else row.before))
    if not table.rows:
        set_cell(ws, HEADER_ROW + 1, 1, "違いはありません。")
    xlsx_layout.layout_table(
        ws,
        header_row=HEADER_ROW,
        landscape=True,
        title=table.title,
        fixed_widths={1: 18, 2: 60, 3: 60},
    )
    ws.auto_filter.ref = None  # a document to read, not a list to filter
    return save_workbook(wb)
