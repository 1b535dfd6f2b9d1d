"""The warnings before adoption, for the adopt form on the versions page."""

from __future__ import annotations

from typing import Any

from django import template

from reporting.services.drafting import adoption_warnings

register = template.Library()


@register.simple_tag
def warnings_before_adoption(plan: Any) -> list[str]:
    return adoption_warnings(plan)
