"""Issue 19 item 12: the comparison's character diff is bounded in CPU.

Two initiatives with ~10,000-character low-entropy descriptions made /plan/versions/compare/
take 17 s (difflib without its junk heuristic is quadratic on repetitive text); a few more
passed the worker's timeout. Texts over 5,000 characters, pairs whose matching would cost too
much, and every text after the page's time budget is spent are compared line by line, with
a note saying so; short texts keep the character diff.
"""

from __future__ import annotations

import copy
import time

import pytest
from django.urls import reverse

from initiatives.models import Initiative
from plans.models import PlanVersion
from reporting.content_diff import (
    LINE_MODE_NOTE,
    DiffBudget,
    FieldChange,
    content_differences,
)
from reporting.selectors.plan_content import version_content

NOTE = "文章が長いため、行単位で比較しています。"
LONG = "あい" * 5000  # 10,000 characters, two distinct ones


def _nearly(text: str) -> str:
    """``text`` with three characters changed, far apart."""
    chars = list(text)
    for i in (1000, len(text) // 2, len(text) - 1000):
        chars[i] = "う"
    return "".join(chars)


@pytest.mark.django_db
def test_two_10000_character_descriptions_are_compared_in_under_2_seconds(client, plan, personas):
    v10 = PlanVersion.objects.get(plan=plan, number="1.0")
    client.force_login(personas.hq)
    url = reverse("reporting:version_compare")
    query = {"a": f"v{v10.pk}", "b": f"p{plan.code}"}
    # Warm up (templates, URLconf): the timing below is the comparison's, not a cold start's.
    assert client.get(url, query).status_code == 200
    content = copy.deepcopy(v10.content)
    codes = []
    for ini in content["policies"][0]["initiatives"][:2]:
        ini["description"] = LONG
        codes.append(f"{content['policies'][0]['number']}.{ini['number']}")
    PlanVersion.objects.filter(pk=v10.pk).update(content=content)
    for code in codes:
        number, sub = code.split(".")
        Initiative.objects.filter(policy__plan=plan, policy__number=number, number=sub).update(
            description=_nearly(LONG)
        )

    started = time.monotonic()
    response = client.get(url, query)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed < 2, f"{elapsed:.1f} s"
    changes = [
        c
        for d in response.context["differences"]
        if d.key in codes
        for c in d.changes
        if c.after == _nearly(LONG)
    ]
    assert len(changes) == 2
    assert all(c.line_mode for c in changes)
    assert response.content.decode().count(NOTE) == 2
    # One line each: the whole text before, struck through, and after.
    assert changes[0].ops == [("delete", LONG), ("insert", _nearly(LONG))]


def test_a_long_text_keeps_its_unchanged_lines():
    lines = [f"{n}行目:" + "あい" * 50 + "\n" for n in range(100)]
    before = "".join(lines)  # ~10,500 characters
    after = "".join(lines[:40] + ["かきく\n"] + lines[41:])
    change = FieldChange("内容", before, after)
    assert change.ops == [
        ("equal", "".join(lines[:40])),
        ("delete", lines[40]),
        ("insert", "かきく\n"),
        ("equal", "".join(lines[41:])),
    ]
    assert change.note == LINE_MODE_NOTE


def test_a_short_costly_pair_is_compared_by_lines():
    """2,000 characters of two letters cost 2 million matching steps (0.4 s): past the bound."""
    change = FieldChange("内容", "あい" * 1000, "あい" * 999 + "う")
    assert change.line_mode is False  # decided when the ops are first asked for
    assert change.ops == [("delete", "あい" * 1000), ("insert", "あい" * 999 + "う")]
    assert change.line_mode is True


def test_the_page_budget_sends_the_rest_to_lines():
    """Each pair is within the per-text bounds (~0.2 s each); twenty of them would take
    4 s. Once the comparison's budget is spent, the rest are compared by lines."""
    budget = DiffBudget(seconds=0.3)
    text = "あい" * 700
    changes = [FieldChange("内容", text, text[:-1] + "う", budget) for _ in range(20)]
    started = time.monotonic()
    notes = [c.note for c in changes]
    assert time.monotonic() - started < 1.5
    assert notes[0] == ""
    assert changes[0].ops[-1] == ("insert", "う")
    assert notes[-1] == LINE_MODE_NOTE


@pytest.mark.django_db
def test_a_short_change_is_still_shown_character_by_character(plan):
    before = version_content(PlanVersion.objects.get(plan=plan, number="1.0"))
    after = copy.deepcopy(before)
    ini = after["policies"][1]["initiatives"][1]
    old_text = ini["description"]
    ini["description"] = old_text[:10] + "新しく" + old_text[10:] + "(拡充)"
    (diff,) = content_differences(before, after)
    (change,) = diff.changes
    assert change.note == ""
    assert ("insert", "(拡充)") in change.ops
    assert ("insert", "新しく") in change.ops
    assert "".join(t for op, t in change.ops if op != "insert") == old_text
