"""Server-side SVG charts and links behind numbers; no JavaScript, no CDN.

Each chart carries role="img", a <title> and a <desc> stating the same figures in words,
so a screen reader hears what a sighted user sees; pages add a data table as well.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.formats import date_format, localize
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


def filtered_url(urlname: str, _bases: dict[str, str] | None = None, **params: object) -> str:
    """reverse() plus the list's GET filters; "" while the list view does not exist yet.

    ``_bases`` is a page's cache of reversed names: a page of 200 links reverses each list
    once and builds the rest by string formatting (the same hrefs as reversing every time).
    """
    if _bases is not None and urlname in _bases:
        url = _bases[urlname]
    else:
        try:
            url = reverse(urlname)
        except NoReverseMatch:
            url = ""
        if _bases is not None:
            _bases[urlname] = url
    if not url:
        return ""
    query = {k: v for k, v in params.items() if v is not None and v != ""}
    return f"{url}?{urlencode(query)}" if query else url


_PAGE_URLS = object()  # the render context key of a page's reversed list URLs


def _page_bases(context: template.Context) -> dict[str, str]:
    """The reversed URLs of the page being rendered: the render context's outermost dict
    lives as long as one render (includes share it, as the include tag's own cache does)."""
    outermost: dict[Any, Any] = context.render_context.dicts[0]
    bases: dict[str, str] = outermost.setdefault(_PAGE_URLS, {})
    return bases


@register.simple_tag(takes_context=True)
def list_url(context: template.Context, urlname: str, **params: object) -> str:
    return filtered_url(urlname, _page_bases(context), **params)


@register.simple_tag(takes_context=True)
def count_link(
    context: template.Context, value: object, urlname: str, label: str = "", **params: object
) -> SafeString:
    """A number that links to the list behind it, with the same filters."""
    url = filtered_url(urlname, _page_bases(context), **params)
    # format_html's own escaping (conditional_escape), without its str.format per call
    text = str(conditional_escape(str(value)))
    if label:
        text = f'{text}<span class="visually-hidden">{conditional_escape(label)}</span>'
    if not url:
        return mark_safe(text)
    return mark_safe(f'<a class="count-link" href="{conditional_escape(url)}">{text}</a>')


@register.simple_tag
def grade_counts(grades: Any) -> SafeString:
    """The indicators' grades with their counts, ``grades`` = [(key, label, count)] (a
    dashboard group's, or a saved report's): A–D as badges, 未評価 in the reader's language.
    A tag rather than an included template: the dashboard shows it on every policy and WG
    row, where the include cost more than the rest of the row."""
    items = []
    for key, label, n in grades:
        k = conditional_escape(key)
        if key == "none":  # initiatives.models.UNGRADED: a label held as its Japanese source
            shown = str(conditional_escape(_(str(label)) if label else ""))
        else:
            shown = f'<span class="badge grade grade-{k}">{conditional_escape(label)}</span>'
        items.append(
            f'<span class="grade-count grade-count-{k}">{shown} '
            f"{conditional_escape(localize(n))}</span>"
        )
    return mark_safe(f'<span class="grade-counts">{" ".join(items)}</span>')


def _fmt(percent: Decimal | float | int | None) -> str:
    return "—" if percent is None else f"{percent}%"


@register.simple_tag
def progress_bar(percent: Decimal | int | None, label: str = "") -> SafeString:
    """A 0–100% bar; the figure is also printed beside it."""
    width = 200
    value = 0.0 if percent is None else max(0.0, min(100.0, float(percent)))
    if percent is None:
        text = (
            _("%(label)s: 進捗率の記録なし") % {"label": label} if label else _("進捗率の記録なし")
        )
    elif label:
        text = _("%(label)s: 進捗率 %(percent)s") % {"label": label, "percent": _fmt(percent)}
    else:
        text = _("進捗率 %(percent)s") % {"percent": _fmt(percent)}
    filled = round(width * value / 100, 1)
    return format_html(
        '<svg class="chart-bar" viewBox="0 0 {w} 14" width="{w}" height="14" role="img" '
        'aria-label="{t}"><title>{t}</title>'
        '<rect class="chart-bar-track" x="0" y="0" width="{w}" height="14" rx="2"></rect>'
        '<rect class="chart-bar-fill" x="0" y="0" width="{f}" height="14" rx="2"></rect>'
        "</svg>",
        w=width,
        t=text,
        f=filled,
    )


@register.simple_tag
def burnup_chart(burnup, today: date) -> SafeString:
    """Cumulative procedures online over time against the target line and the deadline."""
    if burnup.target is None:
        return mark_safe("")
    target_count = burnup.target_count
    start = min([p.day for p in burnup.points] + [date(burnup.deadline.year - 2, 4, 1)])
    end = max([p.day for p in burnup.points] + [burnup.deadline, today])
    span = max((end - start).days, 1)
    w, h, left, right, top, bottom = 640, 260, 44, 16, 16, 36
    plot_w, plot_h = w - left - right, h - top - bottom
    y_max = max(target_count, burnup.online, 1)

    def x(d: date) -> float:
        return round(left + plot_w * (d - start).days / span, 1)

    def y(n: int) -> float:
        return round(top + plot_h - plot_h * n / y_max, 1)

    path = [f"M{x(start)},{y(0)}"]
    for p in burnup.points:
        path.append(f"H{x(p.day)}V{y(p.count)}")
    path.append(f"H{x(min(today, end))}")

    years = list(range(start.year, end.year + 1))
    ticks = format_html_join(
        "",
        '<line class="chart-grid" x1="{0}" y1="{1}" x2="{0}" y2="{2}"></line>'
        '<text class="chart-tick" x="{0}" y="{3}" text-anchor="middle">{4}</text>',
        (
            (x(date(yr, 1, 1)), top, top + plot_h, h - bottom + 16, str(yr))
            for yr in years
            if start <= date(yr, 1, 1) <= end
        ),
    )
    desc = _(
        "オンライン化済の手続は目標%(target)s件のうち%(online)s件です。"
        "期限(%(deadline)s)までにオンライン化したのは%(by_deadline)s件です。"
    ) % {
        "target": target_count,
        "online": burnup.online,
        "deadline": date_format(burnup.deadline, _("Y年m月d日")),
        "by_deadline": burnup.online_by_deadline,
    }
    return format_html(
        '<svg class="chart-burnup" viewBox="0 0 {w} {h}" role="img" aria-labelledby="burnup-title '
        'burnup-desc"><title id="burnup-title">{title}</title>'
        '<desc id="burnup-desc">{desc}</desc>'
        '<line class="chart-axis" x1="{left}" y1="{base}" x2="{right_x}" y2="{base}"></line>'
        '<line class="chart-axis" x1="{left}" y1="{top}" x2="{left}" y2="{base}"></line>'
        "{ticks}"
        '<line class="chart-target" x1="{left}" y1="{ty}" x2="{right_x}" y2="{ty}"></line>'
        '<text class="chart-label" x="{left_label}" y="{ty_label}">{target_label}</text>'
        '<line class="chart-deadline" x1="{dx}" y1="{top}" x2="{dx}" y2="{base}"></line>'
        '<text class="chart-label" x="{dx_label}" y="{top_label}">{deadline_label}</text>'
        '<line class="chart-today" x1="{tx}" y1="{top}" x2="{tx}" y2="{base}"></line>'
        '<path class="chart-line" d="{path}"></path>'
        '<text class="chart-tick" x="{y_label_x}" y="{base}" text-anchor="end">0</text>'
        '<text class="chart-tick" x="{y_label_x}" y="{ymax_y}" text-anchor="end">{ymax}</text>'
        "</svg>",
        w=w,
        h=h,
        title=_("オンライン化済の手続数の推移"),
        target_label=_("目標 %(target)s件") % {"target": target_count},
        deadline_label=_("期限"),
        desc=desc,
        left=left,
        top=top,
        base=top + plot_h,
        right_x=left + plot_w,
        ticks=ticks,
        ty=y(target_count),
        ty_label=y(target_count) - 4,
        left_label=left + 4,
        dx=x(burnup.deadline),
        dx_label=x(burnup.deadline) + 4,
        top_label=top + 12,
        tx=x(min(today, end)),
        path="".join(path),
        y_label_x=left - 6,
        ymax_y=y(y_max) + 4,
        ymax=y_max,
    )


@register.simple_tag
def object_url(urlname: str, *args: object) -> str:
    """reverse() with args; "" while the target view does not exist yet.

    A page of lists links to many objects of one view ("/initiatives/<pk>/"): for one
    whole-number argument the URL is reverse()'s own, worked out once per view, address
    prefix and language (_pk_url_form) and filled in with the number."""
    if len(args) == 1 and type(args[0]) is int and args[0] >= 0:
        urlconf = get_urlconf() or settings.ROOT_URLCONF
        form = _pk_url_form(urlname, get_script_prefix(), urlconf, get_language())
        if form is not None:
            return f"{form[0]}{args[0]}{form[1]}"
    try:
        return reverse(urlname, args=args)
    except NoReverseMatch:
        return ""


@lru_cache(maxsize=256)
def _pk_url_form(
    urlname: str, prefix: str, urlconf: str | None, language: str | None
) -> tuple[str, str] | None:
    """What reverse(urlname, args=[n]) puts before and after n, when that is all it does:
    checked with numbers of one, two and ten digits (a converter that pads or reshapes them
    gives None, and object_url reverses every time)."""
    try:
        probe = reverse(urlname, args=[1234567890])
        if probe.count("1234567890") != 1:
            return None
        before, after = probe.split("1234567890")
        for n in (0, 7, 42):
            if reverse(urlname, args=[n]) != f"{before}{n}{after}":
                return None
    except NoReverseMatch:
        return None
    return before, after


@register.filter
def fy_label(fy: int) -> str:
    from portal_lib import era

    return era.format_fiscal_year(int(fy))


@register.filter
def fy_short(fy: int) -> str:
    from portal_lib import era

    return era.era_label(int(fy))


@register.filter
def lookup(mapping: dict, key: object) -> object:
    return mapping.get(key, 0) if mapping else 0


@register.filter
def dashify(value: object) -> str:
    """on_track -> on-track, for the .badge-* classes."""
    return str(value).replace("_", "-")
