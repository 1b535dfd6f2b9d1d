"""Who a user is in the plan's organisation; every app's access module starts here.

Views never decide roles themselves: they call `roles_for(user)` (cached per user object
for the request) and the per-app `get_<thing>_for_user` helpers built on it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponseBase
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal_lib import compiled
from portal_lib.people import PROFILE_NAME_CACHE, display_name
from workgroups import selectors
from workgroups.models import (
    Headquarters,
    HeadquartersMember,
    Secretariat,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
)

if TYPE_CHECKING:
    from plans.models import Plan
    from portal_lib.users import PortalUser, RequestUser


@dataclass(frozen=True)
class Roles:
    authenticated: bool = False
    secretariat: bool = False
    headquarters: bool = False
    led_wg_ids: frozenset[int] = field(default_factory=frozenset)
    member_wg_ids: frozenset[int] = field(default_factory=frozenset)  # includes led WGs

    @property
    def reads_everything(self) -> bool:
        """The secretariat and HQ read every WG's work; other staff read too (read-only)."""
        return self.authenticated

    @property
    def oversees(self) -> bool:
        """The management screens (dashboard, meeting reports, plan comparison): the
        secretariat and headquarters. The one definition; views, access checks and the nav ask it.
        """
        return self.secretariat or self.headquarters

    def can_edit_wg(self, wg_id: int | None) -> bool:
        """Log progress / edit within a WG: its members and leaders, and the secretariat."""
        return self.secretariat or (wg_id is not None and wg_id in self.member_wg_ids)

    def leads_wg(self, wg_id: int | None) -> bool:
        return wg_id is not None and wg_id in self.led_wg_ids


ANONYMOUS = Roles()
SERVICE_ACCOUNT_ROLES = Roles()


# What roles_for reads, in this order (one row per WG membership, or one row of NULLs).
_ROLE_COLUMNS = (
    "profile__role",
    "wg_memberships__working_group_id",
    "wg_memberships__role",
    "hq_seat",
    "profile__display_name",
    "service",
)


def roles_for(user: RequestUser | None) -> Roles:
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    cached: Roles | None = getattr(user, "_portal_roles", None)
    if cached is not None:
        return cached
    # ONE query: the profile's role, every WG membership (one row each, or one row of NULLs),
    # whether the user holds an HQ seat and whether it is an API service account. Cached on
    # the user object, i.e. for the request.
    User = get_user_model()

    def build(pk: int) -> QuerySet[Any, dict[str, Any]]:
        return (
            User.objects.filter(pk=pk)
            .annotate(
                hq_seat=Exists(HeadquartersMember.objects.filter(user=OuterRef("pk"))),
                service=Exists(
                    User.groups.through.objects.filter(
                        user_id=OuterRef("pk"), group__name=SERVICE_ACCOUNT_GROUP
                    )
                ),
            )
            .order_by()
            .values(*_ROLE_COLUMNS)
        )

    # Every page asks this: the statement is composed once per thread (portal_lib.compiled)
    # with the user's pk as its one changing value, and read anew every time.
    rows = [
        tuple(row[name] for name in _ROLE_COLUMNS)
        for row in compiled.values_rows("roles_for", build, int_args=(user.pk,), prepare=True)
    ]
    service_account = bool(rows and rows[0][5])
    user._portal_service_account = service_account  # type: ignore[attr-defined]  # request cache
    if service_account:
        # An API service account has no role on the screens: should it hold a session
        # (given a password before the rule), the screens show it nothing.
        user._portal_roles = SERVICE_ACCOUNT_ROLES  # type: ignore[attr-defined]  # request cache
        return SERVICE_ACCOUNT_ROLES
    role = (rows[0][0] if rows else None) or StaffProfile.Role.STAFF
    memberships = [(wg, r) for _role, wg, r, _hq, _name, _svc in rows if wg is not None]
    roles = Roles(
        authenticated=True,
        secretariat=role == StaffProfile.Role.SECRETARIAT or user.is_superuser,
        headquarters=role == StaffProfile.Role.HEADQUARTERS or any(row[3] for row in rows),
        led_wg_ids=frozenset(
            wg for wg, r in memberships if r == WorkingGroupMembership.Role.LEADER
        ),
        member_wg_ids=frozenset(wg for wg, _ in memberships),
    )
    user._portal_roles = roles  # type: ignore[attr-defined]  # the request's cache
    # The same query gave the person's display name: portal_lib.people need not ask again.
    setattr(user, PROFILE_NAME_CACHE, (rows[0][4] if rows else "") or "")
    return roles


def can_log_in(user: PortalUser) -> bool:
    """Whether ``user`` can sign in to the screens today: an active account with a usable
    password. The one predicate for "people who can log in" (the reminders and the review
    mails go only to them). API service accounts never pass: they are made without a
    password (reporting.api.accounts), their token is their only credential. With the
    directory login on, a person the directory can be matched to (`may_use_directory`)
    can log in without a portal password; with LOCAL_PASSWORD_LOGIN=fallback a portal
    password counts only for those who may use it (`may_use_local_password`).
    """
    if not user.is_active:
        return False
    if user.has_usable_password() and may_use_local_password(user):
        return True
    return may_use_directory(user)


class SecretariatRequiredMixin(AccessMixin):
    """Secretariat-only screens: anonymous → login, other staff → 403."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not roles_for(request.user).secretariat:
            raise PermissionDenied("この操作は事務局(情報推進課)のみ行えます。")
        response: HttpResponseBase = super().dispatch(  # type: ignore[misc]  # the View's
            request, *args, **kwargs
        )
        return response


class SecretariatOrHeadquartersMixin(AccessMixin):
    """Management screens (dashboards, reports): secretariat and headquarters."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not roles_for(request.user).oversees:
            raise PermissionDenied("この画面は事務局と推進本部のみ閲覧できます。")
        response: HttpResponseBase = super().dispatch(  # type: ignore[misc]  # the View's
            request, *args, **kwargs
        )
        return response


def signed_in(request: HttpRequest) -> PortalUser:
    """The person behind ``request``, for a view a login check guards (the mixins above,
    @login_required), typed as the person the services take. Anonymous here means the view
    lost its guard: refused (403), never handed on as a person."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("ログインが必要です。")
    return user


def get_staff_for_user(user: RequestUser, pk: int) -> PortalUser:
    """A staff account for the staff screens: the secretariat manages everyone (else 403)."""
    if not roles_for(user).secretariat:
        raise PermissionDenied("職員の管理は事務局(情報推進課)のみ行えます。")
    person = get_user_model().objects.select_related("profile").filter(pk=pk).first()
    if person is None:
        raise Http404("職員が見つかりません。")
    return person


# --- who may change an account ------------------------------------------------------------

# An API service account (reporting.api.accounts) is a user in this group. Its name lives here,
# in the lowest layer that asks it, so the staff screens, the roster and the admin can refuse
# such accounts a password or a screen without importing the API.
SERVICE_ACCOUNT_GROUP = "APIサービスアカウント"

MSG_SUPERUSER = gettext_lazy(
    "システム管理者(スーパーユーザー)のアカウントは、システム管理者のみ変更できます。"
)
MSG_SERVICE_ACCOUNT_PASSWORD = gettext_lazy(
    "APIサービスアカウントはAPI専用です。パスワードは設定できません(APIトークンで利用します)。"
)
MSG_SERVICE_ACCOUNT_LOGIN = gettext_lazy(
    "このアカウントはAPIサービスアカウントのため、画面にはログインできません。"
    "APIトークンで利用してください。"
)


def is_service_account(user: RequestUser | None) -> bool:
    """An API service account: it reads the API with its token and never uses a screen
    (one query, cached on the user object for the request)."""
    if user is None or getattr(user, "pk", None) is None:
        return False
    cached: bool | None = getattr(user, "_portal_service_account", None)
    if cached is None:
        cached = user.groups.filter(name=SERVICE_ACCOUNT_GROUP).exists()
        user._portal_service_account = cached  # type: ignore[union-attr]  # the request's cache
    return cached


def may_change_account(actor: PortalUser | None, person: PortalUser) -> bool:
    """Whether ``actor`` may change ``person``'s account (name, role, password, activity,
    WG roles, deletion): only a superuser changes a superuser. The one predicate; the staff
    screen, workgroups.services, the roster import and the admin all ask it."""
    return not person.is_superuser or bool(getattr(actor, "is_superuser", False))


def may_change_privileges(actor: PortalUser | None) -> bool:
    """Superuser and staff flags, groups and permissions: granted by superusers only."""
    return bool(getattr(actor, "is_superuser", False))


def may_have_password(person: PortalUser) -> bool:
    """A service account is API-only: it is never given a password (nor a set-password link)."""
    return not is_service_account(person)


def may_use_screens(person: PortalUser) -> bool:
    """Who may log in to the screens: every account but an API service account."""
    return not is_service_account(person)


# --- the city cannot lock itself out ---------------------------------------------------------

MSG_LAST_SECRETARIAT = gettext_lazy(
    "有効な事務局職員がいなくなるため、%(name)sを無効にできません。"
    "先にほかの職員を事務局にしてください。"
)
MSG_LAST_SECRETARIAT_ROLE = gettext_lazy(
    "有効な事務局職員がいなくなるため、%(name)sの役割を事務局から変更できません。"
    "先にほかの職員を事務局にしてください。"
)
MSG_LAST_SUPERUSER = gettext_lazy(
    "有効なシステム管理者(スーパーユーザー)がいなくなるため、%(name)sを無効にできません。"
)
MSG_LAST_SUPERUSER_FLAG = gettext_lazy(
    "有効なシステム管理者(スーパーユーザー)がいなくなるため、"
    "%(name)sのシステム管理者の権限を外せません。"
)


def active_secretariat() -> QuerySet[PortalUser]:
    """Active accounts whose office-wide role is 事務局 (the city's secretariat members)."""
    return get_user_model().objects.filter(
        is_active=True, profile__role=StaffProfile.Role.SECRETARIAT
    )


def active_superusers() -> QuerySet[PortalUser]:
    return get_user_model().objects.filter(is_active=True, is_superuser=True)


def guardians() -> QuerySet[PortalUser]:
    """The accounts the city cannot lose all of: active secretariat members and superusers."""
    return get_user_model().objects.filter(
        Q(is_active=True) & (Q(profile__role=StaffProfile.Role.SECRETARIAT) | Q(is_superuser=True))
    )


def lockout_problems(
    *,
    deactivate: Collection[PortalUser] = (),
    demote: Collection[PortalUser] = (),
    unsuper: Collection[PortalUser] = (),
) -> list[str]:
    """Why a change would leave no active secretariat member (role 事務局) or no active
    superuser: one message per person it would take, empty when someone stays.

    ``deactivate``: accounts deactivated or deleted; ``demote``: people whose role leaves
    事務局; ``unsuper``: people losing superuser status. The one predicate of the rule: the
    staff screen, the roster import (preview and writes), import_staff and the admin all
    ask it; a write asks it through ``workgroups.services.lockout_check``, under a lock.
    """
    people = {u.pk: u for u in (*deactivate, *demote, *unsuper)}
    gone = {u.pk for u in deactivate}
    rules = (
        (
            active_secretariat(),
            {u.pk for u in demote},
            MSG_LAST_SECRETARIAT,
            MSG_LAST_SECRETARIAT_ROLE,
        ),
        (active_superusers(), {u.pk for u in unsuper}, MSG_LAST_SUPERUSER, MSG_LAST_SUPERUSER_FLAG),
    )
    problems: list[str] = []
    for active, other, msg_gone, msg_other in rules:
        now = set(active.values_list("pk", flat=True))
        leaving = gone | other
        if now & leaving and not now - leaving:
            for pk in sorted(now & leaving):
                msg = msg_gone if pk in gone else msg_other
                problems.append(str(msg % {"name": display_name(people[pk])}))
    return problems


# --- which way in: the portal's own password, the city's directory -------------------------

LOCAL_PASSWORD_ALL = "all"
LOCAL_PASSWORD_FALLBACK = "fallback"

MSG_LOCAL_PASSWORD_OFF = gettext_lazy(
    "ポータルのパスワードでログインできるのは、事務局と管理者だけです。"
    "庁内のパソコンにサインインするときのユーザー名とパスワードでログインしてください。"
)


def directory_login_on() -> bool:
    """Whether staff may sign in with the city's directory (AUTH_LDAP_SERVER_URI is set)."""
    return bool(settings.AUTH_LDAP_SERVER_URI)


def may_use_local_password(user: PortalUser) -> bool:
    """Whether ``user`` may sign in with a portal password. LOCAL_PASSWORD_LOGIN=all:
    everyone; fallback: superusers and the secretariat only (the way in when the directory
    is down), everyone else uses the directory. The one rule: the login backends
    (workgroups.directory.LocalPasswordBackend), `can_log_in`, the password reset and the
    staff screen ask it."""
    if settings.LOCAL_PASSWORD_LOGIN != LOCAL_PASSWORD_FALLBACK:
        return True
    return bool(user.is_superuser) or roles_for(user).secretariat


def may_use_directory(user: PortalUser) -> bool:
    """Whether the directory login could find ``user``: it is on, the account is active and
    used on the screens, and the person has what the directory is matched by (a 職員番号
    when DIRECTORY_STAFF_NUMBER_ATTR is set, a mail address when DIRECTORY_EMAIL_ATTR is)."""
    if not directory_login_on() or not user.is_active or is_service_account(user):
        return False
    try:
        number = user.profile.staff_number  # the cached profile when the caller loaded it
    except StaffProfile.DoesNotExist:
        number = ""
    return bool(
        (settings.DIRECTORY_STAFF_NUMBER_ATTR and number)
        or (settings.DIRECTORY_EMAIL_ATTR and user.email)
    )


# --- what the staff and organisation screens read beside the object (views never query) ----


def only_staff_without_section(
    users: QuerySet[PortalUser], plan: Plan | None
) -> QuerySet[PortalUser]:
    """``users`` narrowed to the staff without a section (the checklist's 「所属課のない職員」)."""
    return users.filter(pk__in=selectors.staff_without_section(plan).values("pk"))


def wg_pks_by_leader_filter(plan: Any, leader_filter: str) -> set[int]:
    """The pks of the plan's WGs the checklist counts under ``?leader=`` (none, several,
    outside: selectors.WG_LEADER_FILTERS)."""
    narrow: Any = selectors.WG_LEADER_FILTERS[leader_filter]
    return set(narrow([plan]).values_list("pk", flat=True))


def wg_roles_of(person: PortalUser, plan: Plan) -> dict[int, str]:
    """The person's role in each of the plan's WGs, by WG pk."""
    return {
        m.working_group_id: m.role
        for m in WorkingGroupMembership.objects.filter(user=person, working_group__plan=plan)
    }


def hq_seat_of(person: PortalUser, plan: Plan) -> HeadquartersMember | None:
    """The person's seat at the plan's headquarters, if any."""
    return HeadquartersMember.objects.filter(user=person, headquarters__plan=plan).first()


def working_groups_of(plan: Any) -> list[WorkingGroup]:
    """The plan's WGs by name (none without a plan)."""
    return list(WorkingGroup.objects.filter(plan=plan).order_by("name")) if plan else []


def secretariat_of(plan: Any) -> Secretariat | None:
    """The plan's secretariat with its section, if set."""
    return Secretariat.objects.filter(plan=plan).select_related("section").first()


def headquarters_of(plan: Any) -> Headquarters | None:
    """The plan's headquarters, if set."""
    return Headquarters.objects.filter(plan=plan).first()


def headquarters_seats(hq: Headquarters | None) -> Any:
    """The seats at the headquarters with their people and sections (none without one)."""
    if hq is None:
        return []
    return HeadquartersMember.objects.filter(headquarters=hq).select_related("user", "section")


def new_accounts(pks: list[int]) -> list[Any]:
    """The accounts a roster import has just created, by username, with their sections."""
    return list(
        get_user_model()
        .objects.filter(pk__in=pks)
        .select_related("profile__section")
        .order_by("username")
    )


def review_mail_setting(user: PortalUser) -> bool | None:
    """Whether the person wants review mails (None: no profile yet, the default applies)."""
    return StaffProfile.objects.filter(user=user).values_list("review_mail", flat=True).first()


# --- the second factor (the person's own devices; views never query; the writes are in
# portal_lib.two_factor) ---------------------------------------------------------------------


def pending_login_user(pk: Any) -> PortalUser | None:
    """The active user whose password was accepted and who still owes the second factor."""
    return get_user_model()._default_manager.filter(pk=pk, is_active=True).first()


def has_second_factor(user: PortalUser) -> bool:
    """Whether the person has a confirmed authenticator app."""
    confirmed: bool = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return confirmed
