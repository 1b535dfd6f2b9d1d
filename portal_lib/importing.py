"""The import framework every sheet import stands on, split the way pretix splits its import
code: this module reads and collects; column specs say what each column means; a writer
(a service) writes.

- reading is always bounded: rows come from `portal_lib.sheet_reading` (`read_upload`,
  `merged_sheet_rows`, `read_full_sheets`), which checks the file and reads it in the bounded
  reader process; `data_rows` counts the rows under the header again;
- `find_header` finds the header row by name, with synonyms, under any title rows;
  `is_note` tells a remark under or inside a table from a row of data;
- `merged_spans` turns a sheet's merged ranges into anchors and covered cells;
- `ErrorLog` counts every problem and keeps the first ones with their sheet, row, column
  and value (`sheet_reading.cell_error`, the one format), with totals;
- `Fingerprint` hashes what a preview decided, so a confirm refuses a file whose effect
  changed since; the confirm's one claim of the previewed upload is `portal_lib.upload_stash`
  (an atomic rename: of any number of concurrent confirms, one wins);
- `ValueMemo` keeps a 10,000-row import at the speed of the floor (a parser runs once per
  distinct value), and `ModelCleaner` runs a model's full_clean() with each field's
  clean() once per distinct value; the engines validate and write CHUNK_ROWS rows at a time.

It imports no app: the bulk sheets (`reporting.exchange`), the staff roster
(`workgroups.roster`) and table 4-1 (`reporting.table41`) are specs on top of it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.expressions import DatabaseDefault

from portal_lib.sheet_reading import SpreadsheetError, cell_error, display_value, too_many_rows

Row = tuple[str, int, list[Any]]  # (sheet, 1-based row number, values), as the reader yields them

# --------------------------------------------------------------------------------------------
# Headers: found by name (with synonyms), under any title rows
# --------------------------------------------------------------------------------------------


def exact(value: Any) -> str:
    """A header cell compared as shown (the bulk sheets' own templates)."""
    return display_value(value)


def loose(value: Any) -> str:
    """A header cell compared after NFKC, without spaces, case-insensitively (a sheet the
    city keeps by hand: 「職員 No」 is 「職員no」)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", display_value(value))).casefold()


@dataclass(frozen=True)
class Heading:
    """One column as a header names it: its field, the label the portal writes, and the
    other spellings people use."""

    field: str
    label: str
    synonyms: tuple[str, ...] = ()
    required: bool = False

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.label, *self.synonyms)


@dataclass
class HeaderMatch:
    sheet: str
    number: int  # the header's row number
    columns: dict[int, str]  # every column whose header names a field: index -> field
    first: dict[str, int] = field(default_factory=dict)  # field -> its first column


def find_header(
    rows: Iterator[Row],
    headings: Sequence[Heading],
    *,
    search_rows: int,
    key: Callable[[Any], str] = exact,
) -> HeaderMatch | None:
    """The first of the next ``search_rows`` rows naming every required heading (``key``
    compares a cell with each spelling); None when there is none. Rows above it (a title,
    a note) are passed over; ``rows`` continues after the header, so the caller reads the
    data from the same iterator."""
    spellings: dict[str, str] = {}
    for h in headings:
        for s in h.spellings:
            spellings.setdefault(key(s), h.field)
    required = {h.field for h in headings if h.required}
    for seen, (sheet, number, values) in enumerate(rows, start=1):
        columns: dict[int, str] = {}
        first: dict[str, int] = {}
        for i, value in enumerate(values):
            name = spellings.get(key(value))
            if name is not None:
                columns[i] = name
                first.setdefault(name, i)
        if required <= first.keys():
            return HeaderMatch(sheet, number, columns, first)
        if seen >= search_rows:
            break
    return None


def data_rows(rows: Iterable[Row], sheet: str, max_rows: int) -> Iterator[tuple[int, list[Any]]]:
    """The rows of ``sheet`` under its header, counted again (the reader's scan counts every
    row of the sheet; this refuses more than ``max_rows`` under the header)."""
    count = 0
    for row_sheet, number, values in rows:
        if row_sheet != sheet:
            return
        count += 1
        if count > max_rows:
            raise SpreadsheetError(too_many_rows(max_rows))
        yield number, values


# --------------------------------------------------------------------------------------------
# Notes and merged cells
# --------------------------------------------------------------------------------------------

# A remark under or inside a table starts with one of these (after NFKC).
NOTE_PREFIXES = ("※", "注", "(注", "備考", "以上", "*", "出典", "作成")


def is_note(
    filled: Sequence[tuple[int, str]],
    *,
    ignore_column: int | None = None,
    prefixes: tuple[str, ...] = NOTE_PREFIXES,
) -> bool:
    """A row's non-empty cells ((column index, text), in order) are a remark: one text alone
    (or one merged across the row) in the first column or starting like a note, or a note
    in the first column. ``ignore_column`` is a column filled down from a merged cell."""
    own = [(i, t) for i, t in filled if i != ignore_column] or list(filled)
    first_col, first_text = own[0]
    if len({t for _, t in own}) == 1:
        return first_col == 0 or first_text.startswith(prefixes)
    return first_col == 0 and first_text.startswith(prefixes)


def merged_spans(
    merged: Iterable[tuple[int, int, int, int]],
) -> tuple[dict[tuple[int, int], tuple[int, int]], dict[tuple[int, int], tuple[int, int]]]:
    """Merged ranges (min_row, min_col, max_row, max_col) as anchors -> (row_span, col_span)
    and covered cells -> their anchor."""
    anchors: dict[tuple[int, int], tuple[int, int]] = {}
    covered: dict[tuple[int, int], tuple[int, int]] = {}
    for min_row, min_col, max_row, max_col in merged:
        anchors[(min_row, min_col)] = (max_row - min_row + 1, max_col - min_col + 1)
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                if (r, c) != (min_row, min_col):
                    covered[(r, c)] = (min_row, min_col)
    return anchors, covered


# --------------------------------------------------------------------------------------------
# Errors: every problem counted, the first ones kept with their cells
# --------------------------------------------------------------------------------------------


class ErrorLog:
    """Every problem counted, the first ``keep`` kept (the page stays small whatever the file
    holds). ``per_column``: the summary line says how many problems each column had."""

    def __init__(self, keep: int, *, per_column: bool = True) -> None:
        self.keep = keep
        self.per_column = per_column
        self.messages: list[str] = []
        self.total = 0
        self.by_column: dict[str, int] = {}

    def add(self, message: str | Callable[[], str], column: str = "") -> None:
        """Count a problem; ``message`` may be a callable, built only if the problem is kept."""
        self.total += 1
        self.by_column[column] = self.by_column.get(column, 0) + 1
        if len(self.messages) < self.keep:
            self.messages.append(message() if callable(message) else message)

    def add_cell(
        self, sheet: str, row: int, col: int, header: str, value: Any, message: str
    ) -> None:
        """A problem in one cell (``col`` 1-based), in the one format (`cell_error`)."""
        self.add(lambda: cell_error(sheet, row, col, header, value, message), header)

    @property
    def full(self) -> bool:
        return len(self.messages) >= self.keep

    def __bool__(self) -> bool:
        return self.total > 0

    def summary(self) -> list[str]:
        """The kept messages, then one line saying how many were left out."""
        if self.total <= len(self.messages):
            return list(self.messages)
        line = f"ほかにも問題があります。全部で{self.total:,}件のうち最初の{len(self.messages)}件を表示しています"
        if self.per_column:
            counts = "、".join(
                f"{col or 'その他'} {n:,}件"
                for col, n in sorted(self.by_column.items(), key=lambda kv: -kv[1])
            )
            line += f"(列ごとの件数: {counts})"
        return [*self.messages, line + "。"]

    def error(self, counts: dict[str, int] | None = None) -> SpreadsheetError:
        """The SpreadsheetError a page or command shows; ``counts``: the rows that were fine."""
        exc = SpreadsheetError(*self.summary(), total=self.total)
        exc.counts = dict(counts or {})  # type: ignore[attr-defined]
        return exc

    def raise_if_any(self) -> None:
        if self:
            raise self.error()


# --------------------------------------------------------------------------------------------
# Preview fingerprints
# --------------------------------------------------------------------------------------------


class Fingerprint:
    """SHA-256 of what a preview decided (rows added, changed, removed, field by field). The
    confirm computes it again and refuses when it differs; the upload itself is claimed once
    (`portal_lib.upload_stash.claim`)."""

    def __init__(self, *parts: str) -> None:
        self._hash = hashlib.sha256()
        for part in parts:
            self.add(part)

    def add(self, text: str) -> None:
        self._hash.update(text.encode())

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


# --------------------------------------------------------------------------------------------
# Speed: values remembered per column, chunks
# --------------------------------------------------------------------------------------------

MISSING = object()
_MEMO_TYPES = (str, int, float, Decimal, date, bool)  # immutable and hashable (exact classes)
MEMO_LIMIT = 4096  # distinct values remembered per column; a column with more is not remembered
MEMO_TEXT = 64  # longer texts are never remembered (the memo stays small whatever cells hold)


class ValueMemo:
    """What a function of one value (a parser, a field's clean()) gave for each raw value,
    while the column has at most MEMO_LIMIT distinct ones. A value is remembered under
    (its exact class, itself) when its class is one of ``types`` (by default str, int,
    float, Decimal, date, bool) and, for text, it is at most MEMO_TEXT characters long.
    Only results are remembered: a value that failed is tried again, so each row gets its
    own message."""

    __slots__ = ("memo", "types")

    def __init__(self, types: tuple[type, ...] = _MEMO_TYPES) -> None:
        self.memo: dict[tuple[type, Any], Any] | None = {}
        self.types = types

    def key(self, raw: Any) -> tuple[type, Any] | None:
        cls = raw.__class__
        if (
            self.memo is not None
            and cls in self.types
            and (cls is not str or len(raw) <= MEMO_TEXT)
        ):
            return (cls, raw)
        return None

    def find(self, raw: Any) -> tuple[tuple[type, Any] | None, Any]:
        """``raw``'s key and what is remembered for it (MISSING if nothing): key and get in
        one call, for the loops that run once per cell."""
        memo = self.memo
        if memo is None:
            return None, MISSING
        cls = raw.__class__
        if cls in self.types and (cls is not str or len(raw) <= MEMO_TEXT):
            key = (cls, raw)
            return key, memo.get(key, MISSING)
        return None, MISSING

    def get(self, key: tuple[type, Any] | None) -> Any:
        if key is None or self.memo is None:
            return MISSING
        return self.memo.get(key, MISSING)

    def put(self, key: tuple[type, Any] | None, value: Any) -> None:
        if key is None or self.memo is None:
            return
        if len(self.memo) < MEMO_LIMIT:
            self.memo[key] = value
        else:
            self.memo = None  # too many distinct values: stop remembering


# What a field's clean() result is remembered for: values equal only when they are the same
# value. Not Decimal (1.0 == 1.00, but a field's decimal places tell them apart) nor float
# (0.0 == -0.0).
_CLEAN_MEMO_TYPES = (str, int, date, bool)
_SAME = object()  # remembered for a value that clean() returned as it was


class ModelCleaner:
    """``Model.full_clean(exclude, validate_unique=False, validate_constraints=False)`` for
    the many new or changed objects of one import, with the same checks, messages and
    cleaned values: the model stays the rules' one home. What it saves is repetition: each
    field's own ``clean()`` (its to_python, validate and validators, functions of the value
    alone) runs once per distinct value of the field (a ValueMemo of exact classes, where
    equal means the same value), and its result is reused for the next object holding that
    value; the model's ``clean()`` runs for every object.

    Used only where that holds: when the model overrides ``clean_fields`` or ``full_clean``,
    every object gets its own ``full_clean()``; a field's results are remembered only when
    it is not a relation and neither its ``clean`` nor its ``validate`` is overridden
    (Django's ``validate`` reads the field's choices, null and blank, not the object; the
    validators of the portal's fields read the value alone). ``full_clean`` below is
    Django's (5.2) ``full_clean`` and ``clean_fields`` with the memo.
    """

    def __init__(self, model: type[models.Model], exclude: Iterable[str]) -> None:
        self.exclude = set(exclude)
        self.fast = (
            model.clean_fields is models.Model.clean_fields
            and model.full_clean is models.Model.full_clean
        )
        self.fields = [
            (
                f,
                f.name,
                f.attname,
                f.blank,
                f.empty_values,
                f.blank and None in f.empty_values,  # None: not validated
                ValueMemo(_CLEAN_MEMO_TYPES)
                if not f.is_relation
                and type(f).clean is models.Field.clean
                and type(f).validate is models.Field.validate
                else None,
            )
            for f in model._meta.fields
            if f.name not in self.exclude and not f.generated
        ]

    def full_clean(self, obj: models.Model) -> None:
        """Raise the ValidationError ``obj.full_clean(...)`` would raise, or set the cleaned
        values as it would."""
        if not self.fast:
            obj.full_clean(exclude=self.exclude, validate_unique=False, validate_constraints=False)
            return
        errors: dict[str, Any] = {}
        for f, name, attname, blank, empty, skips_none, values in self.fields:
            raw = getattr(obj, attname)
            if raw is None and skips_none:
                continue
            key = None
            if values is not None:
                key, cleaned = values.find(raw)
                if cleaned is not MISSING:  # an equal value passed: so does this one
                    if cleaned is not _SAME:
                        setattr(obj, attname, cleaned)
                    continue
            # Django's clean_fields: a blank field that may be blank, or a database
            # default, is not validated.
            if blank and raw in empty:
                continue
            if isinstance(raw, DatabaseDefault):
                continue
            try:
                cleaned = f.clean(raw, obj)
            except ValidationError as exc:
                errors[name] = exc.error_list
                continue
            if key is not None and values is not None:
                values.put(key, _SAME if cleaned is raw else cleaned)
            setattr(obj, attname, cleaned)
        # Django's full_clean: the model's clean() runs even when a field failed.
        try:
            obj.clean()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
