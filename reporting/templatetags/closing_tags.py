"""The draft's 「前計画の成果と課題」 button: whether it is offered, and the chapter it fills."""

from __future__ import annotations

from typing import Any

from django import template

from plans.models import Plan, PlanStatus
from reporting.services import drafting

register = template.Library()


@register.simple_tag
def predecessor_chapter_state(plan: Plan, editable: bool) -> dict[str, Any]:
    """``offered``: a draft plan being drafted that follows another plan (no query
    otherwise); ``chapter``: the chapter already there, or None."""
    if not (editable and plan.status == PlanStatus.DRAFT and plan.predecessor_id):
        return {"offered": False, "chapter": None}
    return {"offered": True, "chapter": drafting.predecessor_chapter(plan)}
