"""Issuing, finding and converting API tokens (the model: reporting/api/models.py).

The secret leaves this module once, as the return value of ``issue_token``, for the page
that shows it; only its digest and first characters are stored. A token is found by the
digest of what the caller sends (an indexed, unique lookup, so the time taken says nothing
about how close a guess was) and the stored digest is compared again in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from reporting.api.models import PREFIX_LENGTH, ApiToken

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

    from portal_lib.users import PortalUser

SECRET_BYTES = 20  # 40 hex characters, 160 bits
_SECRET = re.compile(r"[0-9a-f]{40}")
# last_used_at is written at most this often per token: no write on every request.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def default_lifetime_days() -> int:
    return settings.API_TOKEN_LIFETIME_DAYS


def issue_token(user: PortalUser, *, lifetime_days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``, valid ``lifetime_days`` (the setting when None).

    The caller revokes what it replaces; the secret is returned once and stored nowhere.
    """
    secret = secrets.token_hex(SECRET_BYTES)
    now = timezone.now()
    days = default_lifetime_days() if lifetime_days is None else lifetime_days
    token = ApiToken.objects.create(
        user=user,
        prefix=secret[:PREFIX_LENGTH],
        digest=token_digest(secret),
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    return token, secret


def revoke_tokens(user: PortalUser, *, now: datetime | None = None) -> int:
    """Every token of ``user`` not yet revoked stops working now; the rows stay."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=now or timezone.now()
    )


def find_token(secret: str) -> ApiToken | None:
    """The token whose secret is ``secret`` (with its user), revoked or expired included."""
    if not _SECRET.fullmatch(secret):
        return None
    digest = token_digest(secret)
    token = ApiToken.objects.select_related("user").filter(digest=digest).first()
    if token is None or not hmac.compare_digest(token.digest, digest):
        return None
    return token


def touch_last_used(token: ApiToken, now: datetime) -> None:
    """Record the use, unless it was recorded less than a minute ago (one UPDATE at most)."""
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_GRANULARITY:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_GRANULARITY)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


# --- the conversion from DRF's plain tokens (migration reporting 0002) -----------------------

PLAIN_TOKEN_TABLE = "authtoken_token"


def convert_plain_tokens(
    connection: BaseDatabaseWrapper, token_model: type[ApiToken], *, lifetime_days: int
) -> int:
    """Turn every row of DRF's ``authtoken_token`` into a digest and drop that table.

    Each plain token keeps working (same secret, now stored as its digest), with an expiry
    ``lifetime_days`` from now; afterwards no secret is left in the database, so none is in
    the next backup. ``token_model`` is the migration's ApiToken (the same fields). Returns how many were converted; without the table, does nothing.
    """
    if PLAIN_TOKEN_TABLE not in connection.introspection.table_names():
        return 0
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('key')}, {quote('user_id')}, {quote('created')}"
            f" FROM {quote(PLAIN_TOKEN_TABLE)}"
        )
        rows = cursor.fetchall()
    now = timezone.now()
    converted = 0
    for key, user_id, created in rows:
        if isinstance(created, datetime) and timezone.is_naive(created):
            created = timezone.make_aware(created, UTC)  # SQLite keeps UTC without a zone
        digest = token_digest(key)
        if token_model.objects.using(connection.alias).filter(digest=digest).exists():
            continue
        token_model.objects.using(connection.alias).create(
            user_id=user_id,
            prefix=key[:PREFIX_LENGTH],
            digest=digest,
            created_at=created if isinstance(created, datetime) else now,
            expires_at=now + timedelta(days=lifetime_days),
        )
        converted += 1
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {quote(PLAIN_TOKEN_TABLE)}")
        # rest_framework.authtoken is no longer installed: forget its migrations, so that
        # installing it again one day would create its table afresh.
        cursor.execute("DELETE FROM django_migrations WHERE app = %s", ["authtoken"])
    return converted
