"""Links mailed for passwords: absolute, from PORTAL_BASE_URL, each kind with its lifetime.

`portal_url` is the one way to make a link that leaves the portal (a mail): it never looks
at the request, whose Host header the sender chooses (issue 19, probe 6: a reset asked for
with ``Host: attacker.example`` mailed a link to attacker.example).

Two kinds of one-time link open the same set-password page (``password_reset_confirm``):
the reset a person asks for on /accounts/password_reset/ (Django's token,
PASSWORD_RESET_TIMEOUT, 3 hours) and the link the secretariat mails to a new or locked-out
colleague (`set_password_token_generator`, SET_PASSWORD_LINK_TIMEOUT, 72 hours: it may be
read the next working day). Both are void once the password changes or the person logs in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.contrib.auth.views import PasswordResetConfirmView
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int

if TYPE_CHECKING:
    from portal_lib.users import PortalUser


def portal_url(path: str) -> str:
    """The absolute URL of ``path`` (from ``reverse()``) on the portal, for mail."""
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/': {path!r}")
    return settings.PORTAL_BASE_URL.rstrip("/") + path


class SetPasswordTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset token with its own salt (a reset token is not accepted as one of
    these, nor the reverse) and its own lifetime, SET_PASSWORD_LINK_TIMEOUT."""

    key_salt = "portal_lib.accounts.SetPasswordTokenGenerator"

    def check_token(self, user: PortalUser | None, token: str | None) -> bool:
        # Django's check_token compares the age with PASSWORD_RESET_TIMEOUT; this is the
        # same check against this link's own lifetime.
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        return (self._num_seconds(self._now()) - ts) <= settings.SET_PASSWORD_LINK_TIMEOUT


set_password_token_generator = SetPasswordTokenGenerator()


class _EitherLink:
    """What the set-password page accepts: a reset token or a set-password token."""

    def check_token(self, user: PortalUser | None, token: str | None) -> bool:
        return default_token_generator.check_token(
            user, token
        ) or set_password_token_generator.check_token(user, token)


class PortalPasswordResetConfirmView(PasswordResetConfirmView):
    token_generator = _EitherLink()
