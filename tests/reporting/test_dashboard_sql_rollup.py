"""The dashboard's and the initiative list's roll-ups are summed by the database (issue 24):
on a varied plan they equal, figure for figure, the roll-up computed one initiative at a time
in Python as the pages did before (the reference below is that code, kept here only)."""

from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from initiatives.models import Initiative, ProgressStatus, Review
from initiatives.selectors import (
    Rollup,
    initiatives_with_list_columns,
    plan_progress,
    rollup_figure,
)
from plans.models import Plan
from reporting.selectors.dashboard import dashboard_for
from tests.factory import initiative, make_indicator, make_progress, make_review

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 24)


# --- the reference: the per-object roll-up the pages ran before -----------------------------


def _reference_percent(status, percent):
    if status is None or status == ProgressStatus.CANCELLED:
        return None
    if percent is not None:
        return percent
    if status == ProgressStatus.DONE:
        return 100
    if status == ProgressStatus.NOT_STARTED:
        return 0
    return None


def _reference_rollup(initiatives) -> Rollup:
    weighted_sum = Decimal(0)
    weight_total = Decimal(0)
    counted = total = reported = 0
    for ini in initiatives:
        total += 1
        if ini.latest_status is not None:
            reported += 1
        value = _reference_percent(ini.latest_status, ini.latest_percent)
        if value is None:
            continue
        weight = ini.weight if ini.weight is not None else Decimal(1)
        weighted_sum += weight * value
        weight_total += weight
        counted += 1
    if not weight_total:
        return Rollup(None, counted, total, reported)
    percent = (weighted_sum / weight_total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Rollup(percent, counted, total, reported)


def _statuses(initiatives) -> dict[str, int]:
    return dict(Counter(i.latest_status or "none" for i in initiatives))


def _reference(plan: Plan, fiscal_year: int, stale_days: int) -> dict:
    rows = list(
        initiatives_with_list_columns(
            Initiative.objects.for_plan(plan).select_related("policy", "working_group"),
            fiscal_year,
        ).order_by("policy__number", "number")
    )
    cutoff = date.fromordinal(TODAY.toordinal() - stale_days)
    policies = plan.policies.order_by("number")
    wgs = plan.working_groups.order_by("name")
    reviews = Counter(i.review_state or "none" for i in rows)
    return {
        "overall": _reference_rollup(rows),
        "count": len(rows),
        "statuses": {s: _statuses(rows).get(s, 0) for s in [*ProgressStatus.values, "none"]},
        "reviews": {s: reviews.get(s, 0) for s in [*Review.State.values, "none"]},
        "policies": [
            (
                p.number,
                _reference_rollup(r for r in rows if r.policy_id == p.pk),
                _statuses(r for r in rows if r.policy_id == p.pk),
            )
            for p in policies
        ],
        "wgs": [
            (
                wg.pk,
                _reference_rollup(r for r in rows if r.working_group_id == wg.pk),
                _statuses(r for r in rows if r.working_group_id == wg.pk),
            )
            for wg in wgs
        ],
        "delayed": [(r.code, r.title, r.latest_date) for r in rows if r.latest_status == "delayed"],
        "stale": [
            (r.code, r.last_entry_date)
            for r in rows
            if r.last_entry_date is None or r.last_entry_date < cutoff
        ],
    }


# --- a varied plan ---------------------------------------------------------------------------


@pytest.fixture
def varied(plan):
    """The 13 initiatives of the plan and 12 more: weights (none, 0, fractions), no WG, twins
    identical in every column the roll-up reads, entries over three years with every status,
    0 %, 100 %, blank percentages, cancelled with a percentage, reviews in every state."""
    policies = list(plan.policies.order_by("number"))
    wgs = list(plan.working_groups.order_by("name"))
    extra = []
    weights = [None, Decimal("0"), Decimal("0.25"), Decimal("1.50"), Decimal("2"), None]
    for n in range(12):
        extra.append(
            Initiative.objects.create(
                policy=policies[n % len(policies)],
                number=50 + n,
                title=f"追加の取り組み{n}",
                working_group=None if n % 5 == 4 else wgs[n % len(wgs)],
                weight=weights[n % len(weights)],
            )
        )
    # twins: same policy, WG, weight and entries (a roll-up that merged equal rows would
    # count them once)
    twin_a, twin_b = (
        extra[0],
        Initiative.objects.create(
            policy=extra[0].policy,
            number=90,
            title="双子",
            working_group=extra[0].working_group,
            weight=extra[0].weight,
        ),
    )
    Initiative.objects.filter(pk=initiative("3.1").pk).update(weight=Decimal("3"))
    Initiative.objects.filter(pk=initiative("1.1").pk).update(weight=Decimal("0.50"))
    entries = [
        ("1.1", "on_track", 33, date(2026, 5, 1)),
        ("1.1", "on_track", 67, date(2026, 10, 1)),
        ("1.2", "not_started", None, date(2026, 4, 10)),  # blank: 0 %
        ("1.3", "not_started", 5, date(2026, 4, 10)),
        ("2.1", "done", None, date(2026, 11, 1)),  # blank: 100 %
        ("2.2", "delayed", 0, date(2026, 6, 1)),  # 0 % counts
        ("2.3", "on_track", None, date(2026, 9, 30)),  # reported, no value
        ("2.4", "cancelled", 80, date(2026, 11, 20)),  # cancelled: never counted
        ("3.1", "on_track", 100, date(2026, 8, 1)),
        ("3.2", "delayed", 45, date(2025, 12, 1)),  # FY2025 only
        ("3.3", "done", 100, date(2025, 7, 1)),
        ("3.3", "on_track", 10, date(2026, 4, 2)),  # taken up again
        ("4.1", "delayed", 99, date(2026, 3, 31)),  # FY2025
        ("4.1", "on_track", 1, date(2026, 4, 1)),  # FY2026
    ]
    statuses = ["on_track", "delayed", "done", "not_started", "cancelled", "on_track"]
    for n, ini in enumerate([*extra, twin_b]):
        k = n if ini is not twin_b else 0
        percent = [None, 0, 100, 37, 50, None][k % 6]
        entries.append((ini, statuses[k % 6], percent, date(2026, 4 + k % 6, 3)))
        if k % 3 == 0:
            entries.append((ini, "delayed", 12, date(2025, 10, 3)))
    for code, status, percent, day in entries:
        ini = initiative(code) if isinstance(code, str) else code
        make_progress(ini, status=status, percent=percent, entry_date=day)
    states = Review.State.values
    for n, code in enumerate(["1.1", "1.2", "2.1", "2.2", "3.1", "3.3", "4.1"]):
        make_review(initiative(code), state=states[n % len(states)])
    make_review(initiative("3.2"), fiscal_year=2025, state="approved")
    for n, ini in enumerate(extra[:6]):
        make_review(ini, state=states[n % len(states)])
    make_indicator(initiative("2.2"), name="指標A")
    assert twin_a.pk != twin_b.pk
    return plan


@pytest.mark.parametrize("fiscal_year", [2024, 2025, 2026])
@pytest.mark.parametrize("stale_days", [30, 60, 400])
def test_dashboard_sums_equal_the_per_initiative_rollup(varied, fiscal_year, stale_days):
    expected = _reference(varied, fiscal_year, stale_days)
    d = dashboard_for(plan=varied, fiscal_year=fiscal_year, today=TODAY, stale_days=stale_days)

    assert d.overall == expected["overall"]
    assert rollup_figure(d.overall) == rollup_figure(expected["overall"])
    assert d.initiative_count == expected["count"]
    assert {value: n for value, _, n in d.status_counts} == expected["statuses"]
    assert {value: n for value, _, n in d.review_counts} == expected["reviews"]
    assert [(g.key, g.rollup, g.status_counts) for g in d.policies] == expected["policies"]
    assert [(g.key, g.rollup, g.status_counts) for g in d.working_groups] == expected["wgs"]
    assert [rollup_figure(g.rollup) for g in d.working_groups] == [
        rollup_figure(r) for _, r, _ in expected["wgs"]
    ]
    assert [(i.code, i.title, i.latest_date) for i in d.delayed] == expected["delayed"]
    assert [(i.code, i.last_entry_date) for i in d.stale] == expected["stale"]
    assert (d.delayed_count, d.stale_count) == (len(expected["delayed"]), len(expected["stale"]))


@pytest.mark.parametrize("list_limit", [1, 2, 5, 100])
@pytest.mark.parametrize("fiscal_year,stale_days", [(2025, 30), (2026, 60), (2026, 400)])
def test_a_list_limit_reads_the_first_of_each_list_and_counts_them_all(
    varied, list_limit, fiscal_year, stale_days
):
    """The dashboard page reads the first 20 of each list; the database numbers each list by
    code on its own (an initiative both delayed and unlogged is in both), and the counts
    are those of the whole lists."""
    expected = _reference(varied, fiscal_year, stale_days)
    full = dashboard_for(plan=varied, fiscal_year=fiscal_year, today=TODAY, stale_days=stale_days)
    d = dashboard_for(
        plan=varied,
        fiscal_year=fiscal_year,
        today=TODAY,
        stale_days=stale_days,
        list_limit=list_limit,
    )
    assert [(i.code, i.title, i.latest_date) for i in d.delayed] == (
        expected["delayed"][:list_limit]
    )
    assert [(i.code, i.last_entry_date) for i in d.stale] == expected["stale"][:list_limit]
    assert d.delayed == full.delayed[:list_limit] and d.stale == full.stale[:list_limit]
    assert (d.delayed_count, d.stale_count) == (len(expected["delayed"]), len(expected["stale"]))
    assert (d.overall, d.status_counts, d.review_counts) == (
        full.overall,
        full.status_counts,
        full.review_counts,
    )
    assert [g.rollup for g in d.policies + d.working_groups] == [
        g.rollup for g in full.policies + full.working_groups
    ]


def test_the_lists_overlap_and_outgrow_small_limits(varied):
    """The limits above cut both lists, and some initiative is in both (so each list's own
    numbering is what is tested)."""
    for fiscal_year, stale_days in [(2025, 30), (2026, 60)]:
        expected = _reference(varied, fiscal_year, stale_days)
        delayed = {code for code, _, _ in expected["delayed"]}
        stale = {code for code, _ in expected["stale"]}
        assert len(delayed) > 2 and len(stale) > 5
        assert delayed & stale


def test_the_varied_plan_covers_what_it_claims(varied):
    """The figures above are not all alike: weights change a percentage, groups are 0 %,
    100 %, unreported, without a value; some initiatives have no WG."""
    expected = _reference(varied, 2026, 60)
    figures = {rollup_figure(r) for _, r, _ in expected["policies"] + expected["wgs"]}
    assert "未報告" in figures or "—" in figures
    assert expected["overall"].percent is not None
    assert expected["overall"].reported < expected["overall"].total
    assert sum(r.total for _, r, _ in expected["wgs"]) < expected["count"]  # some have no WG
    percents = {r.percent for _, r, _ in expected["policies"] + expected["wgs"]}
    assert any(p is not None and p != p.to_integral_value() for p in percents)
    assert expected["delayed"] and expected["stale"]


@pytest.mark.parametrize("fiscal_year", [2024, 2025, 2026])
def test_plan_progress_sums_equal_the_per_initiative_rollup(varied, fiscal_year):
    expected = _reference(varied, fiscal_year, 60)
    with CaptureQueriesContext(connection) as queries:
        progress = plan_progress(fiscal_year)
    assert len(queries) == 1
    assert progress.plan.pk == varied.pk and progress.plan.name == varied.name
    assert progress.overall == expected["overall"]
    assert [(p.policy.number, p.rollup) for p in progress.policies] == [
        (number, r) for number, r, _ in expected["policies"] if r.total
    ]
    assert [p.policy.title for p in progress.policies] == [
        p.title for p in varied.policies.order_by("number")
    ]
