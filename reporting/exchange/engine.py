"""The import engine: read, find the header, parse and validate every row, collect errors."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from initiatives.models import (
    Indicator,
    Initiative,
)
from kahoku_dx import era
from kahoku_dx.spreadsheets import (
    ImportLimits,
    SpreadsheetError,
    cell_error,
    display_value,
    open_upload,
    too_many_rows,
)
from plans.models import Plan
from reporting.exchange.columns import AMBIGUOUS, Column, Context, RowError, Spec
from reporting.exchange.sheets import INDICATOR_VALUES, INITIATIVES, SPECS_BY_MODEL

PREVIEW_LIMIT = 300  # changed rows kept for the preview page
MAX_KEPT_ERRORS = 100  # problems kept with their cells; the rest are only counted


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


class ErrorLog:
    """Every problem counted, the first ``keep`` kept with their cells (the page stays small)."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.messages: list[str] = []
        self.total = 0
        self.by_column: dict[str, int] = {}

    def add(self, message: str | Callable[[], str], column: str = "") -> None:
        """Count a problem; ``message`` may be a callable, built only if the problem is kept."""
        self.total += 1
        self.by_column[column] = self.by_column.get(column, 0) + 1
        if len(self.messages) < self.keep:
            self.messages.append(message() if callable(message) else message)

    @property
    def full(self) -> bool:
        return len(self.messages) >= self.keep

    def __bool__(self) -> bool:
        return self.total > 0

    def summary(self) -> list[str]:
        """The kept messages, then one line per column when some were left out."""
        if self.total <= len(self.messages):
            return list(self.messages)
        per_column = "、".join(
            f"{col or 'その他'} {n:,}件"
            for col, n in sorted(self.by_column.items(), key=lambda kv: -kv[1])
        )
        return [
            *self.messages,
            f"ほかにも問題があります。全部で{self.total:,}件のうち最初の{len(self.messages)}件を"
            f"表示しています(列ごとの件数: {per_column})。",
        ]

    def error(self, counts: dict[str, int] | None = None) -> SpreadsheetError:
        exc = SpreadsheetError(*self.summary(), total=self.total)
        exc.counts = dict(counts or {})  # type: ignore[attr-defined]  # rows that were fine
        return exc


@dataclass
class ImportResult:
    """What the preview shows and the writer writes. Only the first PREVIEW_LIMIT changed rows
    are kept for display; counts and the fingerprint cover every row."""

    spec: Spec
    sheet: str
    to_create: list[Any]
    to_update: list[Any]
    update_fields: list[str]
    rows: list[RowResult]  # the first PREVIEW_LIMIT added/changed rows
    new_indicators: list[Indicator] = field(default_factory=list)
    tally: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""
    warnings: list[str] = field(default_factory=list)
    warning_total: int = 0

    def counts(self) -> dict[str, int]:
        return {"added": 0, "changed": 0, "unchanged": 0, **self.tally}

    @property
    def preview_rows(self) -> list[RowResult]:
        return self.rows


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
    limits: ImportLimits | None = None,
    today: date | None = None,
) -> ImportResult:
    """Read, validate and compare every row. Raises SpreadsheetError with the problems (the
    first MAX_KEPT_ERRORS with their cells, and how many there were per column).

    Bounded: the upload is refused while it streams when a sheet has too many rows, cells or
    too much text (kahoku_dx.spreadsheets.ImportLimits); data rows are counted again here.
    Each new or changed object is validated by the model's own full_clean(), so a rule has
    one home; the parsers only turn what people type into values.
    """
    upload = open_upload(data, filename, allow_csv=True, limits=limits)
    limits = upload.limits
    ctx = Context.load(plan, user)
    rows_iter = upload.rows(engine=engine)
    sheet, header_row, col_map, _ = _find_header(rows_iter, spec)
    existing = spec.existing(ctx)
    defaults = spec.new_defaults(ctx)
    header_index = {c.attr: i for i, c in col_map.items()}
    errors = ErrorLog(MAX_KEPT_ERRORS)
    warnings = ErrorLog(MAX_KEPT_ERRORS)
    tally = {"added": 0, "changed": 0, "unchanged": 0}
    fingerprint = hashlib.sha256()
    shown_rows: list[RowResult] = []
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
    period = (era.fiscal_year_start(plan.start_fy), era.fiscal_year_end(plan.end_fy))
    this_year = era.current_fiscal_year(today or timezone.localdate())
    data_rows = 0

    def cell(number: int, col: int, value: Any, message: str) -> Callable[[], str]:
        return partial(cell_error, sheet, number, col + 1, col_map[col].header, value, message)

    for row_sheet, number, values in rows_iter:
        if row_sheet != sheet:
            break
        data_rows += 1
        if data_rows > limits.max_rows:
            raise SpreadsheetError(too_many_rows(limits.max_rows))
        parsed: dict[str, Any] = {}
        failed: set[str] = set()
        for i, column in col_map.items():
            raw = values[i] if i < len(values) else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if column.required:
                    errors.add(cell(number, i, "", "必須です。入力してください。"), column.header)
                    failed.add(column.attr)
                else:
                    parsed[column.attr] = _blank(model_fields.get(column.attr))
                continue
            try:
                parsed[column.attr] = column.parse(raw, ctx)
            except RowError as exc:
                errors.add(cell(number, i, raw, exc.args[0]), column.header)
                failed.add(column.attr)
                continue
            if column.period_warning and isinstance(parsed[column.attr], date):
                warning = _period_warning(parsed[column.attr], period, this_year)
                if warning:
                    warnings.add(cell(number, i, parsed[column.attr], warning), column.header)
        if failed and errors.full:
            continue
        if failed:
            # The cells that did parse still get the model's field rules, so the rows the page
            # shows report every problem, not only the first kind (past the first
            # MAX_KEPT_ERRORS problems only the parsers' problems are counted).
            ok = {k: v for k, v in parsed.items() if k in model_fields and k not in failed}
            draft = spec.model(**ok)
            skip = [f for f in model_fields if f not in ok or f in spec.fk_fields]
            try:
                draft.clean_fields(exclude=skip)
            except ValidationError as exc:
                _model_errors(exc, errors, parsed, draft, header_index, col_map, sheet, number)
            continue

        key = tuple(
            parsed[k].pk if isinstance(parsed[k], models.Model) else parsed[k] for k in spec.key
        )
        key_label = " / ".join(_shown(parsed[k]) for k in spec.key)
        if spec is INITIATIVES:
            key = (unicodedata.normalize("NFKC", parsed["code"]),)
        first_col = header_index[spec.key[-1]]
        if key in seen_keys:
            errors.add(
                cell(
                    number,
                    first_col,
                    key_label,
                    f"{seen_keys[key]}行目と同じキーです。1行にまとめてください。",
                ),
                col_map[first_col].header,
            )
            continue
        seen_keys[key] = number
        try:
            parsed = spec.prepare(parsed, ctx)
        except RowError as exc:
            attr = exc.args[1] if len(exc.args) > 1 else spec.key[0]
            col = header_index.get(attr, 0)
            shown = parsed.get(attr, key_label)
            errors.add(cell(number, col, _shown(shown), exc.args[0]), col_map[col].header)
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
            errors.add(
                cell(
                    number,
                    first_col,
                    key_label,
                    "同じキーのデータが複数登録されているため、どれを更新するか決められません。",
                ),
                col_map[first_col].header,
            )
            continue
        fields = {k: v for k, v in parsed.items() if k in model_fields}
        old_values: dict[str, Any] = {}
        if obj is None:
            obj = spec.model(**defaults, **fields)
            action = "added"
            diffs: list[FieldChange] = []  # shown from the object itself, on the preview only
        else:
            diffs = []
            for k, v in fields.items():
                old = getattr(obj, k)
                if old != v:
                    f = model_fields[k]
                    diffs.append(FieldChange(_verbose(spec, k), _display(f, old), _display(f, v)))
                    old_values[k] = old
                    setattr(obj, k, v)
            action = "changed" if diffs else "unchanged"
        try:
            obj.full_clean(
                exclude=list(spec.fk_fields), validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            for k, old in old_values.items():  # the existing object stays as it was
                setattr(obj, k, old)
            _model_errors(exc, errors, parsed, obj, header_index, col_map, sheet, number)
            continue
        changed_fields.update(old_values)
        tally[action] += 1
        fingerprint.update(f"{number}|{key_label}|{action}|".encode())
        for c in diffs:
            fingerprint.update(f"{c.label}={c.old}>{c.new};".encode())
        if action != "unchanged" and len(shown_rows) < PREVIEW_LIMIT:
            shown_rows.append(
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
        raise errors.error(tally)
    if not sum(tally.values()):
        raise SpreadsheetError(f"シート「{sheet}」に見出し行より下のデータ行がありません。")
    update_fields = sorted(changed_fields)
    if to_update:
        update_fields += [f for f in ("version", "updated_at", "fiscal_year") if f in model_fields]
    for ind in new_indicators.values():
        try:
            ind.full_clean(
                exclude=["initiative"], validate_unique=False, validate_constraints=False
            )
        except ValidationError as exc:
            for ms in exc.message_dict.values():
                for m in ms:
                    errors.add(f"指標「{ind.name}」: {m}", "指標名")
    if errors:
        raise errors.error(tally)
    return ImportResult(
        spec,
        sheet,
        to_create,
        to_update,
        sorted(set(update_fields)),
        shown_rows,
        list(new_indicators.values()),
        tally=tally,
        fingerprint=fingerprint.hexdigest(),
        warnings=warnings.summary(),
        warning_total=warnings.total,
    )


def _model_errors(
    exc: ValidationError,
    errors: ErrorLog,
    parsed: dict[str, Any],
    obj: Any,
    header_index: dict[str, int],
    col_map: dict[int, Column],
    sheet: str,
    number: int,
) -> None:
    """The model's own messages, placed on the cell of the field they name."""
    for attr, messages in exc.message_dict.items():
        col = header_index.get(attr)
        header = col_map[col].header if col is not None else ""
        value = parsed.get(attr, getattr(obj, attr, "")) if attr != "__all__" else ""
        for m in messages:
            errors.add(
                partial(cell_error, sheet, number, (col or 0) + 1, header, _shown(value), m), header
            )


def _period_warning(d: date, period: tuple[date, date], this_year: int) -> str:
    if not period[0] <= d <= period[1]:
        return (
            f"計画期間({period[0].isoformat()}〜{period[1].isoformat()})の外の日付です。"
            "取り込めますが、入力の誤りでないか確認してください。"
        )
    if era.fiscal_year_of(d) != this_year:
        return (
            f"今年度({era.format_fiscal_year(this_year)})以外の日付です。"
            "取り込めますが、入力の誤りでないか確認してください。"
        )
    return ""


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
