"""Carrying initiatives over into the next plan."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from initiatives.models import Indicator, Initiative, ProjectUnderWay, Review
from initiatives.selectors import attach_counted_actuals
from plans.models import (
    BasicPolicy,
    Plan,
    PlanStatus,
)
from plans.services import locked_plan
from portal_lib import era
from portal_lib.history import save_with_user
from workgroups.models import WorkingGroup

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from portal_lib.users import PortalUser

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
    initiative: Initiative
    review: (
        Review | None
    )  # the initiative's final-year PDCA review in the source plan (None: none yet)
    # "create" | "refresh" (carried before, refreshed while the target is a draft) |
    # "exists" (carried, the target is adopted: nothing changes) | "ended" (完了・廃止) |
    # "unapproved" (a decision headquarters has not approved: 未承認) |
    # "dropped" (carried once, then abolished in the draft: not carried again) | "skip"
    action: str
    reason: StrOrPromise

    @property
    def decision(self) -> str:
        """The review's decision in the plan's words (継続・拡充・見直し・完了・廃止), or ""."""
        if self.review is None or not self.review.carry_over:
            return ""
        return self.review.get_carry_over_display()

    @property
    def carries(self) -> bool:
        return self.action in ("create", "refresh")


def _target_is_open(target_plan: Plan) -> bool:
    """Carry-over writes into a plan still being drafted, never into an adopted one."""
    return target_plan.status == PlanStatus.DRAFT


def _abolished_in_target(target_plan: Plan, initiatives: list[Initiative]) -> set[int]:
    """The source initiatives carried into ``target_plan`` once and abolished there since
    (deleted on the drafting screens): read off the initiatives' history in one query, so
    running the carry-over again does not bring them back."""
    from django.db.models import Q, Subquery

    if not initiatives:
        return set()
    policies_ever = BasicPolicy.history.filter(plan_id=target_plan.pk).values("id")
    return set(
        Initiative.history.filter(
            Q(policy_id__in=Subquery(policies_ever)) | Q(policy__plan=target_plan),
            history_type="-",
            carried_from_id__in=[ini.pk for ini in initiatives],
        ).values_list("carried_from_id", flat=True)
    )


def plan_carry_over_preview(*, source_plan: Plan, target_plan: Plan) -> list[CarryOverLine]:
    """What plan_carry_over would do, without writing anything.

    Only the source plan's final-year review (its end_fy) approved by headquarters decides:
    継続・拡充・見直し carry the initiative, 完了・廃止 end it; a decision not approved yet is
    「未承認」 and carries nothing."""
    initiatives = list(
        Initiative.objects.for_plan(source_plan)
        .select_related("policy", "working_group", "lead_section")
        .order_by("policy__number", "number")
    )
    final: dict[int, Review] = {
        review.initiative_id: review
        for review in Review.objects.filter(
            initiative__policy__plan=source_plan, fiscal_year=source_plan.end_fy
        )
    }
    already = set(
        Initiative.objects.filter(
            policy__plan=target_plan, carried_from__in=initiatives
        ).values_list("carried_from_id", flat=True)
    )
    abolished = _abolished_in_target(target_plan, initiatives) - already
    open_target = _target_is_open(target_plan)
    final_year = era.era_label(source_plan.end_fy, short=False)
    lines = []
    reason: StrOrPromise
    for ini in initiatives:
        review = final.get(ini.pk)
        if review is None:
            reason = _("%(fy)sの振り返りがありません") % {"fy": final_year}
            lines.append(CarryOverLine(ini, None, "skip", reason))
        elif review.state != Review.State.APPROVED:
            reason = _("未承認(%(state)s)のため引き継ぎません") % {
                "state": review.get_state_display()
            }
            lines.append(CarryOverLine(ini, review, "unapproved", reason))
        elif not review.carries_over:
            if review.ends_initiative:
                reason = _("方針が「%(decision)s」のため引き継ぎません") % {
                    "decision": review.get_carry_over_display()
                }
                lines.append(CarryOverLine(ini, review, "ended", reason))
            else:
                lines.append(CarryOverLine(ini, review, "skip", _("方針が決まっていません")))
        elif ini.pk in already:
            if open_target:
                reason = _("引継ぎ済み:基準値とAct(改善)を最新の内容に更新します")
                lines.append(CarryOverLine(ini, review, "refresh", reason))
            else:
                reason = _("引継ぎ済み(引継ぎ先は決定済みのため変更しません)")
                lines.append(CarryOverLine(ini, review, "exists", reason))
        elif ini.pk in abolished:
            reason = _("引継ぎ先の下書きで廃止したため、再び引き継ぎません")
            lines.append(CarryOverLine(ini, review, "dropped", reason))
        elif open_target:
            reason = _("方針「%(decision)s」") % {"decision": review.get_carry_over_display()}
            lines.append(CarryOverLine(ini, review, "create", reason))
        else:
            reason = _("引継ぎ先は決定済みのため引き継げません")
            lines.append(CarryOverLine(ini, review, "skip", reason))
    return lines


def _last_actual(indicator: Indicator) -> tuple[Decimal, int] | None:
    """The indicator's latest actual (the counted one when linked to a countable target)
    and its year, or None when no year has one."""
    for value in sorted(indicator.values.all(), key=lambda v: v.fiscal_year, reverse=True):
        if value.shown_actual is not None:
            return value.shown_actual, value.fiscal_year
    return None


def _source_indicators(src: Initiative) -> list[Indicator]:
    indicators = list(src.indicators.prefetch_related("values"))
    attach_counted_actuals(indicators)
    return indicators


def _baseline(ind: Indicator) -> tuple[Decimal | None, int | None]:
    last = _last_actual(ind)
    return last if last is not None else (ind.baseline, ind.baseline_fy)


def _carry_children(src: Initiative, ini: Initiative, user: PortalUser) -> None:
    """The projects under way and the indicators go with the initiative; an indicator's last
    actual becomes its baseline (targets are set afresh in the new plan)."""
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
    for ind in _source_indicators(src):
        baseline, baseline_fy = _baseline(ind)
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


def _refresh(
    src: Initiative, review: Review, user: PortalUser, target_plan: Plan
) -> Initiative | None:
    """Bring an initiative carried earlier up to date: the decision and Act text of the
    approved final-year review, indicator baselines from the latest actuals (indicators are
    matched by name; one the drafters removed is not brought back). Nothing is created."""
    ini = (
        Initiative.objects.select_for_update(of=("self",))
        .filter(policy__plan=target_plan, carried_from=src)
        .first()
    )
    if ini is None:
        return None
    changed = False
    if (ini.carried_decision, ini.carried_act_text) != (review.carry_over, review.act_text):
        ini.carried_decision, ini.carried_act_text = review.carry_over, review.act_text
        save_with_user(ini, user)
        changed = True
    targets = {ind.name: ind for ind in ini.indicators.all()}
    for ind in _source_indicators(src):
        target = targets.get(ind.name)
        if target is None:
            continue
        baseline, baseline_fy = _baseline(ind)
        if (target.baseline, target.baseline_fy) != (baseline, baseline_fy):
            target.baseline, target.baseline_fy = baseline, baseline_fy
            save_with_user(target, user)
            changed = True
    return ini if changed else None


@dataclass
class CarryOverResult:
    created: list[Initiative]
    refreshed: list[Initiative]

    def __iter__(
        self,
    ) -> Iterator[Initiative]:  # ``(new,) = plan_carry_over(...)``: the initiatives created
        return iter(self.created)

    def __len__(self) -> int:
        return len(self.created)


MSG_TARGET_ADOPTED = (
    "「%(plan)s」は%(status)sのため、引継ぎは変更できません(引継ぎは策定中の計画にだけ行えます)。"
)


def plan_carry_over(*, source_plan: Plan, target_plan: Plan, user: PortalUser) -> CarryOverResult:
    """Create the next plan's policies and initiatives for initiatives whose approved
    final-year review carries them over, setting ``carried_from`` and recording the review's
    decision and Act text; projects and indicators go with them.

    While the target plan is a draft, running it again refreshes what it carried (baselines
    from the latest actuals, the decision and Act text) and creates nothing twice; once the
    target is adopted it changes nothing. The target plan's row is locked throughout, so
    concurrent runs write once. Policies are matched by number; an initiative keeps its
    number unless the target policy already uses it.
    """
    refusal = carry_over_refusal(source_plan=source_plan, target_plan=target_plan)
    if refusal:
        raise ValidationError(refusal)
    created: list[Initiative] = []
    refreshed: list[Initiative] = []
    with transaction.atomic():
        target_plan = locked_plan(target_plan)
        if not _target_is_open(target_plan):
            raise ValidationError(
                MSG_TARGET_ADOPTED
                % {"plan": target_plan.name, "status": target_plan.get_status_display()}
            )
        lines = plan_carry_over_preview(source_plan=source_plan, target_plan=target_plan)
        policies = {p.number: p for p in BasicPolicy.objects.filter(plan=target_plan)}
        # The same body in the next plan: matched by its key (stable across renames), else
        # by name for a WG created by hand in the new plan.
        target_wgs = list(WorkingGroup.objects.filter(plan=target_plan))
        wgs = {wg.name: wg for wg in target_wgs} | {wg.key: wg for wg in target_wgs if wg.key}
        used = set(
            Initiative.objects.filter(policy__plan=target_plan).values_list(
                "policy__number", "number"
            )
        )
        for line in lines:
            if line.action not in ("refresh", "create"):
                continue
            review = line.review
            assert review is not None  # a line that refreshes or creates has its review
            if line.action == "refresh":
                ini = _refresh(line.initiative, review, user, target_plan)
                if ini is not None:
                    refreshed.append(ini)
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
                working_group=(
                    wgs.get(src.working_group.key) or wgs.get(src.working_group.name)
                    if src.working_group
                    else None
                ),
                lead_section=src.lead_section,
                weight=src.weight,
                carried_from=src,
                carried_decision=review.carry_over,
                carried_act_text=review.act_text,
            )
            save_with_user(ini, user)
            ini.national_items.set(src.national_items.all())
            _carry_children(src, ini, user)
            created.append(ini)
    return CarryOverResult(created=created, refreshed=refreshed)
