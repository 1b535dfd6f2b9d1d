"""The audit trail on a screen (issue 23): every history table in one list, and the login
records, for the secretariat.

Changes: every model kept by django-simple-history is a *kind*. A page is one UNION ALL over
the history tables' common columns (history_id, history_date, the kind), filtered in SQL,
ordered by history_date and cut by LIMIT/OFFSET in the database, so no history table is
ever read whole; each row carries the id of its object's previous history row. Then, per
kind on the page, one query reads those rows and their predecessors (simple-history's
``diff_against`` names what changed) and one reads the live objects (their name and page);
per related model one query names the foreign keys that changed.

Logins: django-axes' AccessLog (successes) and AccessFailureLog (failures; ``locked_out``
marks the failure that locked), and the unlocks that ``workgroups.services.staff_unlock``
already keeps as a history row of the person's profile (reason ``MSG_UNLOCKED``, by whom),
in one UNION ALL the same way.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    F,
    Field,
    GenericIPAddressField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from portal_lib import era
from portal_lib.people import display_name
from portal_lib.templatetags.portal_format import wareki_time
from workgroups.models import StaffProfile
from workgroups.selectors import lockouts
from workgroups.services import MSG_UNLOCKED

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

PAGE_SIZE = 50
# The CSV holds at most this many changes (history rows); past it, a last line says so.
EXPORT_LIMIT = 5000
EXPORT_CHUNK = 500
# The person filter's value for rows written with no user: a command run without --user,
# a scheduled job, a data migration.
SYSTEM = "system"
# Never shown: the optimistic-lock counter (moves on every save) and the login time (the
# login records show logins). A password is shown as changed, never as a value.
HIDDEN_FIELDS = frozenset({"version", "last_login"})
SECRET_FIELDS = frozenset({"password"})
VALUE_LIMIT = 300  # characters of one value on the screen (the CSV keeps the whole text)

# What a kind's __str__ reads from related rows, read with it (else one query per row).
STR_RELATED: dict[str, tuple[str, ...]] = {
    "plans.planversion": ("plan",),
    "plans.schedulerow": ("item",),
    "workgroups.secretariat": ("section",),
    "workgroups.workinggroupmembership": ("working_group", "user"),
    "workgroups.staffprofile": ("user",),
    "initiatives.initiative": ("policy",),
    "initiatives.projectunderway": ("section",),
    "initiatives.progressentry": ("initiative__policy",),
    "initiatives.indicatorvalue": ("indicator",),
    "initiatives.review": ("initiative__policy",),
    "auth.user": ("profile",),
}


def _staff_page(pk: Any) -> str | None:
    return reverse("workgroups:staff_edit", args=[pk]) if pk else None


# Where an object of a kind is seen (only ids of the object itself: no query).
OBJECT_PAGES: dict[str, Callable[[Any], str | None]] = {
    "initiatives.initiative": lambda o: reverse("initiatives:detail", args=[o.pk]),
    "initiatives.projectunderway": lambda o: reverse("initiatives:detail", args=[o.initiative_id]),
    "initiatives.progressentry": lambda o: reverse(
        "initiatives:progress_edit", args=[o.initiative_id, o.pk]
    ),
    "initiatives.indicator": lambda o: reverse("initiatives:indicator_edit", args=[o.pk]),
    "initiatives.indicatorvalue": lambda o: reverse(
        "initiatives:indicator_edit", args=[o.indicator_id]
    ),
    "initiatives.review": lambda o: reverse("initiatives:review", args=[o.pk]),
    "initiatives.onlineprocedure": lambda o: reverse("initiatives:procedure_edit", args=[o.pk]),
    "initiatives.standardsystem": lambda o: reverse("initiatives:system_edit", args=[o.pk]),
    "auth.user": lambda o: _staff_page(o.pk),
    "workgroups.staffprofile": lambda o: _staff_page(o.user_id),
    "workgroups.workinggroupmembership": lambda o: _staff_page(o.user_id),
    "workgroups.headquartersmember": lambda o: (
        _staff_page(o.user_id) or reverse("workgroups:organisation")
    ),
    "workgroups.section": lambda o: reverse("workgroups:sections"),
    "workgroups.sectionname": lambda o: reverse("workgroups:sections"),
    "workgroups.workinggroup": lambda o: reverse("workgroups:working_groups"),
    "workgroups.workinggroupname": lambda o: reverse("workgroups:working_groups"),
    "plans.plan": lambda o: reverse("reporting:versions"),
    "plans.planversion": lambda o: reverse("reporting:version_print", args=[o.pk]),
}


# A UNION of history or login rows, read as dicts (values()): the common columns only.
Rows: TypeAlias = "QuerySet[Model, dict[str, Any]]"


class HistoryRow(Protocol):
    """A row of one of simple-history's generated models, as read here: the generated
    classes have no static type, so a row is typed by what this module reads of it."""

    id: Any  # the object's pk
    history_id: int
    history_date: datetime
    history_type: str  # "+" created, "~" changed, "-" deleted
    history_change_reason: str | None
    history_user: PortalUser | None
    history_user_id: int | None

    @property
    def instance(self) -> Model: ...

    def diff_against(self, old_history: HistoryRow, included_fields: list[str]) -> Any: ...


@dataclass(frozen=True)
class Kind:
    key: str  # "initiatives.initiative"
    model: type[Model]
    history: type[Model]  # the historical model simple-history generated
    tracked_fields: tuple[Field[Any, Any], ...]  # the fields its history keeps

    @property
    def label(self) -> str:
        return str(self.model._meta.verbose_name)

    def rows(self) -> QuerySet[Any]:
        """The history rows, each read as a HistoryRow (the generated class is not typed)."""
        return self.history._default_manager.all()


def kinds() -> dict[str, Kind]:
    """Every model whose changes django-simple-history keeps, by "app.model"."""
    out = {}
    for model in apps.get_models():
        attribute = getattr(model._meta, "simple_history_manager_attribute", None)
        if attribute:
            key = model._meta.label_lower
            history = getattr(model, attribute).model  # untyped: simple-history's class
            out[key] = Kind(key, model, history, tuple(history.tracked_fields))
    return out


def kind_choices() -> list[tuple[str, str]]:
    return sorted(((k.key, k.label) for k in kinds().values()), key=lambda c: c[1])


@dataclass(frozen=True)
class AuditFilter:
    person: str = ""  # a user's pk, SYSTEM, or "" for everyone
    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""
    object_id: int | None = None


def day_start(day: date) -> datetime:
    """The first moment of ``day`` in Japan's time (the dates people type are days there)."""
    return timezone.make_aware(datetime.combine(day, time.min))


# --------------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------------


def _previous(history: type[Model]) -> Subquery:
    """The history_id of the same object's row just before this one (None for its first)."""
    return Subquery(
        history._default_manager.filter(id=OuterRef("id"))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )


# Django writes an account's history row at each login (update_last_login saves last_login):
# such a row has last_login set to the moment it was written. Read from the row alone (a
# comparison with the previous row costs a lookup per row, too slow on years of logins).
LOGIN_ROW_WINDOW = timedelta(seconds=1)


def _login_only() -> Q:
    """An account's row written by a login: the login records show it, the change list not.
    A password upgraded at login is saved before last_login moves, so it stays listed."""
    return (
        Q(history_type="~")
        & (Q(history_change_reason__isnull=True) | Q(history_change_reason=""))
        & Q(last_login__lte=F("history_date"))
        & Q(last_login__gte=F("history_date") - LOGIN_ROW_WINDOW)
    )


def _branch(kind: Kind, f: AuditFilter, *, with_order: bool) -> Rows:
    qs: QuerySet[Model] = kind.rows().order_by()
    if f.person == SYSTEM:
        qs = qs.filter(history_user__isnull=True)
    elif f.person:
        qs = qs.filter(history_user_id=int(f.person))
    if f.date_from:
        qs = qs.filter(history_date__gte=day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(history_date__lt=day_start(f.date_to + timedelta(days=1)))
    if f.object_id is not None:
        qs = qs.filter(id=f.object_id)
    if kind.model is get_user_model():
        qs = qs.exclude(_login_only())
    if not with_order:
        return qs.values("history_id")
    # The plugin types annotate() on a plain Model as Any: the rows are named here.
    rows: Rows = qs.annotate(k=Value(kind.key, output_field=CharField())).values(
        "history_id", "history_date", "k"
    )
    return rows


def _union(f: AuditFilter, *, with_order: bool) -> Rows | None:
    every = kinds()
    chosen = [every[f.kind]] if f.kind else list(every.values())
    if not chosen:
        return None
    branches = [_branch(k, f, with_order=with_order) for k in chosen]
    if len(branches) == 1:
        return branches[0]
    return branches[0].union(*branches[1:], all=True)


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Entry:
    when: datetime
    who: str
    who_id: int | None
    kind: str  # "app.model"
    kind_label: str
    object_id: Any
    object_label: str
    object_url: str | None
    action: str  # 作成 / 変更 / 削除
    changes: list[Change] = field(default_factory=list)
    reason: str = ""


def _shown_fields(kind: Kind) -> list[Field[Any, Any]]:
    """The fields the history keeps that a person edits (diff_against reads editable ones)."""
    return [
        f
        for f in kind.tracked_fields
        if f.concrete and f.editable and f.name not in HIDDEN_FIELDS and not f.primary_key
    ]


def _text(f: Any, value: Any, names: dict[tuple[Any, Any], str]) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if f.is_relation:
        return names.get((f.related_model, value), f"#{value}")
    if isinstance(value, bool):
        return gettext("はい") if value else gettext("いいえ")
    if isinstance(value, datetime):
        return wareki_time(value)
    if isinstance(value, date):
        return era.format_date(value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def entries(rows: list[dict[str, Any]]) -> list[Entry]:
    """The page's rows (history_id, history_date, k) as entries, in their order."""
    every = kinds()
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_kind[r["k"]].append(r)
    records: dict[tuple[str, int], HistoryRow] = {}
    previous: dict[tuple[str, int], HistoryRow] = {}
    live: dict[tuple[str, Any], Any] = {}
    for key, kind_rows in by_kind.items():
        kind = every[key]
        history = kind.rows()
        ids = [r["history_id"] for r in kind_rows]
        # The page's rows and, in the same query, each one's predecessor.
        # (One IN over a UNION: an OR of two IN lists would scan the whole table.)
        page = history.order_by().filter(history_id__in=ids)
        before = page.annotate(p=_previous(kind.history)).values("p")
        wanted = page.values("history_id").union(before, all=True)
        fetched: list[HistoryRow] = list(
            history.filter(history_id__in=wanted)
            .select_related("history_user__profile")
            .order_by("id", "history_date", "history_id")
        )
        for n, rec in enumerate(fetched):
            records[(key, rec.history_id)] = rec
            if n and fetched[n - 1].id == rec.id:
                previous[(key, rec.history_id)] = fetched[n - 1]
        object_ids = {records[(key, i)].id for i in ids}
        objects = kind.model._default_manager.select_related(*STR_RELATED.get(key, ()))
        for live_obj in objects.filter(pk__in=object_ids):
            live[(key, live_obj.pk)] = live_obj
    # The changes in raw values first, then the related rows they name, one query a model.
    raw: list[tuple[Entry, str, list[tuple[Any, Any, Any]]]] = []
    wanted_names: dict[Any, set[Any]] = defaultdict(set)
    for r in rows:
        key = r["k"]
        kind = every[key]
        rec = records[(key, r["history_id"])]
        prev = previous.get((key, r["history_id"]))
        obj = live.get((key, rec.id))
        entry = Entry(
            when=rec.history_date,
            who=display_name(rec.history_user) if rec.history_user else gettext("システム"),
            who_id=rec.history_user_id,
            kind=key,
            kind_label=kind.label,
            object_id=rec.id,
            object_label=_object_label(kind, obj, rec),
            object_url=(
                OBJECT_PAGES[key](obj) if obj is not None and key in OBJECT_PAGES else None
            ),
            action={"+": gettext("作成"), "-": gettext("削除")}.get(
                rec.history_type, gettext("変更")
            ),
            reason=rec.history_change_reason or "",
        )
        fields = _shown_fields(kind)
        triples: list[tuple[Any, Any, Any]] = []
        if rec.history_type == "~" and prev is not None:
            by_name = {f.name: f for f in fields}
            delta = rec.diff_against(prev, included_fields=list(by_name))
            order = {f.name: i for i, f in enumerate(fields)}
            for c in sorted(delta.changes, key=lambda c: order[c.field]):
                triples.append((by_name[c.field], c.old, c.new))
        elif rec.history_type in "+-":
            for f in fields:
                value = getattr(rec, f.attname)
                if value in (None, "", [], {}) or f.name in SECRET_FIELDS:
                    continue
                triples.append((f, None, value) if rec.history_type == "+" else (f, value, None))
        for f, old, new in triples:
            if f.is_relation:
                for v in (old, new):
                    if v is not None:
                        wanted_names[f.related_model].add(v)
        raw.append((entry, rec.history_type, triples))
    names = _related_names(wanted_names)
    out = []
    for entry, history_type, triples in raw:
        for f, old, new in triples:
            if f.name in SECRET_FIELDS:
                entry.changes.append(Change(str(f.verbose_name), "", gettext("変更しました")))
            elif history_type == "+":  # a new object: its values, no "before"
                entry.changes.append(Change(str(f.verbose_name), "", _text(f, new, names)))
            else:
                entry.changes.append(
                    Change(str(f.verbose_name), _text(f, old, names), _text(f, new, names))
                )
        out.append(entry)
    return out


def _object_label(kind: Kind, obj: Any, rec: HistoryRow) -> str:
    if obj is not None:
        return display_name(obj) if kind.model is get_user_model() else str(obj)
    if not STR_RELATED.get(kind.key):  # its name reads only its own fields: no query
        return str(rec.instance)
    return f"{kind.label} #{rec.id}"


def _related_names(wanted: dict[Any, set[Any]]) -> dict[tuple[Any, Any], str]:
    names: dict[tuple[Any, Any], str] = {}
    user_model = get_user_model()
    for model, pks in wanted.items():
        qs = model._default_manager.select_related(*STR_RELATED.get(model._meta.label_lower, ()))
        for obj in qs.filter(pk__in=pks):
            names[(model, obj.pk)] = display_name(obj) if model is user_model else str(obj)
    return names


class ChangeList:
    """What Paginator pages: a count and slices of the UNION, each slice made entries."""

    ORDER = ("-history_date", "-history_id", "-k")

    def __init__(self, f: AuditFilter) -> None:
        self.filter = f
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            qs = _union(self.filter, with_order=False)
            self._count = 0 if qs is None else qs.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Entry]:
        qs = _union(self.filter, with_order=True)
        if qs is None:
            return []
        return entries(list(qs.order_by(*self.ORDER)[index]))


def export_rows(f: AuditFilter, *, limit: int = EXPORT_LIMIT) -> Iterator[list[Any]]:
    """The CSV's rows: one per changed field (a change with none listed: one row), newest
    first, at most ``limit`` changes; past it a last row says the list was cut."""
    changes = ChangeList(f)
    total = changes.count()
    for start in range(0, min(total, limit), EXPORT_CHUNK):
        for e in changes[start : min(start + EXPORT_CHUNK, limit)]:
            when = timezone.localtime(e.when).isoformat()
            head = [when, e.who, e.kind_label, e.object_id, e.object_label, e.action]
            for c in e.changes or [Change("", "", "")]:
                yield [*head, c.field, c.old, c.new, gettext(e.reason) if e.reason else ""]
    if total > limit:
        yield [
            gettext(
                "上限の%(limit)s件で打ち切りました(全%(total)s件)。条件を絞って出力してください。"
            )
            % {"limit": f"{limit:,}", "total": f"{total:,}"}
        ]


EXPORT_HEADER = [
    gettext_noop("日時"),
    gettext_noop("変更した人"),
    gettext_noop("種類"),
    gettext_noop("ID"),
    gettext_noop("対象"),
    gettext_noop("操作"),
    gettext_noop("項目"),
    gettext_noop("変更前"),
    gettext_noop("変更後"),
    gettext_noop("理由"),
]


# --------------------------------------------------------------------------------------------
# Logins
# --------------------------------------------------------------------------------------------

SUCCESS, FAILURE, LOCKOUT, UNLOCK = "success", "failure", "lockout", "unlock"
LOGIN_KINDS = {
    SUCCESS: gettext_noop("ログイン成功"),
    FAILURE: gettext_noop("ログイン失敗"),
    LOCKOUT: gettext_noop("ログイン制限(ロック)"),
    UNLOCK: gettext_noop("ロック解除"),
}


@dataclass(frozen=True)
class LoginFilter:
    username: str = ""
    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""


@dataclass
class LoginRow:
    when: datetime
    kind: str
    username: str
    address: str | None
    person: str  # the account's name, where the user name is one
    by: str  # who lifted a lock

    @property
    def label(self) -> str:
        return gettext(LOGIN_KINDS[self.kind])


def _dated(qs: QuerySet[Model], name: str, f: LoginFilter) -> QuerySet[Model]:
    if f.date_from:
        qs = qs.filter(**{f"{name}__gte": day_start(f.date_from)})
    if f.date_to:
        qs = qs.filter(**{f"{name}__lt": day_start(f.date_to + timedelta(days=1))})
    return qs


def _login_union(f: LoginFilter) -> Rows | None:
    from axes.models import AccessFailureLog, AccessLog

    def shape(qs: QuerySet[Model], kind: Any, at: str, username: str, ip: Any, by: Any) -> Rows:
        rows: Rows = (
            qs.order_by()
            .annotate(
                r_kind=kind,
                r_at=F(at),
                r_user=F(username),
                r_ip=ip,
                r_by=by,
            )
            .values("r_kind", "r_at", "r_user", "r_ip", "r_by")
        )
        return rows

    # Typed NULLs (NULL::bigint): PostgreSQL matches a UNION's column types left to right,
    # and two untyped NULLs would make a text column that an id cannot join.
    no_one = Cast(Value(None), BigIntegerField())
    branches = []
    if f.kind in ("", SUCCESS):
        qs = _dated(AccessLog.objects.all(), "attempt_time", f)
        if f.username:
            qs = qs.filter(username__iexact=f.username)
        branches.append(
            shape(qs, Value(SUCCESS), "attempt_time", "username", F("ip_address"), no_one)
        )
    if f.kind in ("", FAILURE, LOCKOUT):
        qs = _dated(AccessFailureLog.objects.all(), "attempt_time", f)
        if f.username:
            qs = qs.filter(username__iexact=f.username)
        if f.kind == FAILURE:
            qs = qs.filter(locked_out=False)
        if f.kind == LOCKOUT:
            qs = qs.filter(locked_out=True)
        kind = Case(When(locked_out=True, then=Value(LOCKOUT)), default=Value(FAILURE))
        branches.append(shape(qs, kind, "attempt_time", "username", F("ip_address"), no_one))
    if f.kind in ("", UNLOCK):
        qs = _dated(
            StaffProfile.history.filter(history_change_reason=MSG_UNLOCKED), "history_date", f
        )
        if f.username:
            qs = qs.filter(user__username__iexact=f.username)
        branches.append(
            shape(
                qs,
                Value(UNLOCK),
                "history_date",
                "user__username",
                Cast(Value(None), GenericIPAddressField()),
                F("history_user_id"),
            )
        )
    if not branches:
        return None
    if len(branches) == 1:
        return branches[0]
    return branches[0].union(*branches[1:], all=True)


class LoginList:
    """Paginator's object list of the login records."""

    def __init__(self, f: LoginFilter) -> None:
        self.filter = f
        self._count: int | None = None

    def count(self) -> int:
        if self._count is None:
            qs = _login_union(self.filter)
            self._count = 0 if qs is None else qs.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[LoginRow]:
        qs = _login_union(self.filter)
        if qs is None:
            return []
        rows = list(qs.order_by("-r_at", "r_kind")[index])
        user_model = get_user_model()
        names = {r["r_user"].lower() for r in rows if r["r_user"]}
        ids = {r["r_by"] for r in rows if r["r_by"]}
        people: dict[Any, str] = {}
        if names or ids:
            q = Q(pk__in=ids)
            for name in names:
                q |= Q(username__iexact=name)
            for u in user_model.objects.select_related("profile").filter(q):
                people[u.username.lower()] = display_name(u)
                people[u.pk] = display_name(u)
        return [
            LoginRow(
                when=r["r_at"],
                kind=r["r_kind"],
                username=r["r_user"] or "",
                address=r["r_ip"],
                person=people.get((r["r_user"] or "").lower(), ""),
                by=people.get(r["r_by"], gettext("システム")) if r["r_kind"] == UNLOCK else "",
            )
            for r in rows
        ]


@dataclass
class LockedPerson:
    user: PortalUser | None  # None: the name is no account (someone guessing)
    username: str
    failures: int
    last_at: datetime


LOCKED_SHOWN = 50


def current_lockouts() -> list[LockedPerson]:
    """The user names locked out now (workgroups.selectors.lockouts, within the cool-off),
    newest first, at most LOCKED_SHOWN, with their account where there is one."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt

    since = timezone.now() - (get_cool_off() or timedelta(0))
    recent = (
        AccessAttempt.objects.filter(attempt_time__gte=since, username__isnull=False)
        .order_by("-attempt_time")
        .values_list("username", flat=True)[: LOCKED_SHOWN * 4]
    )
    names = list(dict.fromkeys(n.lower() for n in recent if n))
    locks = {n: lk for n, lk in lockouts(names).items() if lk.locked}
    if not locks:
        return []
    q = Q()
    for name in locks:
        q |= Q(username__iexact=name)
    accounts = {
        u.username.lower(): u for u in get_user_model().objects.select_related("profile").filter(q)
    }
    out = [LockedPerson(accounts.get(n), n, lk.failures, lk.last_at) for n, lk in locks.items()]
    out.sort(key=lambda p: p.last_at, reverse=True)
    return out[:LOCKED_SHOWN]
