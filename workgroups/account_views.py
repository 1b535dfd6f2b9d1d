"""Sign-in screens beside Django's: the second factor (login step, enrolment, the account's
security page) and the re-authentication page (portal_lib.reauth, portal_lib.two_factor).

Superusers must use the second factor; the secretariat may (it is offered on their
security page). Recovery codes are shown once, on the page that answers the POST that made
them, and never stored in a message, the session or a log.
"""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

import qrcode
from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from qrcode.image.svg import SvgPathImage

from portal_lib import two_factor
from portal_lib.reauth import pop_replay, record_authentication, require_recent_auth, safe_next
from workgroups import directory
from workgroups.access import (
    MSG_SERVICE_ACCOUNT_LOGIN,
    directory_login_on,
    has_second_factor,
    may_use_screens,
    pending_login_user,
    roles_for,
    signed_in,
)

if TYPE_CHECKING:
    from portal_lib.users import PortalUser, RequestUser

GET_POST = require_http_methods(["GET", "POST"])
PENDING_KEY = "portal_second_factor_pending"
PENDING_SECONDS = 5 * 60


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("確認コード"),
        max_length=32,
        help_text=gettext_lazy(
            "認証アプリに表示されている6桁の数字を入力してください。"
            "スマートフォンが使えないときは、回復コードを1つ入力できます。"
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


class ReauthForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("パスワード"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    code = forms.CharField(
        label=gettext_lazy("または認証アプリの確認コード"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )


def may_enrol(user: RequestUser) -> bool:
    """Superusers must, the secretariat may, use the second factor."""
    return bool(user.is_superuser) or roles_for(user).secretariat


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    return safe_next(request, target) or resolve_url("home")


# --- login: password, then the code --------------------------------------------------------


class PortalAuthenticationForm(AuthenticationForm):
    """Django's login form, refusing API service accounts (access.may_use_screens); a login
    the directory or the local-password rule refused says why (workgroups.directory)."""

    def get_invalid_login_error(self) -> forms.ValidationError:
        message = directory.refusal_message(self.request)
        if message:
            return forms.ValidationError(message, code="refused")
        return super().get_invalid_login_error()

    def confirm_login_allowed(self, user: PortalUser) -> None:
        super().confirm_login_allowed(user)
        if not may_use_screens(user):
            raise forms.ValidationError(MSG_SERVICE_ACCOUNT_LOGIN, code="service_account")


class PortalLoginView(LoginView):
    """Django's login, stopping after the password for a user with a second factor."""

    authentication_form = PortalAuthenticationForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "directory_login": directory_login_on()}

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not user_has_device(user, confirmed=True):
            response = super().form_valid(form)
            directory.remember_login(self.request, user)
            return response
        directory.remember_login(self.request, user)
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": int(time.time()),
            "next": self.get_success_url(),
        }
        return redirect("otp_login")


def _pending_user(request: HttpRequest) -> tuple[PortalUser | None, dict[str, Any] | None]:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        return None, None
    user = pending_login_user(pending["user"])
    return user, pending


@GET_POST
def otp_login_view(request: HttpRequest) -> HttpResponse:
    """The second step: after the password at login, or for a session that owes the code."""
    pending = None
    user: PortalUser | None
    if request.user.is_authenticated:
        if two_factor.session_verified(request):
            return redirect(_next(request))
        user = request.user
    else:
        user, pending = _pending_user(request)
        if user is None:
            request.session.pop(PENDING_KEY, None)
            if request.method == "POST":
                messages.warning(request, _("時間がたったため、もう一度ログインしてください。"))
            return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device, error = two_factor.verify_code(user, form.cleaned_data["code"])
        if device is not None:
            if pending is not None:
                request.session.pop(PENDING_KEY, None)
                auth_login(request, user, backend=pending["backend"])
                target = safe_next(request, pending["next"]) or resolve_url("home")
            else:
                target = _next(request)
            otp_login(request, device)
            record_authentication(request)
            if isinstance(device, StaticDevice):
                messages.warning(
                    request,
                    _("回復コードでログインしました（残り%(n)s個）。使ったコードはもう使えません。")
                    % {"n": two_factor.recovery_codes_left(user)},
                )
            return redirect(target)
        form.add_error("code", error)
    status = 400 if form.errors else 200
    return render(
        request,
        "registration/otp_login.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=status,
    )


# --- enrolment and the security page --------------------------------------------------------


def _qr_data_uri(url: str) -> str:
    """The QR code as an SVG data URI: made here, no image from anywhere else."""
    svg = qrcode.make(url, image_factory=SvgPathImage, box_size=8, border=2).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _key_groups(device: TOTPDevice) -> str:
    key = base64.b32encode(device.bin_key).decode("ascii")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _codes_page(request: HttpRequest, codes: list[str], *, enrolled: bool) -> HttpResponse:
    response = render(
        request, "registration/recovery_codes.html", {"codes": codes, "enrolled": enrolled}
    )
    add_never_cache_headers(response)  # the codes must not stay in any cache
    return response


@login_required
@GET_POST
@require_recent_auth
def otp_setup(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    if not may_enrol(user):
        raise PermissionDenied(_("2段階認証は、事務局と管理者が設定できます。"))
    if has_second_factor(user):
        return redirect("account_security")
    device = two_factor.device_to_confirm(user)
    form = CodeForm(request.POST or None)
    form.fields["code"].help_text = _("認証アプリに表示された6桁の数字を入力してください。")
    if request.method == "POST" and form.is_valid():
        code = two_factor.normalise_code(form.cleaned_data["code"])
        refused = two_factor.throttle_message(device)
        if refused:
            form.add_error("code", refused)
        elif code.isdigit() and device.verify_token(code):
            codes = two_factor.confirm_device(user, device)
            otp_login(request, device)
            record_authentication(request)
            request.session[two_factor.REQUIRED_KEY] = True
            return _codes_page(request, codes, enrolled=True)
        else:
            form.add_error(
                "code", _("コードが正しくありません。時計がずれていないかも確かめてください。")
            )
    response = render(
        request,
        "registration/otp_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(device.config_url),
            "key": _key_groups(device),
            "required": user.is_superuser,
        },
        status=400 if form.errors else 200,
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_http_methods(["GET"])
def account_security(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    if not may_enrol(user):
        raise PermissionDenied(_("2段階認証は、事務局と管理者が設定できます。"))
    return render(
        request,
        "registration/account_security.html",
        {
            "enrolled": has_second_factor(user),
            "codes_left": two_factor.recovery_codes_left(user),
            "required": user.is_superuser,
        },
    )


@login_required
@require_http_methods(["POST"])
@require_recent_auth
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    if not has_second_factor(user):
        return redirect("account_security")
    return _codes_page(request, two_factor.new_recovery_codes(user), enrolled=False)


@login_required
@require_http_methods(["POST"])
@require_recent_auth
def otp_disable(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    if user.is_superuser:
        messages.error(request, _("管理者は2段階認証をやめることはできません。"))
        return redirect("account_security")
    two_factor.remove_second_factor(user)
    request.session[two_factor.REQUIRED_KEY] = False
    messages.success(request, _("2段階認証をやめました。次からはパスワードだけでログインします。"))
    return redirect("account_security")


# --- re-authentication ------------------------------------------------------------------------


@login_required
@GET_POST
def reauthenticate(request: HttpRequest) -> HttpResponse:
    """Confirm the password (or the authenticator's code), then back to where it was asked."""
    user = signed_in(request)
    has_device = user_has_device(user, confirmed=True)
    form = ReauthForm(request.POST or None)
    if not has_device:
        del form.fields["code"]
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data.get("code", "")
        password = form.cleaned_data["password"]
        confirmed = False
        if code and has_device:
            device, error = two_factor.verify_code(user, code)
            confirmed = device is not None
            if confirmed:
                otp_login(request, device)
            else:
                form.add_error("code", error)
        elif password:
            again = authenticate(request, username=user.get_username(), password=password)
            confirmed = (again is not None and again.pk == user.pk) or directory.confirm_password(
                request, user, password
            )
            if not confirmed:
                form.add_error("password", _("パスワードが正しくありません。"))
        else:
            form.add_error(None, _("パスワードを入力してください。"))
        if confirmed:
            record_authentication(request)
            target = _next(request)
            fields = pop_replay(request, target)
            if fields is not None:
                return render(
                    request,
                    "registration/reauth_resubmit.html",
                    {"action": target, "fields": fields},
                )
            return HttpResponseRedirect(target)
    return render(
        request,
        "registration/reauthenticate.html",
        {"form": form, "next": request.GET.get("next", "") or request.POST.get("next", "")},
        status=400 if form.errors else 200,
    )
