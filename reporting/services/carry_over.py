"""Carrying initiatives over into the next plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kahoku_dx import era
from kahoku_dx.history import save_with_user
from plans.models import (
    BasicPolicy,
    Plan,
)

# --------------------------------------------------------------------------------------------
# Carrying initiatives over into the next plan (issue 5)
# --------------------------------------------------------------------------------------------


def carry_over_refusal(*, source_plan: Plan, target_plan: Plan) -> str | None:
    """Why ``target_plan`` cannot take over ``source_plan``'s initiatives (None if it can).

    The form shows it under the target field; plan_carry_over refuses with it.
    """
    if target_plan.can_follow(source_plan):
        return None
    if source_plan.pk == target_plan.pk:
        return "引継ぎ先には引継ぎ元と別の計画を選んでください。"
    return (
        f"引継ぎ先の計画は{era.format_fiscal_year(source_plan.end_fy)}より後に"
        "始まる計画を選んでください。"
    )


@dataclass
class CarryOverLine:
    initiative: Any
    review: Any  # the initiative's latest PDCA review in the source plan
    action: str  # "create" | "exists" | "ended" (完了・廃止) | "skip"
    reason: str

    @property
    def decision(self) -> str:
        """The review's decision in the plan's words (継続・拡充・見直し・完了・廃止), or ""."""
        if self.review is None or not self.review.carry_over:
            return ""
        return self.review.get_carry_over_display()


def plan_carry_over_preview(*, source_plan: Plan, target_plan: Plan) -> list[CarryOverLine]:
    """What plan_carry_over would do, without writing anything."""
    from initiatives.models import Initiative, Review

    initiatives = list(
        Initiative.objects.for_plan(source_plan)
        .select_related("policy", "working_group", "lead_section")
        .order_by("policy__number", "number")
    )
    latest: dict[int, Any] = {}
    for review in Review.objects.filter(initiative__policy__plan=source_plan).order_by(
        "initiative_id", "-fiscal_year"
    ):
        latest.setdefault(review.initiative_id, review)
    already = set(
        Initiative.objects.filter(
            policy__plan=target_plan, carried_from__in=initiatives
        ).values_list("carried_from_id", flat=True)
    )
    lines = []
    for ini in initiatives:
        review = latest.get(ini.pk)
        if review is None:
            lines.append(CarryOverLine(ini, None, "skip", _("振り返りがありません")))
        elif not review.carries_over:
            reason = _("方針が「%(decision)s」のため引き継ぎません") % {
                "decision": review.get_carry_over_display()
            }
            action = "ended" if review.ends_initiative else "skip"
            lines.append(CarryOverLine(ini, review, action, reason))
        elif ini.pk in already:
            lines.append(CarryOverLine(ini, review, "exists", _("引継ぎ済みです")))
        else:
            lines.append(
                CarryOverLine(
                    ini,
                    review,
                    "create",
                    _("方針「%(decision)s」") % {"decision": review.get_carry_over_display()},
                )
            )
    return lines


def _last_actual(indicator: Any) -> tuple[Any, int] | None:
    """The indicator's latest actual (the counted one when linked to a countable target)
    and its year, or None when no year has one."""
    for value in sorted(indicator.values.all(), key=lambda v: v.fiscal_year, reverse=True):
        if value.shown_actual is not None:
            return value.shown_actual, value.fiscal_year
    return None


def _carry_children(src: Any, ini: Any, user: Any) -> None:
    """The projects under way and the indicators go with the initiative; an indicator's last
    actual becomes its baseline (targets are set afresh in the new plan)."""
    from initiatives.models import Indicator, ProjectUnderWay
    from initiatives.selectors import attach_counted_actuals

    for project in src.projects.all():
        save_with_user(
            ProjectUnderWay(
                initiative=ini,
                era_label=project.era_label,
                fiscal_year=project.fiscal_year,
                name=project.name,
                section=project.section,
                order=project.order,
            ),
            user,
        )
    indicators = list(src.indicators.prefetch_related("values"))
    attach_counted_actuals(indicators)
    for ind in indicators:
        last = _last_actual(ind)
        baseline, baseline_fy = last if last is not None else (ind.baseline, ind.baseline_fy)
        save_with_user(
            Indicator(
                initiative=ini,
                name=ind.name,
                unit=ind.unit,
                direction=ind.direction,
                baseline=baseline,
                baseline_fy=baseline_fy,
                order=ind.order,
            ),
            user,
        )


def plan_carry_over(*, source_plan: Plan, target_plan: Plan, user: Any) -> list[Any]:
    """Create the next plan's policies and initiatives for initiatives whose latest PDCA
    review carries them over (Review.carries_over), setting ``carried_from`` and recording
    the review's decision and Act text; projects and indicators go with them.

    Running it twice creates nothing new. Policies are matched by number; an initiative
    keeps its number unless the target policy already uses it.
    """
    from initiatives.models import Initiative
    from workgroups.models import WorkingGroup

    refusal = carry_over_refusal(source_plan=source_plan, target_plan=target_plan)
    if refusal:
        raise ValidationError(refusal)
    created = []
    with transaction.atomic():
        lines = plan_carry_over_preview(source_plan=source_plan, target_plan=target_plan)
        policies = {p.number: p for p in BasicPolicy.objects.filter(plan=target_plan)}
        wgs = {wg.name: wg for wg in WorkingGroup.objects.filter(plan=target_plan)}
        used = set(
            Initiative.objects.filter(policy__plan=target_plan).values_list(
                "policy__number", "number"
            )
        )
        for line in lines:
            if line.action != "create":
                continue
            src = line.initiative
            policy = policies.get(src.policy.number)
            if policy is None:
                policy = BasicPolicy(
                    plan=target_plan,
                    number=src.policy.number,
                    title=src.policy.title,
                    heading=src.policy.heading,
                    summary=src.policy.summary,
                    classification=src.policy.classification,
                )
                save_with_user(policy, user)
                policies[policy.number] = policy
            number = src.number
            while (policy.number, number) in used:
                number += 1
            used.add((policy.number, number))
            ini = Initiative(
                policy=policy,
                number=number,
                title=src.title,
                description=src.description,
                flag=src.flag,
                working_group=wgs.get(src.working_group.name) if src.working_group else None,
                lead_section=src.lead_section,
                weight=src.weight,
                carried_from=src,
                carried_decision=line.review.carry_over,
                carried_act_text=line.review.act_text,
            )
            save_with_user(ini, user)
            ini.national_items.set(src.national_items.all())
            _carry_children(src, ini, user)
            created.append(ini)
    return created
