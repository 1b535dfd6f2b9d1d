"""The plan's own writes: every step whose writes touch only the plan's models (Plan,
PlanVersion, PlanChapter, BasicPolicy, ScheduleItem).

The lifecycle lock (any number of concurrent posts write once, the others get a clear
message), putting an adopted plan in force, a draft chapter's text, and the drafted plan's
basic policies and schedule items (moved with a unique number or order). A step that also
writes the initiatives or the working groups, or freezes the content (which reads them),
stays in reporting.services (versions, drafting, schedule, carry_over, loading) and uses
these. History names the actor (portal_lib.history.save_with_user).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from plans.models import BasicPolicy, Plan, PlanChapter, PlanStatus, PlanVersion, ScheduleItem
from plans.selectors import plan_is_editable
from portal_lib import date_bounds
from portal_lib.history import save_with_user
from portal_lib.versioning import check_version, is_versioned, locked, version_bump

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

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
def unique_or_message(what: str) -> Iterator[None]:
    """A savepoint that turns a unique-constraint race into a clear message, never a 500."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise ValidationError(what) from exc


def check_no_overlap_in_force(
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


def check_decided_on(day: date) -> None:
    try:
        date_bounds.plan_decision(timezone.localdate()).check(day)
    except date_bounds.DateOutOfBounds as exc:
        raise ValidationError({"adopted_on": str(exc)}, code="out_of_bounds") from exc


# --------------------------------------------------------------------------------------------
# Putting an adopted plan in force
# --------------------------------------------------------------------------------------------


@transaction.atomic
def plan_put_in_force(*, actor: PortalUser, plan: Plan) -> Plan:
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
    check_no_overlap_in_force(plan, statuses=(PlanStatus.IN_FORCE,))
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
# Drafting: which plan may be edited, its chapters, basic policies and schedule items
# --------------------------------------------------------------------------------------------

MSG_NOT_EDITABLE = gettext_lazy(
    "「%(name)s」は決定済みのため、内容を変更できません。"
    "変更するには改定版(次の版)の下書きを作成してください。"
)

PARK = 30000  # a unique number or order parked out of the way while two rows swap


class NotEditable(PermissionDenied):
    """The plan is adopted (or in force, or ended) with no draft revision open."""


def not_editable_message(plan: Plan) -> str:
    return MSG_NOT_EDITABLE % {"name": plan.name}


def lock_editable(plan: Plan) -> Plan:
    """The plan row locked for this transaction; NotEditable unless it is being drafted."""
    current = Plan.objects.select_for_update().get(pk=plan.pk)
    if not plan_is_editable(current):
        raise NotEditable(not_editable_message(current))
    return current


MSG_CHAPTER_FROZEN = "確定した版の本文は変更できません。次の版の下書きで編集してください。"


def chapter_is_editable(version: PlanVersion) -> bool:
    """A chapter may be edited on the draft version of a draft plan or on an open revision."""
    if version.frozen_at is not None:
        return False
    return version.plan.status == PlanStatus.DRAFT or version.is_open_revision


@transaction.atomic
def chapter_update(
    *, actor: PortalUser, chapter: PlanChapter, version: int | None, title: str, body: str
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


def swap(actor: PortalUser, a: Any, b: Any, field: str) -> None:
    """Exchange ``field`` (unique among siblings) between rows ``a`` and ``b``."""
    va, vb = getattr(a, field), getattr(b, field)
    # Parked with a plain UPDATE: the parked value is never a real state, so not history.
    type(a)._default_manager.filter(pk=a.pk).update(**{field: PARK + va})
    for obj, value in ((b, va), (a, vb)):
        setattr(obj, field, value)
        if is_versioned(obj):
            version_bump(obj)
        save_with_user(obj, actor)


def _neighbour(qs: models.QuerySet[Any], obj: Any, field: str, direction: str) -> Any:
    if direction == "up":
        return qs.filter(**{f"{field}__lt": getattr(obj, field)}).order_by(f"-{field}").first()
    if direction == "down":
        return qs.filter(**{f"{field}__gt": getattr(obj, field)}).order_by(field).first()
    raise ValidationError("移動の向きが不明です。")


def move_row(
    actor: PortalUser, qs: models.QuerySet[Any], obj: Any, field: str, direction: str
) -> bool:
    other = _neighbour(qs, obj, field, direction)
    if other is None:
        return False
    swap(actor, obj, other, field)
    return True


def next_number(qs: models.QuerySet[Any], field: str) -> int:
    return (qs.aggregate(m=Max(field))["m"] or 0) + 1


@transaction.atomic
def policy_save(
    *,
    actor: PortalUser,
    plan: Plan,
    policy: BasicPolicy | None = None,
    number: int | None,
    title: str,
    heading: str = "",
    summary: str = "",
    classification: str = "",
) -> BasicPolicy:
    """Add a basic policy (number None: after the last) or edit one."""
    plan = lock_editable(plan)
    siblings = BasicPolicy.objects.filter(plan=plan)
    if policy is not None:
        policy = siblings.get(pk=policy.pk)
    if number is None:
        number = policy.number if policy else next_number(siblings, "number")
    same_number = siblings.filter(number=number)
    if policy is not None:
        same_number = same_number.exclude(pk=policy.pk)
    if same_number.exists():
        raise ValidationError({"number": f"基本方針{number}はすでにあります。"})
    policy = policy or BasicPolicy(plan=plan)
    policy.number, policy.title, policy.heading = number, title, heading
    policy.summary, policy.classification = summary, classification
    save_with_user(policy, actor)
    return policy


@transaction.atomic
def policy_move(*, actor: PortalUser, policy: BasicPolicy, direction: str) -> bool:
    plan = lock_editable(policy.plan)
    qs = BasicPolicy.objects.filter(plan=plan)
    return move_row(actor, qs, qs.get(pk=policy.pk), "number", direction)


@transaction.atomic
def schedule_item_save(
    *, actor: PortalUser, plan: Plan, item: ScheduleItem | None = None, title: str
) -> ScheduleItem:
    plan = lock_editable(plan)
    siblings = ScheduleItem.objects.filter(plan=plan)
    if item is not None:
        item = siblings.get(pk=item.pk)
    else:
        item = ScheduleItem(plan=plan, order=next_number(siblings, "order"))
    item.title = title
    save_with_user(item, actor)
    return item


@transaction.atomic
def schedule_item_move(*, actor: PortalUser, item: ScheduleItem, direction: str) -> bool:
    plan = lock_editable(item.plan)
    qs = ScheduleItem.objects.filter(plan=plan)
    return move_row(actor, qs, qs.get(pk=item.pk), "order", direction)
