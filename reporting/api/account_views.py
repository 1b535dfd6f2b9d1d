"""The secretariat's screen for API service accounts (not the admin): list, create, and
regenerate or revoke a token. A token is shown once, on the page that answers the POST,
and is never stored in a message, the session, a log or the database (only its digest).

The issuing views (create, regenerate) are plain class-based views so that a decorator
(e.g. "re-authenticated within the last few minutes") can wrap their ``post``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.views import View
from django.views.generic import TemplateView

from portal_lib.people import display_name
from portal_lib.reauth import require_recent_auth
from reporting.access import live_api_token
from reporting.api.accounts import (
    get_service_account,
    service_account_create,
    service_account_events,
    service_account_token_regenerate,
    service_account_token_revoke,
    service_accounts,
)
from reporting.api.forms import ServiceAccountForm
from workgroups.access import SecretariatRequiredMixin, signed_in

TEMPLATE_LIST = "reporting/api_account_list.html"
TEMPLATE_TOKEN = "reporting/api_account_token.html"


def _list_context(form: ServiceAccountForm) -> dict[str, Any]:
    return {"form": form, "accounts": service_accounts(), "events": service_account_events()}


def _token_page(request: HttpRequest, account: Any, key: str, *, created: bool) -> HttpResponse:
    token = live_api_token(account)  # the one just issued
    context = {"account": account, "key": key, "created": created, "token": token}
    response = render(request, TEMPLATE_TOKEN, context)
    add_never_cache_headers(response)  # the token must not stay in any cache
    return response


class ServiceAccountListView(SecretariatRequiredMixin, TemplateView):
    template_name = TEMPLATE_LIST

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), **_list_context(ServiceAccountForm())}


@method_decorator(require_recent_auth, name="dispatch")
class ServiceAccountCreateView(SecretariatRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ServiceAccountForm(request.POST)
        if form.is_valid():
            try:
                account, key = service_account_create(
                    actor=signed_in(request),
                    username=form.cleaned_data["username"],
                    display_name=form.cleaned_data["display_name"],
                    working_group=form.cleaned_data["scope"],
                    lifetime_days=form.cleaned_data["lifetime_days"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return _token_page(request, account, key, created=True)
        return render(request, TEMPLATE_LIST, _list_context(form), status=400)


class _AccountAction(SecretariatRequiredMixin, View):
    http_method_names = ["post"]

    def account(self, pk: int) -> Any:
        account = get_service_account(pk)
        if account is None:
            raise Http404(gettext("サービスアカウントが見つかりません。"))
        return account


@method_decorator(require_recent_auth, name="dispatch")
class TokenRegenerateView(_AccountAction):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = self.account(pk)
        try:
            key = service_account_token_regenerate(actor=signed_in(request), account=account)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("api_accounts:list")
        return _token_page(request, account, key, created=False)


class TokenRevokeView(_AccountAction):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = self.account(pk)
        service_account_token_revoke(actor=signed_in(request), account=account)
        messages.success(
            request,
            gettext("「%(name)s」のトークンを失効させました。") % {"name": display_name(account)},
        )
        return redirect("api_accounts:list")
