"""Who may read what through the API: the screens' rules, plus service accounts.

- People (session): every logged-in member of staff reads initiatives, procedures and
  systems, as on the screens (initiatives/access.py); the plan-wide summary is the
  dashboard's figures, so only the secretariat and 推進本部 read it
  (SecretariatOrHeadquartersMixin).
- Service accounts (token): the scope the secretariat gave them (reporting/api/accounts.py):
  everything like 推進本部, or one WG's initiatives and the countable targets linked to them.
  Anything outside the scope answers 404, as on the screens.
- Anonymous: 401. Unsafe methods: 405 (the views define GET only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from drf_spectacular.authentication import SessionScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from reporting.api.accounts import account_scope
from workgroups.access import roles_for

if TYPE_CHECKING:
    from portal_lib.users import RequestUser

MSG_NO_API = "このAPIを利用する権限がありません。"
MSG_SUMMARY = "計画全体の集計は事務局・推進本部(と全体を読めるサービスアカウント)のみ取得できます。"
MSG_CSRF = "送信を受け付けできませんでした。ページを再読み込みしてから、もう一度お試しください。"


@dataclass(frozen=True)
class ApiScope:
    reads: bool  # may call the API at all
    summary: bool  # the plan-wide figures of the dashboard
    wg_id: int | None  # None: every WG; else only this WG's initiatives

    def initiatives(self, queryset: QuerySet) -> QuerySet:
        return queryset if self.wg_id is None else queryset.filter(working_group_id=self.wg_id)

    def sees_wg(self, wg_id: int | None) -> bool:
        return self.wg_id is None or wg_id == self.wg_id


NO_SCOPE = ApiScope(reads=False, summary=False, wg_id=None)


def api_scope_for(user: RequestUser | None) -> ApiScope:
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    account = account_scope(user)
    if account.is_service_account:
        if not account.reads:
            return NO_SCOPE
        return ApiScope(reads=True, summary=account.reads_all, wg_id=account.wg_id)
    roles = roles_for(user)
    return ApiScope(
        reads=roles.reads_everything,
        summary=roles.oversees,
        wg_id=None,
    )


class PortalSessionAuthentication(SessionAuthentication):
    """Session login of staff, with the portal's own (Japanese) CSRF refusal."""

    def enforce_csrf(self, request):
        # Check the Django request, not DRF's: Django's CSRF check reads ``request.POST``,
        # which on DRF's request parses the body with the API's parsers (JSON only), so a
        # form POST answered 415 before the view could answer 405. Django's own request
        # reads a form body as a form and any other body as nothing.
        try:
            super().enforce_csrf(getattr(request, "_request", request))
        except PermissionDenied as exc:
            raise PermissionDenied(MSG_CSRF) from exc


class ApiReader(BasePermission):
    message = MSG_NO_API

    def has_permission(self, request, view) -> bool:
        return api_scope_for(request.user).reads


class SummaryReader(BasePermission):
    message = MSG_SUMMARY

    def has_permission(self, request, view) -> bool:
        return api_scope_for(request.user).summary


class PortalSessionScheme(SessionScheme):
    """Tell the OpenAPI schema that the portal's session login is a cookie login."""

    target_class = "reporting.api.permissions.PortalSessionAuthentication"
