"""The staff roster (職員名簿) as the city keeps it in Excel, compared with the portal's staff.

Reading is `kahoku_dx.spreadsheets.merged_sheet_rows` (bounded, merged 所属 filled down);
this module finds the columns by name, checks every cell and works out who is new, who
changed (field by field) and who leaves. `workgroups.services.staff_roster_apply` writes.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_noop

from kahoku_dx.spreadsheets import SpreadsheetError, cell_error, display_value, merged_sheet_rows
from plans.models import Plan
from workgroups.access import lockout_problems
from workgroups.models import (
    HeadquartersMember,
    Section,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
)

User = get_user_model()

ROSTER_MAX_ROWS = 5_000
MAX_ERRORS_SHOWN = 200
MAX_FUTURE_DAYS = 31
MAX_PAST_DAYS = 366
HEADER_SEARCH_ROWS = 20

# field -> (the header the city uses, accepted spellings). Compared after NFKC, without
# spaces, case-insensitively.
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "staff_number": ("職員番号", ("職員番号", "職員no", "職員コード", "職員id")),
    "section": ("所属", ("所属", "所属課", "課名", "課", "所属名")),
    "job_title": ("職名", ("職名", "役職", "職位")),
    "name": ("氏名", ("氏名", "名前", "職員名", "氏名(漢字)")),
    "kana": ("ふりがな", ("ふりがな", "フリガナ", "よみがな", "氏名(かな)")),
    "email": ("メールアドレス", ("メールアドレス", "メール", "e-mail", "email", "mail")),
    "wg": ("DX推進WG", ("dx推進wg", "wg", "所属wg", "担当wg")),
    "wg_role": ("WGでの役割", ("wgでの役割", "wg役割", "wgの役割")),
    "hq": ("DX推進本部", ("dx推進本部", "推進本部", "本部")),
}
REQUIRED = ("staff_number", "section", "name")

WG_ROLES = {
    "リーダー": WorkingGroupMembership.Role.LEADER,
    "リーダ": WorkingGroupMembership.Role.LEADER,
    "wg長": WorkingGroupMembership.Role.LEADER,
    "メンバー": WorkingGroupMembership.Role.MEMBER,
    "wgメンバー": WorkingGroupMembership.Role.MEMBER,
}
HQ_ROLES = {
    "本部員": HeadquartersMember.Role.MEMBER,
    "本部長": HeadquartersMember.Role.CHIEF,
    "副本部長": HeadquartersMember.Role.DEPUTY,
}
_STAFF_NUMBER_RE = re.compile(r"[0-9A-Za-z-]{1,20}")

FIELD_LABELS = {
    "staff_number": gettext_noop("職員番号"),
    "name": gettext_noop("氏名"),
    "kana": gettext_noop("ふりがな"),
    "job_title": gettext_noop("職名"),
    "email": gettext_noop("メールアドレス"),
    "section": gettext_noop("所属"),
    "wg": gettext_noop("DX推進WG"),
    "hq": gettext_noop("DX推進本部"),
    "active": gettext_noop("状態"),
}


def normalise(text: Any) -> str:
    """NFKC (full-width digits and letters to half-width), trimmed."""
    return unicodedata.normalize("NFKC", display_value(text)).strip()


def _key(text: Any) -> str:
    return re.sub(r"\s+", "", normalise(text)).casefold()


def effective_check(effective: date, today: date) -> None:
    """The roster applies now; a date up to MAX_FUTURE_DAYS ahead is recorded, not scheduled."""
    if effective > today + timedelta(days=MAX_FUTURE_DAYS):
        raise ValidationError(
            f"適用日が{MAX_FUTURE_DAYS}日より先です。名簿は取り込んだ時点で反映されるため、"
            f"適用日の{MAX_FUTURE_DAYS}日前以降に取り込んでください。"
        )
    if effective < today - timedelta(days=MAX_PAST_DAYS):
        raise ValidationError("適用日が1年以上前です。日付を確かめてください。")


@dataclass(frozen=True)
class PersonState:
    """What the roster says about a person (or what the portal has): compared field by field."""

    staff_number: str
    name: str
    kana: str
    job_title: str
    email: str
    section: str
    wg: tuple[str, str] | None  # (WG name, role)
    hq: str | None  # HeadquartersMember.Role
    active: bool = True

    def shown(self, name: str) -> str:
        value = getattr(self, name)
        if name == "wg":
            if value is None:
                return "—"
            role = WorkingGroupMembership.Role(value[1]).label
            return f"{value[0]}({role})"
        if name == "hq":
            return HeadquartersMember.Role(value).label if value else "—"
        if name == "active":
            return "有効" if value else "無効"
        return value or "—"


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class PersonPlan:
    kind: str  # "new", "changed", "leaving"
    staff_number: str
    name: str
    row: int | None
    user: Any | None
    state: PersonState | None  # the roster's (None when leaving)
    changes: list[FieldChange] = field(default_factory=list)
    changed_fields: frozenset[str] = frozenset()


@dataclass
class RosterPreview:
    sheet: str
    effective: date
    new: list[PersonPlan] = field(default_factory=list)
    changed: list[PersonPlan] = field(default_factory=list)
    leaving: list[PersonPlan] = field(default_factory=list)
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    error_total: int = 0
    sections: dict[str, Section] = field(default_factory=dict)
    working_groups: dict[str, WorkingGroup] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "leaving": len(self.leaving),
            "unchanged": self.unchanged,
        }

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.changed or self.leaving)

    @property
    def fingerprint(self) -> str:
        """The planned writes: a confirm refuses when they differ from the preview's."""
        h = hashlib.sha256(self.effective.isoformat().encode())
        for p in [*self.new, *self.changed, *self.leaving]:
            h.update(repr((p.kind, p.staff_number, p.user.pk if p.user else None)).encode())
            h.update(repr([(c.label, c.old, c.new) for c in p.changes]).encode())
        return h.hexdigest()

    def error(self) -> SpreadsheetError:
        shown = list(self.errors)
        if self.error_total > len(shown):
            shown.append(
                f"ほかにも問題があります。全部で{self.error_total:,}件のうち"
                f"最初の{len(self.errors)}件を表示しています。"
            )
        return SpreadsheetError(*shown, total=self.error_total)


class _Errors:
    def __init__(self, preview: RosterPreview) -> None:
        self.preview = preview

    def add(self, message: str) -> None:
        self.preview.error_total += 1
        if len(self.preview.errors) < MAX_ERRORS_SHOWN:
            self.preview.errors.append(message)


def _find_header(rows: list[tuple[int, list]]) -> tuple[int, dict[str, int]]:
    spellings = {s.casefold(): name for name, (_, synonyms) in COLUMNS.items() for s in synonyms}
    for index, (_number, values) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found: dict[str, int] = {}
        for col, value in enumerate(values):
            name = spellings.get(_key(value))
            if name is not None and name not in found:
                found[name] = col
        if all(r in found for r in REQUIRED):
            return index, found
    required = "、".join(COLUMNS[r][0] for r in REQUIRED)
    raise SpreadsheetError(
        f"見出し行が見つかりません。上から{HEADER_SEARCH_ROWS}行以内に、"
        f"少なくとも {required} の列名が入った行を置いてください。"
    )


def _current_states(plan: Plan | None) -> tuple[dict[str, Any], dict[int, PersonState]]:
    """Every profile with a staff number (by number) and the state of every staff account."""
    profiles = StaffProfile.objects.select_related("user", "section")
    wg_of: dict[int, tuple[str, str]] = {}
    hq_of: dict[int, str] = {}
    if plan is not None:
        for m in WorkingGroupMembership.objects.filter(working_group__plan=plan).select_related(
            "working_group"
        ):
            # one WG per person in the roster; a leader role wins when several are held
            if m.user_id not in wg_of or m.role == WorkingGroupMembership.Role.LEADER:
                wg_of[m.user_id] = (m.working_group.name, m.role)
        for seat in HeadquartersMember.objects.filter(headquarters__plan=plan, user__isnull=False):
            hq_of[seat.user_id] = seat.role
    by_number: dict[str, Any] = {}
    states: dict[int, PersonState] = {}
    for profile in profiles:
        user = profile.user
        user.profile = profile
        states[user.pk] = PersonState(
            staff_number=profile.staff_number,
            name=profile.display_name or user.last_name,
            kana=profile.kana,
            job_title=profile.job_title,
            email=user.email,
            section=profile.section.name if profile.section else "",
            wg=wg_of.get(user.pk),
            hq=hq_of.get(user.pk),
            active=user.is_active,
        )
        if profile.staff_number:
            by_number[profile.staff_number] = user
    return by_number, states


def _parse_rows(
    rows: list[tuple[int, list]], sheet: str, preview: RosterPreview, errors: _Errors
) -> list[tuple[int, PersonState]]:
    header_index, cols = _find_header(rows)
    header_texts = {name: COLUMNS[name][0] for name in cols}
    sections = {_key(s.name): s for s in Section.objects.all()}
    wgs = preview.working_groups
    parsed: list[tuple[int, PersonState]] = []
    seen: dict[str, int] = {}
    for number, values in rows[header_index + 1 :]:

        def raw(name: str, values: list = values) -> Any:
            col = cols.get(name)
            return values[col] if col is not None and col < len(values) else None

        def err(name: str, message: str, number: int = number, raw: Any = raw) -> None:
            col = cols.get(name, 0)
            errors.add(
                cell_error(sheet, number, col + 1, header_texts.get(name, ""), raw(name), message)
            )

        text = {name: normalise(raw(name)) for name in COLUMNS}
        if not any(text[name] for name in cols if name != "section"):
            continue  # a blank line under a merged 所属
        ok = True
        staff_number = text["staff_number"]
        if not staff_number:
            err("staff_number", "職員番号がありません。")
            ok = False
        elif not _STAFF_NUMBER_RE.fullmatch(staff_number):
            err("staff_number", "職員番号は半角・全角の数字と英字(20文字まで)で入力してください。")
            ok = False
        elif staff_number in seen:
            err("staff_number", f"職員番号が{seen[staff_number]}行目と重複しています。")
            ok = False
        else:
            seen[staff_number] = number
        section = sections.get(_key(text["section"]))
        if not text["section"]:
            err("section", "所属がありません。")
            ok = False
        elif section is None:
            err("section", "この課は登録されていません。「課と組織改編」の課名で入力してください。")
            ok = False
        elif section.ended_fy is not None or not section.is_active:
            err("section", "統合・分割で廃止された課です。新しい課名で入力してください。")
            ok = False
        else:
            preview.sections[section.name] = section
        if not text["name"]:
            err("name", "氏名がありません。")
            ok = False
        for name, limit in (("name", 100), ("kana", 100), ("job_title", 100)):
            if len(text[name]) > limit:
                err(name, f"{limit}文字以内にしてください。")
                ok = False
        if text["email"]:
            try:
                validate_email(text["email"])
            except ValidationError:
                err("email", "メールアドレスの形式が正しくありません。")
                ok = False
        wg_value: tuple[str, str] | None = None
        role = WG_ROLES.get(_key(text["wg_role"])) if text["wg_role"] else None
        if text["wg_role"] and role is None:
            err("wg_role", "WGでの役割は「リーダー」(WG長)か「メンバー」で入力してください。")
            ok = False
        if text["wg"]:
            wg = wgs.get(_key(text["wg"]))
            if wg is None:
                err("wg", "このWGは計画に登録されていません。")
                ok = False
            else:
                wg_value = (wg.name, role or WorkingGroupMembership.Role.MEMBER)
        elif role is not None:
            err("wg_role", "役割がありますが、DX推進WGが空欄です。")
            ok = False
        hq = HQ_ROLES.get(_key(text["hq"])) if text["hq"] else None
        if text["hq"] and hq is None:
            err("hq", "DX推進本部は「本部員」「本部長」「副本部長」か空欄にしてください。")
            ok = False
        elif hq is not None and not text["job_title"]:
            err("job_title", "DX推進本部の席には職名が必要です(例: 総務部長)。")
            ok = False
        if ok:
            parsed.append(
                (
                    number,
                    PersonState(
                        staff_number=staff_number,
                        name=text["name"],
                        kana=text["kana"],
                        job_title=text["job_title"],
                        email=text["email"],
                        section=section.name if section else "",
                        wg=wg_value,
                        hq=hq,
                    ),
                )
            )
    return parsed


def _changes(old: PersonState | None, new: PersonState) -> list[tuple[str, FieldChange]]:
    out = []
    for name in FIELD_LABELS:
        before = getattr(old, name) if old is not None else None
        after = getattr(new, name)
        if old is None and name in ("active",):
            continue
        if before != after:
            shown_old = old.shown(name) if old is not None else "—"
            out.append((name, FieldChange(FIELD_LABELS[name], shown_old, new.shown(name))))
    return out


def preview_roster(
    *,
    plan: Plan | None,
    data: bytes,
    filename: str,
    effective: date,
    today: date,
    actor: Any = None,
) -> RosterPreview:
    """Read a full roster and work out every change; errors are listed, nothing written."""
    effective_check(effective, today)
    sheet, rows = merged_sheet_rows(data, filename, max_rows=ROSTER_MAX_ROWS)
    preview = RosterPreview(sheet=sheet, effective=effective)
    if plan is not None:
        preview.working_groups = {
            _key(wg.name): wg for wg in WorkingGroup.objects.filter(plan=plan)
        }
    errors = _Errors(preview)
    parsed = _parse_rows(rows, sheet, preview, errors)
    by_number, states = _current_states(plan)
    by_email = {
        u.email.casefold(): u
        for u in User.objects.filter(profile__staff_number="").exclude(email="")
    }
    usernames = set(User.objects.values_list("username", flat=True))
    actor_super = getattr(actor, "is_superuser", False)
    in_roster: set[str] = set()
    for number, new in parsed:
        in_roster.add(new.staff_number)
        user = by_number.get(new.staff_number) or (
            by_email.get(new.email.casefold()) if new.email else None
        )
        if user is None:
            if new.staff_number in usernames:
                errors.add(
                    f"{number}行目: ユーザー名「{new.staff_number}」はほかのアカウントが"
                    "使っています。そのアカウントに職員番号を登録してから取り込んでください。"
                )
                continue
            preview.new.append(
                PersonPlan(
                    "new",
                    new.staff_number,
                    new.name,
                    number,
                    None,
                    new,
                    [c for _, c in _changes(None, new)],
                )
            )
            continue
        old = states.get(user.pk)
        diff = _changes(old, new)
        if not diff:
            preview.unchanged += 1
            continue
        if user.is_superuser and not actor_super:
            errors.add(f"{number}行目: システム管理者のアカウントは名簿で変更できません。")
            continue
        preview.changed.append(
            PersonPlan(
                "changed",
                new.staff_number,
                new.name,
                number,
                user,
                new,
                [c for _, c in diff],
                frozenset(n for n, _ in diff),
            )
        )
    for staff_number, user in sorted(by_number.items()):
        old = states[user.pk]
        if staff_number in in_roster or not user.is_active:
            continue
        if user.is_superuser and not actor_super:
            errors.add(
                f"職員番号{staff_number}: システム管理者のアカウントは名簿で無効にできません。"
            )
            continue
        if actor is not None and user.pk == actor.pk:
            errors.add(
                f"職員番号{staff_number}: 名簿にないため無効になりますが、"
                "自分自身のアカウントは無効にできません。名簿を確かめてください。"
            )
            continue
        gone = PersonState(
            old.staff_number,
            old.name,
            old.kana,
            old.job_title,
            old.email,
            old.section,
            None,
            None,
            active=False,
        )
        diff = [c for n, c in _changes(old, gone) if n in ("wg", "hq", "active")]
        preview.leaving.append(
            PersonPlan("leaving", staff_number, old.name, None, user, None, diff)
        )
    # Whoever runs it (a command without --user too), a roster never deactivates the last
    # active secretariat member or superuser: the writes check it again under a lock.
    for message in lockout_problems(deactivate=[p.user for p in preview.leaving]):
        errors.add(f"名簿にない職員の無効化: {message}")
    return preview
