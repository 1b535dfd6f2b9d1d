"""The API's token authentication: ``Authorization: Token <secret>`` (or ``Bearer <secret>``).

The secret is looked up by its digest (reporting/api/tokens.py); a revoked token answers
like an unknown one, an expired one says so, and both are a 401 with a Japanese detail.
A successful call records the token's last use, at most once a minute.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from reporting.api.tokens import find_token, touch_last_used

KEYWORDS = (b"token", b"bearer")

MSG_HEADER = _(
    "Authorization ヘッダーの形式が正しくありません(「Token トークン」の形で送ってください)。"
)
MSG_INVALID = _("不正なトークンです。")
MSG_EXPIRED = _("トークンの有効期限が切れています。事務局に再発行を依頼してください。")
MSG_INACTIVE = _("このトークンのアカウントは停止されています。")


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # not ours: the session may still authenticate the caller
        if len(parts) != 2:
            raise AuthenticationFailed(MSG_HEADER)
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise AuthenticationFailed(MSG_INVALID) from exc
        token = find_token(secret)
        if token is None or token.revoked_at is not None:
            raise AuthenticationFailed(MSG_INVALID)
        now = timezone.now()
        if token.is_expired(now):
            raise AuthenticationFailed(MSG_EXPIRED)
        if not token.user.is_active:
            raise AuthenticationFailed(MSG_INACTIVE)
        touch_last_used(token, now)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        # An anonymous call answers 401 with WWW-Authenticate: Token.
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema (as drf-spectacular describes DRF's own token)."""

    target_class = "reporting.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "「Token <トークン>」(または「Bearer <トークン>」)。",
        }
