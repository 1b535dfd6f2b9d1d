"""1 April rehearsed: what happens when a plan comes into force on a date (issue 20).

``switch_check(plan, on)`` answers, one line per check, whether everything the yearly cycle
needs is in place on ``on`` for ``plan``: the plan in force, each initiative with its WG and
WG leader, WGs without (or with two) leaders, the DX headquarters and the secretariat, people
with a role who cannot log in, initiatives without an indicator or a WG, the reviews the first
year's round will open and the reminders that will go. The screen (reporting.views.switch) and
``python manage.py plan_switch_check`` both print these checks; the command exits 1 while
any check needs action.

Reads only: nothing is written here. Each list is bounded (ROW_LIMIT rows and the total).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, cast

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from initiatives.models import Initiative, Review
from initiatives.selectors import initiatives_for_fiscal_year
from initiatives.services import reminder_todos
from plans import selectors as plan_selectors
from plans.models import Plan, PlanStatus
from portal_lib import era
from portal_lib.people import display_name
from workgroups.models import (
    Headquarters,
    HeadquartersMember,
    Secretariat,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
)
from workgroups.selectors import lockouts

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from portal_lib.users import PortalUser

ROW_LIMIT = 50  # rows shown per check; the total is given with them
REMINDER_DAYS = 7  # send_reminders' default --days, the cron's setting

OK = "OK"
ACTION = "要対応"


@dataclass(frozen=True)
class Row:
    """One line under a check: what it is, and where to look at it (a URL, or "")."""

    name: str
    url: str = ""


@dataclass
class Check:
    key: str
    label: str
    ok: bool
    rows: list[Row] = field(default_factory=list)
    total: int = 0  # every row, of which the first ROW_LIMIT are in ``rows``
    fix_url: str = ""  # the screen that fixes it
    fix_label: str = ""
    fix_command: str = ""  # the command IT staff run instead
    note: str = ""

    @property
    def status(self) -> str:
        return OK if self.ok else ACTION

    @property
    def more(self) -> int:
        return max(self.total - len(self.rows), 0)

    @classmethod
    def listing(cls, rows: list[Row], **kwargs: Any) -> Check:
        """A check over ``rows``: the first ROW_LIMIT shown, the total given."""
        return cls(rows=rows[:ROW_LIMIT], total=len(rows), **kwargs)


def default_plan(today: date) -> Plan | None:
    """The plan a switch is rehearsed for: the successor of the plan in force, else that plan."""
    current = plan_selectors.plan_in_force_on(today)
    if current is None:
        return None
    return current.successors.order_by("start_fy", "code").first() or current


def default_day(plan: Plan, today: date) -> date:
    """The plan's first day (e.g. 2027-04-01), or today when the plan has already begun."""
    first = era.fiscal_year_start(plan.start_fy)
    return first if first > today else today


def _name(user: PortalUser) -> str:
    return display_name(user)


def _staff_url(user: PortalUser) -> str:
    return reverse("workgroups:staff_edit", args=[user.pk])


def _initiative_row(ini: Initiative, extra: str = "") -> Row:
    text = f"{ini.code} {ini.title}"
    return Row(f"{text}{extra}", reverse("initiatives:detail", args=[ini.pk]))


# --- the checks ------------------------------------------------------------------------------


def _check_plan(plan: Plan, on: date) -> Check:
    in_force = plan_selectors.plan_in_force_on(on)
    fy = era.fiscal_year_of(on)
    day = f"{on:%Y-%m-%d}"
    rows = [
        Row(
            _("%(day)sに施行中の計画: %(plan)s(%(period)s、%(status)s)")
            % {
                "day": day,
                "plan": in_force.name,
                "period": in_force.period_label,
                "status": in_force.get_status_display(),
            }
            if in_force
            else _("%(day)sに施行中の計画はありません") % {"day": day},
            reverse("reporting:versions"),
        )
    ]
    problems = []
    if not plan.covers(fy):
        problems.append(
            _("%(day)sは「%(plan)s」の計画期間(%(period)s)の外です")
            % {"day": day, "plan": plan.name, "period": plan.period_label}
        )
    if in_force is None or in_force.pk != plan.pk:
        problems.append(
            _("%(day)sに施行中の計画が「%(plan)s」ではありません") % {"day": day, "plan": plan.name}
        )
    if plan.status == PlanStatus.DRAFT:
        problems.append(_("「%(plan)s」はまだ決定されていません(策定中)") % {"plan": plan.name})
    if plan.status == PlanStatus.ENDED:
        problems.append(_("「%(plan)s」は終了しています") % {"plan": plan.name})
    rows += [Row(p) for p in problems]
    return Check(
        key="plan",
        label=_("施行中の計画"),
        ok=not problems,
        rows=rows,
        total=len(rows),
        fix_url=reverse("reporting:versions"),
        fix_label=_("計画と版"),
        fix_command=(
            f"python manage.py plan_adopt --plan {plan.code} --decided-on YYYY-MM-DD "
            f"--in-force-from {era.fiscal_year_start(plan.start_fy):%Y-%m-%d}"
        ),
    )


def _wg_leaders(plan: Plan) -> tuple[list[WorkingGroup], dict[int, list[PortalUser]]]:
    wgs = list(WorkingGroup.objects.filter(plan=plan).order_by("name"))
    leaders: dict[int, list[PortalUser]] = defaultdict(list)
    for m in (
        WorkingGroupMembership.objects.filter(
            working_group__plan=plan,
            role=WorkingGroupMembership.Role.LEADER,
            user__is_active=True,
        )
        .select_related("user", "user__profile")
        .order_by("user__username")
    ):
        leaders[m.working_group_id].append(m.user)
    return wgs, leaders


class _IndicatorCount(TypedDict):
    indicator_count: int


# An initiative with how many indicators it has (_initiatives() annotates it).
CountedInitiative: TypeAlias = "WithAnnotations[Initiative, _IndicatorCount]"


def _initiatives(plan: Plan) -> list[CountedInitiative]:
    counted = (
        Initiative.objects.filter(policy__plan=plan)
        .select_related("policy", "working_group")
        .annotate(indicator_count=Count("indicators"))
        .order_by("policy__number", "number")
    )
    # InitiativeQuerySet is QuerySet["Initiative"], not generic in its rows, so iterating it
    # drops the annotation django-stubs inferred (and Count() is typed Any there): the cast
    # only names the annotation made just above.
    return cast("list[CountedInitiative]", list(counted))


def _check_initiatives(
    initiatives: Sequence[Initiative], leaders: dict[int, list[PortalUser]], on: date
) -> Check:
    rows = []
    missing = 0
    for ini in initiatives:
        wg = ini.working_group
        who = leaders.get(wg.pk, []) if wg else []
        if wg is None:
            extra = _("(担当WGなし)")
        else:
            names = "、".join(_name(u) for u in who) or _("なし")
            extra = _("(%(wg)s、WG長: %(leaders)s)") % {"wg": wg.name, "leaders": names}
        if wg is None or len(who) != 1:
            missing += 1
        rows.append(_initiative_row(ini, extra))
    return Check.listing(
        rows,
        key="initiatives",
        label=_("%(day)sの取り組みと担当WG・WG長") % {"day": f"{on:%Y-%m-%d}"},
        ok=bool(initiatives) and not missing,
        fix_url=reverse("workgroups:staff_list"),
        fix_label=_("職員とWGの役割"),
        note="" if initiatives else _("この計画には取り組みがありません"),
    )


def _check_wg_leaders(
    plan: Plan, wgs: list[WorkingGroup], leaders: dict[int, list[PortalUser]], on: date
) -> list[Check]:
    none = [Row(wg.name) for wg in wgs if not leaders.get(wg.pk)]
    two = [
        Row(
            _("%(wg)s(WG長: %(leaders)s)")
            % {
                "wg": wg.name,
                "leaders": pgettext("punctuation", "、").join(_name(u) for u in leaders[wg.pk]),
            }
        )
        for wg in wgs
        if len(leaders.get(wg.pk, [])) > 1
    ]
    roster = (
        f"python manage.py import_staff {_('職員名簿.xlsx')} --plan {plan.code} "
        f"--effective {on:%Y-%m-%d}"
    )
    if not wgs:
        none = [Row(_("この計画にはWGがありません"))]
    checks = []
    for key, label, rows in (
        ("wg_no_leader", _("WG長がいないWG"), none),
        ("wg_two_leaders", _("WG長が2人以上いるWG"), two),
    ):
        checks.append(
            Check.listing(
                rows,
                key=key,
                label=label,
                ok=not rows,
                fix_url=reverse("workgroups:staff_roster"),
                fix_label=_("職員名簿の取り込み"),
                fix_command=roster,
            )
        )
    return checks


def _check_bodies(plan: Plan) -> list[Check]:
    hq = Headquarters.objects.filter(plan=plan).first()
    hq_rows: list[Row] = []
    if hq is None:
        hq_rows.append(Row(_("この計画にはDX推進本部がありません")))
    else:
        chiefs = list(
            HeadquartersMember.objects.filter(
                headquarters=hq, role=HeadquartersMember.Role.CHIEF, user__is_active=True
            )
        )
        if not chiefs:
            hq_rows.append(Row(_("%(hq)sに本部長(有効な職員)がいません") % {"hq": hq.name}))
    secretariat = Secretariat.objects.filter(plan=plan).select_related("section").first()
    sec_rows: list[Row] = []
    if secretariat is None:
        sec_rows.append(Row(_("この計画には事務局がありません")))
    active_secretariat = (
        get_user_model()
        .objects.filter(is_active=True, profile__role=StaffProfile.Role.SECRETARIAT)
        .exists()
    )
    if not active_secretariat:
        sec_rows.append(Row(_("役割が事務局の有効な職員がいません")))
    return [
        Check(
            key="headquarters",
            label=_("DX推進本部の本部長"),
            ok=not hq_rows,
            rows=hq_rows,
            total=len(hq_rows),
            fix_url=reverse("workgroups:staff_roster"),
            fix_label=_("職員名簿の取り込み"),
        ),
        Check(
            key="secretariat",
            label=_("事務局"),
            ok=not sec_rows,
            rows=sec_rows,
            total=len(sec_rows),
            fix_url=reverse("workgroups:staff_list"),
            fix_label=_("職員一覧"),
        ),
    ]


def _check_logins(plan: Plan) -> Check:
    """People with a role in the plan (WG member or leader, HQ seat) or the secretariat, who
    cannot log in: no usable password, deactivated, or locked out now."""
    roles: dict[int, list[str]] = defaultdict(list)
    for m in WorkingGroupMembership.objects.filter(working_group__plan=plan).select_related(
        "working_group"
    ):
        roles[m.user_id].append(f"{m.working_group.name} {m.get_role_display()}")
    for seat in HeadquartersMember.objects.filter(headquarters__plan=plan, user__isnull=False):
        if seat.user_id is None:  # filtered out above; the field is nullable
            continue
        roles[seat.user_id].append(f"{seat.get_role_display()}({seat.title})")
    for pk in (
        get_user_model()
        .objects.filter(is_active=True, profile__role=StaffProfile.Role.SECRETARIAT)
        .values_list("pk", flat=True)
    ):
        roles[pk].append(_("事務局"))
    people = list(
        get_user_model().objects.filter(pk__in=roles).select_related("profile").order_by("username")
    )
    locks = lockouts(u.get_username() for u in people)
    locked = {name for name, lock in locks.items() if lock.locked}
    rows = []
    for user in people:
        reasons = []
        if not user.is_active:
            reasons.append(_("無効"))
        if not user.has_usable_password():
            reasons.append(_("パスワード未設定"))
        if user.get_username().lower() in locked:
            reasons.append(_("ログイン制限中"))
        if reasons:
            rows.append(
                Row(
                    f"{_name(user)}({user.get_username()}): {'・'.join(reasons)}"
                    f" — {'、'.join(roles[user.pk])}",
                    _staff_url(user),
                )
            )
    return Check.listing(
        rows,
        key="logins",
        label=_("役割があるのにログインできない職員"),
        ok=not rows,
        fix_url=reverse("workgroups:staff_list"),
        fix_label=_("職員一覧(有効化・パスワード・ログイン制限の解除)"),
        fix_command="python manage.py send_password_links / "
        "python manage.py axes_reset_username ユーザー名",
    )


def _check_initiative_gaps(plan: Plan, initiatives: list[CountedInitiative]) -> list[Check]:
    no_indicator = [_initiative_row(i) for i in initiatives if not i.indicator_count]
    no_wg = [_initiative_row(i) for i in initiatives if i.working_group_id is None]
    sheet = f"python manage.py import_sheet initiatives 取り組み.xlsx --plan {plan.code}"
    checks = []
    for key, label, rows in (
        ("no_indicator", _("指標のない取り組み"), no_indicator),
        ("no_wg", _("担当WGのない取り組み"), no_wg),
    ):
        checks.append(
            Check.listing(
                rows,
                key=key,
                label=label,
                ok=not rows,
                fix_url=reverse("excel:index"),
                fix_label=_("Excelでの一括登録"),
                fix_command=sheet if key == "no_wg" else "",
            )
        )
    return checks


def _check_reviews(plan: Plan) -> Check:
    """The initiatives the first year's PDCA round opens a review for: the selection
    initiatives.services.reviews_open takes (initiatives_for_fiscal_year)."""
    fy = plan.start_fy
    selected = list(
        initiatives_for_fiscal_year(fy)
        .prefetch_related(None)  # the rows show code and title only
        .annotate(
            review_open=Exists(Review.objects.filter(initiative=OuterRef("pk"), fiscal_year=fy))
        )
        .order_by("policy__plan__start_fy", "policy__number", "number")
    )
    rows = [_initiative_row(i, _("(開始済み)") if i.review_open else "") for i in selected]
    return Check.listing(
        rows,
        key="reviews",
        label=_("%(fy)sに振り返りを開く取り組み") % {"fy": era.format_fiscal_year(fy)},
        ok=bool(rows),
        fix_url=reverse("initiatives:reviews_open"),
        fix_label=_("振り返りの開始"),
        note="" if rows else _("振り返りを開く取り組みがありません"),
    )


def _check_reminders(plan: Plan, on: date) -> Check:
    todos = reminder_todos(today=on, days=REMINDER_DAYS)
    rows = []
    for todo in todos:
        parts = []
        if todo.due or todo.returned:
            parts.append(_("振り返り%(n)d件") % {"n": len(todo.due) + len(todo.returned)})
        if todo.stale:
            parts.append(_("進捗未更新%(n)d件") % {"n": len(todo.stale)})
        rows.append(
            Row(
                f"{_name(todo.user)}({todo.user.email}): {pgettext('punctuation', '・').join(parts)}",
                _staff_url(todo.user),
            )
        )
    # WG members of the plan who will get nothing because they have no mail address.
    no_mail = list(
        get_user_model()
        .objects.filter(is_active=True, wg_memberships__working_group__plan=plan, email="")
        .distinct()
        .order_by("username")
    )
    rows += [
        Row(
            _("%(name)s: メールアドレスがないためリマインダーが届きません") % {"name": _name(u)},
            _staff_url(u),
        )
        for u in no_mail
    ]
    return Check.listing(
        rows,
        key="reminders",
        label=_("%(day)sに送られるリマインダー(%(n)d通)")
        % {"day": f"{on:%Y-%m-%d}", "n": len(todos)},
        ok=not no_mail,
        fix_url=reverse("workgroups:staff_list"),
        fix_label=_("職員一覧"),
        fix_command=f"python manage.py send_reminders --dry-run --today {on:%Y-%m-%d}",
    )


def switch_check(plan: Plan, on: date) -> list[Check]:
    """What happens when ``plan`` runs on ``on``: one Check per line, 「OK」 or 「要対応」."""
    wgs, leaders = _wg_leaders(plan)
    initiatives = _initiatives(plan)
    return [
        _check_plan(plan, on),
        _check_initiatives(initiatives, leaders, on),
        *_check_wg_leaders(plan, wgs, leaders, on),
        *_check_bodies(plan),
        _check_logins(plan),
        *_check_initiative_gaps(plan, initiatives),
        _check_reviews(plan),
        _check_reminders(plan, on),
    ]


def all_ok(checks: list[Check]) -> bool:
    return all(c.ok for c in checks)


__all__ = [
    "ACTION",
    "OK",
    "Check",
    "Row",
    "all_ok",
    "default_day",
    "default_plan",
    "switch_check",
]
