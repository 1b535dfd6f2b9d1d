"""Drafting the next plan (or a revision) on screens: every write of the drafting workspace.

A plan is drafted while it is editable: a draft plan, or a plan with a draft revision (an
unfrozen version newer than its last frozen one). Every write locks the plan row first, so
that no write lands while the plan is being adopted, and refuses with MSG_NOT_EDITABLE when
the plan is no longer editable (plans.services.lock_editable; the basic policies' and
schedule items' own writes are plans.services too). History names the actor
(save_with_user); initiatives and indicators carry an optimistic-lock version
(portal_lib.versioning).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from initiatives.models import CountableTarget, Indicator, Initiative, ProjectUnderWay
from initiatives.services import indicator_create, indicator_update
from plans.models import (
    BasicPolicy,
    NationalItem,
    Plan,
    PlanChapter,
    PlanStatus,
    PlanVersion,
    ScheduleCell,
    ScheduleItem,
    ScheduleRow,
)
from plans.services import lock_editable, move_row, next_number
from portal_lib import era
from portal_lib.history import delete_with_user, save_with_user, set_history_user
from portal_lib.versioning import check_version, locked, version_bump
from reporting import chapter_facts
from reporting.selectors.summary import PlanSummary, plan_summary, rollup_text
from reporting.services.schedule import _delete_row
from workgroups.models import Section, WorkingGroup

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

# --- which plans are drafted -------------------------------------------------------------------


def _draft_among(plan: Plan, versions: list[PlanVersion]) -> PlanVersion | None:
    """Of the plan's versions, the one being drafted: the newest unfrozen one, and (for a
    plan already decided) only if it was made after the last frozen one (第0.5版, older
    than the frozen 第1.0版 and never frozen itself, is not a draft)."""
    unfrozen = [v for v in versions if v.frozen_at is None]
    if plan.status != PlanStatus.DRAFT:
        last_frozen = max((v.pk for v in versions if v.frozen_at is not None), default=0)
        unfrozen = [v for v in unfrozen if v.pk > last_frozen]
    return max(unfrozen, key=lambda v: v.pk) if unfrozen else None


def draft_version(plan: Plan) -> PlanVersion | None:
    """The version being drafted (its chapters are the draft's text), or None."""
    return _draft_among(plan, list(plan.versions.all()))


def text_version(plan: Plan) -> PlanVersion | None:
    """The version whose chapters are the plan's text now: the draft's, else the latest."""
    versions = list(plan.versions.all())
    latest = max(versions, key=lambda v: (v.issued_fy, v.number), default=None)
    return _draft_among(plan, versions) or latest


# --- chapter text ------------------------------------------------------------------------------


def successor_chapter_text(text: str, source_plan: Plan) -> str:
    """A chapter of ``source_plan`` as the next plan's starting text: the source's period (in
    every spelling: 令和3年度(2021年度)から令和8年度(2026年度)まで, R3〜R8 …), its name and its
    version written with the name become placeholders filled from the new plan's data."""
    text = chapter_facts.replace_period(text, source_plan.start_fy, source_plan.end_fy)
    numbers = source_plan.versions.values_list("number", flat=True)
    return chapter_facts.replace_name_and_versions(text, source_plan.name, numbers)


# --- warnings before adoption ------------------------------------------------------------------


def plain_facts(plan: Plan, version: PlanVersion | None) -> dict[str, Any]:
    """The facts a chapter title names (name, version, period) without building the content."""
    return {
        "plan": {"name": plan.name, "start_fy": plan.start_fy, "end_fy": plan.end_fy},
        "version": {"label": version.label if version else ""},
    }


def adoption_warnings(plan: Plan, *, version: PlanVersion | None = None) -> list[str]:
    """What to look at before adopting ``plan``: chapter passages (and policy summaries,
    initiative descriptions) naming a fiscal year outside its period, an empty table 4-1,
    initiatives without a WG or an indicator, policies without initiatives. Empty when
    nothing needs a look. ``version``: the text's version when the caller has it."""
    version = version or text_version(plan)
    chapters = (
        list(version.chapters.order_by("number").values_list("number", "title", "body"))
        if version is not None
        else []
    )
    warnings: list[str] = []
    period = f"{chapter_facts.fiscal_year_text(plan.start_fy)}〜" + chapter_facts.fiscal_year_text(
        plan.end_fy
    )
    facts = plain_facts(plan, version)
    for m in chapter_facts.years_outside(chapters, plan.start_fy, plan.end_fy):
        years = pgettext("punctuation", "、").join(
            chapter_facts.fiscal_year_text(fy) for fy in m.years
        )
        title = chapter_facts.fill(m.title, facts)
        warnings.append(
            _(
                "第%(chapter)s章「%(title)s」に計画期間(%(period)s)の外の年度(%(years)s)が"
                "書かれています:「%(passage)s」"
            )
            % {
                "chapter": m.chapter,
                "title": title,
                "period": period,
                "years": years,
                "passage": m.passage,
            }
        )
    if not ScheduleRow.objects.filter(item__plan=plan).exists():
        warnings.append(_("表4-1に項目・行がありません(見出し行だけです)。"))
    policies = list(
        BasicPolicy.objects.filter(plan=plan)
        .order_by("number")
        .prefetch_related("initiatives__indicators")
    )

    def text_outside(what: str, text: str) -> None:
        for passage, years in chapter_facts.passages_outside(text, plan.start_fy, plan.end_fy):
            named = pgettext("punctuation", "、").join(
                chapter_facts.fiscal_year_text(fy) for fy in years
            )
            warnings.append(
                _(
                    "%(what)sに計画期間(%(period)s)の外の年度(%(years)s)が書かれています:「%(passage)s」"
                )
                % {"what": what, "period": period, "years": named, "passage": passage}
            )

    for policy in policies:
        initiatives = sorted(policy.initiatives.all(), key=lambda i: i.number)
        if not initiatives:
            warnings.append(
                _("基本方針%(number)s「%(title)s」に取り組みがありません。")
                % {"number": policy.number, "title": policy.title}
            )
        text_outside(_("基本方針%(number)sの概要") % {"number": policy.number}, policy.summary)
        text_outside(
            _("基本方針%(number)sの分類の説明") % {"number": policy.number}, policy.classification
        )
        for ini in initiatives:
            code = f"{policy.number}.{ini.number}"
            named = {"code": code, "title": ini.title}
            text_outside(_("取り組み%(code)s「%(title)s」の概要") % named, ini.description)
            if ini.working_group_id is None:
                warnings.append(
                    _("取り組み%(code)s「%(title)s」の担当WGが決まっていません。") % named
                )
            if not ini.indicators.all():
                warnings.append(_("取り組み%(code)s「%(title)s」に指標(KPI)がありません。") % named)
    if not policies:
        warnings.append(_("基本方針がひとつもありません。"))
    return warnings


# --- basic policies ---------------------------------------------------------------------------


@transaction.atomic
def policy_delete(*, actor: PortalUser, policy: BasicPolicy) -> None:
    lock_editable(policy.plan)
    if policy.initiatives.exists():
        raise ValidationError(
            f"基本方針{policy.number}には取り組みがあるため削除できません。"
            "先に取り組みをほかの基本方針へ移すか、削除してください。"
        )
    delete_with_user(policy, actor)


# --- initiatives ------------------------------------------------------------------------------


def _check_in_plan(plan: Plan, *, policy: BasicPolicy, working_group: WorkingGroup | None) -> None:
    if policy.plan_id != plan.pk:
        raise ValidationError({"policy": "この計画の基本方針を選んでください。"})
    if working_group is not None and working_group.plan_id != plan.pk:
        raise ValidationError({"working_group": "この計画のWGを選んでください。"})


@transaction.atomic
def initiative_save(
    *,
    actor: PortalUser,
    plan: Plan,
    initiative: Initiative | None = None,
    version: int | None = None,
    policy: BasicPolicy,
    number: int | None,
    title: str,
    description: str = "",
    flag: str = "",
    national_items: Iterable[NationalItem] = (),
    working_group: WorkingGroup | None = None,
    lead_section: Section | None = None,
) -> Initiative:
    """Add an initiative or edit one (moving it to another policy or WG is an edit too).

    A number left empty is the next free one in the policy; a taken number is refused."""
    plan = lock_editable(plan)
    _check_in_plan(plan, policy=policy, working_group=working_group)
    if initiative is not None:
        current = locked(initiative)
        if current.policy.plan_id != plan.pk:
            raise ValidationError("この計画の取り組みではありません。")
        check_version(current, version, _("取り組み"))
        version_bump(current)
    else:
        current = Initiative()
    siblings = Initiative.objects.filter(policy=policy).exclude(pk=current.pk)
    if number is None:
        number = (
            current.number
            if current.pk and current.policy_id == policy.pk
            else next_number(siblings, "number")
        )
    if siblings.filter(number=number).exists():
        raise ValidationError(
            {
                "number": f"基本方針{policy.number}には取り組み{policy.number}.{number}がすでにあります。"
            }
        )
    current.policy, current.number, current.title = policy, number, title
    current.description, current.flag = description, flag
    current.working_group, current.lead_section = working_group, lead_section
    save_with_user(current, actor)
    items = list(national_items)
    if {i.pk for i in current.national_items.all()} != {i.pk for i in items}:
        set_history_user(current, actor)
        current.national_items.set(items)
    return current


@transaction.atomic
def initiative_move(*, actor: PortalUser, initiative: Initiative, direction: str) -> bool:
    lock_editable(initiative.policy.plan)
    qs = Initiative.objects.filter(policy_id=initiative.policy_id)
    return move_row(actor, qs, qs.get(pk=initiative.pk), "number", direction)


@transaction.atomic
def initiative_delete(*, actor: PortalUser, initiative: Initiative) -> None:
    """Abolish an initiative from the draft (one carried from the old plan too), with its
    projects and indicators; refused once it has progress records or PDCA reviews."""
    lock_editable(initiative.policy.plan)
    if initiative.progress_entries.exists() or initiative.reviews.exists():
        raise ValidationError(
            f"取り組み{initiative.code}には進捗記録または振り返りがあるため削除できません。"
        )
    # SET_NULL and CASCADE would write no history row naming the actor: do it visibly.
    for row in ScheduleRow.objects.filter(initiative=initiative):
        row.initiative = None
        save_with_user(row, actor)
    for target in CountableTarget.objects.filter(initiative=initiative):
        target.initiative = None
        save_with_user(target, actor)
    for later in Initiative.objects.filter(carried_from=initiative):
        later.carried_from = None
        version_bump(later)
        save_with_user(later, actor)
    for project in initiative.projects.all():
        delete_with_user(project, actor)
    for indicator in initiative.indicators.all():
        _indicator_delete(indicator, actor)
    delete_with_user(initiative, actor)


# --- projects under way -----------------------------------------------------------------------


@transaction.atomic
def project_save(
    *,
    actor: PortalUser,
    initiative: Initiative,
    project: ProjectUnderWay | None = None,
    era_label: str,
    name: str,
    section: Section,
) -> ProjectUnderWay:
    lock_editable(initiative.policy.plan)
    siblings = ProjectUnderWay.objects.filter(initiative=initiative)
    if project is not None:
        project = siblings.get(pk=project.pk)
    others = siblings.exclude(pk=project.pk) if project else siblings
    if others.filter(name=name).exists():
        raise ValidationError({"name": f"この取り組みには「{name}」がすでにあります。"})
    try:
        fiscal_year = era.parse_era_year(era_label)
    except era.EraError as exc:
        raise ValidationError({"era_label": str(exc)}) from exc
    if project is None:
        project = ProjectUnderWay(initiative=initiative, order=next_number(siblings, "order"))
    project.era_label, project.fiscal_year = era_label, fiscal_year
    project.name, project.section = name, section
    save_with_user(project, actor)
    return project


@transaction.atomic
def project_move(*, actor: PortalUser, project: ProjectUnderWay, direction: str) -> bool:
    lock_editable(project.initiative.policy.plan)
    projects = list(project.initiative.projects.order_by("order", "pk"))
    i = next(n for n, p in enumerate(projects) if p.pk == project.pk)
    j = i - 1 if direction == "up" else i + 1 if direction == "down" else -1
    if j < 0 or j >= len(projects):
        return False
    projects[i], projects[j] = projects[j], projects[i]
    for order, p in enumerate(projects, start=1):
        if p.order != order:
            p.order = order
            save_with_user(p, actor)
    return True


@transaction.atomic
def project_delete(*, actor: PortalUser, project: ProjectUnderWay) -> None:
    lock_editable(project.initiative.policy.plan)
    delete_with_user(project, actor)


# --- indicators and their targets -------------------------------------------------------------


def _values(
    indicator: Indicator | None, targets: Mapping[int, Decimal | None]
) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    """Targets for the new period's years; actuals (if any) kept as they are."""
    actuals = {v.fiscal_year: v.actual for v in indicator.values.all()} if indicator else {}
    return {fy: (target, actuals.get(fy)) for fy, target in targets.items()}


@transaction.atomic
def indicator_save(
    *,
    actor: PortalUser,
    initiative: Initiative,
    indicator: Indicator | None = None,
    version: int | None = None,
    name: str,
    unit: str = "",
    direction: str = Indicator.Direction.HIGHER,
    baseline: Decimal | None = None,
    baseline_fy: int | None = None,
    targets: Mapping[int, Decimal | None],
) -> Indicator:
    """An indicator with a target per fiscal year of the plan's period (the indicator rules
    themselves are initiatives.services')."""
    plan = lock_editable(initiative.policy.plan)
    years = set(plan.fiscal_years)
    if any(fy not in years for fy in targets):
        raise ValidationError("目標値は計画期間の年度にだけ設定できます。")
    if indicator is None:
        return indicator_create(
            actor=actor,
            initiative=initiative,
            baseline_fy=baseline_fy,
            values=_values(None, targets),
            name=name,
            unit=unit,
            direction=direction,
            baseline=baseline,
        )
    if indicator.initiative_id != initiative.pk:
        raise ValidationError("この取り組みの指標ではありません。")
    return indicator_update(
        actor=actor,
        indicator=indicator,
        version=version,
        baseline_fy=baseline_fy,
        values=_values(indicator, targets),
        name=name,
        unit=unit,
        direction=direction,
        baseline=baseline,
    )


@transaction.atomic
def indicator_move(*, actor: PortalUser, indicator: Indicator, direction: str) -> bool:
    lock_editable(indicator.initiative.policy.plan)
    indicators = list(indicator.initiative.indicators.order_by("order", "name"))
    i = next(n for n, x in enumerate(indicators) if x.pk == indicator.pk)
    j = i - 1 if direction == "up" else i + 1 if direction == "down" else -1
    if j < 0 or j >= len(indicators):
        return False
    indicators[i], indicators[j] = indicators[j], indicators[i]
    for order, x in enumerate(indicators, start=1):
        if x.order != order:
            x.order = order
            version_bump(x)
            save_with_user(x, actor)
    return True


def _indicator_delete(indicator: Indicator, actor: PortalUser) -> None:
    for value in indicator.values.all():
        delete_with_user(value, actor)
    delete_with_user(indicator, actor)


@transaction.atomic
def indicator_delete(*, actor: PortalUser, indicator: Indicator) -> None:
    lock_editable(indicator.initiative.policy.plan)
    if indicator.values.filter(actual__isnull=False).exists():
        raise ValidationError(f"指標「{indicator.name}」には実績値があるため削除できません。")
    _indicator_delete(indicator, actor)


# --- table 4-1 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellInput:
    """One fiscal-year cell as typed: empty text removes the cell."""

    text: str
    kind: str = ScheduleCell.Kind.TEXT
    col_span: int = 1


@transaction.atomic
def schedule_item_delete(*, actor: PortalUser, item: ScheduleItem) -> None:
    lock_editable(item.plan)
    for row in item.rows.all():
        _delete_row(row, actor)
    delete_with_user(item, actor)


def _set_cells(
    actor: PortalUser, plan: Plan, row: ScheduleRow, cells: Mapping[int, CellInput]
) -> None:
    years = plan.fiscal_years
    if any(fy not in years for fy in cells):
        raise ValidationError("セルは計画期間の年度にだけ入力できます。")
    existing = {c.fiscal_year: c for c in row.cells.all()}
    errors: list[str] = []
    filled = {fy for fy, typed in cells.items() if typed.text.strip()}
    for fy in sorted(filled):
        covered = [y for y in range(fy + 1, fy + cells[fy].col_span) if y in filled]
        if covered:
            errors.append(
                f"{era.short_header(fy)}のセルは{cells[fy].col_span}年度分に結合されているため、"
                f"{era.short_header(covered[0])}には入力できません。"
            )
    if errors:
        raise ValidationError(errors)
    for fy, typed in sorted(cells.items()):
        cell = existing.get(fy)
        text = typed.text.strip()
        if not text:
            if cell is not None:
                delete_with_user(cell, actor)
            continue
        span = max(1, min(typed.col_span, years[-1] - fy + 1))
        if cell is None:
            cell = ScheduleCell(row=row, fiscal_year=fy)
        elif (cell.text, cell.kind, cell.col_span) == (text, typed.kind, span):
            continue
        cell.text, cell.kind, cell.col_span = text, typed.kind, span
        try:
            save_with_user(cell, actor)
        except ValidationError as exc:
            errors += [f"{era.short_header(fy)}: {message}" for message in exc.messages]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def schedule_row_save(
    *,
    actor: PortalUser,
    item: ScheduleItem,
    row: ScheduleRow | None = None,
    sub_title: str,
    initiative: Initiative | None = None,
    cells: Mapping[int, CellInput],
) -> ScheduleRow:
    """A line of table 4-1 with its cells for the new period's years (empty text: no cell)."""
    plan = lock_editable(item.plan)
    if initiative is not None and initiative.policy.plan_id != plan.pk:
        raise ValidationError({"initiative": "この計画の取り組みを選んでください。"})
    siblings = ScheduleRow.objects.filter(item=item)
    if row is not None:
        row = siblings.get(pk=row.pk)
    else:
        row = ScheduleRow(item=item, line=next_number(siblings, "line"))
    row.sub_title, row.initiative = sub_title, initiative
    save_with_user(row, actor)
    _set_cells(actor, plan, row, cells)
    return row


@transaction.atomic
def schedule_row_move(*, actor: PortalUser, row: ScheduleRow, direction: str) -> bool:
    lock_editable(row.item.plan)
    qs = ScheduleRow.objects.filter(item_id=row.item_id)
    return move_row(actor, qs, qs.get(pk=row.pk), "line", direction)


@transaction.atomic
def schedule_row_delete(*, actor: PortalUser, row: ScheduleRow) -> None:
    lock_editable(row.item.plan)
    _delete_row(row, actor)


# --- 「前計画の成果と課題」: a chapter of the draft written from the previous plan's data --------

PREDECESSOR_CHAPTER_TITLE = "前計画の成果と課題"
MSG_NO_PREDECESSOR = gettext_lazy(
    "「%(name)s」には前の計画がないため、「前計画の成果と課題」を作成できません。"
)
MSG_NOT_A_DRAFT = gettext_lazy("「前計画の成果と課題」は、策定中(下書き)の計画でだけ作成できます。")


class ChapterWouldOverwrite(Exception):
    """The chapter holds text that differs from the generated text: ask before replacing it.
    ``chapter`` is the chapter as saved now, ``text`` what would replace its body."""

    def __init__(self, chapter: PlanChapter, text: str) -> None:
        self.chapter = chapter
        self.text = text
        super().__init__(PREDECESSOR_CHAPTER_TITLE)


def _year(fy: int) -> str:
    # The short form (R8 (2026)): a year of the previous plan is a fact about it, not a
    # year of the new period that adoption_warnings should flag.
    return era.short_header(fy)


def _sentence(text: str) -> str:
    """Typed text as one sentence of the chapter: its lines joined, ending with 。."""
    text = " ".join(line.strip() for line in text.splitlines() if line.strip())
    return text if text.endswith(("。", ".", "!", "?", "！", "？")) else text + "。"


def predecessor_results_text(summary: PlanSummary) -> str:
    """The chapter's text from the close-out figures and the approved final reviews
    (reporting.selectors.summary.PlanSummary): what was achieved per policy, the countable
    targets' results, what continues and why, and what is left to do. Plain chapter text
    (### sub-headings, - bullets), to be edited like any chapter."""
    plan = summary.plan
    last = summary.final_year
    period = f"{_year(plan.start_fy)}〜{_year(plan.end_fy)}"
    lines = [
        f"{plan.name}({period})の成果と課題を、計画期間の進捗記録、指標の評価、"
        f"DX推進本部が承認した最終年度({_year(last)})の振り返りからまとめます"
        f"(基準日 {era.format_date(summary.as_of)})。",
        "",
        "### 計画全体の成果",
        "計画全体の進捗率は、"
        + "、".join(
            f"{_year(fy)} {rollup_text(r)}"
            for fy, r in zip(summary.years, summary.overall.rollups, strict=True)
        )
        + "でした。",
    ]
    final_grades = "、".join(f"{g.label} {g.final}件" for g in summary.grades if g.final)
    if summary.indicator_count:
        lines.append(f"指標{summary.indicator_count}件の最終評価は、{final_grades}です。")
    for c in summary.countables:
        late = f"、期限後 {c.late}件" if c.late else ""
        lines.append(
            f"- {c.target.name}: 目標 {c.target_count}件のうち {c.done}件が完了"
            f"(期限 {_year(c.target.deadline_fy)}末までに {c.done_by_deadline}件{late})。"
        )
    for section in summary.sections:
        lines += ["", f"### {section.policy}"]
        final = section.row.rollups[-1]
        lines.append(f"最終年度の進捗率は {rollup_text(final)} でした。")
        for s in section.initiatives:
            ini = s.initiative
            year = s.years[-1]
            parts = [f"最終年度は{year.text}"]
            for row in s.indicators:
                cell = row.year_cells[summary.years.index(row.final_year)]
                parts.append(
                    f"指標「{row.indicator.name}」は目標 {cell.target_text} に対し実績 "
                    f"{cell.actual_text}({row.final_grade_text})"
                )
            lines.append(f"- {ini.code} {ini.title}: " + "、".join(parts) + "。")
            review = s.final.review if s.final is not None else None
            if review is not None and review.carry_over:
                why = review.carry_over_note or review.act_text
                lines.append(
                    f"- {ini.code} の方針: {review.get_carry_over_display()}"
                    + (f"。{_sentence(why)}" if why else "。")
                )
    lines += ["", "### 次期計画への引継ぎ"]
    lines.append(
        "最終年度の振り返りによる方針は、"
        + "、".join(f"{label} {n}件" for _key, label, n in summary.decisions if n)
        + "です。"
    )
    for s in summary.initiatives:
        review = s.final.review if s.final is not None else None
        if review is not None and review.carries_over:
            why = review.carry_over_note or review.act_text or "—"
            lines.append(
                f"- {s.initiative.code} {s.initiative.title}"
                f"({review.get_carry_over_display()}): {_sentence(why)}"
            )
    issues = []
    for s in summary.initiatives:
        short = [r for r in s.indicators if r.final_grade in ("C", "D")]
        for row in short:
            issues.append(
                f"- {s.initiative.code} {s.initiative.title}: 指標「{row.indicator.name}」"
                f"の最終評価は{row.final_grade_text}でした。"
            )
        if s.years[-1].status is None:
            issues.append(
                f"- {s.initiative.code} {s.initiative.title}: 最終年度の進捗が報告されていません。"
            )
    if issues:
        lines += ["", "### 課題", *issues]
    return "\n".join(lines).strip() + "\n"


def predecessor_chapter(plan: Plan) -> PlanChapter | None:
    """The draft's 「前計画の成果と課題」 chapter (by its title), or None."""
    version = draft_version(plan)
    if version is None:
        return None
    return version.chapters.filter(title=PREDECESSOR_CHAPTER_TITLE).first()


@transaction.atomic
def predecessor_chapter_fill(
    *,
    actor: PortalUser,
    plan: Plan,
    overwrite: bool = False,
    revision: int | None = None,
    today: date | None = None,
) -> PlanChapter:
    """Fill the draft's 「前計画の成果と課題」 chapter (created after the last chapter when
    there is none) with predecessor_results_text of the previous plan.

    Text that differs from the generated text is replaced only with ``overwrite`` and the
    ``revision`` the person saw when confirming (EditConflict if it was saved since);
    otherwise ChapterWouldOverwrite. History names the actor."""
    plan = lock_editable(plan)
    if plan.status != PlanStatus.DRAFT:
        raise ValidationError(str(MSG_NOT_A_DRAFT))
    source = plan.predecessor
    if source is None:
        raise ValidationError(str(MSG_NO_PREDECESSOR % {"name": plan.name}))
    version = draft_version(plan)
    if version is None:
        raise ValidationError(_("下書きの版がありません。"))
    text = predecessor_results_text_for(plan, today)
    chapter = version.chapters.select_for_update().filter(title=PREDECESSOR_CHAPTER_TITLE).first()
    if chapter is None:
        chapter = PlanChapter(
            version=version,
            number=next_number(version.chapters.all(), "number"),
            title=PREDECESSOR_CHAPTER_TITLE,
            body=text,
        )
        chapter.full_clean()
        save_with_user(chapter, actor)
        return chapter
    if chapter.body == text:
        return chapter
    if chapter.body.strip():
        if not overwrite:
            raise ChapterWouldOverwrite(chapter, text)
        check_version(chapter, revision, _("章"))
    chapter.body = text
    version_bump(chapter)
    chapter.full_clean()
    save_with_user(chapter, actor)
    return chapter


def predecessor_results_text_for(plan: Plan, today: date | None = None) -> str:
    """predecessor_results_text of ``plan``'s previous plan ("" when it has none)."""
    source = plan.predecessor
    return predecessor_results_text(plan_summary(source, today)) if source is not None else ""
