"""Forms only validate; the views hand cleaned data to selectors and services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from plans.models import Plan, PlanStatus
from portal_lib import era
from portal_lib.forms import EraDateField, FiscalYearField
from portal_lib.versioning import VersionedFormMixin
from reporting.chapter_facts import PLACEHOLDER_HELP
from reporting.models import REPORT_DOCUMENT_NUMBER_MAX
from reporting.services.carry_over import carry_over_refusal


def bracketed(text: str) -> str:
    """「(確定)」 in Japanese, " (final)" in English."""
    return pgettext("punctuation", "(%(text)s)") % {"text": text}


class PlanFilterForm(forms.Form):
    """``?plan=<code>&fy=…``, the plan chosen among ``plans``: the list the view has already
    read for its plan picker, so validating the choice costs no query of its own."""

    plan = forms.ChoiceField(label=_("計画"), required=False)
    fy = FiscalYearField(label=_("年度"), required=False, help_text=_("例: R7、令和7年度、2025"))

    def __init__(self, *args: Any, plans: list[Plan], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._plans = {p.code: p for p in plans}
        self.fields["plan"].choices = [(p.code, p.name) for p in plans]

    def clean_plan(self) -> Plan | None:
        return self._plans.get(self.cleaned_data.get("plan") or "")

    def clean(self):
        data = super().clean()
        plan, fy = data.get("plan"), data.get("fy")
        if plan and fy and not plan.covers(fy):
            self.add_error(
                "fy",
                _("%(fy)sは「%(plan)s」の計画期間(%(period)s)外です。")
                % {
                    "fy": era.format_fiscal_year(fy),
                    "plan": plan.name,
                    "period": plan.period_label,
                },
            )
        return data


class DashboardFilterForm(PlanFilterForm):
    stale_days = forms.IntegerField(
        label=_("進捗の記録がない日数"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("この日数より長く進捗が記録されていない取り組みを表示します。"),
        error_messages={
            "invalid": _("日数は半角数字で入力してください。"),
            "min_value": _("日数は1以上で入力してください。"),
            "max_value": _("日数は3650以下で入力してください。"),
        },
    )


class SnapshotForm(forms.Form):
    title = forms.CharField(
        label=_("表題"),
        max_length=200,
        help_text=_("例: 令和8年度 第1回DX推進本部会議"),
        error_messages={"required": _("表題を入力してください。")},
    )
    fy = FiscalYearField(
        label=_("年度"), error_messages={"required": _("年度を入力してください。")}
    )
    document_number = forms.CharField(
        label=_("資料番号"),
        required=False,
        max_length=REPORT_DOCUMENT_NUMBER_MAX,
        help_text=_("会議の次第での番号。資料の右上に印刷されます。例: 資料2"),
        error_messages={
            "max_length": format_lazy(
                _("資料番号は{n}文字以内で入力してください。"), n=REPORT_DOCUMENT_NUMBER_MAX
            )
        },
    )

    def clean_document_number(self) -> str:
        value = self.cleaned_data["document_number"]
        if "\n" in value or "\r" in value:
            raise forms.ValidationError(_("資料番号は1行で入力してください。"))
        return value


class CarryOverForm(forms.Form):
    source = forms.ModelChoiceField(
        label=_("引継ぎ元の計画"),
        queryset=Plan.objects.order_by("start_fy"),
        to_field_name="code",
        error_messages={"required": _("引継ぎ元の計画を選んでください。")},
    )
    target = forms.ModelChoiceField(
        label=_("引継ぎ先の計画"),
        queryset=Plan.objects.order_by("start_fy"),
        to_field_name="code",
        error_messages={"required": _("引継ぎ先の計画を選んでください。")},
    )

    def clean(self):
        data = super().clean()
        source, target = data.get("source"), data.get("target")
        if source and target:
            refusal = carry_over_refusal(source_plan=source, target_plan=target)
            if refusal:
                self.add_error("target", refusal)
        return data


class NextPlanForm(forms.Form):
    code = forms.SlugField(
        label=_("計画コード"),
        max_length=50,
        help_text=_("半角英数字とハイフン。例: kahoku-dx-r9-r13"),
    )
    name = forms.CharField(label=_("計画名"), max_length=200)
    theme = forms.CharField(
        label=_("理念(テーマ)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
    start_fy = FiscalYearField(label=_("開始年度"), help_text=_("例: R9"))
    end_fy = FiscalYearField(label=_("終了年度"), help_text=_("例: R13"))
    version_number = forms.CharField(label=_("版"), max_length=10, initial="2.0")

    def __init__(self, *args: Any, source: Plan | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if source is not None and not self.is_bound:
            length = source.end_fy - source.start_fy
            self.initial.update(
                start_fy=era.era_label(source.end_fy + 1),
                end_fy=era.era_label(source.end_fy + 1 + length),
                theme=source.theme,
                name=source.name,
            )

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if Plan.objects.filter(code=code).exists():
            raise forms.ValidationError(
                gettext("計画コード「%(code)s」はすでに使われています。") % {"code": code}
            )
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start_fy") and data.get("end_fy") and data["end_fy"] < data["start_fy"]:
            self.add_error("end_fy", _("終了年度は開始年度以降にしてください。"))
        return data


class AdoptForm(forms.Form):
    adopted_on = EraDateField(label=_("決定日"), help_text=_("例: 2027-02-20"))
    in_force_from = EraDateField(
        label=_("施行日"),
        required=False,
        help_text=_(
            "例: 2027-04-01。空欄は計画期間の初年度の4月1日。この日から自動的に施行中になります。"
        ),
    )
    summary = forms.CharField(
        label=_("主な変更内容"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class ChapterForm(VersionedFormMixin):
    title = forms.CharField(label=_("章題"), max_length=200)
    body = forms.CharField(
        label=_("本文"),
        widget=forms.Textarea(attrs={"rows": 20}),
        required=False,
        max_length=50000,
        help_text=format_lazy(
            "{}{}",
            _(
                "段落は空行で区切ります。「### 」で始まる行は見出し、「- 」で始まる行は箇条書きです。"
            ),
            PLACEHOLDER_HELP,
        ),
    )


def _source_choices() -> list[tuple[str, str]]:
    choices = []
    for plan in Plan.objects.prefetch_related("versions").order_by("start_fy", "code"):
        for v in plan.versions.order_by("issued_fy", "number"):
            if not (v.frozen_at or plan.status == PlanStatus.DRAFT or v.is_open_revision):
                continue  # e.g. 第0.5版: no content of its own to compare
            state = _("確定") if v.frozen_at else _("下書き")
            choices.append((f"v{v.pk}", f"{plan.name} {v.label}{bracketed(state)}"))
        choices.append((f"p{plan.code}", f"{plan.name}{bracketed(gettext('現在の内容'))}"))
    return choices


class VersionCompareForm(forms.Form):
    a = forms.ChoiceField(label=_("比較元"))
    b = forms.ChoiceField(label=_("比較先"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _source_choices()
        self.fields["a"].choices = choices
        self.fields["b"].choices = choices


class SwitchCheckForm(forms.Form):
    """``?plan=<code>&on=<date>`` of the plan switch check; the date as people type it."""

    plan = forms.ChoiceField(label=_("計画"), required=False)
    on = forms.CharField(
        label=_("確認する日"),
        required=False,
        max_length=40,
        help_text=_("例: 2027-04-01、R9.4.1、令和9年4月1日"),
    )

    def __init__(self, *args: Any, plans: list[Plan], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._plans = {p.code: p for p in plans}
        self.fields["plan"].choices = [("", _("(次期計画)"))] + [(p.code, p.name) for p in plans]

    def clean_plan(self) -> Plan | None:
        return self._plans.get(self.cleaned_data.get("plan") or "")

    def clean_on(self) -> Any:
        text = (self.cleaned_data.get("on") or "").strip()
        if not text:
            return None
        try:
            return era.parse_date(text)
        except era.EraError as exc:
            raise forms.ValidationError(str(exc)) from exc


class RevisionOpenForm(forms.Form):
    """改訂を始める: a new draft version (第2.1版 …) of an adopted plan."""

    number = forms.CharField(label=_("改訂の版"), max_length=10, help_text=_("例: 2.1"))
    summary = forms.CharField(
        label=_("改訂の内容"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )


class RevisionAdoptForm(forms.Form):
    adopted_on = EraDateField(label=_("改訂の決定日"), help_text=_("例: 2027-06-10"))
    summary = forms.CharField(
        label=_("主な変更内容"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
