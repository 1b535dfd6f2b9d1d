"""A plan's life in the portal: the next plan drafted from this one, adopted, in force.

A version freezes the plan's content when it is adopted (PlanVersion.content), so that a
comparison or the printed document of 第1.0版 shows 第1.0版 whatever was edited since.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from plans.models import IssuedPrecision, Plan, PlanChapter, PlanStatus, PlanVersion
from portal_lib import date_bounds, era
from portal_lib.history import save_with_user
from portal_lib.versioning import check_version, locked, version_bump
from reporting.selectors.plan_content import plan_content
from reporting.services.drafting import successor_chapter_text
from workgroups import services as workgroups_services


def open_revision(plan: Plan) -> PlanVersion | None:
    """The revision (第2.1版 …) being drafted on an adopted plan, if one is open."""
    return (
        plan.versions.filter(revision_of__isnull=False, frozen_at__isnull=True)
        .order_by("-pk")
        .first()
    )


def plan_is_editable(plan: Plan) -> bool:
    """Whether the plan's content (policies, initiatives, indicators, table 4-1, chapters) may
    be edited: a draft plan, or an adopted plan with an open draft revision. The adopted
    versions' frozen content never changes either way."""
    if plan.status == PlanStatus.DRAFT:
        return True
    if plan.status == PlanStatus.ENDED:
        return False
    return open_revision(plan) is not None


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
                version=target,
                number=chapter.number,
                title=successor_chapter_text(chapter.title, source.plan),
                body=successor_chapter_text(chapter.body, source.plan),
            ),
            actor,
        )


# --------------------------------------------------------------------------------------------
# Locks: any number of concurrent posts write once, the others get a clear message
# --------------------------------------------------------------------------------------------

# pg_advisory_xact_lock key of the plan lifecycle ("KHDX" + 1): taken by every step that
# decides which plan is in force, so two steps never both see "no other plan in force".
LIFECYCLE_LOCK = 0x4B484458_0001


def lifecycle_lock() -> None:
    """Serialise the plan lifecycle until the transaction ends (PostgreSQL; SQLite writes
    are serialised by the database itself)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LIFECYCLE_LOCK])


def locked_plan(plan: Plan) -> Plan:
    """The plan's row as saved now, locked until the transaction ends (its state re-read)."""
    lifecycle_lock()
    current = Plan.objects.select_for_update(of=("self",)).filter(pk=plan.pk).first()
    if current is None:
        raise ValidationError("計画が見つかりません(削除された可能性があります)。")
    return current


@contextmanager
def _once(what: str) -> Iterator[None]:
    """A savepoint that turns a unique-constraint race into a clear message, never a 500."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise ValidationError(what) from exc


def _check_no_overlap_in_force(
    plan: Plan, statuses: tuple[str, ...] = (PlanStatus.ADOPTED, PlanStatus.IN_FORCE)
) -> None:
    """At most one plan in force on any date: no other plan adopted or in force (adoption),
    or in force (putting in force) may share a fiscal year with ``plan`` (checked under the
    lifecycle lock)."""
    other = (
        Plan.objects.exclude(pk=plan.pk)
        .filter(status__in=statuses)
        .filter(start_fy__lte=plan.end_fy, end_fy__gte=plan.start_fy)
        .first()
    )
    if other is not None:
        raise ValidationError(
            f"「{other.name}」({other.period_label}、{other.get_status_display()})と計画期間が"
            "重なるため、ふたつの計画を同時に施行することはできません。"
        )


def _check_decided_on(day: date) -> None:
    try:
        date_bounds.plan_decision(timezone.localdate()).check(day)
    except date_bounds.DateOutOfBounds as exc:
        raise ValidationError({"adopted_on": str(exc)}, code="out_of_bounds") from exc


# --------------------------------------------------------------------------------------------
# The next plan: drafted, adopted, in force
# --------------------------------------------------------------------------------------------


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
    with _once(f"「{source.name}」の次期計画はすでに作成されています。"):
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
    actor: Any,
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
    _check_decided_on(adopted_on)
    _check_in_force_from(plan, adopted_on, in_force_from)
    _check_no_overlap_in_force(plan)
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


@transaction.atomic
def plan_put_in_force(*, actor: Any, plan: Plan) -> Plan:
    """施行: records that the adopted plan is in force (its in_force_from has come) and the
    plan it follows has ended. The plan in force on a day never waits for this step:
    plans.selectors.plan_in_force_on counts an adopted plan from its in_force_from."""
    plan = locked_plan(plan)
    if plan.status == PlanStatus.IN_FORCE:
        raise ValidationError(f"「{plan.name}」はすでに施行中です。")
    if plan.status != PlanStatus.ADOPTED:
        raise ValidationError("決定した計画だけを施行できます。")
    today = timezone.localdate()
    if plan.in_force_start > today:
        raise ValidationError(
            f"「{plan.name}」の施行日は{plan.in_force_start:%Y-%m-%d}です。"
            "施行日になると自動的に施行中として扱われます。"
        )
    _check_no_overlap_in_force(plan, statuses=(PlanStatus.IN_FORCE,))
    plan.status = PlanStatus.IN_FORCE
    if plan.in_force_from is None:
        plan.in_force_from = plan.in_force_start
    save_with_user(plan, actor)
    if plan.predecessor_id is not None:
        predecessor = Plan.objects.select_for_update(of=("self",)).get(pk=plan.predecessor_id)
        if predecessor.status in (PlanStatus.ADOPTED, PlanStatus.IN_FORCE):
            predecessor.status = PlanStatus.ENDED
            save_with_user(predecessor, actor)
    return plan


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
def plan_revision_open(*, actor: Any, plan: Plan, number: str, summary: str = "") -> PlanVersion:
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
    with _once(f"「{plan.name}」の改訂はすでに作成中です。"):
        save_with_user(version, actor)
    _copy_chapters(actor=actor, source=base, target=version)
    return version


def highest_label(plan: Plan) -> str:
    versions = sorted(plan.versions.all(), key=lambda v: _number_key(v.number))
    return str(versions[-1].label) if versions else ""


@transaction.atomic
def revision_adopt(*, actor: Any, plan: Plan, adopted_on: date, summary: str = "") -> PlanVersion:
    """Adopt the open revision: it freezes the plan's content as it stands, with its date."""
    plan = locked_plan(plan)
    version = open_revision(plan)
    if version is None:
        raise ValidationError(
            f"「{plan.name}」に作成中の改訂はありません(決定済みの可能性があります)。"
        )
    _check_decided_on(adopted_on)
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


MSG_CHAPTER_FROZEN = "確定した版の本文は変更できません。次の版の下書きで編集してください。"


def chapter_is_editable(version: PlanVersion) -> bool:
    """A chapter may be edited on the draft version of a draft plan or on an open revision."""
    if version.frozen_at is not None:
        return False
    return version.plan.status == PlanStatus.DRAFT or version.is_open_revision


@transaction.atomic
def chapter_update(
    *, actor: Any, chapter: PlanChapter, version: int | None, title: str, body: str
) -> PlanChapter:
    """Save a draft chapter's title and text; EditConflict when someone saved it first."""
    current = locked(chapter)
    if not chapter_is_editable(
        PlanVersion.objects.select_related("plan").get(pk=current.version_id)
    ):
        raise ValidationError(MSG_CHAPTER_FROZEN)
    check_version(current, version, _("章"))
    current.title, current.body = title, body
    version_bump(current)
    save_with_user(current, actor)
    return current
