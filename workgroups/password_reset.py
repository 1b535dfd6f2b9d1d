"""The password-reset mail, throttled per address and per client (issue 19, item 14).

At most PASSWORD_RESET_PER_EMAIL_PER_HOUR mails to one address and
PASSWORD_RESET_PER_CLIENT_PER_HOUR requests from one client address (known or unknown
e-mail addresses alike, so probing costs the same) in any hour. The answer to the caller
never changes (no account enumeration): the mail is simply not sent, and a warning on the
`kahoku_dx.security` log records it without the address itself.

The counters live in a database table, not the cache: the cache is per process without
Redis, and an outage of Redis must not open (or break) the throttle.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from portal_lib.client_ip import client_ip
from workgroups.access import directory_login_on, may_use_local_password
from workgroups.models import PasswordResetRequest

security_log = logging.getLogger("kahoku_dx.security")
WINDOW = timedelta(hours=1)


def email_digest(email: str) -> str:
    return salted_hmac("kahoku_dx.password_reset", email.strip().lower()).hexdigest()


def password_reset_allowed(*, email: str, client: str | None) -> bool:
    """Record one request and say whether its mail may be sent."""
    digest = email_digest(email)
    now = timezone.now()
    since = now - WINDOW
    with transaction.atomic():
        PasswordResetRequest.objects.filter(requested_at__lt=since).delete()
        recent = PasswordResetRequest.objects.filter(requested_at__gte=since)
        reason = None
        if (
            client is not None
            and recent.filter(client_ip=client).count()
            >= settings.PASSWORD_RESET_PER_CLIENT_PER_HOUR
        ):
            reason = "per_client"
        elif (
            recent.filter(email_digest=digest, mailed=True).count()
            >= settings.PASSWORD_RESET_PER_EMAIL_PER_HOUR
        ):
            reason = "per_email"
        PasswordResetRequest.objects.create(
            email_digest=digest, client_ip=client, requested_at=now, mailed=reason is None
        )
    if reason is not None:
        security_log.warning(
            "password reset mail not sent: %s limit reached",
            reason,
            extra={"reason": reason, "client_ip": client, "email_digest": digest[:12]},
        )
    return reason is None


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending nothing once a limit is reached, and nothing to a person
    who signs in with the directory only (LOCAL_PASSWORD_LOGIN=fallback)."""

    @property
    def directory_login(self) -> bool:
        """The page says where a directory password is reset (not here)."""
        return directory_login_on()

    def get_users(self, email: str) -> Any:
        return (user for user in super().get_users(email) if may_use_local_password(user))

    def save(self, *args: Any, request: Any = None, **kwargs: Any) -> None:
        client = client_ip(request) if request is not None else None
        if password_reset_allowed(email=self.cleaned_data["email"], client=client):
            super().save(*args, request=request, **kwargs)
