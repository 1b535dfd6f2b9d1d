"""The secretariat's form for a new API service account (forms only validate)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reporting.api.accounts import SCOPE_ALL
from workgroups.models import WorkingGroup

MAX_LIFETIME_DAYS = 1830  # five years: a token that never ends is a token nobody reviews


class ServiceAccountForm(forms.Form):
    username = forms.CharField(
        label=_("ユーザー名"),
        max_length=40,
        help_text=_("半角英小文字・数字・ハイフンで3〜40文字(例: bi-zaisei)。"),
        validators=[
            RegexValidator(
                r"^[a-z0-9][a-z0-9-]{2,39}$",
                _("ユーザー名は半角英小文字・数字・ハイフンで3〜40文字にしてください。"),
            )
        ],
    )
    display_name = forms.CharField(
        label=_("用途・利用システム"), max_length=100, help_text=_("例: 財政課BIツール")
    )
    scope = forms.ChoiceField(label=_("読み取り範囲"))
    lifetime_days = forms.IntegerField(
        label=_("トークンの有効期間(日)"),
        required=False,
        min_value=1,
        max_value=MAX_LIFETIME_DAYS,
        help_text=format_lazy(
            _(
                "1〜{max}日。空欄なら{default}日。"
                "期限を過ぎたトークンは使えなくなります(再発行できます)。"
            ),
            max=MAX_LIFETIME_DAYS,
            default=settings.API_TOKEN_LIFETIME_DAYS,
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        wgs = WorkingGroup.objects.select_related("plan").order_by("plan__start_fy", "name")
        self.fields["scope"].choices = [
            (SCOPE_ALL, gettext("全体(推進本部と同じ範囲: 全WGと計画全体の集計)")),
            *[
                (
                    str(wg.pk),
                    gettext("%(wg)sのみ(%(plan)s)") % {"wg": wg.name, "plan": wg.plan.name},
                )
                for wg in wgs
            ],
        ]

    def clean_scope(self) -> WorkingGroup | None:
        value = self.cleaned_data["scope"]
        if value == SCOPE_ALL:
            return None
        return WorkingGroup.objects.get(pk=int(value))
