"""A plan's life in the portal: the next plan drafted from this one, adopted, revised.

The steps here write beyond the plan (the next plan's bodies in workgroups) or freeze its
content (which reads the initiatives); the lifecycle lock, putting a plan in force and the
chapters' text write only the plan and are plans.services.

A version freezes the plan's content when it is adopted (PlanVersion.content), so that a
comparison or the printed document of 第1.0版 shows 第1.0版 whatever was edited since.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from plans.models import IssuedPrecision, Plan, PlanChapter, PlanStatus, PlanVersion
from plans.selectors import open_revision
from plans.services import (
    check_decided_on,
    check_no_overlap_in_force,
    locked_plan,
    unique_or_message,
)
from portal_lib import era
from portal_lib.history import save_with_user
from reporting.selectors.plan_content import plan_content
from reporting.services.drafting import successor_chapter_text
from workgroups import services as workgroups_services

if TYPE_CHECKING:
    from portal_lib.users import PortalUser


@transaction.atomic
def version_freeze(
    *, actor: PortalUser | None, version: PlanVersion, refreeze: bool = False
) -> PlanVersion:
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


def _copy_chapters(*, actor: PortalUser, source: PlanVersion | None, target: PlanVersion) -> None:
    if source is None:
        return
    for chapter in source.chapters.order_by("number"):
        save_with_user(
            PlanChapter(
                version=target,
                number=chapter.number,
                title=successor_chapter_text(chapter.title, source.plan),
                body=successor_chapter_text(chapter.body, source.plan),
            ),
            actor,
        )


# --------------------------------------------------------------------------------------------
# The next plan: drafted, adopted, in force
# --------------------------------------------------------------------------------------------


@transaction.atomic
def plan_create_next(
    *,
    actor: PortalUser,
    source: Plan,
    code: str,
    name: str,
    theme: str,
    start_fy: int,
    end_fy: int,
    version_number: str,
) -> Plan:
    """Draft the next plan from ``source``: its period, name and theme, and a draft version
    whose chapters start as the source's latest version's text (to be rewritten).

    The source's row is locked first: of concurrent posts one creates, the others are told
    the next plan exists (the unique successor constraint backs this)."""
    source = locked_plan(source)
    if source.status == PlanStatus.DRAFT:
        raise ValidationError(
            f"「{source.name}」は策定中です。決定した計画の次期計画を作成してください。"
        )
    if start_fy <= source.end_fy:
        raise ValidationError(
            {
                "start_fy": f"次期計画は{era.format_fiscal_year(source.end_fy + 1)}以降から"
                f"始めてください(現計画は{source.period_label})。"
            }
        )
    if end_fy < start_fy:
        raise ValidationError({"end_fy": "終了年度は開始年度以降にしてください。"})
    existing = Plan.objects.filter(predecessor=source).first()
    if existing is not None:
        raise ValidationError(
            f"「{source.name}」の次期計画「{existing.name}」はすでに作成されています。"
        )
    if Plan.objects.filter(code=code).exists():
        raise ValidationError({"code": f"計画コード「{code}」はすでに使われています。"})
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
    with unique_or_message(f"「{source.name}」の次期計画はすでに作成されています。"):
        save_with_user(plan, actor)
    version = PlanVersion(
        plan=plan,
        number=version_number,
        issued_fy=start_fy,
        issued_precision=IssuedPrecision.FY,
        summary=f"{source.name}({source.period_label})の結果をふまえて策定。",
    )
    save_with_user(version, actor)
    workgroups_services.bodies_continue(actor=actor, source=source, target=plan)
    _copy_chapters(actor=actor, source=source.latest_version, target=version)
    return plan


def _check_in_force_from(plan: Plan, adopted_on: date, in_force_from: date) -> None:
    first_day = era.fiscal_year_start(plan.start_fy)
    last_day = era.fiscal_year_end(plan.start_fy)
    if in_force_from < adopted_on:
        raise ValidationError({"in_force_from": "施行日は決定日以降の日付にしてください。"})
    if not first_day <= in_force_from <= last_day:
        raise ValidationError(
            {
                "in_force_from": f"施行日は計画の初年度({era.format_fiscal_year(plan.start_fy)}、"
                f"{first_day:%Y-%m-%d}〜{last_day:%Y-%m-%d})の日付にしてください"
                f"(通常は{first_day:%Y-%m-%d})。"
            }
        )


@transaction.atomic
def plan_adopt(
    *,
    actor: PortalUser,
    plan: Plan,
    adopted_on: date,
    in_force_from: date | None = None,
    summary: str = "",
) -> PlanVersion:
    """決定: the draft becomes the adopted plan, in force from ``in_force_from`` (default
    1 April of its first year); its version freezes the content as adopted.

    The plan's row is locked and its state re-read: of concurrent adoptions one decides, the
    others are told it is already decided (its date is never silently replaced)."""
    plan = locked_plan(plan)
    if plan.status != PlanStatus.DRAFT:
        decided = f"、決定日 {plan.adopted_on:%Y-%m-%d}" if plan.adopted_on else ""
        raise ValidationError(
            f"「{plan.name}」は策定中ではありません({plan.get_status_display()}{decided})。"
        )
    version = plan.versions.filter(frozen_at__isnull=True).order_by("-issued_fy", "-number").first()
    if version is None:
        raise ValidationError("確定する版がありません。")
    if not plan.policies.exists():
        raise ValidationError("基本方針がひとつもない計画は決定できません。")
    in_force_from = in_force_from or era.fiscal_year_start(plan.start_fy)
    check_decided_on(adopted_on)
    _check_in_force_from(plan, adopted_on, in_force_from)
    check_no_overlap_in_force(plan)
    version.issued_on = adopted_on
    version.issued_precision = IssuedPrecision.DAY
    version.issued_fy = era.fiscal_year_of(adopted_on)
    if summary:
        version.summary = summary
    save_with_user(version, actor)
    version_freeze(actor=actor, version=version)
    plan.status = PlanStatus.ADOPTED
    plan.adopted_on = adopted_on
    plan.in_force_from = in_force_from
    save_with_user(plan, actor)
    return version


# --------------------------------------------------------------------------------------------
# Revisions after adoption (第2.1版 …)
# --------------------------------------------------------------------------------------------


def _number_key(number: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in number.split("."))
    except ValueError:
        return ()


VERSION_NUMBER_HELP = "版は「2.1」のように数字とピリオドで入力してください。"


@transaction.atomic
def plan_revision_open(
    *, actor: PortalUser, plan: Plan, number: str, summary: str = ""
) -> PlanVersion:
    """Open a revision of an adopted plan: a draft version whose chapters start as the
    adopted version's text. The plan's content is editable again while it is open; the
    adopted versions' frozen content stays as it was."""
    plan = locked_plan(plan)
    if plan.status not in (PlanStatus.ADOPTED, PlanStatus.IN_FORCE):
        raise ValidationError(
            f"改訂は決定した計画で行います(「{plan.name}」は{plan.get_status_display()})。"
        )
    current = open_revision(plan)
    if current is not None:
        raise ValidationError(f"「{plan.name}」の改訂({current.label})はすでに作成中です。")
    number = number.strip()
    key = _number_key(number)
    if not key or len(number) > 10:
        raise ValidationError({"number": VERSION_NUMBER_HELP})
    base = plan.versions.filter(frozen_at__isnull=False).order_by("-frozen_at", "-pk").first()
    if base is None:
        raise ValidationError("改訂の元になる決定済みの版がありません。")
    highest = max(_number_key(v.number) for v in plan.versions.all())
    if key <= highest:
        raise ValidationError(
            {"number": f"版は今ある版({highest_label(plan)})より大きい番号にしてください。"}
        )
    version = PlanVersion(
        plan=plan,
        number=number,
        issued_fy=era.current_fiscal_year(timezone.localdate()),
        issued_precision=IssuedPrecision.FY,
        summary=summary,
        revision_of=base,
    )
    with unique_or_message(f"「{plan.name}」の改訂はすでに作成中です。"):
        save_with_user(version, actor)
    _copy_chapters(actor=actor, source=base, target=version)
    return version


def highest_label(plan: Plan) -> str:
    versions = sorted(plan.versions.all(), key=lambda v: _number_key(v.number))
    return str(versions[-1].label) if versions else ""


@transaction.atomic
def revision_adopt(
    *, actor: PortalUser, plan: Plan, adopted_on: date, summary: str = ""
) -> PlanVersion:
    """Adopt the open revision: it freezes the plan's content as it stands, with its date."""
    plan = locked_plan(plan)
    version = open_revision(plan)
    if version is None:
        raise ValidationError(
            f"「{plan.name}」に作成中の改訂はありません(決定済みの可能性があります)。"
        )
    check_decided_on(adopted_on)
    base = version.revision_of
    if base is not None and base.issued_on and adopted_on < base.issued_on:
        raise ValidationError(
            {"adopted_on": f"改訂の決定日は{base.label}の決定日より後にしてください。"}
        )
    if not plan.policies.exists():
        raise ValidationError("基本方針がひとつもない計画は決定できません。")
    version.issued_on = adopted_on
    version.issued_precision = IssuedPrecision.DAY
    version.issued_fy = era.fiscal_year_of(adopted_on)
    if summary:
        version.summary = summary
    save_with_user(version, actor)
    version_freeze(actor=actor, version=version)
    return version
