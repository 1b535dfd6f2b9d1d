"""A plan's life in the portal: the next plan drafted from this one, adopted, in force.

A version freezes the plan's content when it is adopted (PlanVersion.content), so that a
comparison or the printed document of 第1.0版 shows 第1.0版 whatever was edited since.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kahoku_dx import era
from kahoku_dx.history import save_with_user
from kahoku_dx.versioning import check_version, locked, version_bump
from plans.models import Plan, PlanChapter, PlanStatus, PlanVersion
from reporting.plan_content import plan_content
from workgroups import services as workgroups_services


@transaction.atomic
def version_freeze(*, actor: Any, version: PlanVersion, refreeze: bool = False) -> PlanVersion:
    """Store the plan's content as it stands on ``version`` (once; ``refreeze`` to redo)."""
    if version.content and not refreeze:
        return version
    content = plan_content(version.plan, version=version)
    if content == version.content:
        return version  # nothing changed: no new history row
    version.content = content
    version.frozen_at = timezone.now()
    save_with_user(version, actor)
    return version


def _copy_chapters(*, actor: Any, source: PlanVersion | None, target: PlanVersion) -> None:
    if source is None:
        return
    for chapter in source.chapters.order_by("number"):
        save_with_user(
            PlanChapter(
                version=target, number=chapter.number, title=chapter.title, body=chapter.body
            ),
            actor,
        )


@transaction.atomic
def plan_create_next(
    *,
    actor: Any,
    source: Plan,
    code: str,
    name: str,
    theme: str,
    start_fy: int,
    end_fy: int,
    version_number: str,
) -> Plan:
    """Draft the next plan from ``source``: its period, name and theme, and a draft version
    whose chapters start as the source's latest version's text (to be rewritten)."""
    if start_fy <= source.end_fy:
        raise ValidationError(
            {
                "start_fy": f"次期計画は{era.format_fiscal_year(source.end_fy + 1)}以降から"
                f"始めてください(現計画は{source.period_label})。"
            }
        )
    if Plan.objects.filter(predecessor=source).exists():
        raise ValidationError(f"「{source.name}」の次期計画はすでに作成されています。")
    plan = Plan(
        code=code,
        name=name,
        theme=theme,
        goal=source.goal,
        start_fy=start_fy,
        end_fy=end_fy,
        predecessor=source,
        status=PlanStatus.DRAFT,
    )
    save_with_user(plan, actor)
    version = PlanVersion(
        plan=plan,
        number=version_number,
        issued_fy=start_fy,
        summary=f"{source.name}({source.period_label})の結果をふまえて策定。",
    )
    save_with_user(version, actor)
    workgroups_services.bodies_continue(actor=actor, source=source, target=plan)
    _copy_chapters(actor=actor, source=source.latest_version, target=version)
    return plan


@transaction.atomic
def plan_adopt(*, actor: Any, plan: Plan, adopted_on: date, summary: str = "") -> PlanVersion:
    """決定: the draft becomes the adopted plan; its version freezes the content as adopted."""
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError(
            f"「{plan.name}」は策定中ではありません({plan.get_status_display()})。"
        )
    version = plan.versions.filter(frozen_at__isnull=True).order_by("-issued_fy", "-number").first()
    if version is None:
        raise ValidationError("確定する版がありません。")
    if not plan.policies.exists():
        raise ValidationError("基本方針がひとつもない計画は決定できません。")
    version.issued_on = adopted_on
    version.issued_fy = era.fiscal_year_of(adopted_on)
    if summary:
        version.summary = summary
    save_with_user(version, actor)
    version_freeze(actor=actor, version=version)
    plan.status = PlanStatus.ADOPTED
    plan.adopted_on = adopted_on
    save_with_user(plan, actor)
    return version


@transaction.atomic
def plan_put_in_force(*, actor: Any, plan: Plan) -> Plan:
    """施行: the adopted plan is in force; the plan it follows ends."""
    if plan.status != PlanStatus.ADOPTED:
        raise ValidationError("決定した計画だけを施行できます。")
    plan.status = PlanStatus.IN_FORCE
    save_with_user(plan, actor)
    if plan.predecessor is not None and plan.predecessor.status == PlanStatus.IN_FORCE:
        plan.predecessor.status = PlanStatus.ENDED
        save_with_user(plan.predecessor, actor)
    return plan


MSG_CHAPTER_FROZEN = "確定した版の本文は変更できません。次の版の下書きで編集してください。"


@transaction.atomic
def chapter_update(
    *, actor: Any, chapter: PlanChapter, version: int | None, title: str, body: str
) -> PlanChapter:
    """Save a draft chapter's title and text; EditConflict when someone saved it first."""
    current = locked(chapter)
    if PlanVersion.objects.filter(pk=current.version_id, frozen_at__isnull=False).exists():
        raise ValidationError(MSG_CHAPTER_FROZEN)
    check_version(current, version, _("章"))
    current.title, current.body = title, body
    version_bump(current)
    save_with_user(current, actor)
    return current
