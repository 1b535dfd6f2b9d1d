"""API rate limits (DRF throttles), per caller and per client address.

- ``CallerRateThrottle`` (scope ``api_token``): each token has its own count (keyed by the
  token's id, not its secret); a person calling with the session is counted per user.
- ``AddressRateThrottle`` (scope ``api_address``): every call from one client address
  (``portal_lib.client_ip.client_ip``, the proxy-aware address the lockout and the log use),
  counted *before* authentication (ReadOnlyMixin.perform_authentication in views.py), so
  floods without a token, or with wrong ones, are limited too.

The rates are settings (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], from the environment:
API_THROTTLE_TOKEN_RATE, API_THROTTLE_ADDRESS_RATE) and are read on every request. Counts
live in the default cache (Redis in production, shared by every process). Over the limit:
429 with a Japanese detail and Retry-After.
"""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from portal_lib.client_ip import client_ip
from reporting.api.models import ApiToken

MSG_THROTTLED = _("リクエストが多すぎます。{wait}秒後にもう一度お試しください。")
MSG_THROTTLED_NO_WAIT = _("リクエストが多すぎます。しばらく待ってから、もう一度お試しください。")


class ApiThrottled(Throttled):
    """429 with a Japanese detail; DRF's exception handler adds Retry-After from ``wait``."""

    def __init__(self, wait: float | None = None) -> None:
        seconds = None if wait is None else max(1, math.ceil(wait))
        detail = MSG_THROTTLED_NO_WAIT if seconds is None else MSG_THROTTLED.format(wait=seconds)
        super().__init__(detail=str(detail))
        self.wait = seconds


class _SettingsRate(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        # Read now, not at import (SimpleRateThrottle.THROTTLE_RATES): a changed setting counts.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class CallerRateThrottle(_SettingsRate):
    scope = "api_token"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AddressRateThrottle(_SettingsRate):
    scope = "api_address"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        ident = client_ip(request) or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": ident}
