"""The bulk sheets' import engine on the import framework (portal_lib.importing): each row
is parsed by its column spec, keyed, checked by the spec's hooks (``prepare``, ``row_key``,
``linked``, ``before_write``), compared with what is stored and validated by the model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from initiatives.models import Initiative
from plans.models import Plan
from portal_lib import era
from portal_lib.importing import (
    MISSING,
    ErrorLog,
    Fingerprint,
    HeaderMatch,
    ModelCleaner,
    ValueMemo,
    data_rows,
    find_header,
)
from portal_lib.sheet_reading import ImportLimits, SpreadsheetError, cell_error, read_upload
from reporting.exchange.columns import (
    AMBIGUOUS,
    Context,
    RowError,
    Spec,
    _unique_or_ambiguous,
)

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

PREVIEW_LIMIT = 300  # changed rows kept for the preview page
CHUNK_ROWS = 2000  # rows validated (and, when confirmed, written) together
MAX_KEPT_ERRORS = 100  # problems kept with their cells; the rest are only counted
HEADER_SEARCH_ROWS = 20  # the header is one of the first rows (under a title, a note)


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
    spec: Spec | None = None

    @property
    def changes(self) -> list[FieldChange]:
        if self.new_obj is None or self.spec is None:
            return self.diffs
        spec = self.spec
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
class Batch:
    """One chunk of validated objects, handed to the writer while the file has no problem."""

    spec: Spec
    to_create: list[Any]
    to_update: list[Any]
    update_fields: list[str]  # the fields this chunk's changed rows changed (+ bookkeeping)
    # objects the rows refer to, first named in this chunk (Spec.linked: a new indicator),
    # saved before the rows
    linked_new: list[Any] = field(default_factory=list)


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


def parse_import(
    spec: Spec,
    data: bytes,
    filename: str,
    *,
    plan: Plan,
    user: PortalUser | None = None,
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

    Each new or changed object is validated by the model's own full_clean() (through
    ModelCleaner: the same checks, a field's clean() once per distinct value), so a rule has
    one home; the parsers only turn what people type into values.
    """
    limits = limits or ImportLimits.from_settings()
    # The checks and the reading run in the bounded reader process; rows stream from it.
    rows = read_upload(data, filename, allow_csv=True, limits=limits, engine=engine)
    # The lookups and the stored keys are read while the reader process reads the sheet.
    ctx = Context.load(plan, user)
    existing = _unique_or_ambiguous(spec.existing(ctx))  # natural key -> pk
    match = find_header(rows, [c.heading for c in spec.columns], search_rows=HEADER_SEARCH_ROWS)
    if match is None:
        names = "、".join(c.header for c in spec.columns if c.required)
        raise SpreadsheetError(
            f"見出し行が見つかりません。1行目に列名({names} ほか)を入れてください。"
            "テンプレートをダウンロードして使うと確実です。"
        )
    run = _SheetImport(spec, match, ctx, existing, today=today, write=write)
    return run.run(data_rows(rows, match.sheet, limits.max_rows))


Staged = tuple[int, list | None, Any]  # (row, its problems or None, what the second step needs)


class _SheetImport:
    """One import of one sheet: each row is staged (parsed, its key checked, the spec's
    hooks run), then finished in file order (compared with what is stored, validated by the
    model, counted, queued for the writer). Rows that update stored ones wait until
    CHUNK_ROWS of them are fetched at once."""

    def __init__(
        self,
        spec: Spec,
        match: HeaderMatch,
        ctx: Context,
        existing: dict[tuple, Any],
        *,
        today: date | None,
        write: Callable[[Batch], None] | None,
    ) -> None:
        by_attr = {c.attr: c for c in spec.columns}
        self.spec = spec
        self.ctx = ctx
        self.sheet = match.sheet
        self.col_map = {i: by_attr[attr] for i, attr in match.columns.items()}
        self.header_index = {c.attr: i for i, c in self.col_map.items()}
        self.first_col = self.header_index[spec.key[-1]]
        self.existing = existing  # natural key -> pk (or AMBIGUOUS)
        self.fetch = spec.model._default_manager.select_related(*spec.related)
        self.defaults = spec.new_defaults(ctx)
        self.linked = spec.linked(ctx) if spec.linked is not None else None
        self.model_fields = {f.name: f for f in spec.model._meta.concrete_fields}
        self.fk_ids = {f.name: f.attname for f in self.model_fields.values() if f.is_relation}
        # Per column: the parser, and its results remembered per raw value (ValueMemo: a
        # parser depends only on the value and the import's lookups).
        self.columns = [
            (
                i,
                c,
                c.attr,
                c.parse,
                ValueMemo(),
                (
                    c.blank_value
                    if c.blank_value is not None
                    else _blank(self.model_fields.get(c.attr))
                )
                if not c.required
                else None,
            )
            for i, c in self.col_map.items()
        ]
        # The model's full_clean(), a field's clean() once per distinct value (ModelCleaner);
        # references are checked by the lookups.
        self.cleaner = ModelCleaner(spec.model, spec.fk_fields)
        self.has_version = "version" in self.model_fields
        self.has_updated_at = "updated_at" in self.model_fields
        self.now = timezone.now()
        plan = ctx.plan
        self.period = (era.fiscal_year_start(plan.start_fy), era.fiscal_year_end(plan.end_fy))
        self.this_year = era.current_fiscal_year(today or timezone.localdate())
        self.errors = ErrorLog(MAX_KEPT_ERRORS)
        self.warnings = ErrorLog(MAX_KEPT_ERRORS)
        self.tally = {"added": 0, "changed": 0, "unchanged": 0}
        self.fingerprint = Fingerprint()
        self.shown_rows: list[RowResult] = []
        self.seen_keys: dict[tuple, int] = {}
        self.write = write  # a preview drops each object once it is counted
        self.batch_create: list[Any] = []  # validated, not yet handed to ``write``
        self.batch_update: list[Any] = []
        self.batch_fields: set[str] = set()
        self.queue: list[Staged] = []

    # --- the whole sheet ------------------------------------------------------------------

    def run(self, rows: Iterator[tuple[int, list]]) -> ImportResult:
        nothing: dict[int, Any] = {}
        for number, values in rows:
            row = self.stage(number, values)
            if self.queue or self.stored_pk(row) is not None:
                self.queue.append(row)
                if len(self.queue) >= CHUNK_ROWS:
                    self.drain()
            else:
                self.finish(row, nothing)
        self.drain()
        self.flush()
        errors, tally = self.errors, self.tally
        if errors:
            raise errors.error(tally)
        if not sum(tally.values()):
            raise SpreadsheetError(
                f"シート「{self.sheet}」に見出し行より下のデータ行がありません。"
            )
        if self.linked is not None:
            for message, column in self.linked.problems:
                errors.add(message, column)
        if errors:
            raise errors.error(tally)
        return ImportResult(
            self.spec,
            self.sheet,
            self.shown_rows,
            tally=tally,
            fingerprint=self.fingerprint.hexdigest(),
            warnings=self.warnings.summary(),
            warning_total=self.warnings.total,
        )

    def stored_pk(self, row: Staged) -> Any:
        return self.existing.get(row[2][1]) if self.existing and row[1] is None else None

    def drain(self) -> None:
        pks = [
            pk
            for row in self.queue
            if (pk := self.stored_pk(row)) is not None and pk is not AMBIGUOUS
        ]
        stored = self.fetch.in_bulk(pks) if pks else {}
        for row in self.queue:
            self.finish(row, stored)
        self.queue.clear()

    def flush(self) -> None:
        linked_new = self.linked.take() if self.linked is not None else []
        linked_ok = self.linked is None or not self.linked.problems
        if self.write is not None and not self.errors and linked_ok:
            if self.batch_create or self.batch_update:
                changed = set(self.batch_fields)
                if self.batch_update:
                    changed.update(
                        f
                        for f in ("version", "updated_at", "fiscal_year")
                        if f in self.model_fields
                    )
                self.write(
                    Batch(
                        self.spec,
                        self.batch_create[:],
                        self.batch_update[:],
                        sorted(changed),
                        linked_new,
                    )
                )
        self.batch_create.clear()
        self.batch_update.clear()
        self.batch_fields.clear()

    # --- one row, first step: parse ----------------------------------------------------------

    def cell(
        self, number: int, col: int, value: Any, message: str | Callable[[], str]
    ) -> Callable[[], str]:
        """The cell's error message, built only if it is kept (ErrorLog.add)."""
        sheet, header = self.sheet, self.col_map[col].header

        def build() -> str:
            text = message() if callable(message) else message
            return cell_error(sheet, number, col + 1, header, value, text)

        return build

    def period_warning(self, number: int, col: int, value: Any, header: str) -> None:
        period, this_year, warnings = self.period, self.this_year, self.warnings
        if isinstance(value, date) and (
            not period[0] <= value <= period[1] or era.fiscal_year_of(value) != this_year
        ):
            if warnings.full:  # only counted: no message to build
                warnings.add("", header)
            else:
                warnings.add(
                    self.cell(
                        number, col, value, partial(_period_warning, value, period, this_year)
                    ),
                    header,
                )

    def stage(self, number: int, values: list) -> Staged:
        """Parse one row and check its key: (row, its problems, what the second step needs).

        Problems are returned, not logged, so that the chunk's second step logs every row's
        problems in row order, as a row-by-row reader would."""
        spec, ctx = self.spec, self.ctx
        parsed: dict[str, Any] = {}
        failed: set[str] | None = None
        problems: list | None = None
        n_values = len(values)
        for i, column, attr, parse, memo, blank in self.columns:
            raw = values[i] if i < n_values else None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                if column.required:
                    problems = problems or []
                    problems.append(
                        (self.cell(number, i, "", "必須です。入力してください。"), column.header)
                    )
                    failed = failed or set()
                    failed.add(attr)
                else:
                    parsed[attr] = blank
                continue
            mkey, value = memo.find(raw)
            if value is MISSING:
                try:
                    value = parse(raw, ctx)
                except RowError as exc:
                    problems = problems or []
                    problems.append((self.cell(number, i, raw, exc.args[0]), column.header))
                    failed = failed or set()
                    failed.add(attr)
                    continue
                memo.put(mkey, value)
            parsed[attr] = value
            if column.period_warning:
                self.period_warning(number, i, value, column.header)
        if failed:
            return number, problems, (parsed, failed)

        key_values = [parsed[k] for k in spec.key]  # the key as typed, for messages
        if spec.row_key is not None:
            key = spec.row_key(parsed)
        else:
            key = tuple([v.pk if isinstance(v, models.Model) else v for v in key_values])
        if key in self.seen_keys:
            label = _key_label(key_values)
            message = f"{self.seen_keys[key]}行目と同じキーです。1行にまとめてください。"
            first_col = self.first_col
            return (
                number,
                [(self.cell(number, first_col, label, message), self.col_map[first_col].header)],
                None,
            )
        self.seen_keys[key] = number
        try:
            parsed = spec.prepare(parsed, ctx)
        except RowError as exc:
            attr = exc.args[1] if len(exc.args) > 1 else spec.key[0]
            col = self.header_index.get(attr, 0)
            shown = _shown(parsed[attr] if attr in parsed else _key_label(key_values))
            return (
                number,
                [(self.cell(number, col, shown, exc.args[0]), self.col_map[col].header)],
                None,
            )
        if self.linked is not None:
            parsed = self.linked.resolve(parsed)
        return number, None, (parsed, key, key_values)

    # --- one row, second step: compare, validate, count, queue -------------------------------

    def finish(self, row: Staged, stored: dict[int, Any]) -> None:
        """A row's second step, in row order: compare with what is stored, run the model's
        validation, count, keep the preview's first rows, and queue the object for
        ``write``."""
        spec, errors, model_fields = self.spec, self.errors, self.model_fields
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
                self.model_errors(exc, parsed, draft, number)
            return

        parsed, key, key_values = rest
        pk = self.existing.get(key) if self.existing else None
        if pk is AMBIGUOUS:
            errors.add(
                self.cell(
                    number,
                    self.first_col,
                    _key_label(key_values),
                    "同じキーのデータが複数登録されているため、どれを更新するか決められません。",
                ),
                self.col_map[self.first_col].header,
            )
            return
        obj = stored.get(pk) if pk is not None else None
        fields = (
            parsed
            if parsed.keys() <= model_fields.keys()
            else {k: v for k, v in parsed.items() if k in model_fields}
        )
        old_values: dict[str, Any] = {}
        diffs: list[FieldChange] = []  # an added row is shown from the object itself
        if obj is None:
            obj = spec.model(**self.defaults, **fields)
            action = "added"
        else:
            fk_ids = self.fk_ids
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
                obj, old_values if action == "changed" else None, self.ctx, self.now
            ):
                old_values.setdefault(name, None)  # written with the row (batch_fields)
        try:
            # The model's own rules, as full_clean() runs them (bench/README.md, "Import on
            # PostgreSQL, fourth pass": full_clean() was over 5 % of a 10,000-row import).
            self.cleaner.full_clean(obj)
        except ValidationError as exc:
            self.model_errors(exc, parsed, obj, number)
            return
        self.tally[action] += 1
        # What the database decided for each row (the file itself is the same bytes at the
        # confirm: its SHA-256 is checked), so its key need not be hashed.
        self.fingerprint.add(f"{number}|{action}|")
        for c in diffs:
            self.fingerprint.add(f"{c.label}={c.old}>{c.new};")
        if action == "unchanged":
            return
        if action == "changed":
            if self.has_version:
                obj.version += 1
            if self.has_updated_at:
                obj.updated_at = self.now
        if len(self.shown_rows) < PREVIEW_LIMIT:
            self.shown_rows.append(
                RowResult(
                    number,
                    _key_label(key_values),
                    action,
                    diffs,
                    obj if action == "added" else None,
                    spec,
                )
            )
        if self.write is not None and not errors:
            if action == "added":
                self.batch_create.append(obj)
            else:
                self.batch_fields.update(old_values)
                self.batch_update.append(obj)
            if len(self.batch_create) + len(self.batch_update) >= CHUNK_ROWS:
                self.flush()

    def model_errors(
        self, exc: ValidationError, parsed: dict[str, Any], obj: Any, number: int
    ) -> None:
        """The model's own messages, placed on the cell of the field they name."""
        for attr, messages in exc.message_dict.items():
            col = self.header_index.get(attr)
            header = self.col_map[col].header if col is not None else ""
            value = parsed.get(attr, getattr(obj, attr, "")) if attr != "__all__" else ""
            for m in messages:
                self.errors.add(
                    partial(
                        cell_error, self.sheet, number, (col or 0) + 1, header, _shown(value), m
                    ),
                    header,
                )


def _key_label(key_values: list[Any]) -> str:
    return " / ".join(_shown(v) for v in key_values)


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
