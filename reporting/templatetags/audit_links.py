"""「変更履歴」: a link from an object's page to its changes in the audit list (issue 23),
for the secretariat only (the audit screens answer others 403)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag(takes_context=True)
def audit_link(context: Any, obj: Any, label: str = "") -> str:
    roles = context.get("roles")
    if obj is None or getattr(obj, "pk", None) is None or not getattr(roles, "secretariat", False):
        return ""
    query = urlencode({"kind": obj._meta.label_lower, "object": obj.pk})
    return format_html(
        '<a class="audit-link" href="{}?{}">{}</a>',
        reverse("reporting:audit"),
        query,
        label or gettext("変更履歴"),
    )
