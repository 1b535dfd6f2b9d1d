"""The initiatives' own template filters: grades and roll-up figures (the site-wide ones,
dates, fiscal years and names, are portal_lib.templatetags.portal_format)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from initiatives.models import GRADE_RULE_TEXT, ProgressStatus, Review
from initiatives.models import grade_label as label_of_grade
from initiatives.selectors import rollup_figure

register = template.Library()


@register.simple_tag
def grade_rule() -> str:
    """The grade rule (GRADE_RULE_TEXT) in the current language, for grade_rule.html."""
    return _(GRADE_RULE_TEXT)


@register.filter
def grade_label(key: Any) -> str:
    """A grade key ("A" … "D", "none") as its label: "D(評価できない)", "未評価"."""
    return str(label_of_grade(str(key)))


@register.filter(name="rollup_figure")
def rollup_figure_filter(r: Any) -> str:
    """A roll-up's figure ("—", 「未報告」, "53.3%"): initiatives.selectors.rollup_figure."""
    return rollup_figure(r)


# The labels are lazy translations, read in the language of each render; built once, not
# for every row of a list (choices builds its list anew at each call).
_STATUS_LABELS: dict[str, Any] = dict(ProgressStatus.choices)
_REVIEW_LABELS: dict[str, Any] = dict(Review.State.choices)


@register.filter
def status_label(value: Any) -> str:
    """A ProgressStatus value as its label (in the reader's language)."""
    return _STATUS_LABELS.get(value, "") if value else ""


@register.filter
def review_label(value: Any) -> str:
    """A Review.State value as its label (in the reader's language)."""
    return _REVIEW_LABELS.get(value, "") if value else ""
