"""Fast bulk import and export of progress data, keyed by natural keys (never database ids).

One engine, six sheets (initiatives, projects under way, progress entries, indicator
targets/actuals, online procedures, standardised systems). Like pretix's
``base/services/modelimport.py``: every row is parsed and validated first and every error is
collected (sheet, row, column, value, in Japanese); only a file without errors can be
written, in one transaction, with simple-history's bulk helpers so that every created or
changed row gets its history record naming the importing user.

Lookups (initiatives, sections, existing rows) are loaded once per import, so validating
10,000 rows costs a handful of queries, not 10,000.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from initiatives.models import (
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    ProjectUnderWay,
    StandardSystem,
    SystemGroup,
)
from kahoku_dx import era
from kahoku_dx.spreadsheets import (
    SpreadsheetError,
    cell_error,
    csv_bytes,
    display_value,
    iter_rows,
    stream_workbook,
    validate_upload,
)
from plans.models import Plan
from workgroups.models import Section, WorkingGroup

BATCH_SIZE = 1000
PREVIEW_LIMIT = 300


class RowError(ValueError):
    """A value cannot be used; the message is shown after the cell's position."""


# --------------------------------------------------------------------------------------------
# Value parsers: each takes the raw cell value (never None/blank) and returns the model value
# --------------------------------------------------------------------------------------------


def p_text(max_length: int) -> Callable[[Any, Context], str]:
    def parse(value: Any, ctx: Context) -> str:
        text = display_value(value)
        if len(text) > max_length:
            raise RowError(f"{max_length}文字以内で入力してください(現在{len(text)}文字)。")
        return text

    return parse


def p_initiative(value: Any, ctx: Context) -> Initiative:
    code = unicodedata.normalize("NFKC", display_value(value))
    found = ctx.initiatives.get(code)
    if found is None:
        raise RowError(
            "この番号の取り組みはありません。「2.1」のように基本方針番号.取り組み番号で入力してください。"
        )
    return found


def p_section(value: Any, ctx: Context) -> Section:
    name = display_value(value)
    found = ctx.sections.get(name)
    if found is None:
        raise RowError("この名前の課はありません。課名を正確に入力してください(例: 情報推進課)。")
    return found


def p_wg(value: Any, ctx: Context) -> WorkingGroup:
    name = display_value(value)
    found = ctx.wgs.get(name)
    if found is None:
        raise RowError("この名前のWGはありません(例: 情報推進課WG)。")
    return found


def p_choice(choices: type[models.TextChoices]) -> Callable[[Any, Context], str]:
    by_label = {str(label): value for value, label in choices.choices}
    values = {value for value, _ in choices.choices}

    def parse(value: Any, ctx: Context) -> str:
        text = display_value(value)
        if text in by_label:
            return by_label[text]
        if text in values:
            return text
        allowed = "、".join(label for label in by_label if label not in ("なし",))
        raise RowError(f"選択肢にありません。{allowed} のいずれかを入力してください。")

    return parse


_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def p_date(value: Any, ctx: Context) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", display_value(value))
    m = _DATE_RE.match(text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    raise RowError(
        "日付として読み取れません。2026-04-01 または 2026/4/1 のように入力してください。"
    )


def p_int(lo: int, hi: int) -> Callable[[Any, Context], int]:
    def parse(value: Any, ctx: Context) -> int:
        text = unicodedata.normalize("NFKC", display_value(value)).rstrip("%")
        try:
            number = int(text)
        except ValueError:
            raise RowError(f"{lo}から{hi}までの整数で入力してください。") from None
        if not lo <= number <= hi:
            raise RowError(f"{lo}から{hi}までの整数で入力してください。")
        return number

    return parse


def p_decimal(value: Any, ctx: Context) -> Decimal:
    text = unicodedata.normalize("NFKC", display_value(value)).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise RowError("数値で入力してください(例: 120、12.5)。") from None
    if not number.is_finite() or abs(number) >= Decimal("1e12"):
        raise RowError("数値で入力してください(例: 120、12.5)。")
    return number.quantize(Decimal("0.01"))


def p_fiscal_year(value: Any, ctx: Context) -> int:
    try:
        return era.parse_fiscal_year(display_value(value))
    except era.EraError as exc:
        raise RowError(str(exc)) from None


_TRUE = {"○", "◯", "はい", "公開", "1", "true", "yes"}
_FALSE = {"×", "いいえ", "非公開", "0", "false", "no", "-"}


def p_bool(value: Any, ctx: Context) -> bool:
    if isinstance(value, bool):
        return value
    text = display_value(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError("○(はい)または ×(いいえ)で入力してください。")


def p_system_number(value: Any, ctx: Context) -> int:
    text = display_value(value)
    if len(text) == 1 and 0x2460 <= ord(text) <= 0x2473:
        return ord(text) - 0x2460 + 1
    return p_int(1, 99)(value, ctx)


def p_group(value: Any, ctx: Context) -> SystemGroup:
    text = unicodedata.normalize("NFKC", display_value(value))
    m = re.fullmatch(r"(?:第)?(\d+)(?:グループ)?", text)
    group = ctx.groups.get(int(m[1])) if m else None
    if group is None:
        names = "、".join(g.name for g in ctx.groups.values())
        raise RowError(f"グループは {names} のいずれかを入力してください。")
    return group


# --------------------------------------------------------------------------------------------
# Specs
# --------------------------------------------------------------------------------------------


@dataclass
class Column:
    header: str
    attr: str  # model field (or a pseudo key such as "indicator_name")
    parse: Callable[[Any, Context], Any]
    export: Callable[[Any], Any]
    required: bool = False
    hint: str = ""


@dataclass
class Context:
    plan: Plan
    user: Any
    initiatives: dict[str, Initiative]
    sections: dict[str, Section]
    wgs: dict[str, WorkingGroup]
    groups: dict[int, SystemGroup]

    @classmethod
    def load(cls, plan: Plan, user: Any = None) -> Context:
        initiatives = {
            i.code: i for i in Initiative.objects.filter(policy__plan=plan).select_related("policy")
        }
        return cls(
            plan=plan,
            user=user,
            initiatives=initiatives,
            sections={s.name: s for s in Section.objects.all()},
            wgs={w.name: w for w in WorkingGroup.objects.filter(plan=plan)},
            groups={
                g.number: g
                for g in SystemGroup.objects.filter(
                    target__plan=plan, target__code="standard-systems"
                )
            },
        )


@dataclass
class Spec:
    slug: str
    title: str  # sheet name and screen title
    model: type[models.Model]
    columns: list[Column]
    key: tuple[str, ...]  # attrs forming the natural key
    fk_fields: tuple[str, ...] = ()
    existing: Callable[[Context], dict[tuple, Any]] = lambda ctx: {}
    queryset: Callable[[Plan], Iterable[Any]] = lambda plan: []
    prepare: Callable[[dict[str, Any], Context], dict[str, Any]] = lambda values, ctx: values
    new_defaults: Callable[[Context], dict[str, Any]] = lambda ctx: {}

    def header(self) -> list[str]:
        return [c.header for c in self.columns]

    def column(self, attr: str) -> Column | None:
        return next((c for c in self.columns if c.attr == attr), None)


def _code(i: Initiative) -> str:
    return f"{i.policy.number}.{i.number}"


def _label(choices: type[models.TextChoices], attr: str) -> Callable[[Any], str]:
    labels = dict(choices.choices)

    def export(obj: Any) -> str:
        value = getattr(obj, attr)
        return str(labels.get(value, value)) if value else ""

    return export


def _get(attr: str) -> Callable[[Any], Any]:
    return lambda obj: getattr(obj, attr)


def _name(attr: str) -> Callable[[Any], Any]:
    return lambda obj: getattr(getattr(obj, attr), "name", "") if getattr(obj, attr) else ""


def _unique_or_ambiguous(pairs: Iterable[tuple[tuple, Any]]) -> dict[tuple, Any]:
    out: dict[tuple, Any] = {}
    for key, obj in pairs:
        out[key] = AMBIGUOUS if key in out else obj
    return out


AMBIGUOUS = object()

INITIATIVES = Spec(
    slug="initiatives",
    title=gettext_noop("取り組み"),
    model=Initiative,
    columns=[
        Column("番号", "code", p_text(10), _code, True, "基本方針番号.取り組み番号(例: 2.1)"),
        Column("取り組み", "title", p_text(300), _get("title"), True),
        Column("内容", "description", p_text(5000), _get("description")),
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
    existing=lambda ctx: {(code,): i for code, i in ctx.initiatives.items()},
    queryset=lambda plan: Initiative.objects.filter(policy__plan=plan).select_related(
        "policy", "working_group", "lead_section"
    ),
)


def _initiative_prepare(values: dict[str, Any], ctx: Context) -> dict[str, Any]:
    code = values.pop("code")
    m = re.fullmatch(r"(\d+)\.(\d+)", unicodedata.normalize("NFKC", code))
    if not m:
        raise RowError("番号は「2.1」のように基本方針番号.取り組み番号で入力してください。", "code")
    policy = ctx.plan.policies.filter(number=int(m[1])).first()
    if policy is None:
        raise RowError(f"基本方針{m[1]}はありません。", "code")
    values["policy"] = policy
    values["number"] = int(m[2])
    return values


INITIATIVES.prepare = _initiative_prepare

PROJECTS = Spec(
    slug="projects",
    title=gettext_noop("既に取り組んでいる事業"),
    model=ProjectUnderWay,
    columns=[
        Column(
            "取り組み番号",
            "initiative",
            p_initiative,
            lambda o: _code(o.initiative),
            True,
            "例: 2.1",
        ),
        Column("事業名", "name", p_text(300), _get("name"), True),
        Column("年(和暦)", "era_label", p_text(10), _get("era_label"), True, "例: R3、H30、R03"),
        Column("担当課", "section", p_section, _name("section"), True),
        Column("表示順", "order", p_int(0, 32767), _get("order")),
    ],
    key=("initiative", "name"),
    fk_fields=("initiative", "section"),
    existing=lambda ctx: {
        (p.initiative_id, p.name): p
        for p in ProjectUnderWay.objects.filter(initiative__policy__plan=ctx.plan)
    },
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
        Column("日付", "entry_date", p_date, _get("entry_date"), True, "例: 2026-04-01"),
        Column(
            "状況",
            "status",
            p_choice(ProgressStatus),
            _label(ProgressStatus, "status"),
            True,
            "未着手 / 順調 / 遅れ / 完了 / 中止",
        ),
        Column("進捗率(%)", "percent", p_int(0, 100), _get("percent"), False, "0〜100 または空欄"),
        Column("実施内容", "done_text", p_text(10000), _get("done_text")),
        Column("次の予定", "next_steps", p_text(10000), _get("next_steps")),
        Column("課題", "issues_text", p_text(10000), _get("issues_text")),
    ],
    key=("initiative", "entry_date"),
    fk_fields=("initiative", "author"),
    existing=lambda ctx: _unique_or_ambiguous(
        ((e.initiative_id, e.entry_date), e)
        for e in ProgressEntry.objects.filter(initiative__policy__plan=ctx.plan)
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
            p_text(200),
            lambda o: o.indicator.name,
            True,
            "ない指標は新しく作られます",
        ),
        Column(
            "単位",
            "unit",
            p_text(30),
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
        Column("備考", "note", p_text(300), _get("note")),
    ],
    key=("initiative", "indicator_name", "fiscal_year"),
    fk_fields=("indicator",),
    existing=lambda ctx: {
        (v.indicator.initiative_id, v.indicator.name, v.fiscal_year): v
        for v in IndicatorValue.objects.filter(
            indicator__initiative__policy__plan=ctx.plan
        ).select_related("indicator")
    },
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

PROCEDURES = Spec(
    slug="procedures",
    title=gettext_noop("オンライン化手続"),
    model=OnlineProcedure,
    columns=[
        Column("番号", "number", p_int(1, 32767), _get("number"), True),
        Column("手続名", "name", p_text(300), _get("name"), True),
        Column("分野", "category", p_text(100), _get("category")),
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
        Column("備考", "note", p_text(5000), _get("note")),
    ],
    key=("number",),
    fk_fields=("target", "section"),
    existing=lambda ctx: {
        (p.number,): p
        for p in OnlineProcedure.objects.filter(
            target__plan=ctx.plan, target__code="online-procedures"
        )
    },
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
        Column("業務・システム名", "name", p_text(100), _get("name"), True),
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
        Column("備考", "note", p_text(5000), _get("note")),
    ],
    key=("number",),
    fk_fields=("group", "section"),
    existing=lambda ctx: {
        (s.number,): s for s in StandardSystem.objects.filter(group__target__plan=ctx.plan)
    },
    queryset=lambda plan: StandardSystem.objects.filter(group__target__plan=plan).select_related(
        "group", "section"
    ),
)


def _procedure_defaults(ctx: Context) -> dict[str, Any]:
    target = CountableTarget.objects.filter(plan=ctx.plan, code="online-procedures").first()
    return {"target": target}


PROCEDURES.new_defaults = _procedure_defaults


def _project_prepare(values: dict[str, Any], ctx: Context) -> dict[str, Any]:
    try:
        values["fiscal_year"] = era.parse_era_year(values["era_label"])
    except era.EraError as exc:
        raise RowError(str(exc), "era_label") from None
    return values


def _progress_prepare(values: dict[str, Any], ctx: Context) -> dict[str, Any]:
    values["fiscal_year"] = era.fiscal_year_of(values["entry_date"])
    return values


PROJECTS.prepare = _project_prepare
PROGRESS.prepare = _progress_prepare

SPECS: dict[str, Spec] = {
    s.slug: s for s in (INITIATIVES, PROJECTS, PROGRESS, INDICATOR_VALUES, PROCEDURES, SYSTEMS)
}
SPECS_BY_MODEL = {s.model: s for s in SPECS.values()}


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------


def export_rows(spec: Spec, plan: Plan) -> Iterator[list[Any]]:
    for obj in spec.queryset(plan).iterator(chunk_size=5000):
        yield [c.export(obj) for c in spec.columns]


def export_xlsx(spec: Spec, plan: Plan) -> bytes:
    return stream_workbook([(spec.title, spec.header(), export_rows(spec, plan))])


def export_csv(spec: Spec, plan: Plan) -> bytes:
    return csv_bytes(spec.header(), export_rows(spec, plan))


def template_xlsx(spec: Spec) -> bytes:
    """An empty sheet with the headers, and a second sheet explaining each column."""
    guide = [[c.header, "必須" if c.required else "", c.hint or ""] for c in spec.columns] + [
        ["", "", ""],
        ["キー", "", "、".join(spec.column(k).header for k in spec.key if spec.column(k))],
        ["", "", "キーが同じ行は更新、ない行は追加されます。ファイルにない行は削除されません。"],
    ]
    return stream_workbook(
        [(spec.title, spec.header(), []), ("記入方法", ["列", "必須", "入力のしかた"], guide)]
    )


# --------------------------------------------------------------------------------------------
# Import
# --------------------------------------------------------------------------------------------


@dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class RowResult:
    row: int
    key_label: str
    action: str  # "added" | "changed" | "unchanged"
    diffs: list[FieldChange] = field(default_factory=list)
    new_obj: Any = None

    @property
    def changes(self) -> list[FieldChange]:
        if self.new_obj is None:
            return self.diffs
        spec = SPECS_BY_MODEL[type(self.new_obj)]
        out = []
        for c in spec.columns:
            if c.attr in spec.key or not hasattr(self.new_obj, c.attr):
                continue
            value = getattr(self.new_obj, c.attr)
            if value not in (None, ""):
                f = self.new_obj._meta.get_field(c.attr)
                out.append(FieldChange(c.header, "", _display(f, value)))
        return out

    @property
    def action_label(self) -> str:
        return {"added": "追加", "changed": "変更", "unchanged": "変更なし"}[self.action]


@dataclass
class ImportResult:
    spec: Spec
    sheet: str
    to_create: list[Any]
    to_update: list[Any]
    update_fields: list[str]
    rows: list[RowResult]
    new_indicators: list[Indicator] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"added": 0, "changed": 0, "unchanged": 0}
        for r in self.rows:
            out[r.action] += 1
        return out

    @property
    def preview_rows(self) -> list[RowResult]:
        return [r for r in self.rows if r.action != "unchanged"][:PREVIEW_LIMIT]

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for r in self.rows:
            h.update(f"{r.row}|{r.key_label}|{r.action}|".encode())
            for c in r.diffs:
                h.update(f"{c.label}={c.old}>{c.new};".encode())
        return h.hexdigest()


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Initiative):
        return value.code
    if isinstance(value, models.Model):
        return str(getattr(value, "name", None) or value)
    if isinstance(value, bool):
        return "○" if value else "×"
    return str(value)


def _find_header(
    rows: Iterator[tuple[str, int, list]], spec: Spec
) -> tuple[str, int, dict[int, Column], list[str]]:
    required = {c.header for c in spec.columns if c.required}
    by_header = {c.header: c for c in spec.columns}
    seen = 0
    for sheet, number, values in rows:
        seen += 1
        texts = [display_value(v) for v in values]
        if required <= set(texts):
            col_map = {i: by_header[t] for i, t in enumerate(texts) if t in by_header}
            return sheet, number, col_map, []
        if seen >= 20:
            break
    names = "、".join(c.header for c in spec.columns if c.required)
    raise SpreadsheetError(
        f"見出し行が見つかりません。1行目に列名({names} ほか)を入れてください。"
        "テンプレートをダウンロードして使うと確実です。"
    )


def parse_import(
    spec: Spec,
    data: bytes,
    filename: str,
    *,
    plan: Plan,
    user: Any = None,
    engine: str = "calamine",
) -> ImportResult:
    """Read, validate and compare every row. Raises SpreadsheetError with ALL problems."""
    kind = validate_upload(data, filename, allow_csv=True)
    ctx = Context.load(plan, user)
    rows_iter = iter_rows(data, kind, engine=engine)
    sheet, header_row, col_map, _ = _find_header(rows_iter, spec)
    existing = spec.existing(ctx)
    defaults = spec.new_defaults(ctx)
    header_index = {c.attr: i for i, c in col_map.items()}
    errors: list[str] = []
    results: list[RowResult] = []
    to_create: list[Any] = []
    to_update: list[Any] = []
    changed_fields: set[str] = set()
    seen_keys: dict[tuple, int] = {}
    indicators: dict[tuple[int, str], Indicator] = {}
    new_indicators: dict[tuple[int, str], Indicator] = {}
    if spec is INDICATOR_VALUES:
        indicators = {
            (i.initiative_id, i.name): i
            for i in Indicator.objects.filter(initiative__policy__plan=plan)
        }
    model_fields = {f.name: f for f in spec.model._meta.concrete_fields}
    now = timezone.now()

    for row_sheet, number, values in rows_iter:
        if row_sheet != sheet:
            break
        parsed: dict[str, Any] = {}
        row_errors: list[str] = []
        for i, column in col_map.items():
            raw = values[i] if i < len(values) else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if column.required:
                    row_errors.append(
                        cell_error(
                            sheet, number, i + 1, column.header, "", "必須です。入力してください。"
                        )
                    )
                else:
                    parsed[column.attr] = _blank(model_fields.get(column.attr))
                continue
            try:
                parsed[column.attr] = column.parse(raw, ctx)
            except RowError as exc:
                row_errors.append(cell_error(sheet, number, i + 1, column.header, raw, exc.args[0]))
        if row_errors:
            errors.extend(row_errors)
            continue

        key = tuple(
            parsed[k].pk if isinstance(parsed[k], models.Model) else parsed[k] for k in spec.key
        )
        key_label = " / ".join(_shown(parsed[k]) for k in spec.key)
        if spec is INITIATIVES:
            key = (unicodedata.normalize("NFKC", parsed["code"]),)
        first_col = header_index[spec.key[-1]] + 1
        if key in seen_keys:
            errors.append(
                cell_error(
                    sheet,
                    number,
                    first_col,
                    col_map[first_col - 1].header,
                    key_label,
                    f"{seen_keys[key]}行目と同じキーです。1行にまとめてください。",
                )
            )
            continue
        seen_keys[key] = number
        try:
            parsed = spec.prepare(parsed, ctx)
        except RowError as exc:
            attr = exc.args[1] if len(exc.args) > 1 else spec.key[0]
            col = header_index.get(attr, 0) + 1
            shown = parsed.get(attr, key_label)
            errors.append(
                cell_error(sheet, number, col, col_map[col - 1].header, _shown(shown), exc.args[0])
            )
            continue

        if spec is INDICATOR_VALUES:
            ini = parsed.pop("initiative")
            name = parsed.pop("indicator_name")
            unit = parsed.pop("unit") or ""
            ind = indicators.get((ini.pk, name)) or new_indicators.get((ini.pk, name))
            if ind is None:
                ind = Indicator(initiative=ini, name=name, unit=unit)
                new_indicators[(ini.pk, name)] = ind
            parsed["indicator"] = ind

        obj = existing.get(key)
        if obj is AMBIGUOUS:
            errors.append(
                cell_error(
                    sheet,
                    number,
                    first_col,
                    col_map[first_col - 1].header,
                    key_label,
                    "同じキーのデータが複数登録されているため、どれを更新するか決められません。",
                )
            )
            continue
        fields = {k: v for k, v in parsed.items() if k in model_fields}
        if obj is None:
            obj = spec.model(**defaults, **fields)
            action = "added"
            diffs = []  # shown from the object itself, only for the rows on the preview
        else:
            diffs = []
            for k, v in fields.items():
                old = getattr(obj, k)
                if old != v:
                    f = model_fields[k]
                    diffs.append(FieldChange(_verbose(spec, k), _display(f, old), _display(f, v)))
                    setattr(obj, k, v)
                    changed_fields.add(k)
            action = "changed" if diffs else "unchanged"
        try:
            obj.full_clean(
                exclude=list(spec.fk_fields), validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            for attr, messages in exc.message_dict.items():
                col = header_index.get(attr)
                header = col_map[col].header if col is not None else ""
                value = parsed.get(attr, getattr(obj, attr, "")) if attr != "__all__" else ""
                for m in messages:
                    errors.append(
                        cell_error(sheet, number, (col or 0) + 1, header, _shown(value), m)
                    )
            continue
        results.append(
            RowResult(number, key_label, action, diffs, obj if action == "added" else None)
        )
        if action == "added":
            to_create.append(obj)
        elif action == "changed":
            if hasattr(obj, "version"):
                obj.version += 1
            if hasattr(obj, "updated_at"):
                obj.updated_at = now
            to_update.append(obj)
    if errors:
        raise SpreadsheetError(*errors)
    if not results:
        raise SpreadsheetError(f"シート「{sheet}」に見出し行より下のデータ行がありません。")
    fields = sorted(changed_fields)
    if to_update:
        fields += [f for f in ("version", "updated_at", "fiscal_year") if f in model_fields]
    for ind in new_indicators.values():
        try:
            ind.full_clean(
                exclude=["initiative"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            errors.extend(
                f"指標「{ind.name}」: {m}" for ms in exc.message_dict.values() for m in ms
            )
    if errors:
        raise SpreadsheetError(*errors)
    return ImportResult(
        spec,
        sheet,
        to_create,
        to_update,
        sorted(set(fields)),
        results,
        list(new_indicators.values()),
    )


def _display(f: models.Field, value: Any) -> str:
    """A value as the preview shows it: choices by their Japanese label."""
    if f.choices and value not in (None, ""):
        return str(dict(f.flatchoices).get(value, value))
    return _shown(value)


def _blank(f: models.Field | None) -> Any:
    if f is None:
        return None
    if f.null:
        return None
    if isinstance(f, models.BooleanField):
        return False
    return ""


def _verbose(spec: Spec, attr: str) -> str:
    col = spec.column(attr)
    if col:
        return col.header
    try:
        return str(spec.model._meta.get_field(attr).verbose_name)
    except Exception:
        return attr


def import_apply(result: ImportResult, *, user: Any) -> dict[str, int]:
    """Write a validated import: one transaction, bulk, with history naming ``user``."""
    with transaction.atomic():
        if result.new_indicators:
            bulk_create_with_history(
                result.new_indicators, Indicator, batch_size=BATCH_SIZE, default_user=user
            )
            for obj in result.to_create:
                obj.indicator = obj.indicator  # refresh the FK id now the indicator has a pk
        if result.to_create:
            bulk_create_with_history(
                result.to_create, result.spec.model, batch_size=BATCH_SIZE, default_user=user
            )
        if result.to_update:
            bulk_update_with_history(
                result.to_update,
                result.spec.model,
                result.update_fields,
                batch_size=BATCH_SIZE,
                default_user=user,
            )
    return result.counts()


def bulk_import(
    *,
    slug: str,
    plan: Plan,
    data: bytes,
    filename: str,
    user: Any,
    expected_fingerprint: str | None = None,
) -> ImportResult:
    """Parse, validate and write in one go (the confirm step of the preview screens)."""
    spec = SPECS[slug]
    with transaction.atomic():
        result = parse_import(spec, data, filename, plan=plan, user=user)
        if expected_fingerprint is not None and result.fingerprint != expected_fingerprint:
            raise SpreadsheetError(
                "プレビューの後にデータが変更されました。もう一度ファイルを読み込んで確認してください。"
            )
        import_apply(result, user=user)
    return result
