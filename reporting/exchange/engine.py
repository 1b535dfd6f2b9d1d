"""The import engine: read, find the header, parse and validate every row, collect errors."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from initiatives.models import (
    Indicator,
    Initiative,
)
from kahoku_dx.spreadsheets import (
    SpreadsheetError,
    cell_error,
    display_value,
    iter_rows,
    validate_upload,
)
from plans.models import Plan
from reporting.exchange.columns import AMBIGUOUS, Column, Context, RowError, Spec
from reporting.exchange.sheets import INDICATOR_VALUES, INITIATIVES, SPECS_BY_MODEL

PREVIEW_LIMIT = 300


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
