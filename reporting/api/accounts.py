"""API service accounts: users that other systems and BI tools read the API as.

A service account is a plain Django user (no password, no staff profile) in the group
SERVICE_ACCOUNT_GROUP; its read scope is one more group, "every WG" or "one WG". Groups
need no migration, and the secretariat can see them in the admin too. Its one credential
is an API token (reporting/api/tokens.py): shown once when made, stored only as a digest,
valid until its expiry unless revoked. Every create / regenerate / revoke is a
row in the user's history (simple-history, with who and why) and a log line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from portal_lib.history import set_history_user
from reporting.api.models import ApiToken
from reporting.api.tokens import issue_token, revoke_tokens
from workgroups.access import SERVICE_ACCOUNT_GROUP
from workgroups.models import WorkingGroup, account_history

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

User = get_user_model()
log = logging.getLogger("reporting.api")

SCOPE_ALL_GROUP = "API読取範囲:全体"
SCOPE_WG_PREFIX = "API読取範囲:WG:"
SCOPE_ALL = "all"  # the form's value for "read everything, like 推進本部"

# Stored as history reasons in Japanese; shown in the reader's language (|translated).
REASON_CREATED = gettext_noop("APIサービスアカウントを作成しトークンを発行")
REASON_REGENERATED = gettext_noop("APIトークンを再発行(以前のトークンは無効)")
REASON_REVOKED = gettext_noop("APIトークンを失効")


@dataclass(frozen=True)
class AccountScope:
    """What a service account may read: everything (HQ level) or one WG's initiatives."""

    is_service_account: bool
    reads_all: bool = False
    wg_id: int | None = None

    @property
    def reads(self) -> bool:
        return self.reads_all or self.wg_id is not None


def scope_from_group_names(names: list[str]) -> AccountScope:
    if SERVICE_ACCOUNT_GROUP not in names:
        return AccountScope(is_service_account=False)
    if SCOPE_ALL_GROUP in names:
        return AccountScope(is_service_account=True, reads_all=True)
    for name in names:
        if name.startswith(SCOPE_WG_PREFIX):
            suffix = name.removeprefix(SCOPE_WG_PREFIX)
            if suffix.isdigit():
                return AccountScope(is_service_account=True, wg_id=int(suffix))
    # A service account without a scope group reads nothing.
    return AccountScope(is_service_account=True)


def account_scope(user: PortalUser) -> AccountScope:
    """The scope of ``user`` (one query, cached on the user object for the request)."""
    cached: AccountScope | None = getattr(user, "_api_account_scope", None)
    if cached is not None:
        return cached
    names = list(user.groups.values_list("name", flat=True))
    scope = scope_from_group_names(names)
    user._api_account_scope = scope  # type: ignore[attr-defined]  # the request's cache, as roles_for
    return scope


def scope_label(scope: AccountScope, wg_names: dict[int, str]) -> str:
    if scope.reads_all:
        return gettext("全体(推進本部と同じ範囲)")
    if scope.wg_id is not None:
        return gettext("%(wg)sのみ") % {"wg": wg_names.get(scope.wg_id, gettext("(削除されたWG)"))}
    return gettext("なし")


# --- reads ----------------------------------------------------------------------------------


@dataclass
class AccountRow:
    user: PortalUser
    scope_label: str
    token: ApiToken | None  # the token not revoked (perhaps expired); None: none

    @property
    def token_created(self) -> datetime | None:
        """When the token that works was issued; None: no token works (revoked or expired)."""
        return self.token.created_at if self.token and not self.token_expired else None

    @property
    def token_expired(self) -> bool:
        return self.token is not None and self.token.is_expired()


def service_accounts() -> list[AccountRow]:
    """Every service account with its scope and token state (3 queries: the token's fields
    come with the accounts, from their newest token not revoked)."""
    live = ApiToken.objects.filter(user=OuterRef("pk"), revoked_at__isnull=True).order_by(
        "-created_at", "-pk"
    )
    users = list(
        User.objects.filter(groups__name=SERVICE_ACCOUNT_GROUP)
        .select_related("profile")
        .annotate(
            token_prefix=Subquery(live.values("prefix")[:1]),
            token_created_at=Subquery(live.values("created_at")[:1]),
            token_expires_at=Subquery(live.values("expires_at")[:1]),
            token_last_used_at=Subquery(live.values("last_used_at")[:1]),
        )
        .prefetch_related(Prefetch("groups", Group.objects.only("name")))
        .order_by("username")
    )
    wg_names = dict(WorkingGroup.objects.values_list("pk", "name"))
    rows = []
    for u in users:
        scope = scope_from_group_names([g.name for g in u.groups.all()])
        token = None
        if u.token_prefix is not None:
            token = ApiToken(
                user=u,
                prefix=u.token_prefix,
                created_at=u.token_created_at,
                expires_at=u.token_expires_at,
                last_used_at=u.token_last_used_at,
            )
        rows.append(AccountRow(u, scope_label(scope, wg_names), token))
    return rows


def service_account_events(limit: int = 30) -> QuerySet[Model]:
    """The audit trail: newest history rows of service accounts (who, when, what)."""
    events: QuerySet[Model] = (
        account_history()
        .filter(id__in=User.objects.filter(groups__name=SERVICE_ACCOUNT_GROUP).values("pk"))
        .exclude(history_change_reason__isnull=True)
        .select_related("history_user", "history_user__profile")
        .order_by("-history_date", "-history_id")[:limit]
    )
    return events


def get_service_account(pk: int) -> PortalUser | None:
    return User.objects.filter(pk=pk, groups__name=SERVICE_ACCOUNT_GROUP).first()


# --- writes ---------------------------------------------------------------------------------


def _record(account: PortalUser, *, actor: PortalUser, reason: str) -> None:
    """One history row on the account (simple-history saves a row on every save)."""
    set_history_user(account, actor, reason=reason)
    account.save()
    log.info(
        "api service account %s: %s by %s",
        account.get_username(),
        reason,
        actor.get_username() if actor else "-",
        extra={"account": account.get_username(), "action": reason},
    )


def _issue_token(account: PortalUser, lifetime_days: int | None = None) -> str:
    """Revoke what the account had, issue a new token, return its secret (shown once)."""
    revoke_tokens(account)
    return issue_token(account, lifetime_days=lifetime_days)[1]


@transaction.atomic
def service_account_create(
    *,
    actor: PortalUser,
    username: str,
    display_name: str,
    working_group: WorkingGroup | None,
    lifetime_days: int | None = None,
) -> tuple[PortalUser, str]:
    """Create a service account reading everything (``working_group=None``) or one WG.

    Returns the account and its token (valid ``lifetime_days``, the setting when None);
    the token is shown once and never again.
    """
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": gettext("このユーザー名はすでに使われています。")})
    account = User(username=username, last_name=display_name, is_active=True)
    account.set_unusable_password()  # no portal login: the token is its only credential
    account.full_clean(exclude=["password"])
    set_history_user(account, actor, reason=REASON_CREATED)
    account.save()
    scope_group_name = (
        SCOPE_ALL_GROUP if working_group is None else f"{SCOPE_WG_PREFIX}{working_group.pk}"
    )
    groups = [
        Group.objects.get_or_create(name=SERVICE_ACCOUNT_GROUP)[0],
        Group.objects.get_or_create(name=scope_group_name)[0],
    ]
    account.groups.add(*groups)
    key = _issue_token(account, lifetime_days)
    log.info(
        "api service account %s: %s by %s",
        username,
        REASON_CREATED,
        actor.get_username(),
        extra={"account": username, "action": REASON_CREATED},
    )
    return account, key


@transaction.atomic
def service_account_token_regenerate(*, actor: PortalUser, account: PortalUser) -> str:
    """A new token; the old one stops working at once."""
    if not account.is_active:
        raise ValidationError(gettext("停止中のアカウントにはトークンを発行できません。"))
    key = _issue_token(account)
    _record(account, actor=actor, reason=REASON_REGENERATED)
    return key


@transaction.atomic
def service_account_token_revoke(*, actor: PortalUser, account: PortalUser) -> None:
    """The token stops working at once; the account stays, without a token (the revoked
    token's row stays too: prefix, dates, when it was revoked)."""
    revoke_tokens(account, now=timezone.now())
    _record(account, actor=actor, reason=REASON_REVOKED)
