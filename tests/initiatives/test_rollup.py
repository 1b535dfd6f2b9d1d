from datetime import date
from decimal import Decimal

import pytest

from initiatives.models import Initiative
from initiatives.selectors import initiatives_with_latest_progress, rollup
from tests.factory import initiative, make_progress

pytestmark = pytest.mark.django_db


def _annotated(plan, fy=2026):
    return list(initiatives_with_latest_progress(Initiative.objects.for_plan(plan), fy))


def test_latest_entry_of_the_year_wins_and_average_is_plain(plan):
    a, b = initiative("2.1"), initiative("2.2")
    make_progress(a, entry_date=date(2026, 4, 1), percent=10)
    make_progress(a, entry_date=date(2026, 9, 1), percent=50)
    make_progress(a, entry_date=date(2026, 3, 31), percent=90)  # belongs to FY2025
    make_progress(b, entry_date=date(2026, 5, 1), status="done")
    result = rollup(i for i in _annotated(plan) if i.policy.number == 2)
    assert result.percent == Decimal("75.0")  # (50 + 100) / 2; 2.3 and 2.4 have nothing logged
    assert (result.counted, result.total) == (2, 4)


def test_weights_and_cancelled(plan):
    a, b, c = initiative("3.1"), initiative("3.2"), initiative("3.3")
    Initiative.objects.filter(pk=a.pk).update(weight=3)
    make_progress(a, percent=20)
    make_progress(b, percent=60)
    make_progress(c, status="cancelled", percent=0)
    result = rollup(i for i in _annotated(plan) if i.policy.number == 3)
    assert result.percent == Decimal("30.0")  # (3*20 + 1*60) / 4; cancelled not counted
    assert result.counted == 2


def test_nothing_logged_gives_no_number(plan):
    result = rollup(_annotated(plan, fy=2021))
    assert result.percent is None and result.total == 13


def test_rollup_says_how_many_reported():
    """One initiative of three reported: the figure rests on one, and says so."""
    from types import SimpleNamespace

    from initiatives.selectors import rollup

    items = [
        SimpleNamespace(latest_status="on_track", latest_percent=60, weight=None),
        SimpleNamespace(latest_status=None, latest_percent=None, weight=None),
        SimpleNamespace(latest_status=None, latest_percent=None, weight=None),
    ]
    r = rollup(items)
    assert (str(r.percent), r.counted, r.reported, r.total, r.unreported) == ("60.0", 1, 1, 3, 2)
    assert not r.complete
