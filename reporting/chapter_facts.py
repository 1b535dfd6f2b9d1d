"""Facts the data knows, written into a plan's chapter text, and years the text names.

A chapter may hold placeholders such as 「{計画期間}」; they are filled from the plan's content
(reporting.selectors.plan_content) wherever a chapter is shown or exported, so that the text never
states a period, a name or a version the data does not. Full-width braces (｛計画名｝, as a
Japanese input method types them) are read too. Unknown names are left as typed.

This module is pure text work on a content dict (no queries): the services in
reporting.services.drafting give it the plan.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext

from portal_lib import era

UNDECIDED = "（決定前）"


def fiscal_year_text(fy: int) -> str:
    """令和9年度（2027年度）: how the plan's own text writes a fiscal year."""
    return f"{era.era_label(fy, short=False)}（{fy}年度）"


def period_text(start_fy: int, end_fy: int) -> str:
    return f"{fiscal_year_text(start_fy)}から{fiscal_year_text(end_fy)}まで"


def _initiative_count(content: dict[str, Any]) -> int:
    return sum(len(p.get("initiatives", [])) for p in content.get("policies", []))


def _decided(content: dict[str, Any]) -> str:
    version = content.get("version") or {}
    return version.get("decided") or UNDECIDED


# Placeholder name -> its text from a content dict. The one list: the help on the chapter
# screens and the successor text read it too.
FACTS: dict[str, Callable[[dict[str, Any]], str]] = {
    "計画名": lambda c: c["plan"]["name"],
    "版": lambda c: (c.get("version") or {}).get("label", ""),
    "計画期間": lambda c: period_text(c["plan"]["start_fy"], c["plan"]["end_fy"]),
    "開始年度": lambda c: fiscal_year_text(c["plan"]["start_fy"]),
    "終了年度": lambda c: fiscal_year_text(c["plan"]["end_fy"]),
    "基本方針の数": lambda c: str(len(c.get("policies", []))),
    "取り組みの数": lambda c: str(_initiative_count(c)),
    "決定日": _decided,
}


def _placeholder_help() -> str:
    """The markers are typed as they are, in Japanese, whatever the reader's language."""
    markers = pgettext("punctuation", "、").join(
        pgettext("placeholder marker", "{%(name)s}") % {"name": name} for name in FACTS
    )
    return gettext(
        "本文に次の記号を書くと、表示・出力のときに計画のデータで置き換わります: "
        "%(markers)s。例: %(example)s"
    ) % {"markers": markers, "example": "本計画の計画期間は、{計画期間}とします。"}


PLACEHOLDER_HELP = lazy(_placeholder_help, str)()

_PLACEHOLDER = re.compile(r"[{｛](" + "|".join(map(re.escape, FACTS)) + r")[}｝]")


def fill(text: str, content: dict[str, Any]) -> str:
    """``text`` with every known placeholder replaced by the content's fact."""
    if "{" not in text and "｛" not in text:
        return text
    return _PLACEHOLDER.sub(lambda m: FACTS[m.group(1)](content), text)


def fill_chapters(content: dict[str, Any]) -> dict[str, Any]:
    """The content with its chapters' titles and bodies filled (in place; returned)."""
    for chapter in content.get("chapters", []):
        chapter["title"] = fill(chapter.get("title", ""), content)
        chapter["body"] = fill(chapter.get("body", ""), content)
    return content


# --- the next plan's text: the old plan's facts become placeholders --------------------------

_DIGITS = "0-9０-９"
# One fiscal year as plans write it: 令和3年度, 令和元年度, R3, R03年度, Ｒ３, 2021年度, FY2021.
_YEAR = (
    rf"(?:(?:令和|平成)\s*(?:元|[{_DIGITS}]{{1,3}})\s*年度"
    rf"|(?<![A-Za-zＡ-Ｚａ-ｚ])[RrＲｒHhＨｈ]\s*[{_DIGITS}]{{1,3}}(?:\s*年度)?"
    rf"|(?:FY|ＦＹ)\s*[{_DIGITS}]{{4}}(?:\s*年度)?"
    rf"|(?<![{_DIGITS}])[{_DIGITS}]{{4}}\s*年度)"
)
# Its other calendar in brackets: (2021年度), （２０２１年度）, (令和3年度). The seed's
# 「令和8年度(2023年度)」 has a wrong year in brackets: the brackets go with the year anyway.
_ALSO = rf"(?:\s*[(（]\s*{_YEAR}\s*[)）])?"
_RANGE = re.compile(
    rf"(?P<a>{_YEAR}){_ALSO}\s*(?P<sep>から|〜|～|~|－|-|―|‐)\s*(?P<b>{_YEAR}){_ALSO}"
    r"(?P<until>\s*まで)?"
)


def _year(text: str) -> int | None:
    try:
        return era.parse_fiscal_year(text)
    except era.EraError:
        return None


def replace_period(text: str, start_fy: int, end_fy: int) -> str:
    """Every spelling of the period ``start_fy``–``end_fy`` in ``text`` as placeholders."""

    def swap(m: re.Match[str]) -> str:
        if (_year(m.group("a")), _year(m.group("b"))) != (start_fy, end_fy):
            return m.group(0)
        if m.group("sep") == "から" and m.group("until"):
            return "{計画期間}"
        return "{開始年度}" + m.group("sep") + "{終了年度}" + (m.group("until") or "")

    return _RANGE.sub(swap, text)


def replace_name_and_versions(text: str, name: str, version_numbers: Iterable[str]) -> str:
    """The plan's name as {計画名}; a version written with the name (【第1.0版】) as {版}.

    A version number alone is left as it is: 「自治体DX全体手順書【第1.0版】」 is another
    document's version.
    """
    if not name:
        return text
    numbers = sorted({n for n in version_numbers if n}, key=len, reverse=True)
    if numbers:
        versions = "|".join(re.escape(n) for n in numbers)
        text = re.sub(
            rf"{re.escape(name)}\s*([【(（])\s*第\s*(?:{versions})\s*版\s*([】)）])",
            lambda m: "{計画名}" + m.group(1) + "{版}" + m.group(2),
            text,
        )
    return text.replace(name, "{計画名}")


# --- years named outside the period -----------------------------------------------------------

# A fiscal year named in running text: always with 年度 (「令和2年12月」 is a month, and a
# calendar year such as 「令和3年(2021年)5月19日」 is a fact of history, not of the period).
_MENTION = re.compile(
    rf"(?:(?:令和|平成)\s*(?:元|[{_DIGITS}]{{1,3}})"
    rf"|(?<![A-Za-zＡ-Ｚａ-ｚ])[RrＲｒHhＨｈ]\s*[{_DIGITS}]{{1,3}}"
    rf"|(?:FY|ＦＹ)?\s*(?<![{_DIGITS}])[{_DIGITS}]{{4}})\s*年度"
)
PASSAGE_LIMIT = 120


@dataclass(frozen=True)
class YearMention:
    chapter: int
    title: str
    passage: str
    years: tuple[int, ...]


def _passages(body: str) -> list[str]:
    out = []
    for line in body.splitlines():
        for sentence in re.split(r"(?<=。)", line):
            if sentence.strip():
                out.append(sentence.strip())
    return out


def _shorten(passage: str, first: int) -> str:
    if len(passage) <= PASSAGE_LIMIT:
        return passage
    start = max(0, first - PASSAGE_LIMIT // 3)
    part = passage[start : start + PASSAGE_LIMIT]
    return ("…" if start else "") + part + ("…" if start + PASSAGE_LIMIT < len(passage) else "")


def passages_outside(body: str, start_fy: int, end_fy: int) -> list[tuple[str, tuple[int, ...]]]:
    """Each passage (sentence) of ``body`` naming a fiscal year outside ``start_fy``–``end_fy``,
    with those years (placeholders are not years: they are filled with the period)."""
    found = []
    for passage in _passages(body):
        years: list[int] = []
        first = None
        for m in _MENTION.finditer(passage):
            fy = _year(m.group(0))
            if fy is None or start_fy <= fy <= end_fy:
                continue
            if first is None:
                first = m.start()
            if fy not in years:
                years.append(fy)
        if years:
            found.append((_shorten(passage, first or 0), tuple(years)))
    return found


def years_outside(
    chapters: Iterable[tuple[int, str, str]], start_fy: int, end_fy: int
) -> list[YearMention]:
    """Each passage of (number, title, body) chapters that names a fiscal year outside
    ``start_fy``–``end_fy``."""
    return [
        YearMention(number, title, passage, years)
        for number, title, body in chapters
        for passage, years in passages_outside(body, start_fy, end_fy)
    ]
