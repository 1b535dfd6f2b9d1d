"""API tokens, stored as a digest: the secret itself is shown once and kept nowhere.

A token is 40 random hex characters (160 bits, as DRF's tokens were, so tokens issued
before keep working after the conversion). The database keeps its SHA-256 digest (right
for a random secret of this strength: nothing to guess, no need for a slow hash) and the
first PREFIX_LENGTH characters, so that the secretariat and the admin can tell tokens apart
without being able to use them. Every token has an expiry set when it is issued; a
revoked token keeps its row (who had which token, and until when) but authenticates no more.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

PREFIX_LENGTH = 8


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("サービスアカウント"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    prefix = models.CharField(_("先頭の文字"), max_length=PREFIX_LENGTH)
    digest = models.CharField(_("SHA-256ダイジェスト"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("発行日時"), default=timezone.now)
    expires_at = models.DateTimeField(_("有効期限"))
    last_used_at = models.DateTimeField(_("最終利用日時"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("失効日時"), null=True, blank=True)

    class Meta:
        verbose_name = _("APIトークン")
        verbose_name_plural = _("APIトークン")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_live")]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    def is_expired(self, now=None) -> bool:
        return self.expires_at <= (now or timezone.now())

    @property
    def is_live(self) -> bool:
        """Neither revoked nor expired: it authenticates."""
        return self.revoked_at is None and not self.is_expired()
