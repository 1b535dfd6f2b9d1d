"""The import engine: read, find the header, parse and validate every row, collect errors."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone

from initiatives.models import (
    Indicator,
    Initiative,
)
from plans.models import Plan
from portal_lib import era
from portal_lib.codes import normalise_initiative_code
from portal_lib.sheet_reading import (
    ImportLimits,
    SpreadsheetError,
    cell_error,
    display_value,
    read_upload,
    too_many_rows,
)
from reporting.exchange.columns import (
    AMBIGUOUS,
    Column,
    Context,
    RowError,
    Spec,
    _unique_or_ambiguous,
)
from reporting.exchange.sheets import INDICATOR_VALUES, INITIATIVES, SPECS_BY_MODEL

PREVIEW_LIMIT = 300  # changed rows kept for the preview page
CHUNK_ROWS = 2000  # rows validated (and, when confirmed, written) together
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
class Batch:
    """One chunk of validated objects, handed to the writer while the file has no problem."""

    spec: Spec
    to_create: list[Any]
    to_update: list[Any]
    update_fields: list[str]  # the fields this chunk's changed rows changed (+ bookkeeping)
    new_indicators: list[Indicator] = field(default_factory=list)  # first named in this chunk


@dataclass
class ImportResult:
    """What the preview shows: counts, warnings and the fingerprint cover every row; only the
    first PREVIEW_LIMIT changed rows are kept for display. The validated objects are not kept:
    they go to ``write`` chunk by chunk (the confirm step) or are dropped (the preview)."""

    spec: Spec
    sheet: str
    rows: list[RowResult]  # the first PREVIEW_LIMIT added/changed rows
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


_MISSING = object()
_MEMO_TYPES = (str, int, float, Decimal, date, bool)  # immutable and hashable (exact classes)
MEMO_LIMIT = 4096  # distinct values remembered per field; a field with more is not remembered
MEMO_TEXT = 64  # longer texts are never remembered (the memo stays small whatever cells hold)
# A value is remembered under (its exact class, itself) when its class is one of _MEMO_TYPES
# and, for text, it is at most MEMO_TEXT characters long.


class FullClean:
    """``obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)``
    for the many objects of one import: the same field checks in the same order, then the
    model's clean(), with the same messages.

    A field's clean() that does not look at other objects (every non-relation field: its
    to_python, choices, null/blank and validators depend on the value only) is remembered
    per value while the field has at most MEMO_LIMIT distinct values, so a column of 10,000
    rows with five statuses is cleaned five times. Only values that passed are remembered; a
    value that fails is cleaned again each time, so its error is raised as full_clean would.
    """

    def __init__(self, model: type[models.Model], exclude: Iterable[str]) -> None:
        skip = set(exclude)
        self.fields = [
            (f, f.attname, f.blank, f.empty_values, None if f.is_relation else [{}])
            for f in model._meta.fields
            if f.name not in skip and not f.generated
        ]
        # A model with its own full_clean/clean_fields gets exactly those.
        self.own = (
            model.full_clean is not models.Model.full_clean
            or model.clean_fields is not models.Model.clean_fields
        )
        self.exclude = list(skip)

    def __call__(self, obj: models.Model) -> None:
        if self.own:
            obj.full_clean(exclude=self.exclude, validate_unique=False, validate_constraints=False)
            return
        errors: dict[str, Any] = {}
        for f, attname, blank, empty_values, memo_box in self.fields:
            raw = getattr(obj, attname)
            if blank and raw in empty_values:
                continue
            if isinstance(raw, DatabaseDefault):
                continue
            memo = memo_box[0] if memo_box is not None else None
            key = None
            cls = raw.__class__
            if (
                memo is not None
                and cls in _MEMO_TYPES
                and (cls is not str or len(raw) <= MEMO_TEXT)
            ):
                key = (cls, raw)
                cleaned = memo.get(key, _MISSING)
                if cleaned is not _MISSING:
                    if cleaned is not raw:
                        setattr(obj, attname, cleaned)
                    continue
            try:
                cleaned = f.clean(raw, obj)
            except ValidationError as exc:
                errors[f.name] = exc.error_list
                continue
            setattr(obj, attname, cleaned)
            if key is not None:
                if len(memo) < MEMO_LIMIT:  # type: ignore[arg-type]
                    memo[key] = cleaned  # type: ignore[index]
                else:
                    memo_box[0] = None  # type: ignore[index]
        # As Model.full_clean: the field errors, then clean() even if they failed.
        problems: dict[str, Any] = {}
        if errors:
            problems = ValidationError(errors).update_error_dict(problems)
        try:
            obj.clean()
        except ValidationError as exc:
            problems = exc.update_error_dict(problems)
        if problems:
            raise ValidationError(problems)


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
    write: Callable[[Batch], None] | None = None,
) -> ImportResult:
    """Read, validate and compare every row. Raises SpreadsheetError with the problems (the
    first MAX_KEPT_ERRORS with their cells, and how many there were per column).

    Bounded: the upload is refused while it streams when a sheet has too many rows, cells or
    too much text (portal_lib.sheet_reading.ImportLimits); data rows are counted again here.
    Rows are validated CHUNK_ROWS at a time and only what the preview needs is kept (counts,
    the kept problems, the first PREVIEW_LIMIT changes, the fingerprint), so memory does not
    grow with the file. With ``write`` each chunk's objects are handed to it while no problem
    has been found; the caller runs this in a transaction, which the SpreadsheetError raised
    at the end (a problem in a later chunk) rolls back.

    Each new or changed object is validated by the model's own full_clean(), so a rule has
    one home; the parsers only turn what people type into values.
    """
    limits = limits or ImportLimits.from_settings()
    # The checks and the reading run in the bounded reader process; rows stream from it.
    rows_iter = read_upload(data, filename, allow_csv=True, limits=limits, engine=engine)
    ctx = Context.load(plan, user)
    sheet, header_row, col_map, _ = _find_header(rows_iter, spec)
    existing = _unique_or_ambiguous(spec.existing(ctx))  # natural key -> pk
    fetch = spec.model._default_manager.select_related(*spec.related)
    defaults = spec.new_defaults(ctx)
    header_index = {c.attr: i for i, c in col_map.items()}
    errors = ErrorLog(MAX_KEPT_ERRORS)
    warnings = ErrorLog(MAX_KEPT_ERRORS)
    tally = {"added": 0, "changed": 0, "unchanged": 0}
    fingerprint = hashlib.sha256()
    shown_rows: list[RowResult] = []
    seen_keys: dict[tuple, int] = {}
    indicators: dict[tuple[int, str], Indicator] = {}
    new_indicators: dict[tuple[int, str], Indicator] = {}
    indicator_problems: list[str] = []
    chunk_indicators: list[Indicator] = []
    if spec is INDICATOR_VALUES:
        indicators = {
            (i.initiative_id, i.name): i
            for i in Indicator.objects.filter(initiative__policy__plan=plan)
        }
    model_fields = {f.name: f for f in spec.model._meta.concrete_fields}
    # Per column: the parser, and its results remembered per raw value while the column has
    # at most MEMO_LIMIT distinct values (a parser depends only on the value and the import's
    # lookups; a value that fails is not remembered, so each row gets its own message).
    columns = [
        (
            i,
            c,
            c.attr,
            c.parse,
            [{}],
            (c.blank_value if c.blank_value is not None else _blank(model_fields.get(c.attr)))
            if not c.required
            else None,
        )
        for i, c in col_map.items()
    ]
    fk_ids = {f.name: f.attname for f in model_fields.values() if f.is_relation}
    full_clean = FullClean(spec.model, spec.fk_fields)
    spec_key = spec.key
    first_col = header_index[spec.key[-1]]
    has_version = "version" in model_fields
    has_updated_at = "updated_at" in model_fields
    now = timezone.now()
    period = (era.fiscal_year_start(plan.start_fy), era.fiscal_year_end(plan.end_fy))
    this_year = era.current_fiscal_year(today or timezone.localdate())
    data_rows = 0

    def cell(
        number: int, col: int, value: Any, message: str | Callable[[], str]
    ) -> Callable[[], str]:
        """The cell's error message, built only if it is kept (ErrorLog.add)."""

        def build() -> str:
            text = message() if callable(message) else message
            return cell_error(sheet, number, col + 1, col_map[col].header, value, text)

        return build

    def period_warning(number: int, col: int, value: Any, header: str) -> None:
        if isinstance(value, date) and (
            not period[0] <= value <= period[1] or era.fiscal_year_of(value) != this_year
        ):
            if warnings.full:  # only counted: no message to build
                warnings.add("", header)
            else:
                warnings.add(
                    cell(number, col, value, partial(_period_warning, value, period, this_year)),
                    header,
                )

    def stage(number: int, values: list) -> tuple[int, list | None, Any]:
        """Parse one row and check its key: (row, its problems, what the second step needs).

        Problems are returned, not logged, so that the chunk's second step logs every row's
        problems in row order, as a row-by-row reader would."""
        parsed: dict[str, Any] = {}
        failed: set[str] | None = None
        problems: list | None = None
        n_values = len(values)
        for i, column, attr, parse, memo_box, blank in columns:
            raw = values[i] if i < n_values else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if column.required:
                    problems = problems or []
                    problems.append(
                        (cell(number, i, "", "必須です。入力してください。"), column.header)
                    )
                    failed = failed or set()
                    failed.add(attr)
                else:
                    parsed[attr] = blank
                continue
            memo = memo_box[0]
            mkey = None
            cls = raw.__class__
            if (
                memo is not None
                and cls in _MEMO_TYPES
                and (cls is not str or len(raw) <= MEMO_TEXT)
            ):
                mkey = (cls, raw)
                value = memo.get(mkey, _MISSING)
                if value is not _MISSING:
                    parsed[attr] = value
                    if column.period_warning:
                        period_warning(number, i, value, column.header)
                    continue
            try:
                value = parsed[attr] = parse(raw, ctx)
            except RowError as exc:
                problems = problems or []
                problems.append((cell(number, i, raw, exc.args[0]), column.header))
                failed = failed or set()
                failed.add(attr)
                continue
            if mkey is not None:
                if len(memo) < MEMO_LIMIT:  # type: ignore[arg-type]
                    memo[mkey] = value  # type: ignore[index]
                else:
                    memo_box[0] = None
            if column.period_warning:
                period_warning(number, i, value, column.header)
        if failed:
            return number, problems, (parsed, failed)

        key_values = [parsed[k] for k in spec_key]  # the key as typed, for messages
        if spec is INITIATIVES:
            code = parsed["code"]
            key = (normalise_initiative_code(code) or unicodedata.normalize("NFKC", code),)
        else:
            key = tuple([v.pk if isinstance(v, models.Model) else v for v in key_values])
        if key in seen_keys:
            label = _key_label(key_values)
            message = f"{seen_keys[key]}行目と同じキーです。1行にまとめてください。"
            return (
                number,
                [(cell(number, first_col, label, message), col_map[first_col].header)],
                None,
            )
        seen_keys[key] = number
        try:
            parsed = spec.prepare(parsed, ctx)
        except RowError as exc:
            attr = exc.args[1] if len(exc.args) > 1 else spec.key[0]
            col = header_index.get(attr, 0)
            shown = _shown(parsed[attr] if attr in parsed else _key_label(key_values))
            return number, [(cell(number, col, shown, exc.args[0]), col_map[col].header)], None

        if spec is INDICATOR_VALUES:
            ini = parsed.pop("initiative")
            name = parsed.pop("indicator_name")
            unit = parsed.pop("unit") or ""
            ind = indicators.get((ini.pk, name)) or new_indicators.get((ini.pk, name))
            if ind is None:
                ind = Indicator(initiative=ini, name=name, unit=unit)
                new_indicators[(ini.pk, name)] = ind
                chunk_indicators.append(ind)
                try:  # reported after the rows' problems, as one problem per indicator
                    ind.full_clean(
                        exclude=["initiative"], validate_unique=False, validate_constraints=False
                    )
                except ValidationError as exc:
                    for ms in exc.message_dict.values():
                        indicator_problems.extend(f"指標「{ind.name}」: {m}" for m in ms)
            parsed["indicator"] = ind
        return number, None, (parsed, key, key_values)

    batch_create: list[Any] = []  # validated, not yet handed to ``write``
    batch_update: list[Any] = []
    batch_fields: set[str] = set()
    keep_objects = write is not None  # a preview drops each object once it is counted

    def flush() -> None:
        if keep_objects and not errors and not indicator_problems:
            if batch_create or batch_update:
                changed = set(batch_fields)
                if batch_update:
                    changed.update(
                        f for f in ("version", "updated_at", "fiscal_year") if f in model_fields
                    )
                write(  # type: ignore[misc]
                    Batch(
                        spec,
                        batch_create[:],
                        batch_update[:],
                        sorted(changed),
                        chunk_indicators[:],
                    )
                )
        batch_create.clear()
        batch_update.clear()
        batch_fields.clear()
        chunk_indicators.clear()

    def finish(row: tuple[int, list | None, Any], stored: dict[int, Any]) -> None:
        """A row's second step, in row order: compare with what is stored, run the model's
        validation, count, keep the preview's first rows, and queue the object for
        ``write``."""
        number, problems, rest = row
        if problems is not None:
            for message, column in problems:
                errors.add(message, column)
            if rest is None or errors.full:
                return
            # The cells that did parse still get the model's field rules, so the rows the
            # page shows report every problem, not only the first kind (past the first
            # MAX_KEPT_ERRORS problems only the parsers' problems are counted).
            parsed, failed = rest
            ok = {k: v for k, v in parsed.items() if k in model_fields and k not in failed}
            draft = spec.model(**ok)
            skip = [f for f in model_fields if f not in ok or f in spec.fk_fields]
            try:
                draft.clean_fields(exclude=skip)
            except ValidationError as exc:
                _model_errors(exc, errors, parsed, draft, header_index, col_map, sheet, number)
            return

        parsed, key, key_values = rest
        pk = existing.get(key) if existing else None
        if pk is AMBIGUOUS:
            errors.add(
                cell(
                    number,
                    first_col,
                    _key_label(key_values),
                    "同じキーのデータが複数登録されているため、どれを更新するか決められません。",
                ),
                col_map[first_col].header,
            )
            return
        obj = stored.get(pk) if pk is not None else None
        fields = (
            parsed
            if parsed.keys() <= model_fields.keys()
            else {k: v for k, v in parsed.items() if k in model_fields}
        )
        old_values: dict[str, Any] = {}
        if obj is None:
            obj = spec.model(**defaults, **fields)
            action = "added"
            diffs: list[FieldChange] = []  # shown from the object itself, on the preview only
        else:
            diffs = []
            for k, v in fields.items():
                fk = fk_ids.get(k)
                if fk is not None:  # compare ids: no query for an unchanged reference
                    if getattr(obj, fk) == (v.pk if v is not None else None):
                        continue
                    old = getattr(obj, k)
                else:
                    old = getattr(obj, k)
                    if old == v:
                        continue
                f = model_fields[k]
                diffs.append(FieldChange(_verbose(spec, k), _display(f, old), _display(f, v)))
                old_values[k] = old
                setattr(obj, k, v)
            action = "changed" if diffs else "unchanged"
        if spec.before_write is not None and action != "unchanged":
            for name in spec.before_write(
                obj, old_values if action == "changed" else None, ctx, now
            ):
                old_values.setdefault(name, None)  # written with the row (batch_fields)
        try:
            full_clean(obj)
        except ValidationError as exc:
            _model_errors(exc, errors, parsed, obj, header_index, col_map, sheet, number)
            return
        tally[action] += 1
        # What the database decided for each row (the file itself is the same bytes at the
        # confirm: its SHA-256 is checked), so its key need not be hashed.
        fingerprint.update(f"{number}|{action}|".encode())
        for c in diffs:
            fingerprint.update(f"{c.label}={c.old}>{c.new};".encode())
        if action == "unchanged":
            return
        if action == "changed":
            if has_version:
                obj.version += 1
            if has_updated_at:
                obj.updated_at = now
        if len(shown_rows) < PREVIEW_LIMIT:
            shown_rows.append(
                RowResult(
                    number,
                    _key_label(key_values),
                    action,
                    diffs,
                    obj if action == "added" else None,
                )
            )
        if keep_objects and not errors:
            if action == "added":
                batch_create.append(obj)
            else:
                batch_fields.update(old_values)
                batch_update.append(obj)
            if len(batch_create) + len(batch_update) >= CHUNK_ROWS:
                flush()

    def stored_pk(row: tuple[int, list | None, Any]) -> Any:
        return existing.get(row[2][1]) if existing and row[1] is None else None

    # Rows that update stored ones wait in ``queue`` (with the rows after them, so that
    # every row is finished in file order) until CHUNK_ROWS of them are fetched at once.
    queue: list[tuple[int, list | None, Any]] = []

    def drain() -> None:
        pks = [pk for row in queue if (pk := stored_pk(row)) is not None and pk is not AMBIGUOUS]
        stored = fetch.in_bulk(pks) if pks else {}
        for row in queue:
            finish(row, stored)
        queue.clear()

    nothing: dict[int, Any] = {}
    for row_sheet, number, values in rows_iter:
        if row_sheet != sheet:
            break
        data_rows += 1
        if data_rows > limits.max_rows:
            raise SpreadsheetError(too_many_rows(limits.max_rows))
        row = stage(number, values)
        if queue or stored_pk(row) is not None:
            queue.append(row)
            if len(queue) >= CHUNK_ROWS:
                drain()
        else:
            finish(row, nothing)
    drain()
    flush()
    if errors:
        raise errors.error(tally)
    if not sum(tally.values()):
        raise SpreadsheetError(f"シート「{sheet}」に見出し行より下のデータ行がありません。")
    for message in indicator_problems:
        errors.add(message, "指標名")
    if errors:
        raise errors.error(tally)
    return ImportResult(
        spec,
        sheet,
        shown_rows,
        tally=tally,
        fingerprint=fingerprint.hexdigest(),
        warnings=warnings.summary(),
        warning_total=warnings.total,
    )


def _key_label(key_values: list[Any]) -> str:
    return " / ".join(_shown(v) for v in key_values)


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
