"""Column types of the bulk sheets: cell parsers, the per-import lookup context, Column and Spec.

Each parser takes one raw cell value (never None or blank) and returns the model value, or
raises RowError with the Japanese sentence shown after the cell's position. Rules that the
model itself checks (lengths, ranges, clean()) are left to the model's full_clean().
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

from django.db import models
from django.utils import timezone

from initiatives.models import (
    Initiative,
    SystemGroup,
)
from plans.models import Plan
from portal_lib import era
from portal_lib.codes import normalise_initiative_code
from portal_lib.importing import Heading
from portal_lib.sheet_reading import PercentCell, display_value
from workgroups.models import Section, WorkingGroup

if TYPE_CHECKING:
    from portal_lib.users import PortalUser


class RowError(ValueError):
    """A value cannot be used; the message is shown after the cell's position."""


# --------------------------------------------------------------------------------------------
# Value parsers: each takes the raw cell value (never None/blank) and returns the model value
# --------------------------------------------------------------------------------------------


def p_text(value: Any, ctx: Context) -> str:
    # Length is the model's rule (max_length, checked by full_clean), not repeated here.
    if value.__class__ is str:
        return value.strip()  # display_value's result for text, without its type checks
    return display_value(value)


NO_SUCH_INITIATIVE = (
    "この番号の取り組みはありません。「2.1」のように基本方針番号.取り組み番号で入力してください。"
)


def p_initiative(value: Any, ctx: Context) -> Initiative:
    """ "2.1", full-width "２．１", "2-1" and 「2.1」 all name initiative 2.1 (portal_lib.codes)."""
    code = normalise_initiative_code(display_value(value))
    if code is None:
        raise RowError(NO_SUCH_INITIATIVE)
    if isinstance(value, float) and f"{code}0" in ctx.initiatives:
        # A number cell cannot tell 2.1 from 2.10: Excel stores both as 2.1.
        raise RowError(
            f"数値のセルでは {code} と {code}0 を区別できません。"
            "セルを文字列にするか「'2.10」のように入力してください。"
        )
    found = ctx.initiatives.get(code)
    if found is None:
        raise RowError(NO_SUCH_INITIATIVE)
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

    # What a template's drop-down offers (a blank cell is "なし" where that is a choice).
    parse.choices = tuple(label for label in by_label if label != "なし")  # type: ignore[attr-defined]
    return parse


def p_date(value: Any, ctx: Context) -> date:
    """A date as people type it (portal_lib.era.parse_date), a date cell (also one shown in
    和暦), or an Excel serial number in a number cell."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return era.date_from_excel_serial(value)
        return era.parse_date(display_value(value))
    except era.EraError as exc:
        reason = getattr(exc, "reason", "")
        raise RowError(
            f"日付として読み取れません。{reason + '。' if reason else ''}{era.DATE_HINT}"
        ) from None


def p_bounded_date(value: Any, ctx: Context) -> date:
    """As p_date, for a date with bounds (portal_lib.date_bounds): a real but far-off day
    (9999-12-31) is read, so that the model refuses it with its bounds, as the form does."""
    if isinstance(value, str):
        try:
            return era.parse_date(display_value(value))
        except era.EraError as exc:
            far = getattr(exc, "date", None)
            if far is not None:
                return far
    return p_date(value, ctx)


# The date parsers: an export writes their columns as date cells (export.number_format).
DATE_PARSERS = (p_date, p_bounded_date)


def p_int(lo: int = 0) -> Callable[[Any, Context], int]:
    """A whole number; the upper bound is the model field's own (full_clean)."""

    def parse(value: Any, ctx: Context) -> int:
        number = _whole_number(value)
        if number is None or number < lo:
            raise RowError(f"{lo}以上の整数で入力してください。")
        return number

    return parse


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = unicodedata.normalize("NFKC", display_value(value)).replace(",", "")
    return int(text) if re.fullmatch(r"[+-]?\d{1,9}", text) else None


PERCENT_HINT = "0〜100の整数、60%、または % 表示のセル(0.6)で入力してください。"


def p_percent(value: Any, ctx: Context) -> int:
    """60, "60%", "６０％", or a cell holding 0.6 shown with a % format. 0〜100 is the model's
    rule (its validators), not repeated here."""
    if isinstance(value, PercentCell):
        number = _whole_number(round(float(value) * 100, 6))
    elif isinstance(value, float) and 0 < value < 1:
        # A fraction cannot be a whole percent: it is a % cell whose format was not seen.
        number = _whole_number(round(value * 100, 6))
    else:
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value).strip().removesuffix("%").strip()
        number = _whole_number(value)
    if number is None:
        raise RowError(PERCENT_HINT)
    return number


def p_decimal(value: Any, ctx: Context) -> Decimal:
    text = unicodedata.normalize("NFKC", display_value(value)).replace(",", "")
    try:
        number = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise RowError("数値で入力してください(例: 120、12.5)。") from None
    if not number.is_finite():
        raise RowError("数値で入力してください(例: 120、12.5)。")
    return number


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


p_bool.choices = ("○", "×")  # type: ignore[attr-defined]  # what a template's drop-down offers


def p_system_number(value: Any, ctx: Context) -> int:
    text = display_value(value)
    if len(text) == 1 and 0x2460 <= ord(text) <= 0x2473:
        return ord(text) - 0x2460 + 1
    number = _whole_number(value)
    if number is None or not 1 <= number <= 99:
        raise RowError("1から99までの整数で入力してください。")
    return number


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
    period_warning: bool = False  # warn (not refuse) outside the plan period / this fiscal year
    blank_value: Any = None  # what a blank cell means, when not the model field's blank

    @property
    def heading(self) -> Heading:
        """How the import framework finds this column: by its header, exactly as written."""
        return Heading(self.attr, self.header, required=self.required)


@dataclass
class Context:
    plan: Plan
    user: PortalUser | None  # who the history names; None: a command run without --user
    initiatives: dict[str, Initiative]
    sections: dict[str, Section]
    wgs: dict[str, WorkingGroup]
    groups: dict[int, SystemGroup]
    # The import's day (local date when it started): what "today" means for every row's
    # date bounds, asked once instead of for each row.
    today: date = field(default_factory=timezone.localdate)
    # What the specs' hooks work out once per import (``once``), by key.
    derived: dict[Hashable, Any] = field(default_factory=dict)

    def once(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """``make()`` the first time ``key`` is asked in this import, then what it gave."""
        try:
            return self.derived[key]
        except KeyError:
            value = self.derived[key] = make()
            return value

    @classmethod
    def load(cls, plan: Plan, user: PortalUser | None = None) -> Context:
        initiatives = {
            i.code: i
            for i in Initiative.objects.filter(policy__plan=plan).select_related("policy__plan")
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


@dataclass(frozen=True)
class ExtraColumn:
    """An export-only column: shown to people, ignored by the importer (not in the spec)."""

    header: str
    value: Callable[[Any], Any]
    number_format: str | None = None


@dataclass
class Spec:
    slug: str
    title: str  # sheet name and screen title
    model: type[models.Model]
    columns: list[Column]
    key: tuple[str, ...]  # attrs forming the natural key
    fk_fields: tuple[str, ...] = ()
    # (natural key, pk) of every stored row a file may update; the rows themselves are read
    # a chunk at a time, only for the keys the file names (with ``related`` joined).
    existing: Callable[[Context], Iterable[tuple[tuple, int]]] = lambda ctx: ()
    related: tuple[str, ...] = ()
    queryset: Callable[[Plan], Iterable[Any]] = lambda plan: []
    prepare: Callable[[dict[str, Any], Context], dict[str, Any]] = lambda values, ctx: values
    new_defaults: Callable[[Context], dict[str, Any]] = lambda ctx: {}
    # Called for each added (old values None) or changed row before it is validated; returns
    # the further fields it set (e.g. who confirmed a row and when), written with the row.
    before_write: Callable[[Any, dict[str, Any] | None, Context, Any], tuple[str, ...]] | None = (
        None
    )
    # The key two rows of one file may not share, from the parsed row, when it is not the
    # key columns' values (ids for references); e.g. an initiative code however it is typed.
    row_key: Callable[[dict[str, Any]], tuple] | None = None
    # Objects the rows refer to that a file may name first (a new indicator), made once
    # per import: resolved after ``prepare``, created before the rows of each chunk.
    linked: Callable[[Context], Linked] | None = None
    # Export only: the columns shown after the spec's own for one plan's export (the
    # importer ignores them; e.g. the grade of each indicator value).
    extra_columns: Callable[[Plan], list[ExtraColumn]] | None = None
    # Export and template print layout: few, narrow columns print portrait, the rest landscape.
    portrait: bool = False

    def header(self) -> list[str]:
        return [c.header for c in self.columns]

    def column(self, attr: str) -> Column | None:
        return next((c for c in self.columns if c.attr == attr), None)


class Linked(Protocol):
    """What ``Spec.linked`` makes for one import."""

    problems: list[tuple[str, str]]  # (message, column), reported after the rows' problems

    def resolve(self, values: dict[str, Any]) -> dict[str, Any]:
        """The row's values with the linked object in place of the columns naming it."""
        ...

    def take(self) -> list[Any]:
        """The new linked objects named since the last call (saved before the chunk's rows)."""
        ...


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
