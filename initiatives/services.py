"""Writes for progress, indicators, PDCA reviews and the countable targets.

The browser forms, the Excel import and the admin all come through here, so the rules
(who may write, the review state machine, optimistic locking) hold everywhere. Errors are
Japanese and user-facing: PermissionDenied for "not yours", ValidationError for bad input or
a move that is not possible now, EditConflict when someone else saved first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from initiatives import notifications
from initiatives.access import (
    can_confirm_countable,
    can_edit_countable,
    can_log_progress,
    can_manage_initiative,
    can_run_review_round,
    may_make_move,
)
from initiatives.models import (
    MSG_PROGRESS_DATE_TAKEN,
    PUBLIC_FIELDS,
    Confirmation,
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    Review,
    ReviewEvent,
    StandardSystem,
    stamp_confirmation,
)
from initiatives.selectors import (
    InitiativeWithListColumns,
    initiatives_for_fiscal_year,
    initiatives_with_list_columns,
    reviews_of_running_initiatives,
    running_initiatives,
    stale_filter,
)
from initiatives.workflow import (
    MSG_RETURN_COMMENT,
    SENT_BACK,
    is_sent_back,
    move_named,
    return_comment,
    text_editable,
)
from plans.models import Plan
from plans.selectors import plan_in_force_on
from portal_lib import date_bounds, era
from portal_lib.history import save_with_user
from portal_lib.people import display_name
from portal_lib.versioning import (  # noqa: F401  (EditConflict: callers catch services.EditConflict)
    EditConflict,
    check_version,
    version_bump,
)
from workgroups.access import can_log_in, roles_for
from workgroups.models import Section, WorkingGroupMembership

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

State = Review.State

MSG_PROGRESS_DENIED = _("この取り組みの進捗は、担当WGのメンバーと事務局のみ記録できます。")
MSG_MANAGE_DENIED = _("この操作は、担当WGのWG長と事務局(情報推進課)のみ行えます。")
MSG_CONFIRM_DENIED = _("手続・システムの状況の確認は事務局のみ行えます。")
MSG_COUNTABLE_DENIED = _("この目標の管理は、事務局と関連する取り組みの担当WGのみ行えます。")
MSG_REVIEW_LOCKED = _(
    "この振り返りは承認済のためロックされています。内容の変更や状態の変更はできません。"
)
MSG_DUE_DATE_DENIED = _("提出期限は事務局のみ設定できます。")
MSG_REVIEWS_OPEN_DENIED = _("振り返りの一括作成は事務局(情報推進課)のみ行えます。")


class ProgressDateTaken(ValidationError):
    """The initiative already has a progress entry on this date; ``existing`` is that entry."""

    def __init__(self, existing: ProgressEntry) -> None:
        self.existing = existing
        super().__init__({"entry_date": [ValidationError(MSG_PROGRESS_DATE_TAKEN, code="unique")]})


# --- progress entries ----------------------------------------------------------------------


def _progress_entry_on(
    initiative: Initiative, entry_date: date, *, exclude_pk: int | None
) -> ProgressEntry | None:
    same_day = ProgressEntry.objects.filter(initiative=initiative, entry_date=entry_date)
    if exclude_pk is not None:
        same_day = same_day.exclude(pk=exclude_pk)
    return same_day.first()


def _save_progress_entry(entry: ProgressEntry, actor: PortalUser) -> None:
    """Save, or raise ProgressDateTaken when the initiative already has an entry that day.

    Checked first for the usual case; when two saves race past the check, the database's
    unique constraint refuses the second one and it gets the same message, not a 500.
    """
    taken = _progress_entry_on(entry.initiative, entry.entry_date, exclude_pk=entry.pk)
    if taken is not None:
        raise ProgressDateTaken(taken)
    try:
        with transaction.atomic():  # a savepoint: PostgreSQL can go on after the refusal
            save_with_user(entry, actor)
    except IntegrityError:
        taken = _progress_entry_on(entry.initiative, entry.entry_date, exclude_pk=entry.pk)
        if taken is None:
            raise
        raise ProgressDateTaken(taken) from None


@transaction.atomic
def progress_entry_create(
    *,
    actor: PortalUser,
    initiative: Initiative,
    entry_date: date,
    status: str,
    percent: int | None = None,
    done_text: str = "",
    next_steps: str = "",
    issues_text: str = "",
) -> ProgressEntry:
    if not can_log_progress(roles_for(actor), initiative):
        raise PermissionDenied(MSG_PROGRESS_DENIED)
    entry = ProgressEntry(
        initiative=initiative,
        entry_date=entry_date,
        status=status,
        percent=percent,
        done_text=done_text,
        next_steps=next_steps,
        issues_text=issues_text,
        author=actor,
    )
    _save_progress_entry(entry, actor)
    return entry


@transaction.atomic
def progress_entry_update(
    *,
    actor: PortalUser,
    entry: ProgressEntry,
    version: int | None,
    entry_date: date,
    status: str,
    percent: int | None = None,
    done_text: str = "",
    next_steps: str = "",
    issues_text: str = "",
) -> ProgressEntry:
    """Edit an entry; the previous text stays in its history. Refused if someone saved first."""
    if not can_log_progress(roles_for(actor), entry.initiative):
        raise PermissionDenied(MSG_PROGRESS_DENIED)
    current = ProgressEntry.objects.select_for_update(of=("self",)).get(pk=entry.pk)
    check_version(current, version, _("進捗記録"))
    current.entry_date = entry_date
    current.status = status
    current.percent = percent
    current.done_text = done_text
    current.next_steps = next_steps
    current.issues_text = issues_text
    version_bump(current)
    _save_progress_entry(current, actor)
    return current


# --- indicators (KPI) ----------------------------------------------------------------------

IndicatorValues = Mapping[int, tuple[Decimal | None, Decimal | None]]


def _indicator_name_free(initiative: Initiative, name: str, exclude_pk: int | None = None) -> None:
    same_name = initiative.indicators.filter(name=name)
    if exclude_pk is not None:
        same_name = same_name.exclude(pk=exclude_pk)
    if same_name.exists():
        raise ValidationError(
            {"name": _("この取り組みには「%(name)s」という指標がすでにあります。") % {"name": name}}
        )


def _indicator_values_set(indicator: Indicator, values: IndicatorValues, actor: PortalUser) -> None:
    existing = {v.fiscal_year: v for v in indicator.values.all()}
    for fiscal_year, (target, actual) in sorted(values.items()):
        value = existing.get(fiscal_year)
        if value is None:
            if target is None and actual is None:
                continue
            value = IndicatorValue(indicator=indicator, fiscal_year=fiscal_year)
        elif value.target == target and value.actual == actual:
            continue
        value.target, value.actual = target, actual
        save_with_user(value, actor)


@transaction.atomic
def indicator_create(
    *,
    actor: PortalUser,
    initiative: Initiative,
    name: str,
    unit: str = "",
    direction: str = Indicator.Direction.HIGHER,
    baseline: Decimal | None = None,
    baseline_fy: int | None = None,
    values: IndicatorValues | None = None,
) -> Indicator:
    if not can_manage_initiative(roles_for(actor), initiative):
        raise PermissionDenied(MSG_MANAGE_DENIED)
    _indicator_name_free(initiative, name)
    order = (initiative.indicators.aggregate(m=Max("order"))["m"] or 0) + 1
    indicator = Indicator(
        initiative=initiative,
        name=name,
        unit=unit,
        direction=direction,
        baseline=baseline,
        baseline_fy=baseline_fy,
        order=order,
    )
    save_with_user(indicator, actor)
    _indicator_values_set(indicator, values or {}, actor)
    return indicator


@transaction.atomic
def indicator_update(
    *,
    actor: PortalUser,
    indicator: Indicator,
    version: int | None,
    name: str,
    unit: str = "",
    direction: str = Indicator.Direction.HIGHER,
    baseline: Decimal | None = None,
    baseline_fy: int | None = None,
    values: IndicatorValues | None = None,
) -> Indicator:
    """Edit an indicator and its targets/actuals per fiscal year (the grade follows)."""
    if not can_manage_initiative(roles_for(actor), indicator.initiative):
        raise PermissionDenied(MSG_MANAGE_DENIED)
    current = Indicator.objects.select_for_update(of=("self",)).get(pk=indicator.pk)
    check_version(current, version, _("指標"))
    _indicator_name_free(current.initiative, name, exclude_pk=current.pk)
    current.name, current.unit, current.direction = name, unit, direction
    current.baseline, current.baseline_fy = baseline, baseline_fy
    version_bump(current)
    save_with_user(current, actor)
    _indicator_values_set(current, values or {}, actor)
    return current


# --- the yearly PDCA review ----------------------------------------------------------------

REVIEW_TEXT_FIELDS = (
    "plan_text",
    "do_text",
    "check_text",
    "act_text",
    "self_grade",
    "carry_over",
    "carry_over_note",
)


def _event(
    review: Review, actor: PortalUser, from_state: str, to_state: str, comment: str = ""
) -> None:
    event = ReviewEvent(
        review=review, actor=actor, from_state=from_state, to_state=to_state, comment=comment
    )
    event.full_clean()
    event.save()


def _locked_review(review: Review) -> Review:
    current = (
        Review.objects.select_for_update(of=("self",))
        .select_related("initiative")
        .get(pk=review.pk)
    )
    if current.is_locked:
        raise ValidationError(MSG_REVIEW_LOCKED, code="locked")
    return current


@transaction.atomic
def review_save(
    *,
    actor: PortalUser,
    initiative: Initiative,
    fiscal_year: int,
    version: int | None,
    plan_text: str = "",
    do_text: str = "",
    check_text: str = "",
    act_text: str = "",
    self_grade: str = "",
    carry_over: str = "",
    carry_over_note: str = "",
    due_date: date | None = None,
) -> Review:
    """Create or edit the review of one initiative and fiscal year (draft or returned only).

    ``version`` is None when the user started from an empty form; if someone created the
    review meanwhile, that is a conflict like any other. ``due_date`` is the secretariat's:
    others pass the value they were shown.
    """
    roles = roles_for(actor)
    if not can_manage_initiative(roles, initiative):
        raise PermissionDenied(MSG_MANAGE_DENIED)
    review = (
        Review.objects.select_for_update(of=("self",))
        .filter(initiative=initiative, fiscal_year=fiscal_year)
        .first()
    )
    texts = {
        "plan_text": plan_text,
        "do_text": do_text,
        "check_text": check_text,
        "act_text": act_text,
        "self_grade": self_grade,
        "carry_over": carry_over,
        "carry_over_note": carry_over_note,
    }
    if review is None:
        if version is not None:
            # The form was for a review that no longer exists (deleted in the admin).
            raise ValidationError(_("この振り返りは削除されています。もう一度作成してください。"))
        if due_date is not None and not can_run_review_round(roles):
            raise PermissionDenied(MSG_DUE_DATE_DENIED)
        review = Review(initiative=initiative, fiscal_year=fiscal_year, due_date=due_date, **texts)
        save_with_user(review, actor)
        _event(review, actor, "", State.DRAFT, "作成")
        return review
    if review.is_locked:
        raise ValidationError(MSG_REVIEW_LOCKED, code="locked")
    check_version(review, version, _("振り返り"))
    if not text_editable(review):
        raise ValidationError(
            _(
                "この振り返りは「%(state)s」のため編集できません。"
                "内容を直す場合は、事務局に差戻しを依頼してください。"
            )
            % {"state": review.get_state_display()},
            code="state",
        )
    if due_date != review.due_date:
        if not can_run_review_round(roles):
            raise PermissionDenied(MSG_DUE_DATE_DENIED)
        review.due_date = due_date
    for name, value in texts.items():
        setattr(review, name, value)
    version_bump(review)
    save_with_user(review, actor)
    return review


@transaction.atomic
def reviews_open(*, actor: PortalUser, fiscal_year: int, due_date: date) -> tuple[int, int]:
    """Start the year's PDCA round: a draft review with a due date for every initiative.

    Secretariat only. Reviews already being written (draft/returned) get the new due date;
    submitted, checked and approved ones are left alone. Returns (created, updated).
    """
    if not can_run_review_round(roles_for(actor)):
        raise PermissionDenied(MSG_REVIEWS_OPEN_DENIED)
    try:
        date_bounds.review_due(fiscal_year).check(due_date)
    except date_bounds.DateOutOfBounds as exc:
        raise ValidationError({"due_date": str(exc)}, code="out_of_bounds") from exc
    initiatives = initiatives_for_fiscal_year(fiscal_year).order_by("pk")
    existing = {
        r.initiative_id: r
        for r in Review.objects.select_for_update(of=("self",)).filter(
            fiscal_year=fiscal_year, initiative__in=initiatives
        )
    }
    created = updated = 0
    opened = []
    for ini in initiatives:
        review = existing.get(ini.pk)
        if review is None:
            review = Review(initiative=ini, fiscal_year=fiscal_year, due_date=due_date)
            save_with_user(review, actor)
            _event(review, actor, "", State.DRAFT, ReviewEvent.bulk_opened_comment(due_date))
            created += 1
        elif text_editable(review) and review.due_date != due_date:
            review.due_date = due_date
            version_bump(review)
            save_with_user(review, actor)
            updated += 1
        else:
            continue
        review.initiative = ini
        opened.append(review)
    notifications.reviews_opened(
        reviews=opened, fiscal_year=fiscal_year, due_date=due_date, actor=actor
    )
    return created, updated


@transaction.atomic
def review_move(*, actor: PortalUser, review: Review, move: str, comment: str = "") -> Review:
    """Make one move of the transition table (workflow.MOVES) on a review.

    Lock, then check in the order a user can act on: locked, role, state, content.
    """
    step = move_named(move)
    current = _locked_review(review)
    if not may_make_move(roles_for(actor), current, step):
        raise PermissionDenied(step.denied)
    if current.state not in step.sources:
        raise ValidationError(
            _("この振り返りは「%(state)s」のため、%(verb)sできません。")
            % {"state": current.get_state_display(), "verb": step.verb},
            code="state",
        )
    if step.comment_required and not comment.strip():
        raise ValidationError({"comment": MSG_RETURN_COMMENT})
    if step.requires_complete:
        _require_complete(current)
    from_state = current.state
    current.state = step.target
    version_bump(current)
    save_with_user(current, actor)
    _event(current, actor, from_state, step.target, comment.strip())
    notifications.review_moved(review=current, move=step, actor=actor, comment=comment)
    return current


def _require_complete(review: Review) -> None:
    missing = [
        str(Review._meta.get_field(name).verbose_name)  # type: ignore[union-attr]  # concrete
        for name in ("plan_text", "do_text", "check_text", "act_text", "self_grade")
        if not getattr(review, name).strip()
    ]
    if missing:
        raise ValidationError(
            _("提出する前に、次の項目を入力してください: %(fields)s")
            % {"fields": "、".join(missing)},
            code="incomplete",
        )


def review_submit(*, actor: PortalUser, review: Review, comment: str = "") -> Review:
    """下書き/差戻し → 提出済 (workflow.MOVES "submit")."""
    return review_move(actor=actor, review=review, move="submit", comment=comment)


def review_return(*, actor: PortalUser, review: Review, comment: str) -> Review:
    """提出済 → 差戻し, always with the reason (workflow.MOVES "return")."""
    return review_move(actor=actor, review=review, move="return", comment=comment)


def review_check(*, actor: PortalUser, review: Review, comment: str = "") -> Review:
    """提出済 → 確認済 (workflow.MOVES "check")."""
    return review_move(actor=actor, review=review, move="check", comment=comment)


def review_approve(*, actor: PortalUser, review: Review, comment: str = "") -> Review:
    """確認済 → 承認済; the review is locked from then on (workflow.MOVES "approve")."""
    return review_move(actor=actor, review=review, move="approve", comment=comment)


# --- the two countable targets -------------------------------------------------------------


@transaction.atomic
def online_procedure_create(
    *,
    actor: PortalUser,
    target: CountableTarget,
    name: str,
    category: str = "",
    channel: str = "",
    section: Section | None = None,
    status: str = OnlineProcedure.Status.NOT_STARTED,
    online_on: date | None = None,
    note: str = "",
    number: int | None = None,
) -> OnlineProcedure:
    if not can_edit_countable(roles_for(actor), target):
        raise PermissionDenied(MSG_COUNTABLE_DENIED)
    if number is None:
        number = (target.procedures.aggregate(m=Max("number"))["m"] or 0) + 1
    procedure = OnlineProcedure(
        target=target,
        number=number,
        name=name,
        category=category,
        channel=channel,
        section=section,
        status=status,
        online_on=online_on,
        note=note,
    )  # 未確認 until confirmed explicitly (countable_confirm), like every row
    save_with_user(procedure, actor)
    return procedure


@transaction.atomic
def online_procedure_update(
    *,
    actor: PortalUser,
    procedure: OnlineProcedure,
    version: int | None,
    name: str,
    category: str = "",
    channel: str = "",
    section: Section | None = None,
    status: str = OnlineProcedure.Status.NOT_STARTED,
    online_on: date | None = None,
    note: str = "",
) -> OnlineProcedure:
    current = (
        OnlineProcedure.objects.select_for_update(of=("self",))
        .select_related("target", "target__initiative")
        .get(pk=procedure.pk)
    )
    if not can_edit_countable(roles_for(actor), current.target):
        raise PermissionDenied(MSG_COUNTABLE_DENIED)
    check_version(current, version, _("手続"))
    current.name, current.category, current.channel = name, category, channel
    current.section, current.status, current.online_on = section, status, online_on
    current.note = note  # saving never confirms: countable_confirm does, explicitly
    version_bump(current)
    save_with_user(current, actor)
    return current


@transaction.atomic
def standard_system_update(
    *,
    actor: PortalUser,
    system: StandardSystem,
    version: int | None,
    phase: str,
    planned_on: date | None = None,
    migrated_on: date | None = None,
    section: Section | None = None,
    note: str = "",
    difficult: bool = False,
) -> StandardSystem:
    current = (
        StandardSystem.objects.select_for_update(of=("self",))
        .select_related("group__target__initiative")
        .get(pk=system.pk)
    )
    if not can_edit_countable(roles_for(actor), current.group.target):
        raise PermissionDenied(MSG_COUNTABLE_DENIED)
    check_version(current, version, _("標準化対象システム"))
    current.phase, current.planned_on, current.migrated_on = phase, planned_on, migrated_on
    current.section, current.note, current.difficult = section, note, difficult
    version_bump(current)  # saving never confirms: countable_confirm does, explicitly
    save_with_user(current, actor)
    return current


@transaction.atomic
def countable_confirm(
    *,
    actor: PortalUser,
    row: OnlineProcedure | StandardSystem,
    confirmed: bool,
    version: int | None,
) -> OnlineProcedure | StandardSystem:
    """The 確認 button: the secretariat confirms where a procedure or system stands (or takes
    the confirmation back), recorded with who and when (models.Confirmation is the rule)."""
    if not can_confirm_countable(roles_for(actor)):
        raise PermissionDenied(MSG_CONFIRM_DENIED)
    current = type(row).objects.select_for_update(of=("self",)).get(pk=row.pk)
    check_version(current, version, str(current._meta.verbose_name))
    current.confirmation = Confirmation.CONFIRMED if confirmed else Confirmation.UNCONFIRMED
    stamp_confirmation(current, by=actor, at=timezone.now())
    version_bump(current)
    save_with_user(current, actor)
    return current


# --- reminders -----------------------------------------------------------------------------


@dataclass
class ReminderMail:
    to: str
    user: PortalUser
    subject: str
    body: str


@dataclass
class ReminderTodo:
    user: PortalUser
    due: list[Review] = field(default_factory=list)
    returned: list[Review] = field(default_factory=list)
    stale: list[InitiativeWithListColumns] = field(default_factory=list)


def _link(base_url: str, path: str) -> str:
    return f"{base_url.rstrip('/')}{path}"


def _returned_comment(review: Review) -> str:
    return return_comment(review.events.all())


def reminder_todos(*, today: date, days: int) -> list[ReminderTodo]:
    """Who gets a reminder on ``today`` and for what: the one selection send_reminders mails
    and the plan switch check (reporting.services.switch_check) lists.

    Only about initiatives of the plan in force on ``today`` (plans.selectors.plan_in_force_on)
    that are still running (selectors.running_initiatives: not ended by a 完了/中止 entry or an
    approved 完了/廃止 decision), and only to people who can log in (workgroups.access
    .can_log_in) and have a mail address. WG leaders: reviews in draft due within ``days``
    days (or overdue) and returned reviews. WG members (leaders included): their WG's
    initiatives without a progress entry for ``days`` days. The plan in force holds its own
    WG rows, so on and after 1 April the new plan's people are the ones reminded.
    """
    plan = plan_in_force_on(today)
    if plan is None:
        return []
    horizon = today + timedelta(days=days)
    todos: dict[int, ReminderTodo] = {}

    memberships = [
        m
        for m in WorkingGroupMembership.objects.filter(working_group__plan=plan)
        .exclude(user__email="")
        .select_related("user", "user__profile")
        if can_log_in(m.user)
    ]
    leaders: dict[int | None, list[PortalUser]] = {}
    members: dict[int | None, list[PortalUser]] = {}
    for m in memberships:
        members.setdefault(m.working_group_id, []).append(m.user)
        if m.role == WorkingGroupMembership.Role.LEADER:
            leaders.setdefault(m.working_group_id, []).append(m.user)

    def todo(user: PortalUser) -> ReminderTodo:
        return todos.setdefault(user.pk, ReminderTodo(user))

    in_plan = Initiative.objects.for_plan(plan).filter(working_group__isnull=False)
    reviews = (
        reviews_of_running_initiatives(Review.objects.filter(initiative__in=in_plan))
        .filter(
            Q(state=SENT_BACK) | Q(state=State.DRAFT, due_date__isnull=False, due_date__lte=horizon)
        )
        .select_related("initiative", "initiative__policy")
        .order_by("due_date", "initiative__policy__number", "initiative__number")
    )
    for review in reviews:
        for user in leaders.get(review.initiative.working_group_id, []):
            bucket = todo(user).returned if is_sent_back(review.state) else todo(user).due
            bucket.append(review)

    running = running_initiatives(in_plan, today)
    initiatives = initiatives_with_list_columns(
        running.select_related("policy"), era.current_fiscal_year(today)
    ).filter(stale_filter(today, days))
    for ini in initiatives.order_by("policy__number", "number"):
        for user in members.get(ini.working_group_id, []):
            todo(user).stale.append(ini)

    return sorted(todos.values(), key=lambda t: t.user.get_username())


def reminder_mails(*, today: date, days: int, base_url: str) -> list[ReminderMail]:
    """One Japanese mail per person with what they should do (see reminder_todos)."""
    todos = reminder_todos(today=today, days=days)
    # The mails quote the return comment: read the returned reviews' moves in one query.
    prefetch_related_objects([r for t in todos for r in t.returned], "events")
    mails = []
    for item in todos:
        lines = [
            f"{display_name(item.user)} 様",
            "",
            "かほく市DX推進ポータルからのお知らせです。",
            "",
        ]
        if item.due:
            lines.append("■ 提出期限が近い(または過ぎた)PDCA振り返り")
            for r in item.due:
                assert r.due_date is not None  # reminder_todos keeps only reviews with one
                left = (r.due_date - today).days
                when = f"あと{left}日" if left >= 0 else f"{-left}日超過"
                lines.append(
                    f"・{r.initiative} ({era.format_fiscal_year(r.fiscal_year)})"
                    f" 提出期限: {era.format_date(r.due_date)}({when})"
                )
                lines.append(f"  {_link(base_url, reverse('initiatives:review', args=[r.pk]))}")
            lines.append("")
        if item.returned:
            lines.append("■ 差し戻されたPDCA振り返り(修正して再提出してください)")
            for r in item.returned:
                lines.append(f"・{r.initiative} ({era.format_fiscal_year(r.fiscal_year)})")
                comment = _returned_comment(r)
                if comment:
                    lines.append(f"  差戻しコメント: {comment}")
                lines.append(f"  {_link(base_url, reverse('initiatives:review', args=[r.pk]))}")
            lines.append("")
        if item.stale:
            lines.append(f"■ {days}日以上進捗が記録されていない取り組み")
            for ini in item.stale:
                last_day = ini.last_entry_date
                last = era.format_date(last_day) if last_day else "記録なし"
                lines.append(f"・{ini}(最終記録日: {last})")
                lines.append(f"  {_link(base_url, reverse('initiatives:detail', args=[ini.pk]))}")
            lines.append("")
        lines += [
            "このメールは送信専用です。ご不明な点は情報推進課(DX推進事務局)へお問い合わせください。",
        ]
        parts = []
        if item.due or item.returned:
            parts.append(f"振り返り{len(item.due) + len(item.returned)}件")
        if item.stale:
            parts.append(f"進捗未更新{len(item.stale)}件")
        mails.append(
            ReminderMail(
                to=item.user.email,
                user=item.user,
                subject=f"【かほく市DX推進ポータル】対応のお願い({'・'.join(parts)})",
                body="\n".join(lines) + "\n",
            )
        )
    mails.sort(key=lambda m: m.user.get_username())
    return mails


def reminders_send(*, today: date, days: int, base_url: str) -> list[ReminderMail]:
    """Send the reminder mails through settings.EMAIL_BACKEND; returns what was sent."""
    mails = reminder_mails(today=today, days=days, base_url=base_url)
    if mails:
        send_mass_mail(
            [(m.subject, m.body, settings.DEFAULT_FROM_EMAIL, [m.to]) for m in mails],
            fail_silently=False,
        )
    return mails


# --- publication on the public page ------------------------------------------------------


def initiative_publication_update(
    *,
    changes: dict[int, tuple[bool, list[str]]],
    plan: Plan,
    user: PortalUser,
    versions: Mapping[int, int | None] | None = None,
) -> int:
    """Set is_public / public_fields for initiatives of ``plan``; returns how many changed.

    ``changes`` maps initiative pk -> (is_public, allowed field keys). Unknown keys are
    rejected so that nothing outside PUBLIC_FIELDS can ever be marked for publication.
    ``versions`` maps pk -> the version the row was shown at: a row that would change but
    was saved by someone else since is an EditConflict, and nothing is saved.
    """
    changed = 0
    with transaction.atomic():
        rows = (
            Initiative.objects.for_plan(plan)
            .filter(pk__in=list(changes))
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        for ini in rows:
            is_public, fields = changes[ini.pk]
            unknown = [f for f in fields if f not in PUBLIC_FIELDS]
            if unknown:
                raise ValidationError(
                    _("公開できない項目です: %(keys)s") % {"keys": "、".join(unknown)}
                )
            ordered = [f for f in PUBLIC_FIELDS if f in fields]
            if ini.is_public == is_public and list(ini.public_fields or []) == ordered:
                continue
            if versions is not None:
                check_version(ini, versions.get(ini.pk), _("取り組みの公開設定"))
            ini.is_public = is_public
            ini.public_fields = ordered
            version_bump(ini)
            save_with_user(ini, user)
            changed += 1
    return changed
