"""The 新旧対照表, read: its two sides and the changed passages between them.

The two sides: a version (its frozen content) or a plan as it stands now. The compare
screen, its files and ``export_comparison`` name a side the same way: "v<pk>" is a version,
"p<code>" a plan as it stands now (the database with its latest version's chapters). A side
that cannot be found raises SourceNotFound with a message for people.

The table: the changed passages of a plan, 改正後 beside 改正前, changes underlined. Cities
revise a plan with this table: one row per changed passage (a chapter's paragraph, a basic
policy, an initiative, a project under way, an indicator, a line of table 4-1), the place it
stands in (箇所), the passage as it will read and as it read. The changed tokens are
underlined on both sides (added or rewritten in 改正後, removed or rewritten in 改正前) and
long unchanged stretches are shortened to 「(略)」 with the sentence around each change kept.

Items are matched by ``content_diff.keyed_items`` and diffed by ``content_diff.FieldChange``
(the tokenizer, the bounds and the time budget the screen uses), so the table and the screen
never disagree. The table is bounded: at most ``MAX_ROWS`` rows and ``MAX_CELL_CHARS``
characters a cell, with a note saying what was left out. The same rows are written as Word
(.docx, A4 landscape) and PDF by reporting.documents.comparison, and as Excel (.xlsx) by
reporting.workbooks.comparison.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from initiatives.models import ENDING_DECISIONS, CarryOverDecision
from plans.models import Plan, PlanChapter, PlanVersion
from plans.selectors import current_plan
from portal_lib import era
from portal_lib.params import ascii_int_or_default
from reporting.content_diff import LINE_DIFF_MAX_WORK, DiffBudget, FieldChange, _work, keyed_items
from reporting.forms import bracketed
from reporting.selectors.plan_content import (
    NoContentError,
    has_content,
    plan_content,
    version_content,
)


class SourceNotFound(Exception):
    """``str()`` says, in Japanese, which plan or version is missing."""


@dataclass(frozen=True)
class Source:
    value: str  # "v<pk>" or "p<code>"
    plan: Plan
    content: dict[str, Any]
    version: PlanVersion | None = None  # None: the plan as it stands now

    @property
    def label(self) -> str:
        """「かほく市DX推進計画 第1.0版(確定)」, in the language active when asked."""
        if self.version is None:
            return f"{self.plan.name}{bracketed(gettext('現在の内容'))}"
        state = gettext("確定") if self.version.frozen_at else gettext("下書き")
        return f"{self.plan.name} {self.version.label}{bracketed(state)}"


def _version(pk: int) -> PlanVersion | None:
    return PlanVersion.objects.select_related("plan").filter(pk=pk).first()


def plan_of(value: str) -> Plan | None:
    """The plan a side belongs to, without reading its content."""
    pk = ascii_int_or_default(value[1:]) if value.startswith("v") else None
    if pk is not None:
        version = _version(pk)
        return version.plan if version else None
    return Plan.objects.filter(code=value[1:]).first() if value.startswith("p") else None


def source(value: str) -> Source:
    """The side named by ``value`` with its content, built in Japanese whoever asks: a frozen
    version holds its text (計画期間 …) in Japanese, so the plan as it stands is read in the
    same language, or a reader in English would see every such fact as changed."""
    with translation.override(settings.LANGUAGE_CODE):
        return _source(value)


def _source(value: str) -> Source:
    pk = ascii_int_or_default(value[1:]) if value.startswith("v") else None
    if pk is not None:
        version = _version(pk)
        if version is None:
            raise SourceNotFound(gettext("比較する計画の版が見つかりません。"))
        try:
            content = version_content(version)
        except NoContentError as exc:
            raise SourceNotFound(str(exc)) from exc
        return Source(value, version.plan, content, version)
    plan = Plan.objects.filter(code=value[1:]).first() if value.startswith("p") else None
    if plan is None:
        raise SourceNotFound(gettext("比較する計画が見つかりません。"))
    return Source(value, plan, plan_content(plan, version=plan.latest_version))


def default_comparison(plan: Plan | None = None) -> dict[str, str]:
    """What the comparison opens on: the plan's first adopted version (第1.0版) against the
    plan as it stands now ({} when there is no plan)."""
    plan = plan or current_plan()
    if plan is None:
        return {}
    versions = plan.versions.order_by("issued_fy", "number")
    # The first version with a text of its own (0.5 before the plan had one is skipped).
    first = versions.filter(frozen_at__isnull=False).first() or versions.first()
    now = f"p{plan.code}"
    return {"a": f"v{first.pk}" if first else now, "b": now}


DRAFT = "draft"


def source_value(plan_code: str, version: str) -> str:
    """A side as a command names it: a plan's code and a version number ("1.0"), or
    ``draft``: the plan's draft version being written (a draft plan's, or an open
    revision), else the plan as it stands now."""
    plan = Plan.objects.filter(code=plan_code).first()
    if plan is None:
        codes = "、".join(Plan.objects.order_by("start_fy").values_list("code", flat=True))
        raise SourceNotFound(
            gettext("計画「%(code)s」が見つかりません。登録されている計画: %(codes)s")
            % {"code": plan_code, "codes": codes or gettext("なし")}
        )
    if version == DRAFT:
        for v in plan.versions.order_by("-issued_fy", "-number"):
            if not v.frozen_at and has_content(v):
                return f"v{v.pk}"
        return f"p{plan.code}"
    found = plan.versions.filter(number=version).first()
    if found is None:
        numbers = "、".join(v.number for v in plan.versions.order_by("issued_fy", "number"))
        raise SourceNotFound(
            gettext(
                "計画「%(plan)s」に第%(number)s版はありません。"
                "版: %(numbers)s(作成中の内容は draft)"
            )
            % {"plan": plan.name, "number": version, "numbers": numbers or gettext("なし")}
        )
    return f"v{found.pk}"


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------

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
        opcodes: Sequence[tuple[str, int, int, int, int]]
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


def columns_in_order(table: ComparisonTable, order: str) -> list[tuple[str, str, str]]:
    """(header, label, which) of the two text columns in the chosen order."""
    after = ("改正後", table.after_label, "after")
    before = ("改正前", table.before_label, "before")
    return [before, after] if order == BEFORE_LEFT else [after, before]


def filename(table: ComparisonTable, extension: str) -> str:
    return f"{table.title}.{extension}"
