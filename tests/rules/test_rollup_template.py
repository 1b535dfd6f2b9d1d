"""One roll-up template (templates/includes/rollup.html): the initiative list, the dashboard,
a meeting report and the six-year summary show an aggregate and what it rests on alike."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse

from reporting.services.meeting_reports import report_snapshot_create
from tests.factory import initiative, make_progress

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _overall(page: str) -> str:
    """The first roll-up on the page (the plan as a whole), as text."""
    start = page.index('<span class="rollup-figure">')
    end = page.index("</span>", page.index('<span class="rollup-basis hint">', start))
    text = re.sub(r"<[^>]+>", "", page[start:end])
    return re.sub(r"\s+", " ", text).strip()


def test_every_screen_shows_the_plan_figure_the_same_way(client, plan, personas):
    make_progress(initiative("2.1"), entry_date=date(2026, 6, 1), status="on_track", percent=60)
    snapshot = report_snapshot_create(
        plan=plan,
        fiscal_year=2026,
        title="令和8年度 第1回DX推進本部会議",
        today=date(2026, 10, 1),
        user=personas.secretariat,
    )
    client.force_login(personas.hq)
    pages = {
        "initiative list": reverse("initiatives:list") + "?fy=2026",
        "dashboard": reverse("reporting:dashboard") + "?fy=2026",
        "meeting report": reverse("reporting:report_detail", args=[snapshot.pk]),
    }
    shown = {where: _overall(client.get(url).content.decode()) for where, url in pages.items()}
    # The summary's table: one roll-up per fiscal year; its last column is FY2026.
    summary = client.get(reverse("reporting:summary")).content.decode()
    row = summary[
        summary.index('<tr class="total">') : summary.index(
            "</tr>", summary.index('<tr class="total">')
        )
    ]
    cells = row.split("<td>")[1:]
    shown["summary"] = _overall(cells[-1])
    assert set(shown.values()) == {"60.0% 報告 1 / 13件・未報告 12件"}, shown


def test_no_template_shows_a_rollup_its_own_way():
    """Only includes/rollup.html writes the basis (「報告 n / t件」) of an aggregate."""
    own_way = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if path.name != "rollup.html"
        and re.search(r"報告 \{\{ ?n ?\}\} ?/", path.read_text("utf-8"))
    ]
    assert own_way == []


@pytest.mark.parametrize(
    "saved, figure",
    [
        ({"percent": None, "counted": 0, "total": 0, "reported": 0, "unreported": 0}, "—"),
        ({"percent": None, "counted": 0, "total": 13, "reported": 0, "unreported": 13}, "未報告"),
        ({"percent": None, "counted": 0, "total": 13, "reported": 2, "unreported": 11}, "—"),
        ({"percent": "60.0", "counted": 1, "total": 13, "reported": 1, "unreported": 12}, "60.0%"),
    ],
)
def test_the_figure_is_one_rule_on_screens_and_in_workbooks(saved, figure):
    """A group with nothing to count is "—" on the screen and in the meeting report's and the
    summary's workbooks alike (the workbook said 「未報告」 for it); nobody reported is 「未報告」,
    never 0 % (initiatives.selectors.rollup_figure_kind)."""
    from django.template.loader import render_to_string

    from initiatives.selectors import Rollup
    from reporting.selectors.summary import rollup_text
    from reporting.workbooks.meeting_report import _rollup_cells

    screen = render_to_string("includes/rollup.html", {"r": saved, "fy": "R8", "nolink": True})
    assert re.search(r'<span class="rollup-figure">([^<]*)</span>', screen)[1] == figure
    # The workbook's 進捗率 cell is a number or empty; what stands in its place is beside it.
    percent, note = _rollup_cells(saved)[:2]
    assert (f"{percent * 100:.1f}%" if isinstance(percent, float) else note) == figure
    assert percent is None or note is None
    rollup = Rollup(
        None if saved["percent"] is None else saved["percent"],
        saved["counted"],
        saved["total"],
        saved["reported"],
    )
    assert rollup_text(rollup).startswith(f"{figure}(報告 {saved['reported']}/")
