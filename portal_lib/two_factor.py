"""The second factor (TOTP with django-otp, recovery codes as its static tokens).

Rules (issue 19, item 15; ASVS 5.0 V6.3):
- a user with a confirmed device signs in with the password and then a code; the password
  alone does not log them in (workgroups.account_views.PortalLoginView);
- a superuser must have one: without it, after the password they can reach nothing but
  the enrolment page;
- any session of a user who needs the second factor and has not given it in this session
  (a login through the admin's own form, for instance) is sent to the code page first.

`SecondFactorMiddleware` holds the last two for every URL, the admin included. Whether a
user needs the factor is decided at login and kept in the session, so that ordinary pages
pay no query for it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django_otp import devices_for_user, user_has_device
from django_otp import verify_token as otp_verify_token
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

REQUIRED_KEY = "portal_second_factor"
RECOVERY_CODE_COUNT = 10
# A device's name is stored once and shown as saved (the admin's device lists): a name in no
# language, so that it reads the same to a Japanese and an English reader.
TOTP_DEVICE_NAME = "TOTP"
RECOVERY_DEVICE_NAME = "static"
# Pages a session that still owes the second factor may open.
EXEMPT_URL_NAMES = {
    "otp_login",
    "otp_setup",
    "reauthenticate",
    "login",
    "logout",
    "set_language",
    "healthz",
}


def needs_second_factor(user: PortalUser) -> bool:
    return bool(user.is_superuser) or user_has_device(user, confirmed=True)


def record_login(sender: Any, request: HttpRequest | None, user: PortalUser, **kwargs: Any) -> None:
    """user_logged_in receiver (portal_lib.apps)."""
    if request is not None and hasattr(request, "session"):
        request.session[REQUIRED_KEY] = needs_second_factor(user)


def normalise_code(text: str) -> str:
    """Full-width digits and letters typed on a Japanese keyboard, spaces and hyphens."""
    text = unicodedata.normalize("NFKC", text or "")
    return "".join(ch for ch in text if ch not in " -\u3000").lower()


def throttle_message(device: Any) -> str | None:
    allowed, info = device.verify_is_allowed()
    if allowed:
        return None
    return _(
        "コードを続けて間違えたため、しばらく入力できません。少し待ってからもう一度お試しください。"
    )


def verify_code(user: PortalUser, code: str) -> tuple[Any | None, str]:
    """The device that accepts `code` (a 6-digit TOTP code or a recovery code), or an error.

    Each device's own throttle (django-otp: a growing delay after each failure) applies.
    """
    code = normalise_code(code)
    if not code:
        return None, _("コードを入力してください。")
    model = TOTPDevice if code.isdigit() else StaticDevice
    devices = [d for d in devices_for_user(user, confirmed=True) if isinstance(d, model)]
    if not devices:
        return None, _("コードが正しくありません。")
    for device in devices:
        refused = throttle_message(device)
        if refused:
            return None, refused
        verified = otp_verify_token(user, device.persistent_id, code)
        if verified is not None:
            return verified, ""
    return None, _("コードが正しくありません。")


def new_recovery_codes(user: PortalUser) -> list[str]:
    """Replace the user's recovery codes with ten new single-use ones (shown once)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=c) for c in codes)
    return codes


def device_to_confirm(user: PortalUser) -> TOTPDevice:
    """The person's authenticator device being set up (made unconfirmed on first visit)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def confirm_device(user: PortalUser, device: TOTPDevice) -> list[str]:
    """The device being set up answered a right code: confirm it and issue the recovery
    codes (returned to be shown once)."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(user)


def remove_second_factor(user: PortalUser) -> None:
    """Remove the person's authenticator app and recovery codes (they give up the second
    factor; the view refuses it to superusers)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def recovery_codes_left(user: PortalUser) -> int:
    left: int = StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
    return left


def _exempt(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return match.url_name in EXEMPT_URL_NAMES and not match.namespace


def session_verified(request: HttpRequest) -> bool:
    """Whether this session gave its second factor. django-otp's OTPMiddleware (before
    SecondFactorMiddleware) gives ``request.user`` an ``is_verified()`` the stubs do not know;
    it is read here only."""
    verified: bool = request.user.is_verified()  # type: ignore[union-attr]
    return verified


class SecondFactorMiddleware:
    """Send a session that owes the second factor to the code page (or, for a superuser
    without a device, to the enrolment page) until it is given. After OTPMiddleware."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if SESSION_KEY in session and request.user.is_authenticated:
            required = session.get(REQUIRED_KEY)
            if required is None:  # a session from before the second factor
                required = session[REQUIRED_KEY] = needs_second_factor(request.user)
            verified = session_verified(request)
            if required and not verified and not _exempt(request):
                has_device = user_has_device(request.user, confirmed=True)
                if not has_device and not request.user.is_superuser:
                    # The device was removed (in another session): nothing is owed any more.
                    session[REQUIRED_KEY] = False
                    return self.get_response(request)
                target = reverse("otp_login" if has_device else "otp_setup")
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{target}?{query}")
        return self.get_response(request)
