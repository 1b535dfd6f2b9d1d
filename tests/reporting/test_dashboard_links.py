"""The dashboard's links behind its numbers (issue 24, round 2): the page reverses each list
once and builds the ~200 count links by string formatting. Every href must stay what
reverse() plus the filters' query string gave, byte for byte, in the page's order; and the
count_link tag's markup must stay what format_html gave."""

import html
import re
from datetime import date
from urllib.parse import urlencode

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from initiatives.models import ProgressStatus
from tests.factory import PLAN_CODE, make_online_procedure, set_system_phase
from tests.reporting.test_dashboard_sql_rollup import varied  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 24)
URL = "/plan/dashboard/"


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)


# --- the former implementation: reverse() on every link --------------------------------------


def old_filtered_url(urlname, **params):
    try:
        url = reverse(urlname)
    except NoReverseMatch:
        return ""
    query = {k: v for k, v in params.items() if v is not None and v != ""}
    return f"{url}?{urlencode(query)}" if query else url


def old_count_link(value, urlname, label="", **params):
    url = old_filtered_url(urlname, **params)
    hidden = format_html('<span class="visually-hidden">{}</span>', label) if label else ""
    if not url:
        return format_html("{}{}", value, hidden)
    return format_html('<a class="count-link" href="{}">{}{}</a>', url, value, hidden)


def expected_count_links(d) -> list[str]:
    """Every count link of the page, in the page's order, built the old way."""
    fy, ini = d.fiscal_year, "initiatives:list"
    urls = [
        old_filtered_url(ini, fy=fy),
        old_filtered_url(ini, fy=fy, status="delayed"),
        old_filtered_url(ini, fy=fy, stale_days=d.stale_days),
        *(old_filtered_url(ini, fy=fy, status=value) for value, _l, _n in d.status_counts),
    ]
    for groups in (d.policies, d.working_groups):
        for g in groups:
            for status in (None, "delayed", "none"):
                urls.append(old_filtered_url(ini, fy=fy, policy=g.policy, wg=g.wg, status=status))
    urls += [old_filtered_url(ini, fy=fy, review=value) for value, _l, _n in d.review_counts]
    if d.burnup.target:
        urls.append(old_filtered_url("initiatives:procedures", status="online"))
    s = d.systems
    if s.target:
        urls += [old_filtered_url("initiatives:systems", phase=v) for v, _l, _n in s.phase_totals]
        for group, cells in s.rows():
            for value, _label, _systems in cells:
                urls.append(
                    old_filtered_url("initiatives:systems", group=group.number, phase=value)
                )
        if s.overdue:
            urls.append(old_filtered_url("initiatives:systems", overdue=1))
    return urls


def page(client, user, **params):
    client.force_login(user)
    response = client.get(URL, {"plan": PLAN_CODE, **params})
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(("fy", "stale_days"), [("2026", "60"), ("2025", "400"), ("2024", "30")])
def test_every_count_link_is_reverse_plus_its_filters(client, varied, personas, fy, stale_days):  # noqa: F811
    make_online_procedure(1, online_on=date(2022, 6, 1))
    make_online_procedure(3)
    set_system_phase(1, "done", migrated_on=date(2025, 12, 1))
    set_system_phase(9, "fit_gap")
    response = page(client, personas.secretariat, fy=fy, stale_days=stale_days)
    d = response.context["dashboard"]
    content = response.content.decode()
    hrefs = [html.unescape(m) for m in re.findall(r'<a class="count-link" href="([^"]*)"', content)]
    expected = expected_count_links(d)
    # the varied plan's page has policies, WGs, every status and the systems board
    assert len(d.policies) >= 4 and len(d.working_groups) >= 2 and d.systems.target
    assert len(expected) > 60
    assert hrefs == expected
    # and each one escaped as format_html escaped it (& -> &amp;)
    for href in expected:
        assert f'href="{html.escape(href)}"' in content


def test_the_unreported_links_and_the_lists_links_are_unchanged(client, varied, personas):  # noqa: F811
    response = page(client, personas.secretariat, fy="2026", stale_days="1")
    d = response.context["dashboard"]
    content = response.content.decode()
    # the "すべて見る" link of the stale list is on the page; the page read the first 20
    assert d.stale_count > 20 and len(d.stale) == 20
    see_all = old_filtered_url("initiatives:list", fy=2026, stale_days=1)
    assert f'<a href="{html.escape(see_all)}">' in content
    for ini in d.stale[:20]:
        assert f'<a href="{reverse("initiatives:detail", args=[ini.pk])}">' in content


@pytest.mark.parametrize(
    ("value", "urlname", "label", "params"),
    [
        (3, "initiatives:list", "件", {"fy": 2026, "status": ProgressStatus.DELAYED}),
        (0, "initiatives:list", "", {"fy": 2026, "policy": None, "wg": 7, "status": ""}),
        ("<b>", "initiatives:list", "a & <b>", {"q": "日本 語&x=1", "fy": 2025}),
        (mark_safe("<i>5</i>"), "initiatives:systems", mark_safe("<em>業務</em>"), {}),
        (4, "no-such:view", "件", {"fy": 2026}),  # no view yet: the number without a link
        (None, "no-such:view", "", {}),
    ],
)
def test_count_link_markup_is_what_format_html_gave(value, urlname, label, params):
    args = " ".join(f"{k}=p_{k}" for k in params)
    tpl = Template("{% load charts %}{% count_link value urlname label " + args + " %}")
    ctx = {"value": value, "urlname": urlname, "label": label}
    ctx.update({f"p_{k}": v for k, v in params.items()})
    rendered = tpl.render(Context(ctx))
    assert rendered == old_count_link(value, urlname, label, **params)
    # twice on one page: the second link comes from the page's reversed URL
    twice = Template(
        "{% load charts %}{% count_link value urlname label " + args + " %}"
        "{% count_link value urlname label " + args + " %}"
    ).render(Context(ctx))
    assert twice == rendered * 2


def test_list_url_is_reverse_plus_its_filters():
    tpl = Template(
        '{% load charts %}{% list_url "initiatives:list" fy=2026 status="delayed" as a %}'
        '{% list_url "initiatives:list" fy=2026 policy=None as b %}'
        '{% list_url "no-such:view" fy=1 as c %}{{ a }}|{{ b }}|{{ c }}'
    )
    expected = "|".join(
        [
            old_filtered_url("initiatives:list", fy=2026, status="delayed"),
            old_filtered_url("initiatives:list", fy=2026, policy=None),
            "",
        ]
    )
    assert tpl.render(Context({})) == html.escape(expected)


def _object_url(urlname, *args):
    return Template(
        "{% load charts %}{% object_url urlname "
        + " ".join(f"a{i}" for i in range(len(args)))
        + " %}"
    ).render(Context({"urlname": urlname, **{f"a{i}": a for i, a in enumerate(args)}}))


@pytest.mark.parametrize("pk", [0, 1, 9, 10, 42, 7777, 1234567890, 10**12])
def test_object_url_is_reverse_for_every_number(pk):
    assert _object_url("initiatives:detail", pk) == reverse("initiatives:detail", args=[pk])


def test_object_url_falls_back_to_reverse_where_the_form_does_not_hold(settings):
    from django.urls import set_script_prefix

    # not a whole number, a bool, a negative number, no such view
    assert _object_url("initiatives:detail", "12") == reverse("initiatives:detail", args=["12"])
    assert _object_url("initiatives:detail", True) == ""  # not the form's 1: reverse() refuses it
    assert _object_url("initiatives:detail", -3) == ""  # <int:pk> takes no sign
    assert _object_url("no-such:view", 5) == ""
    # the site under a prefix (SCRIPT_NAME): the prefix is part of the form's key
    try:
        set_script_prefix("/dx/")
        assert _object_url("initiatives:detail", 8) == reverse("initiatives:detail", args=[8])
        assert _object_url("initiatives:detail", 8).startswith("/dx/")
    finally:
        set_script_prefix("/")
    assert _object_url("initiatives:detail", 8) == reverse("initiatives:detail", args=[8])


def test_a_converter_that_reshapes_numbers_is_reversed_every_time(settings):
    """A view whose converter pads its number is never filled in by the form."""
    from django.urls import path, register_converter

    class Padded:
        regex = "[0-9]{4}"

        def to_python(self, value):
            return int(value)

        def to_url(self, value):
            return f"{value:04d}"

    register_converter(Padded, "padded4")
    urls = type(
        "urls",
        (),
        {"urlpatterns": [path("r/<padded4:n>/", lambda request, n: None, name="padded")]},
    )
    settings.ROOT_URLCONF = urls
    assert _object_url("padded", 7) == "/r/0007/"
    assert _object_url("padded", 42) == "/r/0042/"
