"""Forms for the staff and roles screens: they only validate."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.utils.translation import gettext_lazy as _

from portal_lib import era
from portal_lib.forms import EraDateField
from portal_lib.versioning import VersionedFormMixin
from workgroups.models import HeadquartersMember, Section, StaffProfile, WorkingGroupMembership

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

User = get_user_model()

NO_ROLE = ""
WG_ROLE_CHOICES = [(NO_ROLE, _("—(参加しない)"))] + list(WorkingGroupMembership.Role.choices)
HQ_ROLE_CHOICES = [(NO_ROLE, _("—(本部員ではない)"))] + list(HeadquartersMember.Role.choices)


class StaffFilterForm(forms.Form):
    q = forms.CharField(
        label=_("検索"), required=False, max_length=100, help_text=_("氏名・ユーザー名・メール")
    )
    section = forms.ModelChoiceField(
        label=_("所属課"), queryset=Section.objects.all(), required=False, empty_label=_("すべて")
    )
    active = forms.ChoiceField(
        label=_("状態"),
        required=False,
        choices=[("", _("すべて")), ("1", _("有効")), ("0", _("無効"))],
    )


class StaffForm(VersionedFormMixin):
    username = forms.CharField(
        label=_("ユーザー名"),
        max_length=150,
        help_text=_("ログインに使う名前(半角英数字と @ . + - _)。例: k.yamada"),
        error_messages={"required": _("ユーザー名を入力してください。")},
    )
    display_name = forms.CharField(
        label=_("氏名"),
        max_length=100,
        error_messages={"required": _("氏名を入力してください。")},
    )
    email = forms.EmailField(
        label=_("メールアドレス"),
        required=False,
        help_text=_("パスワード設定リンクと通知の送り先です。"),
        error_messages={"invalid": _("メールアドレスの形式が正しくありません。")},
    )
    section = forms.ModelChoiceField(
        label=_("所属課"),
        queryset=Section.objects.filter(is_active=True),
        required=False,
        empty_label=_("—(未設定)"),
    )
    role = forms.ChoiceField(
        label=_("ポータルでの役割"),
        choices=StaffProfile.Role.choices,
        initial=StaffProfile.Role.STAFF,
        help_text=_(
            "事務局はすべてを管理できます。本部は全体を閲覧し、振り返りを承認します。"
            "職員はWGに参加すると担当の取り組みを記録でき、WGに参加しなければ閲覧のみです。"
        ),
    )
    review_mail = forms.BooleanField(
        label=_("振り返りの通知メールを受け取る"),
        required=False,
        initial=True,
        help_text=_(
            "振り返りの提出・差戻し・確認・承認や一括作成を、次に対応する人にメールで知らせます。"
            "本人も「メール通知の設定」で変えられます。"
        ),
    )

    def __init__(self, *args: Any, instance: Any = None, **kwargs: Any) -> None:
        self.instance = instance
        super().__init__(*args, **kwargs)
        if instance is not None:
            del self.fields["username"]

    def clean_username(self) -> str:
        name = self.cleaned_data["username"].strip()
        User.username_validator(name)
        if User.objects.filter(username__iexact=name).exists():
            raise forms.ValidationError(
                _("ユーザー名「%(name)s」はすでに使われています。") % {"name": name}
            )
        return name


class StaffRolesForm(forms.Form):
    """One choice per WG of the plan (none / member / leader) and the HQ seat."""

    hq_role = forms.ChoiceField(label=_("DX推進本部"), choices=HQ_ROLE_CHOICES, required=False)
    hq_title = forms.CharField(
        label=_("本部での職名"), max_length=100, required=False, help_text=_("例: 総務部長、市長")
    )

    def __init__(self, *args: Any, working_groups: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.working_groups = working_groups
        for wg in working_groups:
            self.fields[f"wg_{wg.pk}"] = forms.ChoiceField(
                label=wg.name, choices=WG_ROLE_CHOICES, required=False
            )

    def wg_fields(self) -> list[Any]:
        return [self[f"wg_{wg.pk}"] for wg in self.working_groups]

    def wg_roles(self) -> dict[int, str | None]:
        return {wg.pk: self.cleaned_data.get(f"wg_{wg.pk}") or None for wg in self.working_groups}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("hq_role") and not (data.get("hq_title") or "").strip():
            self.add_error("hq_title", _("本部での職名を入力してください(例: 総務部長)。"))
        return data


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("新しいパスワード"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("新しいパスワード(確認)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: Any, user: PortalUser, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("確認のパスワードが一致しません。"))
        elif p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


FY_HELP = "例: R9、令和9年度、2027(4月1日からの年度)"
DATE_HELP = _("例: 令和9年4月1日、R9.4.1、2027/4/1(年度だけなら R9 で4月1日)")


def wareki(day: date | None) -> str:
    """A date as the city writes it: 令和9年4月1日 (令和元年 for 2019), without the weekday
    so that it reads back as typed (portal_lib.era.format_date)."""
    return era.format_date(day, weekday=False) if day is not None else ""


class EffectiveDateField(EraDateField):
    """A date typed as people type it (portal_lib.forms.EraDateField), or a fiscal year alone
    (R9, 令和9年度: its 1 April); cleans to a date."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", DATE_HELP)
        super().__init__(*args, **kwargs)

    def parse(self, value: str) -> date:
        try:
            return era.parse_date(value)
        except era.EraError as exc:
            try:
                return era.fiscal_year_start(era.parse_fiscal_year(value))
            except era.EraError:
                raise forms.ValidationError(str(exc)) from exc


def _active_sections():
    return Section.objects.filter(ended_fy__isnull=True).order_by("order", "name")


class SectionRenameForm(forms.Form):
    section = forms.ModelChoiceField(label=_("課"), queryset=_active_sections(), empty_label=None)
    new_name = forms.CharField(label=_("新しい課名"), max_length=100)
    effective = EffectiveDateField(label=_("適用日"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].queryset = _active_sections()


class SectionMergeForm(forms.Form):
    sources = forms.ModelMultipleChoiceField(
        label=_("統合する課"),
        queryset=_active_sections(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("統合する課を選んでください。")},
        help_text=_(
            "統合先が既存の課なら、その課も含めて選ぶか、統合後の課名にその名前を入力します。"
        ),
    )
    target_name = forms.CharField(
        label=_("統合後の課名"), max_length=100, help_text=_("既存の課名なら、その課に統合します。")
    )
    effective = EffectiveDateField(label=_("適用日"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sources"].queryset = _active_sections()


class SectionSplitForm(forms.Form):
    source = forms.ModelChoiceField(
        label=_("分割する課"), queryset=_active_sections(), empty_label=None
    )
    new_names = forms.CharField(
        label=_("分割後の課名"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text=_("1行に1つ。2つ以上。"),
    )
    effective = EffectiveDateField(label=_("適用日"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = _active_sections()

    def names(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["new_names"].splitlines() if line.strip()
        ]


class SectionCreateForm(forms.Form):
    name = forms.CharField(label=_("課名"), max_length=100)
    department = forms.CharField(label=_("部"), max_length=100, required=False)
    order = forms.IntegerField(label=_("表示順"), min_value=0, max_value=32767, initial=0)


# --- WGs: created, renamed, merged and dissolved from a date ---------------------------------


def _wg_queryset(plan: Any) -> Any:
    from workgroups.models import WorkingGroup

    return WorkingGroup.objects.filter(plan=plan, dissolved_on__isnull=True).order_by("name")


class WorkingGroupCreateForm(forms.Form):
    name = forms.CharField(label=_("WG名"), max_length=100)
    lead_section = forms.ModelChoiceField(
        label=_("主管課"), queryset=_active_sections(), empty_label=None
    )
    sections = forms.ModelMultipleChoiceField(
        label=_("構成課(主管課のほか)"),
        queryset=_active_sections(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    effective = EffectiveDateField(label=_("適用日"))

    def __init__(self, *args: Any, plan: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead_section"].queryset = _active_sections()
        self.fields["sections"].queryset = _active_sections()


class WorkingGroupRenameForm(forms.Form):
    working_group = forms.ModelChoiceField(label="WG", queryset=None, empty_label=None)
    new_name = forms.CharField(label=_("新しいWG名"), max_length=100)
    effective = EffectiveDateField(label=_("適用日"))

    def __init__(self, *args: Any, plan: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["working_group"].queryset = _wg_queryset(plan)


class WorkingGroupMergeForm(forms.Form):
    source = forms.ModelChoiceField(label=_("統合するWG"), queryset=None, empty_label=None)
    target = forms.ModelChoiceField(label=_("統合先のWG"), queryset=None, empty_label=None)
    effective = EffectiveDateField(label=_("適用日"))

    def __init__(self, *args: Any, plan: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = _wg_queryset(plan)
        self.fields["target"].queryset = _wg_queryset(plan)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("source") and data.get("source") == data.get("target"):
            self.add_error("target", _("統合先には別のWGを選んでください。"))
        return data


class WorkingGroupDissolveForm(forms.Form):
    working_group = forms.ModelChoiceField(label=_("廃止するWG"), queryset=None, empty_label=None)
    reassign_to = forms.ModelChoiceField(
        label=_("担当の取り組みの移し先"),
        queryset=None,
        required=False,
        empty_label=_("—(担当の取り組みはない)"),
    )
    effective = EffectiveDateField(label=_("適用日"))

    def __init__(self, *args: Any, plan: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["working_group"].queryset = _wg_queryset(plan)
        self.fields["reassign_to"].queryset = _wg_queryset(plan)


class OrganisationForm(forms.Form):
    secretariat_section = forms.ModelChoiceField(
        label=_("事務局の課"), queryset=_active_sections(), empty_label=None
    )
    hq_name = forms.CharField(label=_("DX推進本部の名称"), max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["secretariat_section"].queryset = _active_sections()


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("職員名簿"),
        help_text=_(
            "Excel(.xlsx、5,000行まで)。見出し(職員番号・所属・氏名 ほか)の行より上の"
            "表題や、縦に結合した所属はそのまま読めます。"
        ),
    )
    effective = EraDateField(
        label=_("適用日"),
        help_text=_(
            "名簿が有効になる日(例: 4月1日)。確定した時点で反映し、適用日は履歴に記録します。"
            "確定は適用日の31日前から。それより前でも、次の計画の1年目か約5か月先までの日付なら"
            "読み込んで変更内容を確かめられます(試しの読み込み)。"
        ),
    )
