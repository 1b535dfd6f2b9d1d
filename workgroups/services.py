"""Writes to the organisation: staff accounts and their roles."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext_lazy

from plans.models import Plan
from plans.selectors import plans_from
from portal_lib import era
from portal_lib.accounts import portal_url, set_password_token_generator
from portal_lib.history import save_with_user, set_history_user
from portal_lib.people import display_name as person_name
from portal_lib.sheet_reading import SpreadsheetError
from portal_lib.versioning import EditConflict, version_bump
from workgroups import access, roster
from workgroups.models import (
    ExternalAdvisor,
    Headquarters,
    HeadquartersMember,
    Secretariat,
    Section,
    SectionName,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
    WorkingGroupName,
    new_wg_key,
)

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

User = get_user_model()

SECRETARIAT_GROUP = "事務局"
# The secretariat manages the plan, the schedule and the organisation in the admin.
SECRETARIAT_APPS = ("plans", "workgroups", "initiatives")


def secretariat_group_ensure() -> Group:
    """The admin permission group of the secretariat: every permission on the portal's data."""
    group, _ = Group.objects.get_or_create(name=SECRETARIAT_GROUP)
    perms = Permission.objects.filter(content_type__app_label__in=SECRETARIAT_APPS) | (
        Permission.objects.filter(content_type__app_label="auth", content_type__model="user")
    )
    missing = perms.exclude(pk__in=group.permissions.values("pk"))
    if missing.exists():
        group.permissions.add(*missing)
    return group


@transaction.atomic
def staff_create(
    *,
    username: str,
    password: str | None = None,
    role: str = StaffProfile.Role.STAFF,
    section: Section | None = None,
    display_name: str = "",
    email: str = "",
    staff_number: str = "",
    kana: str = "",
    job_title: str = "",
) -> PortalUser:
    """Create a staff account with its profile. The secretariat also gets the admin."""
    user = User(username=username, email=email, last_name=display_name)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.is_staff = role == StaffProfile.Role.SECRETARIAT
    user.full_clean(exclude=["password"])
    _history(user, None)
    user.save()
    profile = StaffProfile(
        user=user,
        role=role,
        section=section,
        display_name=display_name,
        staff_number=staff_number,
        kana=kana,
        job_title=job_title,
    )
    profile.full_clean()
    _history(profile, None)
    profile.save()
    if role == StaffProfile.Role.SECRETARIAT:
        user.groups.add(secretariat_group_ensure())
    return user


@transaction.atomic
def dev_login_ensure(*, username: str = "jimukyoku") -> tuple[PortalUser, str]:
    """A secretariat login for local use, with a fresh random password each call.

    Refused in production: there is no default or demo account there.
    """
    if getattr(settings, "PRODUCTION", False):
        raise ImproperlyConfigured("本番環境では開発用ログインを作成できません。")
    password = secrets.token_urlsafe(12)
    section = Section.objects.filter(name="情報推進課").first()
    user = User.objects.filter(username=username).first()
    if user is None:
        user = staff_create(
            username=username,
            password=password,
            role=StaffProfile.Role.SECRETARIAT,
            section=section,
            display_name="事務局(開発用)",
        )
    else:
        user.set_password(password)
        user.is_active = True
        user.is_staff = True
        user.save()
        user.groups.add(secretariat_group_ensure())
        staff_version_bump(actor=None, user=user)
    return user, password


# --------------------------------------------------------------------------------------------
# Staff and roles, run by the secretariat from the portal (no admin needed)
# --------------------------------------------------------------------------------------------

MSG_SELF_DEACTIVATE = "自分自身のアカウントを無効にすることはできません。"
MSG_SUPERUSER = access.MSG_SUPERUSER
MSG_WG_PLAN = "このWGは選択した計画のWGではありません。"


def _guard(actor: PortalUser | None, user: PortalUser) -> None:
    """Nobody but a superuser changes a superuser (access.may_change_account)."""
    if not access.may_change_account(actor, user):
        raise PermissionDenied(str(MSG_SUPERUSER))


def _password_guard(actor: PortalUser | None, user: PortalUser) -> None:
    """_guard, and a service account is never given a password (access.may_have_password)."""
    _guard(actor, user)
    if not access.may_have_password(user):
        raise ValidationError(str(access.MSG_SERVICE_ACCOUNT_PASSWORD), code="service_account")


_CHANGE_REASON: ContextVar[str] = ContextVar("staff_change_reason", default="")


@contextmanager
def change_reason(reason: str) -> Iterator[None]:
    """Every history row written inside carries ``reason`` (simple-history _change_reason)."""
    token = _CHANGE_REASON.set(reason)
    try:
        yield
    finally:
        _CHANGE_REASON.reset(token)


def _history(obj: Any, actor: PortalUser | None) -> None:
    set_history_user(obj, actor, reason=_CHANGE_REASON.get())


# --- one person's staff record: its optimistic-lock version ---------------------------------

MSG_STAFF_WHAT = gettext_lazy("職員の情報")
# A person without a profile yet is at the version a new profile starts at.
NO_PROFILE_VERSION = 1


def staff_version_of(user: PortalUser) -> int:
    """The version a staff form opened now carries (portal_lib.versioning)."""
    version = StaffProfile.objects.filter(user=user).values_list("version", flat=True).first()
    return NO_PROFILE_VERSION if version is None else version


def staff_version_check(*, user: PortalUser, version: int | None) -> None:
    """EditConflict when the person's record changed since the form was opened; the profile
    row stays locked until the transaction ends, so no other write slips in between."""
    current = StaffProfile.objects.select_for_update(of=("self",)).filter(user=user).first()
    saved = NO_PROFILE_VERSION if current is None else current.version
    if version is None or version != saved:
        raise EditConflict(MSG_STAFF_WHAT, current or StaffProfile(user=user, version=saved))


def staff_version_bump(*, actor: PortalUser | None, user: PortalUser) -> None:
    """Every write to a person's account, profile, WG roles or HQ seat calls this once: the
    portal's staff screen, the roster import, the commands and the admin."""
    profile = StaffProfile.objects.select_for_update(of=("self",)).filter(user=user).first()
    if profile is None:
        profile = StaffProfile(user=user, display_name=user.last_name, version=NO_PROFILE_VERSION)
    version_bump(profile)
    _history(profile, actor)
    if profile.pk is None:
        profile.save()
    else:
        profile.save(update_fields=["version"])


# --- the city cannot lock itself out -------------------------------------------------------


def lockout_check(
    *,
    deactivate: Collection[PortalUser] = (),
    demote: Collection[PortalUser] = (),
    unsuper: Collection[PortalUser] = (),
) -> None:
    """``lockout_problems`` for a write: ValidationError with the reasons, nothing written.

    Locks the rows of every active secretariat member and superuser first (in one order, so
    two checks never deadlock), then counts in a new statement: of two deactivations at
    once, the second waits for the first to commit and counts without the first's person.
    Call it inside the transaction that then writes.
    """
    if not (deactivate or demote or unsuper):
        return
    locked = access.guardians().select_for_update(of=("self",)).order_by("pk")
    list(locked.values_list("pk", flat=True))
    problems = access.lockout_problems(deactivate=deactivate, demote=demote, unsuper=unsuper)
    if problems:
        raise ValidationError(problems, code="lockout")


@transaction.atomic
def staff_update(
    *,
    actor: PortalUser,
    user: PortalUser,
    display_name: str,
    email: str,
    section: Section | None,
    role: str,
    staff_number: str | None = None,
    kana: str | None = None,
    job_title: str | None = None,
) -> PortalUser:
    """Change a person's name, mail, section and office-wide role, with history naming actor.

    ``staff_number``, ``kana`` and ``job_title`` (from the roster) stay as they are when None.

    Making someone secretariat gives them the admin's data screens (is_staff and the
    secretariat group); taking it away removes both. Superuser status is never touched.
    """
    _guard(actor, user)
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    if (
        user.is_active
        and profile.role == StaffProfile.Role.SECRETARIAT
        and role != StaffProfile.Role.SECRETARIAT
    ):
        lockout_check(demote=[user])
    user.last_name = display_name
    user.email = email
    user.is_staff = role == StaffProfile.Role.SECRETARIAT or user.is_superuser
    user.full_clean(exclude=["password"])
    _history(user, actor)
    user.save()
    profile.display_name = display_name
    profile.section = section
    profile.role = role
    for name, value in (("staff_number", staff_number), ("kana", kana), ("job_title", job_title)):
        if value is not None:
            setattr(profile, name, value)
    profile.full_clean()
    _history(profile, actor)
    profile.save()
    group = secretariat_group_ensure()
    if role == StaffProfile.Role.SECRETARIAT:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    staff_version_bump(actor=actor, user=user)
    return user


@transaction.atomic
def staff_roles_release(*, actor: PortalUser, user: PortalUser, day: date) -> list[str]:
    """Take ``user`` out of every WG and HQ seat of the plans ``day`` reaches (plans_from):
    what a person leaving the city gives up, from the staff screen or a roster alike. Plans
    whose period is over keep them: their records stay as they were."""
    plans = plans_reached(day)
    changes: list[str] = []
    memberships = WorkingGroupMembership.objects.filter(
        user=user, working_group__plan__in=plans
    ).select_related("working_group", "working_group__plan")
    for m in memberships:
        _history(m, actor)
        m.delete()
        changes.append(f"{m.working_group.name}({m.working_group.plan.name}): 外しました")
    for seat in HeadquartersMember.objects.filter(user=user, headquarters__plan__in=plans):
        _history(seat, actor)
        seat.delete()
        changes.append(f"DX推進本部 {seat.title}: 外しました")
    if changes:
        staff_version_bump(actor=actor, user=user)
    return changes


@transaction.atomic
def staff_set_active(
    *, actor: PortalUser, user: PortalUser, active: bool, day: date | None = None
) -> PortalUser:
    """Activate or deactivate an account; a deactivated person's sessions end at once, and
    they leave their WGs and HQ seat in the plans from ``day`` (default today) on.

    Staff are never deleted: their progress entries, reviews and history keep their name.
    """
    _guard(actor, user)
    if not active and actor is not None and user.pk == actor.pk:
        raise ValidationError(MSG_SELF_DEACTIVATE)
    if user.is_active == active:
        return user
    if not active:
        lockout_check(deactivate=[user])
        staff_roles_release(actor=actor, user=user, day=day or timezone.localdate())
    user.is_active = active
    _history(user, actor)
    user.save(update_fields=["is_active"])
    staff_version_bump(actor=actor, user=user)
    if not active:
        sessions_end_for(user)
    return user


@transaction.atomic
def staff_review_mail_set(*, actor: PortalUser, user: PortalUser, on: bool) -> bool:
    """Turn a person's review mails (initiatives.notifications) on or off: the person on
    their own mail settings page, or the secretariat on the staff screen. Returns whether
    it changed; the change is kept in the person's history and moves their record's version."""
    if actor is None or actor.pk != user.pk:
        _guard(actor, user)
    profile = StaffProfile.objects.select_for_update(of=("self",)).filter(user=user).first()
    if profile is None:
        profile = StaffProfile(user=user, display_name=user.last_name)
    if profile.pk is not None and profile.review_mail == on:
        return False
    profile.review_mail = on
    _history(profile, actor)
    profile.save()
    staff_version_bump(actor=actor, user=user)
    return True


def sessions_end_for(user: PortalUser) -> int:
    """Delete every stored session of ``user`` (sessions live in the database only).

    An inactive user is refused by the authentication backend on the next request anyway.
    """
    from django.contrib.sessions.models import Session

    ended = 0
    now = timezone.now()
    pk = str(user.pk)
    for session in Session.objects.filter(expire_date__gt=now).iterator():
        if session.get_decoded().get("_auth_user_id") == pk:
            session.delete()
            ended += 1
    return ended


@transaction.atomic
def staff_set_password(*, actor: PortalUser, user: PortalUser, password: str) -> PortalUser:
    """Set a new password (validated by AUTH_PASSWORD_VALIDATORS); other sessions end and the
    person's login lockout lifts (the lockout page tells them to ask the secretariat)."""
    _password_guard(actor, user)
    password_validation.validate_password(password, user)
    user.set_password(password)
    _history(user, actor)
    user.save(update_fields=["password"])
    staff_version_bump(actor=actor, user=user)
    sessions_end_for(user)
    _lockout_clear(user)
    return user


def _lockout_clear(user: PortalUser) -> int:
    from axes.models import AccessAttempt

    count: int
    count, _ = AccessAttempt.objects.filter(username__iexact=user.get_username()).delete()
    return count


MSG_UNLOCKED = "ログインの制限を解除"


@transaction.atomic
def staff_unlock(*, actor: PortalUser, user: PortalUser) -> int:
    """Lift a person's login lockout: forget their failed logins from every address (django-axes
    records). Returns how many records went; the lift is kept in the person's history."""
    _guard(actor, user)
    count = _lockout_clear(user)
    if count:
        with change_reason(MSG_UNLOCKED):
            staff_version_bump(actor=actor, user=user)
    return count


def staff_password_link(*, user: PortalUser) -> str:
    """A one-time set-password link, valid SET_PASSWORD_LINK_TIMEOUT (void once the password
    changes), on PORTAL_BASE_URL."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = set_password_token_generator.make_token(user)
    return portal_url(reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token}))


def staff_send_password_link(*, actor: PortalUser | None, user: PortalUser) -> str:
    """Mail the person a one-time link to set their own password; returns the address used.
    ``actor`` None: IT staff's command run without --user (no superuser: may_change_account)."""
    _password_guard(actor, user)
    if not user.email:
        raise ValidationError("メールアドレスが登録されていないため、リンクを送れません。")
    if not user.is_active:
        raise ValidationError("無効なアカウントにはリンクを送れません。先に有効にしてください。")
    link = staff_password_link(user=user)
    name = person_name(user)
    body = (
        f"{name} 様\n\n"
        "かほく市DX推進ポータルのパスワードを設定するためのリンクをお送りします。\n"
        "次のリンクを開き、新しいパスワードを設定してください。\n\n"
        f"{link}\n\n"
        f"ユーザー名: {user.get_username()}\n"
        f"このリンクは一度だけ、{settings.SET_PASSWORD_LINK_TIMEOUT // 3600}時間以内に使えます。"
        "心当たりがない場合は、情報推進課(事務局)に連絡してください。\n"
    )
    send_mail(
        "【かほく市DX推進ポータル】パスワード設定のご案内",
        body,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
    return user.email


@transaction.atomic
def staff_set_wg_roles(
    *, actor: PortalUser, user: PortalUser, plan: Plan, roles: dict[int, str | None]
) -> list[str]:
    """Make ``user`` leader or member of the plan's WGs, or take them out (None).

    ``roles`` maps WG id -> WorkingGroupMembership.Role value or None. Returns a line per
    change, for the message shown to the secretariat.
    """
    _guard(actor, user)
    wgs = {wg.pk: wg for wg in WorkingGroup.objects.filter(plan=plan)}
    unknown = [pk for pk in roles if pk not in wgs]
    if unknown:
        raise ValidationError(MSG_WG_PLAN)
    current = {
        m.working_group_id: m
        for m in WorkingGroupMembership.objects.filter(user=user, working_group__plan=plan)
    }
    changes: list[str] = []
    for wg_id, role in roles.items():
        membership = current.get(wg_id)
        if role is None:
            if membership is not None:
                _history(membership, actor)
                membership.delete()
                changes.append(f"{wgs[wg_id].name}: 外しました")
            continue
        if membership is None:
            membership = WorkingGroupMembership(working_group=wgs[wg_id], user=user)
        elif membership.role == role:
            continue
        membership.role = role
        membership.full_clean()
        _history(membership, actor)
        membership.save()
        changes.append(f"{wgs[wg_id].name}: {membership.get_role_display()}")
    if changes:
        staff_version_bump(actor=actor, user=user)
    return changes


@transaction.atomic
def staff_set_hq_seat(
    *, actor: PortalUser, user: PortalUser, plan: Plan, role: str | None, title: str = ""
) -> HeadquartersMember | None:
    """Give ``user`` a seat at the plan's DX headquarters (role, 職名), or take it away."""
    _guard(actor, user)
    hq = Headquarters.objects.filter(plan=plan).first()
    if hq is None:
        raise ValidationError("この計画にはDX推進本部が登録されていません。")
    seat = HeadquartersMember.objects.filter(headquarters=hq, user=user).first()
    if role is None:
        if seat is not None:
            _history(seat, actor)
            seat.delete()
            staff_version_bump(actor=actor, user=user)
        return None
    title = title.strip()
    if not title:
        raise ValidationError({"hq_title": "本部での職名を入力してください(例: 総務部長)。"})
    held = seat is not None
    if seat is None:
        # a seat loaded with the plan (職名 only, nobody named yet) is taken, not duplicated
        seat = HeadquartersMember.objects.filter(
            headquarters=hq, title=title, user__isnull=True
        ).first() or HeadquartersMember(headquarters=hq, user=user)
        seat.user = user
    section = getattr(getattr(user, "profile", None), "section", None)
    if held and (seat.role, seat.title, seat.section) == (role, title, section):
        return seat  # nothing changes: no history row, no version bump
    seat.role = role
    seat.title = title
    seat.section = section
    # A seat is a person's (one per person): several 課長 may sit as 本部員.
    seat.full_clean()
    _history(seat, actor)
    seat.save()
    staff_version_bump(actor=actor, user=user)
    return seat


@transaction.atomic
def staff_save(
    *,
    actor: PortalUser,
    user: PortalUser | None,
    plan: Plan | None,
    username: str = "",
    display_name: str,
    email: str,
    section: Section | None,
    role: str,
    wg_roles: dict[int, str | None],
    hq_role: str | None,
    hq_title: str = "",
    staff_number: str | None = None,
    kana: str | None = None,
    job_title: str | None = None,
    version: int | None = None,
    review_mail: bool | None = None,
) -> tuple[PortalUser, list[str]]:
    """The staff screen's one write: the person, their WG roles and HQ seat, all or nothing.

    ``user`` None creates the account (without a usable password: the secretariat then sets
    one or mails a set-password link). For an existing person, ``version`` is the one the
    form was opened at (staff_version_of): EditConflict when their record changed since.
    """
    if user is not None:
        staff_version_check(user=user, version=version)
    if user is None:
        user = staff_create(
            username=username,
            role=role,
            section=section,
            display_name=display_name,
            email=email,
            staff_number=staff_number or "",
            kana=kana or "",
            job_title=job_title or "",
        )
        _history(user, actor)
        changes = ["アカウントを作成しました"]
    else:
        staff_update(
            actor=actor,
            user=user,
            display_name=display_name,
            email=email,
            section=section,
            role=role,
            staff_number=staff_number,
            kana=kana,
            job_title=job_title,
        )
        changes = []
    if review_mail is not None:
        staff_review_mail_set(actor=actor, user=user, on=review_mail)
    if plan is not None:
        changes += staff_set_wg_roles(actor=actor, user=user, plan=plan, roles=wg_roles)
        if (
            hq_role
            or HeadquartersMember.objects.filter(headquarters__plan=plan, user=user).exists()
        ):
            staff_set_hq_seat(actor=actor, user=user, plan=plan, role=hq_role, title=hq_title)
        changes += _roles_into_later_plans(
            actor=actor, user=user, plan=plan, wg_roles=wg_roles, hq_role=hq_role, hq_title=hq_title
        )
    return user, changes


def _roles_into_later_plans(
    *,
    actor: PortalUser,
    user: PortalUser,
    plan: Plan,
    wg_roles: dict[int, str | None],
    hq_role: str | None,
    hq_title: str,
) -> list[str]:
    """A role given today holds from today on: the same WG roles (found by the WG's key) and HQ
    seat go into every later plan today reaches (a drafted successor), never into an ended one."""
    later = [p for p in plans_reached(timezone.localdate()) if p.start_fy > plan.start_fy]
    if not later or not any(p.pk == plan.pk for p in plans_reached(timezone.localdate())):
        return []
    keys = dict(WorkingGroup.objects.filter(pk__in=wg_roles).values_list("pk", "key"))
    changes: list[str] = []
    for other in later:
        there = dict(
            WorkingGroup.objects.filter(plan=other, key__in=keys.values()).values_list("key", "pk")
        )
        roles = {there[keys[pk]]: role for pk, role in wg_roles.items() if keys.get(pk) in there}
        if roles:
            done = staff_set_wg_roles(actor=actor, user=user, plan=other, roles=roles)
            changes += [f"{line}({other.name})" for line in done]
        has_hq = Headquarters.objects.filter(plan=other).exists()
        if has_hq and (
            hq_role
            or HeadquartersMember.objects.filter(headquarters__plan=other, user=user).exists()
        ):
            staff_set_hq_seat(actor=actor, user=user, plan=other, role=hq_role, title=hq_title)
    return changes


# --------------------------------------------------------------------------------------------
# Sections renamed, merged and split from a fiscal year on (組織改編). Past records keep the
# section they had at their date: they point at the same Section, whose names are dated.
# --------------------------------------------------------------------------------------------


def _section_names_in_use(exclude: Section | None = None) -> set[str]:
    qs = Section.objects.all()
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return set(qs.values_list("name", flat=True))


@transaction.atomic
def section_rename(
    *, actor: PortalUser, section: Section, new_name: str, effective_fy: int, today_fy: int
) -> SectionName:
    """Rename ``section`` from ``effective_fy`` on; records of earlier years keep the old name.

    The name in force today becomes ``Section.name`` at once when the rename is effective
    now or earlier; a rename for a later year waits for `apply_section_names` (cron, 4月1日).
    """
    new_name = new_name.strip()
    if not new_name:
        raise ValidationError({"new_name": "新しい課名を入力してください。"})
    if new_name in _section_names_in_use(exclude=section):
        raise ValidationError({"new_name": f"課名「{new_name}」はほかの課が使っています。"})
    if effective_fy > today_fy + 1:
        raise ValidationError(
            {"effective_fy": "名称変更は今年度か来年度からのものを登録してください。"}
        )
    previous = section.name_as_of(effective_fy - 1)
    if previous == new_name:
        raise ValidationError({"new_name": "今の課名と同じです。"})
    entry = SectionName.objects.filter(section=section, valid_from_fy=effective_fy).first()
    if entry is None:
        entry = SectionName(section=section, valid_from_fy=effective_fy)
    entry.name = new_name
    entry.previous_name = previous
    entry.full_clean()
    _history(entry, actor)
    entry.save()
    section_names_apply(actor=actor, today_fy=today_fy, sections=[section])
    return entry


def section_names_apply(
    *, actor: PortalUser, today_fy: int, sections: list[Section] | None = None
) -> list[Section]:
    """Make each section's current name the one in force in ``today_fy``; returns changed."""
    changed = []
    for section in sections or Section.objects.prefetch_related("names"):
        name = section.name_as_of(today_fy)
        if name != section.name:
            section.name = name
            section.full_clean()
            _history(section, actor)
            section.save()
            changed.append(section)
    return changed


def _move_current_references(
    *, actor: PortalUser, source: Section, target: Section, effective_fy: int, today_fy: int
) -> int:
    """Point what is current at ``target``: staff (once the merge is in force), and the WGs
    and HQ seats of the plans the merge reaches (plans_from its first day; for a merge next
    year, the plans that start in that year or later). Dated records (projects under way,
    history) and the bodies of a plan whose period is over keep ``source``: that is the point.
    """

    plans = plans_reached(era.fiscal_year_start(effective_fy))
    if effective_fy > today_fy:
        plans = [p for p in plans if p.start_fy >= effective_fy]
    moved = 0
    if effective_fy <= today_fy:
        for profile in StaffProfile.objects.filter(section=source):
            profile.section = target
            version_bump(profile)
            _history(profile, actor)
            profile.save()
            moved += 1
    for wg in WorkingGroup.objects.filter(lead_section=source, plan__in=plans):
        wg.lead_section = target
        _history(wg, actor)
        wg.save()
        moved += 1
    for wg in WorkingGroup.objects.filter(sections=source, plan__in=plans):
        wg.sections.remove(source)
        wg.sections.add(target)
        moved += 1
    for seat in HeadquartersMember.objects.filter(section=source, headquarters__plan__in=plans):
        seat.section = target
        _history(seat, actor)
        seat.save()
        moved += 1
    return moved


@transaction.atomic
def section_merge(
    *,
    actor: PortalUser,
    sources: list[Section],
    target_name: str,
    effective_fy: int,
    today_fy: int,
) -> Section:
    """Merge ``sources`` into one section from ``effective_fy``: into an existing one of them
    (when ``target_name`` is one of their names) or a new section.

    Merged-away sections end in ``effective_fy - 1`` and stay, so that past records keep
    them; staff, WGs and HQ seats move to the merged section now.
    """
    target_name = target_name.strip()
    if not target_name:
        raise ValidationError({"target_name": "統合後の課名を入力してください。"})
    if effective_fy > today_fy + 1:
        raise ValidationError(
            {"effective_fy": "統合は今年度か来年度からのものを登録してください。"}
        )
    ended = [s.name for s in sources if s.ended_fy is not None]
    if ended:
        raise ValidationError(f"すでに統合・分割で廃止された課です: {'、'.join(ended)}")
    target = Section.objects.filter(name=target_name).first()
    involved = {s.pk for s in sources} | ({target.pk} if target else set())
    if len(involved) < 2:
        raise ValidationError("統合する課を2つ以上選んでください(統合先の課も含めて)。")
    if target is None:
        first = sources[0]
        target = Section(name=target_name, department=first.department, order=first.order)
        target.full_clean()
        _history(target, actor)
        target.save()
    for source in sources:
        if source.pk == target.pk:
            continue
        source.ended_fy = effective_fy - 1
        source.is_active = effective_fy > today_fy
        _history(source, actor)
        source.save()
        target.predecessors.add(source)
        _move_current_references(
            actor=actor, source=source, target=target, effective_fy=effective_fy, today_fy=today_fy
        )
    return target


@transaction.atomic
def section_split(
    *, actor: PortalUser, source: Section, new_names: list[str], effective_fy: int, today_fy: int
) -> list[Section]:
    """Split ``source`` into new sections from ``effective_fy``; ``source`` ends the year before.

    What is current (staff, WGs) cannot be divided by rule: it stays on the ended section
    and the set-up checklist lists it until the secretariat reassigns it.
    """
    names = [n.strip() for n in new_names if n.strip()]
    if len(names) < 2:
        raise ValidationError({"new_names": "分割後の課名を2つ以上入力してください。"})
    if len(set(names)) != len(names):
        raise ValidationError({"new_names": "分割後の課名が重複しています。"})
    taken = [n for n in names if n in _section_names_in_use()]
    if taken:
        raise ValidationError(
            {"new_names": f"課名「{'、'.join(taken)}」はほかの課が使っています。"}
        )
    if effective_fy > today_fy + 1:
        raise ValidationError(
            {"effective_fy": "分割は今年度か来年度からのものを登録してください。"}
        )
    created = []
    for i, name in enumerate(names):
        section = Section(name=name, department=source.department, order=source.order + i)
        section.full_clean()
        _history(section, actor)
        section.save()
        section.predecessors.add(source)
        created.append(section)
    source.ended_fy = effective_fy - 1
    source.is_active = effective_fy > today_fy
    _history(source, actor)
    source.save()
    return created


# --------------------------------------------------------------------------------------------
# The staff roster (職員名簿) from Excel: new, changed and leaving staff in one transaction
# --------------------------------------------------------------------------------------------

MSG_ROSTER_CHANGED = (
    "確認画面を表示した後に職員の情報が変わりました。もう一度ファイルを読み込んで確認してください。"
)


def roster_change_reason(effective: date) -> str:
    return f"職員名簿の取り込み({effective.year}年{effective.month}月{effective.day}日から適用)"


@transaction.atomic
def staff_roster_apply(
    *,
    actor: PortalUser,
    plan: Plan | None = None,
    data: bytes,
    filename: str,
    effective: date,
    today: date,
    expected_fingerprint: str | None = None,
) -> roster.RosterPreview:
    """Apply a full roster now: the preview (`workgroups.roster.preview_roster`), then its
    writes: add the new, update the changed, deactivate the leaving, add unknown 所属 as new
    sections; WG roles and HQ seats in every plan the 適用日 reaches (``plan``: that one).

    Leavers release their WG roles and seats first, then the changed release what they
    lose, then the changed and the new take theirs: a new chief takes the departing chief's
    seat in one import. Every history row carries the 適用日 as its change reason. Nothing
    is written when the roster has any error, when the 適用日 is more than 31 days ahead, or
    (``expected_fingerprint``) when the planned changes differ from the ones previewed.
    Re-applying the same roster writes nothing at all. Leaving staff are deactivated, never
    deleted. Open reviews of a WG whose leader changed follow the leader.
    """

    roster.effective_check(effective, today)
    preview = roster.preview_roster(
        plan=plan, data=data, filename=filename, effective=effective, today=today, actor=actor
    )
    if preview.error_total:
        raise preview.error()
    if expected_fingerprint is not None and preview.fingerprint != expected_fingerprint:
        raise SpreadsheetError(MSG_ROSTER_CHANGED)
    problems: list[str] = []

    @contextmanager
    def row_of(person: roster.PersonPlan) -> Iterator[None]:
        # Whatever a write refuses is reported with the person's row, never bare.
        try:
            yield
        except ValidationError as exc:
            where = f"{person.row}行目" if person.row else f"職員番号{person.staff_number}"
            problems.append(f"{where}({person.name}): {' '.join(exc.messages)}")

    with change_reason(roster_change_reason(effective)):
        sections = dict(preview.sections)
        order = max(Section.objects.values_list("order", flat=True), default=0)
        for name in preview.new_sections:
            order += 1
            section = Section(name=name, order=order)
            section.full_clean()
            _history(section, actor)
            section.save()
            sections[name] = section
        plans = preview.plans

        def roster_roles(plan: Plan, state: roster.PersonState | None) -> dict[int, str | None]:
            wanted = dict(state.wgs) if state is not None else {}
            return {wg.pk: wanted.get(wg.name) for wg in preview.plan_wgs[plan.pk].values()}

        def losses(
            plan: Plan, user: PortalUser, state: roster.PersonState | None
        ) -> dict[int, str | None]:
            roles = roster_roles(plan, state)
            held = WorkingGroupMembership.objects.filter(user=user, working_group__plan=plan)
            return {
                pk: None
                for pk in held.values_list("working_group_id", flat=True)
                if roles.get(pk) is None
            }

        def release(user: PortalUser, state: roster.PersonState | None) -> None:
            for plan in plans:
                lost = losses(plan, user, state)
                if lost:
                    staff_set_wg_roles(actor=actor, user=user, plan=plan, roles=lost)
                if (state is None or state.hq is None) and HeadquartersMember.objects.filter(
                    headquarters__plan=plan, user=user
                ).exists():
                    staff_set_hq_seat(actor=actor, user=user, plan=plan, role=None)

        def take(user: PortalUser, state: roster.PersonState) -> None:
            user = User.objects.select_related("profile__section").get(pk=user.pk)
            for plan in plans:
                staff_set_wg_roles(
                    actor=actor, user=user, plan=plan, roles=roster_roles(plan, state)
                )
                if state.hq is not None:
                    role, title = state.hq
                    staff_set_hq_seat(actor=actor, user=user, plan=plan, role=role, title=title)

        # 1. the leavers give up their roles and seats, and their accounts
        for person in preview.leaving:
            assert person.user is not None  # a leaver is an account the portal has
            with row_of(person):
                release(person.user, None)
                # the one deactivation: roles go in the plans from the 適用日 on, never in a
                # plan whose period is over (a 3/25 import for 4/1 leaves R8's people as they are)
                staff_set_active(actor=actor, user=person.user, active=False, day=effective)
        # 2. the changed give up the roles and seats they lose
        for person in preview.changed:
            assert person.user is not None  # a changed person is an account the portal has
            with row_of(person):
                release(person.user, person.state)
        # 3. the changed take their new section, title, roles and seats
        for person in preview.changed:
            user, state, fields = person.user, person.state, person.changed_fields
            assert user is not None and state is not None  # on the roster and in the portal
            with row_of(person):
                if "active" in fields:
                    staff_set_active(actor=actor, user=user, active=True)
                if fields & {"staff_number", "name", "kana", "job_title", "email", "section"}:
                    profile = StaffProfile.objects.filter(user=user).first()
                    staff_update(
                        actor=actor,
                        user=user,
                        display_name=state.name,
                        email=state.email,
                        section=sections[state.section],
                        role=profile.role if profile else StaffProfile.Role.STAFF,
                        staff_number=state.staff_number,
                        kana=state.kana,
                        job_title=state.job_title,
                    )
                if fields & {"wgs", "hq", "job_title", "section"}:
                    take(user, state)
        # 4. the new arrive
        for person in preview.new:
            state = person.state
            assert state is not None  # a new person is on the roster
            with row_of(person):
                person.user, _changes = staff_save(
                    actor=actor,
                    user=None,
                    plan=None,
                    username=state.staff_number,
                    display_name=state.name,
                    email=state.email,
                    section=sections[state.section],
                    role=StaffProfile.Role.STAFF,
                    wg_roles={},
                    hq_role=None,
                    staff_number=state.staff_number,
                    kana=state.kana,
                    job_title=state.job_title,
                )
                take(person.user, state)
    if problems:
        # The preview should have found these: nothing is written, each names its row.
        raise SpreadsheetError(*problems, total=len(problems))
    return preview


def staff_password_links_send(
    *, actor: PortalUser | None, users: Collection[PortalUser], dry_run: bool = False
) -> tuple[list[PortalUser], list[str]]:
    """Mail a set-password link (staff_send_password_link) to each of ``users`` who has no
    usable password yet: the new accounts of a roster import, in one action.

    Returns the people mailed (with ``dry_run``: who would be) and a line per person who
    cannot be (no e-mail address, deactivated); those with a password are left alone.
    """
    sent: list[PortalUser] = []
    problems: list[str] = []
    for user in users:
        if user.has_usable_password():
            continue
        try:
            if dry_run:
                _password_guard(actor, user)
                if not user.email:
                    raise ValidationError(
                        "メールアドレスが登録されていないため、リンクを送れません。"
                    )
                if not user.is_active:
                    raise ValidationError("無効なアカウントにはリンクを送れません。")
            else:
                staff_send_password_link(actor=actor, user=user)
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            name = getattr(getattr(user, "profile", None), "display_name", "")
            problems.append(f"{user.get_username()}({name or '—'}): {' '.join(messages)}")
        else:
            sent.append(user)
    return sent, problems


# --------------------------------------------------------------------------------------------
# The city's bodies continue from plan to plan (domain.md §7): each plan holds its
# organisation as it stands during its period; creating the next plan copies them with their
# people, and an organisation change dated D is written into every plan of plans_from(D).
# --------------------------------------------------------------------------------------------

BODY_PARTS = ("secretariat", "headquarters", "working_groups", "advisors")


def plans_reached(day: date) -> list[Plan]:
    """The plans an organisation change dated ``day`` is written into (plans_from)."""

    return plans_from(day)


def _plan_start(plan: Plan) -> date:

    return era.fiscal_year_start(plan.start_fy)


def _copy_members(*, actor: PortalUser | None, source: WorkingGroup, target: WorkingGroup) -> int:
    made = 0
    present = set(target.memberships.values_list("user_id", flat=True))
    for m in source.memberships.select_related("user").order_by("pk"):
        if m.user_id in present or not m.user.is_active:
            continue
        copy = WorkingGroupMembership(working_group=target, user=m.user, role=m.role)
        save_with_user(copy, actor)
        present.add(m.user_id)
        made += 1
    return made


@transaction.atomic
def bodies_continue(
    *, actor: PortalUser | None, source: Plan, target: Plan, parts: Collection[str] = BODY_PARTS
) -> dict[str, int]:
    """Copy ``source``'s secretariat, headquarters (with every seat), WGs (with sections and
    members) and advisors still under contract into ``target``; returns counts per kind.

    Idempotent and data-safe: a body ``target`` already has (a WG found by its key, else its
    name) is left as it is, people included, so running it again never adds back someone a
    roster took out of the new plan. WGs dissolved in ``source`` and deactivated people do
    not continue.
    """
    counts = dict.fromkeys(
        ("secretariat", "headquarters", "hq_members", "working_groups", "memberships", "advisors"),
        0,
    )
    touched: set[int] = set()
    if "secretariat" in parts:
        sec = Secretariat.objects.filter(plan=source).first()
        if sec is not None and not Secretariat.objects.filter(plan=target).exists():
            save_with_user(Secretariat(plan=target, section=sec.section), actor)
            counts["secretariat"] = 1
    if "headquarters" in parts:
        hq = Headquarters.objects.filter(plan=source).first()
        if hq is not None and not Headquarters.objects.filter(plan=target).exists():
            new_hq = Headquarters(
                plan=target,
                name=hq.name,
                established_fy=hq.established_fy,
                description=hq.description,
            )
            save_with_user(new_hq, actor)
            counts["headquarters"] = 1
            for seat in hq.members.select_related("user").order_by("order", "pk"):
                if seat.user is not None and not seat.user.is_active:
                    continue
                copy = HeadquartersMember(
                    headquarters=new_hq,
                    user=seat.user,
                    section=seat.section,
                    role=seat.role,
                    title=seat.title,
                    order=seat.order,
                )
                save_with_user(copy, actor)
                counts["hq_members"] += 1
                if seat.user_id:
                    touched.add(seat.user_id)
    wg_map: dict[int, WorkingGroup] = {}
    if "working_groups" in parts or "advisors" in parts:
        by_key = {wg.key: wg for wg in WorkingGroup.objects.filter(plan=target)}
        by_name = {wg.name: wg for wg in by_key.values()}
        sources = (
            WorkingGroup.objects.filter(plan=source, dissolved_on__isnull=True)
            .select_related("lead_section")
            .prefetch_related("sections")
            .order_by("pk")
        )
        for wg in sources:
            existing = by_key.get(wg.key) or by_name.get(wg.name)
            if existing is not None:
                if existing.key != wg.key and wg.key not in by_key:
                    existing.key = wg.key  # the same body, loaded before keys were copied
                    save_with_user(existing, actor)
                    by_key[wg.key] = existing
                wg_map[wg.pk] = existing
                continue
            if "working_groups" not in parts:
                continue
            wg_copy = WorkingGroup(
                plan=target,
                name=wg.name,
                key=wg.key,
                lead_section=wg.lead_section,
                established_fy=wg.established_fy,
                description=wg.description,
            )
            save_with_user(wg_copy, actor)
            wg_copy.sections.set(wg.sections.all())
            counts["working_groups"] += 1
            made = _copy_members(actor=actor, source=wg, target=wg_copy)
            counts["memberships"] += made
            if made:
                touched.update(wg_copy.memberships.values_list("user_id", flat=True))
            wg_map[wg.pk] = wg_copy
            by_key[wg.key] = wg_copy
    if "advisors" in parts:
        start = _plan_start(target)
        present = {
            (a.name, a.working_group.key if a.working_group else "")
            for a in ExternalAdvisor.objects.filter(plan=target).select_related("working_group")
        }
        for adv in ExternalAdvisor.objects.filter(plan=source).select_related("working_group"):
            if adv.end_date is not None and adv.end_date < start:
                continue
            if (adv.name, adv.working_group.key if adv.working_group else "") in present:
                continue
            advisor_copy = ExternalAdvisor(
                plan=target,
                name=adv.name,
                affiliation=adv.affiliation,
                expertise=adv.expertise,
                working_group=wg_map.get(adv.working_group_id) if adv.working_group_id else None,
                start_date=adv.start_date,
                end_date=adv.end_date,
                user_id=adv.user_id,
            )
            save_with_user(advisor_copy, actor)
            counts["advisors"] += 1
    for user in User.objects.filter(pk__in=touched):
        staff_version_bump(actor=actor, user=user)
    return counts


def bodies_missing(plan: Plan) -> list[str]:
    """The kinds of body ``plan`` has none of (BODY_PARTS without advisors, which are optional)."""
    missing = []
    if not Secretariat.objects.filter(plan=plan).exists():
        missing.append("secretariat")
    if not Headquarters.objects.filter(plan=plan).exists():
        missing.append("headquarters")
    if not WorkingGroup.objects.filter(plan=plan).exists():
        missing.append("working_groups")
    return missing


@transaction.atomic
def bodies_ensure(plan: Plan, *, actor: PortalUser | None = None) -> dict[str, int]:
    """Give a plan found without bodies (a successor created before bodies continued) its
    predecessor's: only the kinds it has none of, so nothing it has is ever touched."""
    missing = bodies_missing(plan)
    if not missing or plan.predecessor_id is None:
        return {}
    if "working_groups" in missing:
        missing.append("advisors")
    predecessor = plan.predecessor
    assert predecessor is not None  # predecessor_id is set
    return bodies_continue(actor=actor, source=predecessor, target=plan, parts=missing)


BODY_LABELS = {
    "secretariat": "事務局",
    "headquarters": "DX推進本部",
    "hq_members": "本部員",
    "working_groups": "WG",
    "memberships": "WGメンバー",
    "advisors": "外部アドバイザー",
}


# --------------------------------------------------------------------------------------------
# WGs created, renamed, merged and dissolved from a date: written into every plan of
# plans_from(D). In the plan whose period D falls inside, records before D keep the WG as it
# was (WorkingGroupName, dissolved_on); a later plan's row simply changes.
# --------------------------------------------------------------------------------------------

MSG_NO_PLAN_ON = "{day}以降に続く計画がありません(終了した計画の組織は変更できません)。"
MAX_SECTIONS_PER_WG = 30


MSG_EFFECTIVE_RANGE = "適用日は今年度か来年度の日付にしてください。"


def _reached_or_error(day: date) -> list[Plan]:

    today_fy = era.current_fiscal_year(timezone.localdate())
    if not today_fy <= era.fiscal_year_of(day) <= today_fy + 1:
        raise ValidationError({"effective": MSG_EFFECTIVE_RANGE})
    plans = plans_reached(day)
    if not plans:
        raise ValidationError({"effective": MSG_NO_PLAN_ON.format(day=f"{day:%Y年%-m月%-d日}")})
    # one organisation change at a time per plan: a second concurrent post waits, then finds
    # the first's result (a name taken) and answers with a message, never an IntegrityError
    list(Plan.objects.select_for_update().filter(pk__in=[p.pk for p in plans]).order_by("pk"))
    return plans


def _mid_plan(plan: Plan, day: date) -> bool:
    """``day`` falls inside ``plan``'s period after its first day: records before it stay."""

    return plan.covers(era.fiscal_year_of(day)) and day > _plan_start(plan)


def _wg_in(plan: Plan, key: str) -> WorkingGroup | None:
    return WorkingGroup.objects.filter(plan=plan, key=key).first()


@transaction.atomic
def wg_create(
    *,
    actor: PortalUser,
    name: str,
    lead_section: Section,
    sections: Collection[Section] = (),
    effective: date,
    description: str = "",
) -> list[WorkingGroup]:
    """A new WG from ``effective`` in every plan that date reaches (one key across them)."""

    name = name.strip()
    if not name:
        raise ValidationError({"name": "WG名を入力してください。"})
    if len(sections) > MAX_SECTIONS_PER_WG:
        raise ValidationError({"sections": f"構成課は{MAX_SECTIONS_PER_WG}課までです。"})
    plans = _reached_or_error(effective)
    taken = [p.name for p in plans if WorkingGroup.objects.filter(plan=p, name=name).exists()]
    if taken:
        raise ValidationError({"name": f"WG名「{name}」はすでにあります({'、'.join(taken)})。"})
    key = new_wg_key()
    created = []
    for plan in plans:
        wg = WorkingGroup(
            plan=plan,
            name=name,
            key=key,
            lead_section=lead_section,
            established_fy=era.fiscal_year_of(effective),
            description=description,
        )
        save_with_user(wg, actor)
        wg.sections.set({lead_section, *sections})
        created.append(wg)
    return created


@transaction.atomic
def wg_rename(
    *, actor: PortalUser, working_group: WorkingGroup, new_name: str, effective: date
) -> list[WorkingGroup]:
    """Rename a WG from ``effective``: in the plan whose period the date falls inside, records
    before it keep the old name (WorkingGroupName); later plans' rows take the new name."""
    new_name = new_name.strip()
    if not new_name:
        raise ValidationError({"new_name": "新しいWG名を入力してください。"})
    plans = _reached_or_error(effective)
    renamed = []
    for plan in plans:
        wg = _wg_in(plan, working_group.key)
        if wg is None:
            continue
        if wg.name == new_name:
            continue
        if WorkingGroup.objects.filter(plan=plan, name=new_name).exclude(pk=wg.pk).exists():
            raise ValidationError(
                {"new_name": f"WG名「{new_name}」は「{plan.name}」のほかのWGが使っています。"}
            )
        if _mid_plan(plan, effective):
            entry = WorkingGroupName.objects.filter(working_group=wg, valid_from=effective).first()
            if entry is None:
                entry = WorkingGroupName(
                    working_group=wg,
                    valid_from=effective,
                    previous_name=wg.name_as_of(effective - timedelta(days=1)),
                )
            entry.name = new_name
            save_with_user(entry, actor)
        wg.name = new_name
        save_with_user(wg, actor)
        renamed.append(wg)
    if not renamed:
        raise ValidationError({"new_name": "今のWG名と同じです。"})
    return renamed


def _move_initiatives(*, actor: PortalUser, source: WorkingGroup, target: WorkingGroup) -> int:
    """Point the initiatives of ``source`` at ``target`` (the reverse relation keeps this layer
    free of the initiatives app)."""
    moved = 0
    for ini in source.initiatives.all():
        ini.working_group = target
        version_bump(ini)
        save_with_user(ini, actor)
        moved += 1
    return moved


def _wg_close(*, actor: PortalUser, wg: WorkingGroup, plan: Plan, effective: date) -> None:
    """End ``wg`` from ``effective``: its people leave; the row stays (dissolved_on) where
    records before the date point at it, and goes from a plan that starts on or after it."""
    people = list(User.objects.filter(wg_memberships__working_group=wg))
    for m in list(wg.memberships.all()):
        _history(m, actor)
        m.delete()
    if _mid_plan(plan, effective):
        wg.dissolved_on = effective
        save_with_user(wg, actor)
    else:
        for adv in wg.advisors.all():
            adv.working_group = None
            save_with_user(adv, actor)
        _history(wg, actor)
        wg.delete()
    for user in people:
        staff_version_bump(actor=actor, user=user)


@transaction.atomic
def wg_merge(
    *, actor: PortalUser, source: WorkingGroup, target: WorkingGroup, effective: date
) -> dict[str, int]:
    """Merge WG ``source`` into ``target`` from ``effective`` in every plan that date reaches:
    the initiatives move to ``target``, the members join it (as members, unless already in
    it), and ``source`` ends (dissolved_on in the plan the date falls inside, removed from
    later plans)."""
    if source.key == target.key:
        raise ValidationError({"target": "統合先には別のWGを選んでください。"})
    plans = _reached_or_error(effective)
    counts = {"initiatives": 0, "members": 0, "plans": 0}
    for plan in plans:
        a, b = _wg_in(plan, source.key), _wg_in(plan, target.key)
        if a is None:
            continue
        if b is None or b.dissolved_on is not None:
            raise ValidationError(
                {"target": f"統合先のWG「{target.name}」が「{plan.name}」にありません。"}
            )
        counts["initiatives"] += _move_initiatives(actor=actor, source=a, target=b)
        present = set(b.memberships.values_list("user_id", flat=True))
        for m in a.memberships.select_related("user"):
            if m.user_id in present:
                continue
            joined = WorkingGroupMembership(working_group=b, user=m.user)
            save_with_user(joined, actor)
            counts["members"] += 1
        _wg_close(actor=actor, wg=a, plan=plan, effective=effective)
        counts["plans"] += 1
    if not counts["plans"]:
        raise ValidationError({"source": "統合するWGが対象の計画にありません。"})
    return counts


@transaction.atomic
def wg_dissolve(
    *,
    actor: PortalUser,
    working_group: WorkingGroup,
    effective: date,
    reassign_to: WorkingGroup | None = None,
) -> int:
    """Dissolve a WG from ``effective``: only when it has no initiatives in the plans that date
    reaches, or they are reassigned to ``reassign_to``. Returns the number of plans changed."""
    plans = _reached_or_error(effective)
    found = [(p, _wg_in(p, working_group.key)) for p in plans]
    pairs = [(p, wg) for p, wg in found if wg is not None]
    if not pairs:
        raise ValidationError("このWGは対象の計画にありません。")
    if reassign_to is not None and reassign_to.key == working_group.key:
        raise ValidationError({"reassign_to": "移し先には別のWGを選んでください。"})
    for plan, wg in pairs:
        if not wg.initiatives.exists():
            continue
        if reassign_to is None:
            raise ValidationError(
                {
                    "reassign_to": f"「{plan.name}」でこのWGが担当する取り組みが"
                    f"{wg.initiatives.count()}件あります。移し先のWGを選んでください。"
                }
            )
        b = _wg_in(plan, reassign_to.key)
        if b is None or b.dissolved_on is not None:
            raise ValidationError(
                {"reassign_to": f"移し先のWG「{reassign_to.name}」が「{plan.name}」にありません。"}
            )
        _move_initiatives(actor=actor, source=wg, target=b)
    for plan, wg in pairs:
        _wg_close(actor=actor, wg=wg, plan=plan, effective=effective)
    return len(pairs)


# --- sections added, the secretariat and the headquarters of a plan ---------------------------


@transaction.atomic
def section_create(
    *, actor: PortalUser, name: str, department: str = "", order: int = 0
) -> Section:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "課名を入力してください。"})
    if name in _section_names_in_use() or Section.objects.renamed_from(name) is not None:
        raise ValidationError({"name": f"課名「{name}」はすでに使われています。"})
    section = Section(name=name, department=department.strip(), order=order)
    section.full_clean()
    _history(section, actor)
    section.save()
    return section


@transaction.atomic
def organisation_set(
    *, actor: PortalUser, plan: Plan, secretariat_section: Section, hq_name: str
) -> tuple[Secretariat, Headquarters]:
    """The plan's secretariat section and headquarters name (each created when missing)."""
    hq_name = hq_name.strip()
    if not hq_name:
        raise ValidationError({"hq_name": "本部の名称を入力してください。"})
    sec = Secretariat.objects.filter(plan=plan).first() or Secretariat(plan=plan)
    if sec.pk is None or sec.section_id != secretariat_section.pk:
        sec.section = secretariat_section
        save_with_user(sec, actor)
    hq = Headquarters.objects.filter(plan=plan).first() or Headquarters(plan=plan)
    if hq.pk is None or hq.name != hq_name:
        hq.name = hq_name
        save_with_user(hq, actor)
    return sec, hq
