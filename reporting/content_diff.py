"""Differences between two plan contents (reporting.selectors.plan_content dicts), frozen or live.

Items are matched by their keys in the plan (policy number, initiative number within its
policy, project and indicator names, table 4-1 item title and line, chapter number), never
by database ids, so a version frozen years ago compares with today's draft. Changed text
carries a diff by tokens (``tokenize``: Japanese has no spaces to diff words by, so each
kanji, hiragana and punctuation mark is a token, while a number, a Latin word and a katakana
word are one token each), so 「2023年度」→「2031年度」 reads as a replaced number. The
screen and the 新旧対照表 (``reporting.selectors.comparison``) both show these boundaries.
The token diff is bounded (size, cost, and a time budget per comparison); past it, a line
diff with a note.
"""

from __future__ import annotations

import difflib
import re
import time
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.utils.translation import gettext_lazy as _

from initiatives.models import ENDING_DECISIONS, CarryOverDecision

ADDED, CHANGED, REMOVED = "added", "changed", "removed"
KIND_LABELS = {ADDED: _("追加"), CHANGED: _("変更"), REMOVED: _("削除")}

# The character diff (difflib, no junk heuristic) costs about the sum, over each character,
# of its count in the one text times its count in the other: ~0.2 µs a unit here. Plain
# prose of 5,000 characters is ~200,000 units (0.1 s); "あい" × 2,500 is 12.5 million (2.4 s).
CHAR_DIFF_MAX_CHARS = 5_000  # per text
CHAR_DIFF_MAX_WORK = 1_000_000  # per pair of texts
CHAR_DIFF_SECONDS = 1.0  # of character diffs per comparison page; then lines for the rest
LINE_DIFF_MAX_WORK = 1_000_000  # the same bound for lines; past it, before and after whole
LINE_MODE_NOTE = _("文章が長いため、行単位で比較しています。")

# One token: a number (ASCII or full-width digits, with its decimal point or thousands
# separators: 2031, ２０３１, 3.5, 1,000), a Latin word (DX, LINE, ＤＸ), a katakana word with
# its long-vowel marks (オンライン, ガバメント; ・ separates words), a run of spaces; else
# one character (each kanji, hiragana, punctuation mark and line break).
_TOKEN = re.compile(
    r"[0-9０-９]+(?:[.,．，][0-9０-９]+)*"
    r"|[A-Za-zＡ-Ｚａ-ｚ]+"
    r"|[\u30a1-\u30fa\u30fc-\u30ff\uff66-\uff9f]+"
    r"|[ \t\u3000]+"
    r"|.",
    re.DOTALL,
)


def tokenize(text: str) -> list[str]:
    """``text`` cut where a reader sees word and number boundaries (see ``_TOKEN``); the
    tokens joined give ``text`` back."""
    return _TOKEN.findall(text)


def _work(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """What SequenceMatcher's matching of ``a`` and ``b`` costs at worst (see above)."""
    counts = Counter(b)
    return sum(n * counts[item] for item, n in Counter(a).items())


@dataclass
class DiffBudget:
    """The time one comparison may spend on character diffs, shared by its FieldChanges."""

    seconds: float = CHAR_DIFF_SECONDS
    started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()

    @property
    def spent(self) -> bool:
        return self.started is not None and time.monotonic() - self.started > self.seconds


@dataclass
class FieldChange:
    label: Any
    before: str
    after: str
    budget: DiffBudget = field(default_factory=DiffBudget, repr=False, compare=False)
    line_mode: bool = field(default=False, init=False, compare=False)

    @cached_property
    def ops(self) -> list[tuple[str, str]]:
        """("equal" | "insert" | "delete", text) runs: token by token (``tokenize``), or line
        by line (``line_mode``) for long texts, costly ones or once the page's budget is spent.
        A delete and the insert that replaces it come in that order."""
        if (
            len(self.before) <= CHAR_DIFF_MAX_CHARS
            and len(self.after) <= CHAR_DIFF_MAX_CHARS
            and not self.budget.spent
        ):
            tokens_a, tokens_b = tokenize(self.before), tokenize(self.after)
            if _work(tokens_a, tokens_b) <= CHAR_DIFF_MAX_WORK:
                self.budget.start()
                return _merge_short_equalities(_ops(tokens_a, tokens_b, autojunk=False))
        self.line_mode = True
        lines_a = self.before.splitlines(keepends=True)
        lines_b = self.after.splitlines(keepends=True)
        if _work(lines_a, lines_b) > LINE_DIFF_MAX_WORK:
            return [("delete", self.before), ("insert", self.after)]
        return _ops(lines_a, lines_b, autojunk=True)

    @property
    def note(self) -> Any:
        """Why the change is shown line by line ("" when it is shown character by character)."""
        self.ops  # noqa: B018 - decides line_mode
        return LINE_MODE_NOTE if self.line_mode else ""


def _ops(a: Sequence[str], b: Sequence[str], *, autojunk: bool) -> list[tuple[str, str]]:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=autojunk)
    out: list[tuple[str, str]] = []
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(("equal", "".join(a[a1:a2])))
            continue
        if a2 > a1:
            out.append(("delete", "".join(a[a1:a2])))
        if b2 > b1:
            out.append(("insert", "".join(b[b1:b2])))
    return out


def _merge_short_equalities(ops: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Fold an unchanged stretch into the changes around it when it is shorter than each
    of them (after diff-match-patch's semantic clean-up): a rewritten sentence then reads as one
    replacement, not as fragments kept for a shared 「の」 or 「を」. The texts are unchanged:
    the deletes and equals still spell the old text, the inserts and equals the new."""
    # The stack holds ["equal", text] and ["change", deleted, inserted].
    stack: list[list[str]] = []
    for op, text in ops:
        if op == "equal":
            if stack and stack[-1][0] == "equal":
                stack[-1][1] += text
            else:
                stack.append(["equal", text])
            continue
        if not stack or stack[-1][0] != "change":
            stack.append(["change", "", ""])
        stack[-1][1 if op == "delete" else 2] += text
        while (
            len(stack) >= 3
            and stack[-1][0] == "change"
            and stack[-2][0] == "equal"
            and stack[-3][0] == "change"
            and len(stack[-2][1])
            < min(
                max(len(stack[-3][1]), len(stack[-3][2])), max(len(stack[-1][1]), len(stack[-1][2]))
            )
        ):
            last, same = stack.pop(), stack.pop()[1]
            stack[-1][1] += same + last[1]
            stack[-1][2] += same + last[2]
    out: list[tuple[str, str]] = []
    for item in stack:
        if item[0] == "equal":
            out.append(("equal", item[1]))
            continue
        if item[1]:
            out.append(("delete", item[1]))
        if item[2]:
            out.append(("insert", item[2]))
    return out


@dataclass
class Difference:
    kind: str  # ADDED / CHANGED / REMOVED
    area: Any  # 基本方針 / 取り組み / … (translatable)
    key: str
    title: str
    changes: list[FieldChange] = field(default_factory=list)
    # A removed initiative that its final-year review ended: CarryOverDecision.COMPLETE or
    # .ABOLISH ("" otherwise).
    ending: str = ""

    @property
    def kind_label(self) -> Any:
        return KIND_LABELS[self.kind]

    @property
    def ending_label(self) -> Any:
        """完了 / 廃止, the plan's word for why the initiative is gone ("" if not ended)."""
        return CarryOverDecision(self.ending).label if self.ending else ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return "、".join(f"{k}: {v}" for k, v in sorted(value.items()))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _compare(
    out: list[Difference],
    area: str,
    before: dict[str, dict[str, Any]],
    after: dict[str, dict[str, Any]],
    fields: list[tuple[str, str]],
    title: str,
    budget: DiffBudget,
) -> None:
    for key in list(before) + [k for k in after if k not in before]:
        a, b = before.get(key), after.get(key)
        if a is None and b is not None:
            out.append(Difference(ADDED, area, key, _text(b.get(title))))
        elif b is None and a is not None:
            out.append(Difference(REMOVED, area, key, _text(a.get(title))))
        elif a is not None and b is not None:
            changes = [
                FieldChange(label, _text(a.get(name)), _text(b.get(name)), budget)
                for name, label in fields
                if _text(a.get(name)) != _text(b.get(name))
            ]
            if changes:
                out.append(Difference(CHANGED, area, key, _text(b.get(title)), changes))


def _label_endings(out: list[Difference], before: dict[str, dict[str, Any]]) -> None:
    """Mark removed initiatives whose final-year review decided 完了 or 廃止."""
    for d in out:
        if d.kind == REMOVED and d.key in before:
            decision = before[d.key].get("final_decision", "")
            if decision in ENDING_DECISIONS:
                d.ending = decision


def keyed_items(content: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """The plan's items by the keys they are matched on across versions and plans (the one
    home of that rule: the screen's differences and the 新旧対照表 both ask it)."""
    policies: dict[str, dict[str, Any]] = {}
    initiatives: dict[str, dict[str, Any]] = {}
    projects: dict[str, dict[str, Any]] = {}
    indicators: dict[str, dict[str, Any]] = {}
    for p in content.get("policies", []):
        policies[f"基本方針{p['number']}"] = p
        for i in p.get("initiatives", []):
            code = f"{p['number']}.{i['number']}"
            initiatives[code] = i
            for pr in i.get("projects", []):
                projects[f"{code} {pr['name']}"] = {**pr, "where": code}
            for ind in i.get("indicators", []):
                indicators[f"{code} {ind['name']}"] = ind
    cells: dict[str, dict[str, Any]] = {}
    for item in content.get("schedule", {}).get("items", []):
        for line, row in enumerate(item.get("rows", []), start=1):
            label = item["title"] + (f" / {row['sub_title']}" if row.get("sub_title") else "")
            label = label if line == 1 or row.get("sub_title") else f"{item['title']} ({line}行目)"
            for c in row.get("cells", []):
                cells[f"{label} / {c['fiscal_year']}年度"] = {**c, "label": label}
    chapters = {f"第{c['number']}章": c for c in content.get("chapters", [])}
    return {
        "policies": policies,
        "initiatives": initiatives,
        "projects": projects,
        "indicators": indicators,
        "cells": cells,
        "chapters": chapters,
    }


def content_differences(before: dict[str, Any], after: dict[str, Any]) -> list[Difference]:
    """What changed from ``before`` to ``after``: added, changed and removed, in plan order."""
    a, b = keyed_items(before), keyed_items(after)
    out: list[Difference] = []
    budget = DiffBudget()  # one for the whole comparison
    plan_fields = [
        ("name", _("計画名")),
        ("theme", _("理念(テーマ)")),
        ("goal", _("目標")),
        ("period", _("計画期間")),
    ]
    _compare(
        out,
        _("計画"),
        {_("計画"): before.get("plan", {})},
        {_("計画"): after.get("plan", {})},
        plan_fields,
        "name",
        budget,
    )
    _compare(
        out,
        _("章"),
        a["chapters"],
        b["chapters"],
        [("title", _("章題")), ("body", _("本文"))],
        "title",
        budget,
    )
    _compare(
        out,
        _("基本方針"),
        a["policies"],
        b["policies"],
        [
            ("title", _("基本方針")),
            ("heading", _("見出し")),
            ("summary", _("概要")),
            ("classification", _("分類の説明")),
        ],
        "title",
        budget,
    )
    first_initiative = len(out)
    _compare(
        out,
        _("取り組み"),
        a["initiatives"],
        b["initiatives"],
        [
            ("title", _("取り組み")),
            ("description", _("内容")),
            ("flag", _("区分")),
            ("working_group", _("担当WG")),
            ("lead_section", _("主管課")),
        ],
        "title",
        budget,
    )
    _label_endings(out[first_initiative:], a["initiatives"])
    _compare(
        out,
        _("既に取り組んでいる事業"),
        a["projects"],
        b["projects"],
        [("era_label", _("年")), ("section", _("担当課"))],
        "name",
        budget,
    )
    _compare(
        out,
        _("指標"),
        a["indicators"],
        b["indicators"],
        [
            ("unit", _("単位")),
            ("direction", _("方向")),
            ("baseline", _("基準値")),
            ("targets", _("目標値")),
        ],
        "name",
        budget,
    )
    _compare(
        out,
        _("表4-1"),
        a["cells"],
        b["cells"],
        [("text", _("内容")), ("col_span", _("横の結合")), ("row_span", _("縦の結合"))],
        "text",
        budget,
    )
    return out
