"""The six bulk sheets (column specs), keyed by natural keys, never database ids."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_noop

from initiatives.models import (
    UNGRADED,
    Confirmation,
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    ProjectUnderWay,
    StandardSystem,
    grade_text,
    stamp_confirmation,
)
from initiatives.selectors import attach_counted_actuals, indicator_grade
from plans.models import Plan
from portal_lib import date_bounds, era
from portal_lib.codes import normalise_initiative_code, parse_initiative_code
from reporting.exchange.columns import (
    Column,
    Context,
    ExtraColumn,
    RowError,
    Spec,
    _code,
    _get,
    _label,
    _name,
    p_bool,
    p_bounded_date,
    p_choice,
    p_date,
    p_decimal,
    p_fiscal_year,
    p_group,
    p_initiative,
    p_int,
    p_percent,
    p_section,
    p_system_number,
    p_text,
    p_wg,
)

INITIATIVES = Spec(
    slug="initiatives",
    title=gettext_noop("取り組み"),
    model=Initiative,
    columns=[
        Column("番号", "code", p_text, _code, True, "基本方針番号.取り組み番号(例: 2.1)"),
        Column("取り組み", "title", p_text, _get("title"), True),
        Column("内容", "description", p_text, _get("description")),
        Column(
            "区分",
            "flag",
            p_choice(Initiative.Flag),
            _label(Initiative.Flag, "flag"),
            False,
            "国が挙げる重点取組事項 / 自治体DXの取組みとあわせて取り組むべき事項 / 空欄",
        ),
        Column("担当WG", "working_group", p_wg, _name("working_group")),
        Column("主管課", "lead_section", p_section, _name("lead_section")),
        Column("重み", "weight", p_decimal, _get("weight")),
        Column("公開", "is_public", p_bool, lambda o: "○" if o.is_public else "×", False, "○ / ×"),
    ],
    key=("code",),
    fk_fields=("policy", "working_group", "lead_section", "carried_from"),
    existing=lambda ctx: (((code,), i.pk) for code, i in ctx.initiatives.items()),
    related=("policy", "working_group", "lead_section"),
    queryset=lambda plan: Initiative.objects.filter(policy__plan=plan).select_related(
        "policy", "working_group", "lead_section"
    ),
)


def _initiative_prepare(values: dict[str, Any], ctx: Context) -> dict[str, Any]:
    code = values.pop("code")
    parsed = parse_initiative_code(code)
    if parsed is None:
        raise RowError("番号は「2.1」のように基本方針番号.取り組み番号で入力してください。", "code")
    policy = ctx.plan.policies.filter(number=parsed[0]).first()
    if policy is None:
        raise RowError(f"基本方針{parsed[0]}はありません。", "code")
    values["policy"] = policy
    values["number"] = parsed[1]
    return values


def _initiative_key(values: dict[str, Any]) -> tuple:
    """「2.1」「２．１」「2-1」 are one initiative (portal_lib.codes): one row each."""
    code = values["code"]
    return (normalise_initiative_code(code) or unicodedata.normalize("NFKC", code),)


INITIATIVES.prepare = _initiative_prepare
INITIATIVES.row_key = _initiative_key

PROJECTS = Spec(
    slug="projects",
    title=gettext_noop("既に取り組んでいる事業"),
    model=ProjectUnderWay,
    portrait=True,  # few, narrow columns: the other sheets print landscape
    columns=[
        Column(
            "取り組み番号",
            "initiative",
            p_initiative,
            lambda o: _code(o.initiative),
            True,
            "例: 2.1",
        ),
        Column("事業名", "name", p_text, _get("name"), True),
        Column("年(和暦)", "era_label", p_text, _get("era_label"), True, "例: R3、H30、R03"),
        Column("担当課", "section", p_section, _name("section"), True),
        Column("表示順", "order", p_int(0), _get("order")),
    ],
    key=("initiative", "name"),
    fk_fields=("initiative", "section"),
    existing=lambda ctx: (
        ((initiative, name), pk)
        for initiative, name, pk in ProjectUnderWay.objects.filter(
            initiative__policy__plan=ctx.plan
        ).values_list("initiative_id", "name", "pk")
    ),
    related=("section",),
    queryset=lambda plan: (
        ProjectUnderWay.objects.filter(initiative__policy__plan=plan)
        .select_related("initiative__policy", "section")
        .order_by("initiative__policy__number", "initiative__number", "order")
    ),
)

PROGRESS = Spec(
    slug="progress",
    title=gettext_noop("進捗記録"),
    model=ProgressEntry,
    columns=[
        Column(
            "取り組み番号",
            "initiative",
            p_initiative,
            lambda o: _code(o.initiative),
            True,
            "例: 2.1",
        ),
        Column(
            "日付",
            "entry_date",
            p_bounded_date,
            _get("entry_date"),
            True,
            "例: 2026-04-01、令和8年4月1日、R8.4.1",
            period_warning=True,
        ),
        Column(
            "状況",
            "status",
            p_choice(ProgressStatus),
            _label(ProgressStatus, "status"),
            True,
            "未着手 / 順調 / 遅れ / 完了 / 中止",
        ),
        Column(
            "進捗率(%)", "percent", p_percent, _get("percent"), False, "0〜100、60%、または空欄"
        ),
        Column("実施内容", "done_text", p_text, _get("done_text")),
        Column("次の予定", "next_steps", p_text, _get("next_steps")),
        Column("課題", "issues_text", p_text, _get("issues_text")),
    ],
    key=("initiative", "entry_date"),
    fk_fields=("initiative", "author"),
    existing=lambda ctx: (
        ((initiative, day), pk)
        for initiative, day, pk in ProgressEntry.objects.filter(initiative__policy__plan=ctx.plan)
        .values_list("initiative_id", "entry_date", "pk")
        .iterator(chunk_size=5000)
    ),
    queryset=lambda plan: (
        ProgressEntry.objects.filter(initiative__policy__plan=plan)
        .select_related("initiative__policy")
        .only(  # the export reads only these; large exports build 3 objects per row
            "entry_date",
            "status",
            "percent",
            "done_text",
            "next_steps",
            "issues_text",
            "initiative__number",
            "initiative__policy__number",
        )
        .order_by("initiative__policy__number", "initiative__number", "entry_date", "id")
    ),
    new_defaults=lambda ctx: {"author": ctx.user},
)

INDICATOR_VALUES = Spec(
    slug="indicators",
    title=gettext_noop("指標の目標・実績"),
    model=IndicatorValue,
    columns=[
        Column(
            "取り組み番号",
            "initiative",
            p_initiative,
            lambda o: _code(o.indicator.initiative),
            True,
            "例: 2.1",
        ),
        Column(
            "指標名",
            "indicator_name",
            p_text,
            lambda o: o.indicator.name,
            True,
            "ない指標は新しく作られます",
        ),
        Column(
            "単位",
            "unit",
            p_text,
            lambda o: o.indicator.unit,
            False,
            "新しい指標のときのみ使います",
        ),
        Column(
            "年度",
            "fiscal_year",
            p_fiscal_year,
            lambda o: era.era_label(o.fiscal_year),
            True,
            "例: R8、令和8年度、2026",
        ),
        Column("目標値", "target", p_decimal, _get("target")),
        Column("実績値", "actual", p_decimal, _get("actual")),
        Column("備考", "note", p_text, _get("note")),
    ],
    key=("initiative", "indicator_name", "fiscal_year"),
    fk_fields=("indicator",),
    existing=lambda ctx: (
        ((initiative, name, fy), pk)
        for initiative, name, fy, pk in IndicatorValue.objects.filter(
            indicator__initiative__policy__plan=ctx.plan
        )
        .values_list("indicator__initiative_id", "indicator__name", "fiscal_year", "pk")
        .iterator(chunk_size=5000)
    ),
    related=("indicator",),
    queryset=lambda plan: (
        IndicatorValue.objects.filter(indicator__initiative__policy__plan=plan)
        .select_related("indicator__initiative__policy")
        .order_by(
            "indicator__initiative__policy__number",
            "indicator__initiative__number",
            "indicator__order",
            "indicator__name",
            "fiscal_year",
        )
    ),
)


class NewIndicators:
    """The indicator sheet's 取り組み番号 + 指標名 (+ 単位): the stored indicator, or one the
    file names first, created with the chunk that names it and validated by the model
    (its problems are reported after the rows', one per indicator)."""

    def __init__(self, ctx: Context) -> None:
        self.known = {
            (i.initiative_id, i.name): i
            for i in Indicator.objects.filter(initiative__policy__plan=ctx.plan)
        }
        self.new: dict[tuple[int, str], Indicator] = {}
        self.chunk: list[Indicator] = []
        self.problems: list[tuple[str, str]] = []

    def resolve(self, values: dict[str, Any]) -> dict[str, Any]:
        ini = values.pop("initiative")
        name = values.pop("indicator_name")
        unit = values.pop("unit") or ""
        ind = self.known.get((ini.pk, name)) or self.new.get((ini.pk, name))
        if ind is None:
            ind = Indicator(initiative=ini, name=name, unit=unit)
            self.new[(ini.pk, name)] = ind
            self.chunk.append(ind)
            try:
                ind.full_clean(
                    exclude=["initiative"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                for ms in exc.message_dict.values():
                    self.problems.extend((f"指標「{ind.name}」: {m}", "指標名") for m in ms)
        values["indicator"] = ind
        return values

    def take(self) -> list[Indicator]:
        out, self.chunk = self.chunk, []
        return out


INDICATOR_VALUES.linked = NewIndicators

GRADE_HEADER = "評価(取込対象外)"
COUNTED_HEADER = "数えた実績(取込対象外)"


def _indicator_extras(plan: Plan) -> list[ExtraColumn]:
    """The grade of each row and, for an indicator linked to a countable target, the actual
    counted from the target's rows (the figure every page shows and grades)."""
    indicators = list(
        Indicator.objects.filter(initiative__policy__plan=plan).prefetch_related("values")
    )
    attach_counted_actuals(indicators)
    shown: dict[int, tuple[str, Any]] = {}
    for ind in indicators:
        for value in ind.values.all():
            grade = indicator_grade(ind, value.fiscal_year)
            shown[value.pk] = (grade_text(grade), value.counted_actual)
    empty = (grade_text(UNGRADED), None)
    return [
        ExtraColumn(GRADE_HEADER, lambda v: shown.get(v.pk, empty)[0]),
        ExtraColumn(COUNTED_HEADER, lambda v: shown.get(v.pk, empty)[1]),
    ]


INDICATOR_VALUES.extra_columns = _indicator_extras

# The 確認済み column of the procedures and systems sheets: the secretariat's confirmation,
# the same one the list's 確認 button sets (initiatives.models.Confirmation is the rule).
_CONFIRMED = {"○", "◯", "確認済", "確認済み", "はい", "1", "true", "yes"}
_UNCONFIRMED = {"×", "未確認", "いいえ", "0", "false", "no", "-"}


def p_confirmation(value: Any, ctx: Context) -> str:
    text = unicodedata.normalize("NFKC", str(value)).strip().lower()
    if text in _CONFIRMED or value is True:
        return Confirmation.CONFIRMED
    if text in _UNCONFIRMED or value is False:
        return Confirmation.UNCONFIRMED
    raise RowError("○(確認済み)または ×(未確認)で入力してください。")


p_confirmation.choices = ("○", "×")  # type: ignore[attr-defined]  # the template's drop-down


def _confirmed_cell(obj: Any) -> str:
    return "○" if obj.is_confirmed else "×"


def confirmed_column() -> Column:
    return Column(
        "確認済み",
        "confirmation",
        p_confirmation,
        _confirmed_cell,
        False,
        "○(事務局が確認済み) / ×・空欄(未確認)",
        blank_value=Confirmation.UNCONFIRMED,
    )


def _stamp_confirmation(
    obj: Any, old: dict[str, Any] | None, ctx: Context, now: Any
) -> tuple[str, ...]:
    """Who confirmed the row and when: the importing person, now (only when it changed)."""
    if old is None or "confirmation" in old:
        stamp_confirmation(obj, by=ctx.user, at=now)
        return ("confirmed_by", "confirmed_at")
    return ()


PROCEDURES = Spec(
    slug="procedures",
    title=gettext_noop("オンライン化手続"),
    model=OnlineProcedure,
    columns=[
        Column("番号", "number", p_int(1), _get("number"), True),
        Column("手続名", "name", p_text, _get("name"), True),
        Column("分野", "category", p_text, _get("category")),
        Column(
            "申請手段",
            "channel",
            p_choice(OnlineProcedure.Channel),
            _label(OnlineProcedure.Channel, "channel"),
            False,
            "ぴったりサービス / 市の電子申請サービス / ベンダー提供の申請サービス / その他",
        ),
        Column("担当課", "section", p_section, _name("section")),
        Column(
            "状況",
            "status",
            p_choice(OnlineProcedure.Status),
            _label(OnlineProcedure.Status, "status"),
            True,
            "未着手 / 準備中 / オンライン化済",
        ),
        Column("オンライン化日", "online_on", p_date, _get("online_on")),
        Column("備考", "note", p_text, _get("note")),
        confirmed_column(),
    ],
    key=("number",),
    fk_fields=("target", "section"),
    existing=lambda ctx: (
        ((number,), pk)
        for number, pk in OnlineProcedure.objects.filter(
            target__plan=ctx.plan, target__code="online-procedures"
        ).values_list("number", "pk")
    ),
    related=("section",),
    queryset=lambda plan: OnlineProcedure.objects.filter(target__plan=plan).select_related(
        "section"
    ),
)

SYSTEMS = Spec(
    slug="systems",
    title=gettext_noop("標準化対象システム"),
    model=StandardSystem,
    columns=[
        Column("番号", "number", p_system_number, _get("number"), True, "1〜20 または ①〜⑳"),
        Column("グループ", "group", p_group, lambda o: o.group.name, True, "第1グループ など"),
        Column("業務・システム名", "name", p_text, _get("name"), True),
        Column("主管課", "section", p_section, _name("section")),
        Column(
            "移行フェーズ",
            "phase",
            p_choice(StandardSystem.Phase),
            _label(StandardSystem.Phase, "phase"),
            True,
            "未着手 / 標準仕様の確認 / Fit&Gap分析 / 調達・契約 / 移行・テスト / 移行完了(稼働)",
        ),
        Column("移行予定日", "planned_on", p_date, _get("planned_on")),
        Column("移行完了日", "migrated_on", p_date, _get("migrated_on")),
        Column("備考", "note", p_text, _get("note")),
        confirmed_column(),
    ],
    key=("number",),
    fk_fields=("group", "section"),
    existing=lambda ctx: (
        ((number,), pk)
        for number, pk in StandardSystem.objects.filter(group__target__plan=ctx.plan).values_list(
            "number", "pk"
        )
    ),
    related=("group", "section"),
    queryset=lambda plan: StandardSystem.objects.filter(group__target__plan=plan).select_related(
        "group", "section"
    ),
)


def _procedure_defaults(ctx: Context) -> dict[str, Any]:
    target = CountableTarget.objects.filter(plan=ctx.plan, code="online-procedures").first()
    return {"target": target}


PROCEDURES.new_defaults = _procedure_defaults
PROCEDURES.before_write = _stamp_confirmation
SYSTEMS.before_write = _stamp_confirmation


def _project_prepare(values: dict[str, Any], ctx: Context) -> dict[str, Any]:
    try:
        values["fiscal_year"] = era.parse_era_year(values["era_label"])
    except era.EraError as exc:
        raise RowError(str(exc), "era_label") from None
    return values


def _progress_prepare(values: dict[str, Any], ctx: Context) -> dict[str, Any]:
    # The model's bounds (ProgressEntry.clean asks the same), checked here first so that a
    # far-off date (9999-12-31) is one problem on its own cell, not on a derived year too.
    # No entry is built for it: the bounds are the plan's, on the import's day, once.
    plan = values["initiative"].policy.plan
    bounds = ctx.once(
        ("progress_bounds", plan.pk), lambda: ProgressEntry.date_bounds_in(plan, ctx.today)
    )
    try:
        bounds.check(values["entry_date"])
    except date_bounds.DateOutOfBounds as exc:
        raise RowError(str(exc), "entry_date") from None
    values["fiscal_year"] = ProgressEntry.fiscal_year_for(values["entry_date"])
    return values


PROJECTS.prepare = _project_prepare
PROGRESS.prepare = _progress_prepare

SPECS: dict[str, Spec] = {
    s.slug: s for s in (INITIATIVES, PROJECTS, PROGRESS, INDICATOR_VALUES, PROCEDURES, SYSTEMS)
}
SPECS_BY_MODEL = {s.model: s for s in SPECS.values()}
