"""Absolute links in mail templates, from PORTAL_BASE_URL (portal_lib.accounts.portal_url)."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse

from portal_lib.accounts import portal_url as _portal_url

register = template.Library()


@register.simple_tag
def portal_url(view_name: str, *args: Any, **kwargs: Any) -> str:
    """``{% url %}``, made absolute on PORTAL_BASE_URL: never the request's host."""
    return _portal_url(reverse(view_name, args=args or None, kwargs=kwargs or None))


@register.simple_tag
def password_reset_hours() -> int:
    return settings.PASSWORD_RESET_TIMEOUT // 3600
