"""API tokens in the admin: what identifies a token and its dates, never the secret (which
is stored nowhere). Tokens are issued on the secretariat's screen (/api-accounts/), which
shows the secret once; here they can only be looked at and revoked."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reporting.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "user__username"]
    list_select_related = ["user"]
    fields = ["user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # a revoked token's row is the record of who had which token, until when

    @admin.action(description=_("選択したトークンを失効させる"))
    def revoke(self, request: Any, queryset: Any) -> None:
        now = timezone.now()
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            token.revoked_at = now
            token.save(update_fields=["revoked_at"])
            self.log_change(request, token, _("失効"))
        count = len(tokens)
        self.message_user(request, _("%d件のトークンを失効させました。") % count, messages.SUCCESS)
