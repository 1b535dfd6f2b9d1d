"""The staff roster (職員名簿) as the city keeps it in Excel, compared with the portal's staff.

Reading is `portal_lib.sheet_reading.merged_sheet_rows` (bounded, merged 所属 filled down);
this module finds the columns by name, skips the notes and blank rows the city leaves in and
under the table, checks every cell and works out who is new, who changed (field by field)
and who leaves, in every plan the roster's 適用日 reaches (`plans.selectors.plans_from`).
`workgroups.services.staff_roster_apply` writes: it runs this same preview first, so a
preview without errors is a confirm that goes through.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_noop

from plans.models import Plan
from plans.selectors import current_plan, plans_from
from portal_lib import era
from portal_lib.importing import (
    ErrorLog,
    Fingerprint,
    HeaderMatch,
    Heading,
    find_header,
    is_note,
    loose,
)
from portal_lib.people import display_name
from portal_lib.sheet_reading import SpreadsheetError, cell_error, display_value, merged_sheet_rows
from workgroups.access import lockout_problems, may_change_account
from workgroups.models import (
    Headquarters,
    HeadquartersMember,
    Section,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
)

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

User = get_user_model()

ROSTER_MAX_ROWS = 5_000
MAX_ERRORS_SHOWN = 200
MAX_FUTURE_DAYS = 31  # the confirm: a roster applies when it is confirmed
MAX_REHEARSAL_DAYS = 153  # the preview and --dry-run: about five months ahead
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
HEADINGS = [
    Heading(name, label, synonyms, required=name in REQUIRED)
    for name, (label, synonyms) in COLUMNS.items()
]

# The words people write, compared after NFKC without spaces, case-insensitively.
WG_ROLES = {
    **dict.fromkeys(
        ("リーダー", "リーダ", "wg長", "wgリーダー", "長", "班長", "leader"),
        WorkingGroupMembership.Role.LEADER,
    ),
    **dict.fromkeys(
        ("メンバー", "メンバ", "wgメンバー", "wg員", "員", "委員", "班員", "member"),
        WorkingGroupMembership.Role.MEMBER,
    ),
}
HQ_ROLES = {
    "本部員": HeadquartersMember.Role.MEMBER,
    "本部長": HeadquartersMember.Role.CHIEF,
    "副本部長": HeadquartersMember.Role.DEPUTY,
}
# One person in several WGs: 「情報推進課WG、総務課WG」, with 「,」「，」 or one per line. A
# 「・」 is not a separator: it may be part of a WG's name.
LIST_SPLIT = re.compile(r"[、,，\n]+")
# 職名 that name the post on their own: the HQ title is the 職名 as given.
STANDALONE_TITLES = frozenset(
    {"市長", "副市長", "教育長", "会計管理者", "議会事務局長", "本部長", "副本部長"}
)
_UNIT_CHARS = "部課室局所"
_BARE_POST = re.compile(rf"(副|担当)?[{_UNIT_CHARS}]長(補佐|代理)?")
_STAFF_NUMBER_RE = re.compile(r"[0-9A-Za-z-]{1,20}")

FIELD_LABELS = {
    "staff_number": gettext_noop("職員番号"),
    "name": gettext_noop("氏名"),
    "kana": gettext_noop("ふりがな"),
    "job_title": gettext_noop("職名"),
    "email": gettext_noop("メールアドレス"),
    "section": gettext_noop("所属"),
    "wgs": gettext_noop("DX推進WG"),
    "hq": gettext_noop("DX推進本部"),
    "active": gettext_noop("状態"),
}


def normalise(text: Any) -> str:
    """NFKC (full-width digits and letters to half-width), trimmed."""
    return unicodedata.normalize("NFKC", display_value(text)).strip()


_key = loose  # NFKC, no spaces, case-insensitive: how a name in the roster is compared


# --- the 適用日: previewed (rehearsed) months ahead, confirmed within 31 days --------------


def confirmable_from(effective: date) -> date:
    """The first day a roster with this 適用日 can be confirmed."""
    return effective - timedelta(days=MAX_FUTURE_DAYS)


def can_confirm(effective: date, today: date) -> bool:
    return effective <= today + timedelta(days=MAX_FUTURE_DAYS)


def effective_check(effective: date, today: date) -> None:
    """The confirm's rule: the roster applies when confirmed, so its 適用日 is at most
    MAX_FUTURE_DAYS ahead (a later date is rehearsed with the preview or --dry-run)."""
    if not can_confirm(effective, today):
        start = confirmable_from(effective)
        raise ValidationError(
            f"適用日が{MAX_FUTURE_DAYS}日より先です。名簿は確定した時点で反映されるため、"
            f"確定は{start.year}年{start.month}月{start.day}日から行えます。"
            "それまでは読み込んで変更内容を確かめる(試しの読み込み)だけができます。"
        )
    _past_check(effective, today)


def _past_check(effective: date, today: date) -> None:
    if effective < today - timedelta(days=MAX_PAST_DAYS):
        raise ValidationError("適用日が1年以上前です。日付を確かめてください。")


def rehearsal_check(effective: date, today: date) -> None:
    """The preview's rule: any 適用日 inside the next plan's first year, or up to about five
    months ahead, so that April is rehearsed from December."""
    _past_check(effective, today)
    if effective <= today + timedelta(days=MAX_REHEARSAL_DAYS):
        return
    fiscal_year = era.fiscal_year_of(effective)
    if (
        fiscal_year > era.fiscal_year_of(today)
        and Plan.objects.filter(start_fy=fiscal_year).exists()
    ):
        return  # the first year of a plan that starts later: the April reshuffle
    raise ValidationError(
        "適用日が先すぎます。試しの読み込みは、次の計画の1年目か、"
        f"{MAX_REHEARSAL_DAYS}日(約5か月)先までの日付で行えます。"
    )


def hq_title(section: str, job_title: str, department: str = "") -> str:
    """The 本部での職名 from the roster's 所属 and 職名: 総務課 + 課長 → 総務課長.

    A 職名 that already names its unit (総務部長, 総務課長) or a post of its own (市長,
    副市長) stays as given; 部長 alone takes the section's 部 when it is known.
    """
    title = job_title.strip()
    if not title or title in STANDALONE_TITLES or (section and section in title):
        return title
    if title == "部長":
        return f"{department}長" if department.endswith("部") else title
    if not _BARE_POST.fullmatch(title) and any(c in title[:-1] for c in _UNIT_CHARS):
        return title  # 総務部次長, 会計課長補佐 …: already says whose post it is
    if not section:
        return title
    unit = section[-1]
    if unit in _UNIT_CHARS and title.startswith(unit):
        return section + title[1:]  # 総務課 + 課長 → 総務課長, 市長公室 + 室長 → 市長公室長
    return section + title  # 総務課 + 主査 → 総務課主査


def target_plans(effective: date, plan: Plan | None = None) -> list[Plan]:
    """The plans the roster's WG and HQ changes go to: ``plan`` (``--plan``) when given,
    else every plan from the 適用日's fiscal year on (`plans.selectors.plans_from`)."""
    return [plan] if plan is not None else plans_from(effective)


# --- what the roster says, and what the portal has -----------------------------------------

WGs = tuple[tuple[str, str], ...]  # ((WG name, role), ...) sorted by name
Seat = tuple[str, str]  # (HeadquartersMember.Role, 本部での職名)


def show_wgs(value: WGs) -> str:
    if not value:
        return "—"
    return "、".join(f"{name}({WorkingGroupMembership.Role(role).label})" for name, role in value)


def show_hq(value: Seat | None) -> str:
    if value is None:
        return "—"
    role, title = value
    label = str(HeadquartersMember.Role(role).label)
    return f"{label}({title})" if title and title != label else label


@dataclass(frozen=True)
class PersonState:
    """What the roster says about a person (or what the portal has): compared field by field."""

    staff_number: str
    name: str
    kana: str
    job_title: str
    email: str
    section: str
    wgs: WGs
    hq: Seat | None
    active: bool = True

    def shown(self, name: str) -> str:
        value = getattr(self, name)
        if name == "wgs":
            return show_wgs(value)
        if name == "hq":
            return show_hq(value)
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
    user: PortalUser | None  # None: a new person, not yet an account
    state: PersonState | None  # the roster's (None when leaving)
    changes: list[FieldChange] = field(default_factory=list)
    changed_fields: frozenset[str] = frozenset()


@dataclass
class Skipped:
    row: int
    text: str  # "" for a blank row


@dataclass
class RosterPreview:
    sheet: str
    effective: date
    plans: list[Plan] = field(default_factory=list)  # the plans the confirm writes into
    # the plan the WGs were checked against when no plan covers the 適用日 yet (a rehearsal)
    stand_in: Plan | None = None
    confirmable: bool = True
    new: list[PersonPlan] = field(default_factory=list)
    changed: list[PersonPlan] = field(default_factory=list)
    leaving: list[PersonPlan] = field(default_factory=list)
    unchanged: int = 0
    log: ErrorLog = field(default_factory=lambda: ErrorLog(MAX_ERRORS_SHOWN, per_column=False))
    warnings: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    sections: dict[str, Section] = field(default_factory=dict)
    new_sections: dict[str, int] = field(default_factory=dict)  # name -> first row
    # plan pk -> {WG key: WG}
    plan_wgs: dict[int, dict[str, WorkingGroup]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "leaving": len(self.leaving),
            "unchanged": self.unchanged,
        }

    @property
    def has_changes(self) -> bool:
        return bool(self.new or self.changed or self.leaving or self.new_sections)

    @property
    def confirm_from(self) -> date:
        return confirmable_from(self.effective)

    @property
    def checked_plans(self) -> list[Plan]:
        """The plans the roster was compared with (the stand-in in a rehearsal)."""
        return self.plans or ([self.stand_in] if self.stand_in else [])

    @property
    def errors(self) -> list[str]:
        """The problems kept for the page (the first MAX_ERRORS_SHOWN)."""
        return self.log.messages

    @property
    def error_total(self) -> int:
        return self.log.total

    @property
    def fingerprint(self) -> str:
        """The planned writes: a confirm refuses when they differ from the preview's."""
        h = Fingerprint(self.effective.isoformat())
        h.add(repr([p.pk for p in self.plans]))
        h.add(repr(sorted(self.new_sections)))
        for p in [*self.new, *self.changed, *self.leaving]:
            h.add(repr((p.kind, p.staff_number, p.user.pk if p.user else None)))
            h.add(repr([(c.label, c.old, c.new) for c in p.changes]))
        return h.hexdigest()

    def error(self) -> SpreadsheetError:
        return self.log.error()


def _find_header(rows: Iterator[tuple[str, int, list]]) -> HeaderMatch:
    match = find_header(rows, HEADINGS, search_rows=HEADER_SEARCH_ROWS, key=loose)
    if match is None:
        required = "、".join(COLUMNS[r][0] for r in REQUIRED)
        raise SpreadsheetError(
            f"見出し行が見つかりません。上から{HEADER_SEARCH_ROWS}行以内に、"
            f"少なくとも {required} の列名が入った行を置いてください。"
        )
    return match


@dataclass
class _PlanHolding:
    """Who holds which WG roles and HQ seat in one plan."""

    wgs: dict[int, WGs]
    hq: dict[int, Seat]


def _holding(plan: Plan) -> _PlanHolding:
    wgs: dict[int, list[tuple[str, str]]] = {}
    for m in WorkingGroupMembership.objects.filter(working_group__plan=plan).select_related(
        "working_group"
    ):
        wgs.setdefault(m.user_id, []).append((m.working_group.name, m.role))
    hq = {
        seat.user_id: (seat.role, seat.title)
        for seat in HeadquartersMember.objects.filter(headquarters__plan=plan, user__isnull=False)
    }
    return _PlanHolding({pk: tuple(sorted(v)) for pk, v in wgs.items()}, hq)


def _current_states(
    primary: _PlanHolding | None,
) -> tuple[dict[str, Any], dict[int, PersonState]]:
    """Every profile with a staff number (by number) and the state of every staff account,
    its WG roles and HQ seat as the first plan the roster reaches holds them."""
    by_number: dict[str, Any] = {}
    states: dict[int, PersonState] = {}
    for profile in StaffProfile.objects.select_related("user", "section"):
        user = profile.user
        user.profile = profile
        states[user.pk] = PersonState(
            staff_number=profile.staff_number,
            name=profile.display_name or user.last_name,
            kana=profile.kana,
            job_title=profile.job_title,
            email=user.email,
            section=profile.section.name if profile.section else "",
            wgs=primary.wgs.get(user.pk, ()) if primary else (),
            hq=primary.hq.get(user.pk) if primary else None,
            active=user.is_active,
        )
        if profile.staff_number:
            by_number[profile.staff_number] = user
    return by_number, states


def _is_note(text: dict[str, str], filled: list[tuple[int, str]], section_col: int) -> bool:
    """A note under or inside the table: 「※令和8年4月1日現在 情報推進課作成」, 「以上」,
    a remark alone in column A, a line merged across the table. A row with a staff number
    is always a person; a person's row missing its number is an error, not a note."""
    if _STAFF_NUMBER_RE.fullmatch(text["staff_number"]):
        return False
    return is_note(filled, ignore_column=section_col)  # 所属 is filled down from its merge


def _is_header_again(values: list, cols: dict[str, int]) -> bool:
    """The header repeated on a printed page's top (Excel's 「印刷タイトル」 pasted in)."""
    col = cols["staff_number"]
    return col < len(values) and _key(values[col]) in COLUMNS["staff_number"][1]


def _split(text: str) -> list[str]:
    out: list[str] = []
    for part in LIST_SPLIT.split(text):
        part = part.strip()
        if part and part not in out:
            out.append(part)
    return out


def _parse_rows(
    rows: list[tuple[int, list]], sheet: str, preview: RosterPreview, errors: ErrorLog
) -> list[tuple[int, PersonState]]:
    remaining = ((sheet, number, values) for number, values in rows)
    header = _find_header(remaining)
    cols = header.first
    header_texts = {name: COLUMNS[name][0] for name in cols}
    sections = {_key(s.name): s for s in Section.objects.all()}
    checked = preview.checked_plans
    with_hq = set(Headquarters.objects.filter(plan__in=checked).values_list("plan_id", flat=True))
    parsed: list[tuple[int, PersonState]] = []
    seen: dict[str, int] = {}
    chief_row: int | None = None
    previous = header.number
    for _, number, values in remaining:
        preview.skipped.extend(Skipped(gap, "") for gap in range(previous + 1, number))
        previous = number

        def raw(name: str, values: list = values) -> Any:
            col = cols.get(name)
            return values[col] if col is not None and col < len(values) else None

        def err(name: str, message: str, number: int = number, raw: Any = raw) -> None:
            col = cols.get(name, 0)
            errors.add(
                cell_error(sheet, number, col + 1, header_texts.get(name, ""), raw(name), message)
            )

        text = {name: normalise(raw(name)) for name in COLUMNS}
        filled = [(i, t) for i, t in ((i, normalise(v)) for i, v in enumerate(values)) if t]
        if not any(text[name] for name in cols if name != "section"):
            # a blank line under a merged 所属, or text outside the roster's columns
            others = [t for i, t in filled if i != cols["section"]]
            preview.skipped.append(Skipped(number, others[0] if others else ""))
            continue
        if _is_header_again(values, cols):
            preview.skipped.append(Skipped(number, "、".join(t for _, t in filled)))
            continue
        if _is_note(text, filled, cols["section"]):
            preview.skipped.append(Skipped(number, filled[0][1]))
            continue
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
        section_name = text["section"]
        department = ""
        section = sections.get(_key(section_name))
        if section is None and section_name:
            section = Section.objects.renamed_from(section_name)
            if section is not None:
                preview.warnings.append(
                    f"{number}行目: 所属「{section_name}」は「{section.name}」に改称されています。"
                    f"「{section.name}」として取り込みます。"
                )
        if not section_name:
            err("section", "所属がありません。")
            ok = False
        elif section is None:
            if len(section_name) > 100:
                err("section", "課名は100文字以内にしてください。")
                ok = False
            else:
                # a 課 the portal does not know yet (市長公室): added on confirm
                preview.new_sections.setdefault(section_name, number)
        elif section.ended_fy is not None or not section.is_active:
            err("section", "統合・分割で廃止された課です。新しい課名で入力してください。")
            ok = False
        else:
            preview.sections[section.name] = section
            section_name = section.name
            department = section.department
        if not text["name"]:
            err("name", "氏名がありません。")
            ok = False
        for name, limit in (("name", 100), ("kana", 100), ("job_title", 100), ("email", 254)):
            if len(text[name]) > limit:
                err(name, f"{limit}文字以内にしてください。")
                ok = False
        if text["email"]:
            try:
                validate_email(text["email"])
            except ValidationError:
                err("email", "メールアドレスの形式が正しくありません。")
                ok = False
        wgs, wgs_ok = _parse_wgs(text, preview, checked, err)
        ok = ok and wgs_ok
        hq: Seat | None = None
        hq_role = HQ_ROLES.get(_key(text["hq"])) if text["hq"] else None
        if text["hq"] and hq_role is None:
            err("hq", "DX推進本部は「本部員」「本部長」「副本部長」か空欄にしてください。")
            ok = False
        elif hq_role is not None:
            title = hq_title(section_name, text["job_title"], department)
            missing = [p.name for p in checked if p.pk not in with_hq]
            if not text["job_title"]:
                err("job_title", "DX推進本部の席には職名が必要です(例: 課長、総務部長)。")
                ok = False
            elif len(title) > 100:
                err("job_title", "本部での職名(所属+職名)が100文字を超えます。")
                ok = False
            elif not checked:
                err("hq", _no_plan_message(preview.effective))
                ok = False
            elif missing:
                err("hq", f"計画「{'」「'.join(missing)}」にはDX推進本部が登録されていません。")
                ok = False
            elif hq_role == HeadquartersMember.Role.CHIEF and chief_row is not None:
                err("hq", f"本部長は1人です。{chief_row}行目も本部長になっています。")
                ok = False
            else:
                if hq_role == HeadquartersMember.Role.CHIEF:
                    chief_row = number
                hq = (hq_role, title)
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
                        section=section_name,
                        wgs=wgs,
                        hq=hq,
                    ),
                )
            )
    return parsed


def _no_plan_message(effective: date) -> str:
    return (
        f"適用日({effective.year}年{effective.month}月{effective.day}日)の年度の計画がありません。"
        "次の計画を作ってから取り込んでください(WGと本部は計画ごとに記録します)。"
    )


def _parse_wgs(
    text: dict[str, str], preview: RosterPreview, checked: list[Plan], err: Any
) -> tuple[WGs, bool]:
    """「情報推進課WG、総務課WG」 with one role for all, or roles in the same order."""
    names = _split(text["wg"])
    role_words = _split(text["wg_role"])
    roles = [WG_ROLES.get(_key(w)) for w in role_words]
    ok = True
    if any(r is None for r in roles):
        err(
            "wg_role",
            "WGでの役割は「リーダー」(WG長、長)か「メンバー」(WG員、員、委員)で入力してください。",
        )
        ok = False
    if not names:
        if role_words:
            err("wg_role", "役割がありますが、DX推進WGが空欄です。")
            ok = False
        return (), ok
    if len(roles) > 1 and len(roles) != len(names):
        err(
            "wg_role",
            f"役割が{len(roles)}つ、WGが{len(names)}つです。"
            "役割は1つ(全部のWGに同じ役割)か、WGと同じ順に同じ数だけ書いてください。",
        )
        ok = False
    if not checked:
        err("wg", _no_plan_message(preview.effective))
        return (), False
    out: dict[str, str] = {}
    for i, name in enumerate(names):
        found = None
        for plan in checked:
            wg = preview.plan_wgs[plan.pk].get(_key(name))
            if wg is None:
                err("wg", f"「{name}」: このWGは計画「{plan.name}」に登録されていません。")
                ok = False
            found = found or wg
        if found is None or not ok:
            continue
        role = roles[i] if len(roles) == len(names) else (roles[0] if roles else None)
        out[found.name] = role or WorkingGroupMembership.Role.MEMBER
    return tuple(sorted(out.items())), ok


def _changes(old: PersonState | None, new: PersonState) -> list[tuple[str, FieldChange]]:
    out = []
    for name in FIELD_LABELS:
        if old is None and name == "active":
            continue
        before = getattr(old, name) if old is not None else None
        after = getattr(new, name)
        if before != after:
            shown_old = old.shown(name) if old is not None else "—"
            out.append((name, FieldChange(FIELD_LABELS[name], shown_old, new.shown(name))))
    return out


def _other_plan_changes(
    user_pk: int, wgs: WGs, hq: Seat | None, others: list[tuple[Plan, _PlanHolding]]
) -> list[tuple[str, FieldChange]]:
    """The WG roles and seat in the later plans the roster reaches, where they differ."""
    out = []
    for plan, holding in others:
        held_wgs = holding.wgs.get(user_pk, ())
        if held_wgs != wgs:
            label = f"{FIELD_LABELS['wgs']}({plan.name})"
            out.append(("wgs", FieldChange(label, show_wgs(held_wgs), show_wgs(wgs))))
        held_hq = holding.hq.get(user_pk)
        if held_hq != hq:
            label = f"{FIELD_LABELS['hq']}({plan.name})"
            out.append(("hq", FieldChange(label, show_hq(held_hq), show_hq(hq))))
    return out


def _warnings(
    preview: RosterPreview,
    parsed: list[tuple[int, PersonState]],
    in_roster: set[int],
) -> None:
    """A WG with two leaders or led from outside its sections; HQ titles given twice."""
    checked = preview.checked_plans
    if not checked:
        return
    plan = checked[0]
    wgs = {wg.name: wg for wg in preview.plan_wgs[plan.pk].values()}
    leaving = {p.user.pk for p in preview.leaving}
    leaders: dict[str, list[tuple[str, str, int | None]]] = {}
    for m in (
        WorkingGroupMembership.objects.filter(
            working_group__plan=plan, role=WorkingGroupMembership.Role.LEADER, user__is_active=True
        )
        .exclude(user_id__in=in_roster | leaving)
        .select_related("working_group", "user__profile__section")
    ):
        profile = getattr(m.user, "profile", None)
        name = display_name(m.user)
        section = profile.section.name if profile and profile.section else ""
        leaders.setdefault(m.working_group.name, []).append((name, section, None))
    for number, state in parsed:
        for wg_name, role in state.wgs:
            if role == WorkingGroupMembership.Role.LEADER:
                leaders.setdefault(wg_name, []).append((state.name, state.section, number))
    for wg_name, people in sorted(leaders.items()):
        wg = wgs.get(wg_name)
        if wg is None:
            continue
        if len(people) > 1:
            names = "、".join(f"{n}({r}行目)" if r else n for n, _, r in people)
            preview.warnings.append(f"「{wg_name}」のWG長が{len(people)}人になります: {names}")
        allowed = {wg.lead_section.name, *(s.name for s in wg.sections.all())}
        for name, section, row in people:
            if section not in allowed:
                where = f"{row}行目: " if row else ""
                preview.warnings.append(
                    f"{where}{name}さん(所属「{section or '—'}」)は「{wg_name}」のWG長ですが、"
                    f"このWGの課({'、'.join(sorted(allowed))})の職員ではありません。"
                )
    titles: dict[str, int] = {}
    for number, state in parsed:
        if state.hq is None:
            continue
        title = state.hq[1]
        if title in titles:
            preview.warnings.append(
                f"{number}行目: 本部での職名「{title}」は{titles[title]}行目と同じです。"
                "所属と職名を確かめてください。"
            )
        else:
            titles[title] = number
    if any(s.hq and s.hq[0] == HeadquartersMember.Role.CHIEF for _, s in parsed):
        others = (
            HeadquartersMember.objects.filter(
                headquarters__plan=plan, role=HeadquartersMember.Role.CHIEF, user__isnull=False
            )
            .exclude(user_id__in=in_roster | leaving)
            .select_related("user")
        )
        for seat in others:
            preview.warnings.append(
                f"本部長の席は名簿にない{seat.user.get_username()}さんにもあります。"
                "職員の画面で本部の席を確かめてください。"
            )


def preview_roster(
    *,
    plan: Plan | None = None,
    data: bytes,
    filename: str,
    effective: date,
    today: date,
    actor: PortalUser | None = None,
) -> RosterPreview:
    """Read a full roster and work out every change the confirm would write, in every plan
    the 適用日 reaches (``plan``: that plan only); errors and warnings are listed, nothing
    written. The confirm (staff_roster_apply) runs exactly this, then writes.
    """
    rehearsal_check(effective, today)
    sheet, rows = merged_sheet_rows(data, filename, max_rows=ROSTER_MAX_ROWS)
    preview = RosterPreview(
        sheet=sheet,
        effective=effective,
        plans=target_plans(effective, plan),
        confirmable=can_confirm(effective, today),
    )
    if not preview.plans and not preview.confirmable:
        preview.stand_in = current_plan()
        if preview.stand_in is not None:
            preview.warnings.append(
                f"適用日の年度の計画がまだないため、WGと本部は今の計画「{preview.stand_in.name}」で"
                "確かめました。確定の前に次の計画を作ってください。"
            )
    checked = preview.checked_plans
    for p in checked:
        preview.plan_wgs[p.pk] = {_key(wg.name): wg for wg in p.working_groups.all()}
    errors = preview.log
    parsed = _parse_rows(rows, sheet, preview, errors)
    holdings = [(p, _holding(p)) for p in checked]
    by_number, states = _current_states(holdings[0][1] if holdings else None)
    others = holdings[1:]
    by_email = {
        u.email.casefold(): u
        for u in User.objects.filter(profile__staff_number="").exclude(email="")
    }
    usernames = set(User.objects.values_list("username", flat=True))
    in_roster: set[str] = set()
    matched: dict[int, int] = {}
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
            changes = [c for _, c in _changes(None, new)]
            preview.new.append(
                PersonPlan("new", new.staff_number, new.name, number, None, new, changes)
            )
            continue
        if user.pk in matched:
            errors.add(
                f"{number}行目: メールアドレス「{new.email}」の職員は{matched[user.pk]}行目と"
                "同じ人です。職員番号を確かめてください。"
            )
            continue
        matched[user.pk] = number
        diff = _changes(states.get(user.pk), new) + _other_plan_changes(
            user.pk, new.wgs, new.hq, others
        )
        if not diff:
            preview.unchanged += 1
            continue
        if not may_change_account(actor, user):
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
        if not may_change_account(actor, user):
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
            (),
            None,
            active=False,
        )
        diff = [c for n, c in _changes(old, gone) if n in ("wgs", "hq", "active")]
        diff[-1:-1] = [c for _, c in _other_plan_changes(user.pk, (), None, others)]
        preview.leaving.append(
            PersonPlan("leaving", staff_number, old.name, None, user, None, diff)
        )
    _warnings(preview, parsed, set(matched))
    # Whoever runs it (a command without --user too), a roster never deactivates the last
    # active secretariat member or superuser: the writes check it again under a lock.
    for message in lockout_problems(deactivate=[p.user for p in preview.leaving]):
        errors.add(f"名簿にない職員の無効化: {message}")
    return preview
