"""Writes to the plan. Everything that creates or changes plan data goes through here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from kahoku_dx import era
from plans.models import (
    MARKERS,
    BasicPolicy,
    Lease,
    NationalItem,
    Plan,
    PlanVersion,
    RelatedPlan,
    ScheduleCell,
    ScheduleItem,
    ScheduleRow,
)

DEFAULT_PLAN_FILE = Path(settings.BASE_DIR) / "fixtures" / "kahoku_dx_plan.json"


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def count(self, bucket: dict[str, int], model: type[models.Model]) -> None:
        name = str(model._meta.verbose_name)
        bucket[name] = bucket.get(name, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        if not self.changed:
            return "変更はありません(すでに読み込み済みです)。"
        parts = [f"{k} {v}件作成" for k, v in self.created.items()]
        parts += [f"{k} {v}件更新" for k, v in self.updated.items()]
        return "、".join(parts)


class _Upserter:
    """get-or-create keyed by natural lookups; saves only when a value really differs.

    Saving only real differences is what makes loading twice a no-op, history included.
    """

    def __init__(self, *, reset: bool, report: LoadReport, user: Any) -> None:
        self.reset = reset
        self.report = report
        self.user = user

    def __call__(
        self, model: type[models.Model], lookup: dict[str, Any], values: dict[str, Any]
    ) -> Any:
        obj = model._default_manager.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **values)
            self._save(obj)
            self.report.count(self.report.created, model)
            return obj
        if not self.reset:
            return obj
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            self._save(obj)
            self.report.count(self.report.updated, model)
        return obj

    def _save(self, obj: models.Model) -> None:
        obj.full_clean()
        if self.user is not None:
            obj._history_user = self.user  # type: ignore[attr-defined]
        obj.save()

    def set_m2m(self, obj: Any, name: str, targets: list[Any]) -> None:
        manager = getattr(obj, name)
        current = set(manager.all())
        if current == set(targets):
            return
        if current and not self.reset:
            return
        manager.set(targets)
        if current:
            self.report.count(self.report.updated, type(obj))


def _fy(value: str | int) -> int:
    return era.parse_fiscal_year(value)


def _month(value: str | None) -> date | None:
    if not value:
        return None
    year, month = era.parse_era_month(value)
    return date(year, month, 1)


def plan_load_document(
    *, data: dict[str, Any], reset: bool = False, user: Any = None
) -> LoadReport:
    """Load the plan document (fixtures/kahoku_dx_plan.json) into the database.

    Missing objects are created; existing ones are left as staff edited them unless
    ``reset`` is true, in which case document fields are restored to the document's text.
    Progress, reviews and other operational data are never touched.
    """
    from initiatives.models import (
        CountableTarget,
        Initiative,
        ProjectUnderWay,
        StandardSystem,
        SystemGroup,
    )
    from workgroups.models import (
        Headquarters,
        HeadquartersMember,
        Secretariat,
        Section,
        WorkingGroup,
    )

    report = LoadReport()
    up = _Upserter(reset=reset, report=report, user=user)

    with transaction.atomic():
        p = data["plan"]
        plan = up(
            Plan,
            {"code": p["code"]},
            {
                "name": p["name"],
                "theme": p["theme"],
                "goal": p["goal"],
                "start_fy": _fy(p["start_fy"]),
                "end_fy": _fy(p["end_fy"]),
                "description": p["description"],
            },
        )
        for v in data["versions"]:
            up(
                PlanVersion,
                {"plan": plan, "number": v["number"]},
                {
                    "issued_fy": _fy(v["issued_fy"]),
                    "issued_on": _month(v["issued_on"]),
                    "summary": v["summary"],
                },
            )
        for order, rp in enumerate(data["related_plans"], start=1):
            up(
                RelatedPlan,
                {"plan": plan, "name": rp["name"]},
                {
                    "kind": rp["kind"],
                    "issuer": rp["issuer"],
                    "decided_on": date.fromisoformat(rp["decided_on"])
                    if rp["decided_on"]
                    else None,
                    "note": rp["note"],
                    "order": order,
                },
            )
        for number, title in data["national_items"]:
            up(NationalItem, {"number": number}, {"title": title})

        sections = {}
        for order, name in enumerate(data["sections"], start=1):
            sections[name] = up(Section, {"name": name}, {"order": order})

        up(Secretariat, {"plan": plan}, {"section": sections[data["secretariat"]]})
        hq_data = data["headquarters"]
        hq = up(
            Headquarters,
            {"plan": plan},
            {
                "name": hq_data["name"],
                "established_fy": _fy(hq_data["established_fy"]),
                "description": hq_data["description"],
            },
        )
        for order, m in enumerate(hq_data["members"], start=1):
            up(
                HeadquartersMember,
                {"headquarters": hq, "title": m["title"]},
                {"role": m["role"], "order": order},
            )

        wgs = {}
        for wg in data["working_groups"]:
            obj = up(
                WorkingGroup,
                {"plan": plan, "name": wg["name"]},
                {
                    "lead_section": sections[wg["lead_section"]],
                    "established_fy": _fy("R4"),
                    "description": data["working_groups_note"],
                },
            )
            up.set_m2m(obj, "sections", [sections[s] for s in wg["sections"]])
            wgs[wg["name"]] = obj

        initiatives = {}
        for pol in data["policies"]:
            policy = up(
                BasicPolicy,
                {"plan": plan, "number": pol["number"]},
                {
                    "title": pol["title"],
                    "heading": pol["heading"],
                    "summary": pol["summary"],
                    "classification": pol["classification"],
                },
            )
            for ini in pol["initiatives"]:
                initiative = up(
                    Initiative,
                    {"policy": policy, "number": ini["number"]},
                    {
                        "title": ini["title"],
                        "description": ini["description"],
                        "flag": ini["flag"],
                        "working_group": wgs[ini["working_group"]],
                        "lead_section": sections[ini["lead_section"]],
                    },
                )
                initiatives[f"{pol['number']}.{ini['number']}"] = initiative
                for order, (label, name, section) in enumerate(ini["projects"], start=1):
                    up(
                        ProjectUnderWay,
                        {"initiative": initiative, "name": name},
                        {
                            "era_label": label,
                            "fiscal_year": era.parse_era_year(label),
                            "section": sections[section],
                            "order": order,
                        },
                    )

        items = {}
        for order, item in enumerate(data["schedule"], start=1):
            schedule_item = up(
                ScheduleItem, {"plan": plan, "order": order}, {"title": item["title"]}
            )
            items[order] = schedule_item
            for line, row in enumerate(item["rows"], start=1):
                schedule_row = up(
                    ScheduleRow,
                    {"item": schedule_item, "line": line},
                    {
                        "sub_title": row["sub_title"],
                        "initiative": initiatives.get(row.get("initiative", "")),
                    },
                )
                for year_label, cell in row["cells"].items():
                    if isinstance(cell, str):
                        cell = {"text": cell}
                    text = cell["text"]
                    if text in MARKERS:
                        kind = ScheduleCell.Kind.MARKER
                    elif row.get("lease"):
                        kind = ScheduleCell.Kind.STATUS
                    else:
                        kind = ScheduleCell.Kind.TEXT
                    up(
                        ScheduleCell,
                        {"row": schedule_row, "fiscal_year": _fy(year_label)},
                        {
                            "text": text,
                            "kind": kind,
                            "col_span": cell.get("col_span", 1),
                            "row_span": cell.get("row_span", 1),
                        },
                    )
                if row.get("lease"):
                    up(
                        Lease,
                        {"plan": plan, "name": row["sub_title"]},
                        {"schedule_row": schedule_row},
                    )

        targets = {}
        for t in data["targets"]:
            targets[t["code"]] = up(
                CountableTarget,
                {"code": t["code"]},
                {
                    "plan": plan,
                    "name": t["name"],
                    "target_count": t["target_count"],
                    "deadline_fy": _fy(t["deadline_fy"]),
                    "initiative": initiatives[t["initiative"]],
                    "schedule_row": items[t["schedule_item"]].rows.get(line=1),
                },
            )
        number = 0
        for g in data["system_groups"]:
            group = up(
                SystemGroup,
                {"target": targets["standard-systems"], "number": g["number"]},
                {"schedule_row": items[g["schedule_item"]].rows.get(line=1)},
            )
            for name in g["systems"]:
                number += 1
                up(StandardSystem, {"number": number}, {"name": name, "group": group})
    return report


def plan_load_file(
    *, path: Path | None = None, reset: bool = False, user: Any = None
) -> LoadReport:
    with open(path or DEFAULT_PLAN_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    return plan_load_document(data=data, reset=reset, user=user)


# --------------------------------------------------------------------------------------------
# Table 4-1 import (issue 4). The file is parsed and compared in plans/table41.py; this writes.
# --------------------------------------------------------------------------------------------


class ScheduleChangedError(Exception):
    """The data changed between the preview and the confirmation."""


def _save_with_user(obj: models.Model, user: Any) -> None:
    obj.full_clean()
    if user is not None:
        obj._history_user = user  # type: ignore[attr-defined]
    obj.save()


def _delete_with_user(obj: models.Model, user: Any) -> None:
    obj._history_user = user  # type: ignore[attr-defined]
    obj.delete()


def schedule_import_apply(
    *, plan: Plan, data: bytes, filename: str, user: Any, expected_fingerprint: str | None = None
) -> Any:
    """Apply an uploaded table 4-1 file: everything or nothing, history naming ``user``.

    The file is parsed and compared again inside the transaction (never trusting what the
    browser re-posts); if the changes differ from the preview the user saw
    (``expected_fingerprint``), nothing is written and ScheduleChangedError is raised.
    """
    from plans import table41

    with transaction.atomic():
        # Lock the plan row so two confirmations cannot interleave.
        Plan.objects.select_for_update().filter(pk=plan.pk).first()
        diff = table41.preview_schedule(plan, data, filename)
        if expected_fingerprint is not None and diff.fingerprint != expected_fingerprint:
            raise ScheduleChangedError(
                "プレビューの後に表4-1が変更されました。もう一度ファイルを読み込んで確認してください。"
            )
        if not diff.changes:
            return diff

        for item in diff.removed_items:
            for row in item.rows.all():
                _delete_row(row, user)
            _delete_with_user(item, user)
        for ip in diff.items:
            for row in ip.removed_rows:
                _delete_row(row, user)

        # Orders and line numbers are unique; park the moving ones out of the way first
        # (a plain UPDATE: the parked value is never a real state, so it is not history).
        moving_items = [ip.item for ip in diff.items if ip.item and ip.item.order != ip.order]
        if moving_items:
            ScheduleItem.objects.filter(pk__in=[i.pk for i in moving_items]).update(
                order=models.F("order") + 10000
            )
        for ip in diff.items:
            moving_rows = [rp.row for rp in ip.rows if rp.row and rp.row.line != rp.line]
            if moving_rows:
                ScheduleRow.objects.filter(pk__in=[r.pk for r in moving_rows]).update(
                    line=models.F("line") + 10000
                )

        for ip in diff.items:
            item = ip.item
            if item is None:
                item = ScheduleItem(plan=plan, order=ip.order, title=ip.parsed.title)
                _save_with_user(item, user)
            elif item.order != ip.order:
                item.order = ip.order
                _save_with_user(item, user)
            for rp in ip.rows:
                row = rp.row
                if row is None:
                    row = ScheduleRow(item=item, line=rp.line, sub_title=rp.parsed.sub_title)
                    _save_with_user(row, user)
                    if rp.is_lease:
                        _save_with_user(
                            Lease(plan=plan, name=rp.parsed.sub_title, schedule_row=row), user
                        )
                elif row.line != rp.line or row.sub_title != rp.parsed.sub_title:
                    row.line = rp.line
                    old_sub = row.sub_title
                    row.sub_title = rp.parsed.sub_title
                    _save_with_user(row, user)
                    lease = Lease.objects.filter(schedule_row=row, name=old_sub).first()
                    if lease and old_sub != row.sub_title:
                        lease.name = row.sub_title
                        _save_with_user(lease, user)
                old_cells = {c.fiscal_year: c for c in row.cells.all()} if rp.row else {}
                for fy, pc in rp.parsed.cells.items():
                    kind = table41.cell_kind(pc.text, is_lease=rp.is_lease)
                    cell = old_cells.get(fy)
                    if cell is None:
                        cell = ScheduleCell(row=row, fiscal_year=fy)
                    elif (cell.text, cell.kind, cell.col_span, cell.row_span) == (
                        pc.text,
                        kind,
                        pc.col_span,
                        pc.row_span,
                    ):
                        continue
                    cell.text, cell.kind = pc.text, kind
                    cell.col_span, cell.row_span = pc.col_span, pc.row_span
                    _save_with_user(cell, user)
                for fy, cell in old_cells.items():
                    if fy not in rp.parsed.cells:
                        _delete_with_user(cell, user)
    return diff


def _delete_row(row: ScheduleRow, user: Any) -> None:
    from plans.table41 import linked_to_row

    # SET_NULL would unlink these with a plain UPDATE and no history; do it visibly.
    for obj in linked_to_row(row):
        obj.schedule_row = None
        _save_with_user(obj, user)
    for cell in row.cells.all():
        _delete_with_user(cell, user)
    lease = Lease.objects.filter(schedule_row=row).first()
    if lease is not None:
        _delete_with_user(lease, user)
    _delete_with_user(row, user)


# --------------------------------------------------------------------------------------------
# Carrying initiatives over into the next plan (issue 5)
# --------------------------------------------------------------------------------------------

CARRY_OVER_DECISIONS = ("continue", "expand", "revise", "next_plan")


@dataclass
class CarryOverLine:
    initiative: Any
    review: Any  # the initiative's latest PDCA review in the source plan
    action: str  # "create" | "exists" | "skip"
    reason: str


def plan_carry_over_preview(*, source_plan: Plan, target_plan: Plan) -> list[CarryOverLine]:
    """What plan_carry_over would do, without writing anything."""
    from initiatives.models import Initiative, Review

    initiatives = list(
        Initiative.objects.for_plan(source_plan)
        .select_related("policy", "working_group", "lead_section")
        .order_by("policy__number", "number")
    )
    latest: dict[int, Any] = {}
    for review in Review.objects.filter(initiative__policy__plan=source_plan).order_by(
        "initiative_id", "-fiscal_year"
    ):
        latest.setdefault(review.initiative_id, review)
    already = set(
        Initiative.objects.filter(
            policy__plan=target_plan, carried_from__in=initiatives
        ).values_list("carried_from_id", flat=True)
    )
    lines = []
    for ini in initiatives:
        review = latest.get(ini.pk)
        if review is None:
            lines.append(CarryOverLine(ini, None, "skip", "振り返りがありません"))
        elif review.carry_over not in CARRY_OVER_DECISIONS:
            reason = f"方針が「{review.get_carry_over_display()}」のため引き継ぎません"
            lines.append(CarryOverLine(ini, review, "skip", reason))
        elif ini.pk in already:
            lines.append(CarryOverLine(ini, review, "exists", "引継ぎ済みです"))
        else:
            lines.append(
                CarryOverLine(ini, review, "create", f"方針「{review.get_carry_over_display()}」")
            )
    return lines


def plan_carry_over(*, source_plan: Plan, target_plan: Plan, user: Any) -> list[Any]:
    """Create the next plan's policies and initiatives for initiatives the PDCA review
    decided to carry on (継続/拡充/見直し/次期計画へ引継ぎ), setting ``carried_from``.

    Running it twice creates nothing new. Policies are matched by number; an initiative
    keeps its number unless the target policy already uses it.
    """
    from initiatives.models import Initiative
    from workgroups.models import WorkingGroup

    if source_plan.pk == target_plan.pk:
        raise ValidationError("引継ぎ先には別の計画を選んでください。")
    if target_plan.start_fy <= source_plan.end_fy:
        raise ValidationError(
            "引継ぎ先の計画は、引継ぎ元の計画期間の後に始まる計画を選んでください。"
        )
    created = []
    with transaction.atomic():
        lines = plan_carry_over_preview(source_plan=source_plan, target_plan=target_plan)
        policies = {p.number: p for p in BasicPolicy.objects.filter(plan=target_plan)}
        wgs = {wg.name: wg for wg in WorkingGroup.objects.filter(plan=target_plan)}
        used = set(
            Initiative.objects.filter(policy__plan=target_plan).values_list(
                "policy__number", "number"
            )
        )
        for line in lines:
            if line.action != "create":
                continue
            src = line.initiative
            policy = policies.get(src.policy.number)
            if policy is None:
                policy = BasicPolicy(
                    plan=target_plan,
                    number=src.policy.number,
                    title=src.policy.title,
                    heading=src.policy.heading,
                    summary=src.policy.summary,
                    classification=src.policy.classification,
                )
                _save_with_user(policy, user)
                policies[policy.number] = policy
            number = src.number
            while (policy.number, number) in used:
                number += 1
            used.add((policy.number, number))
            ini = Initiative(
                policy=policy,
                number=number,
                title=src.title,
                description=src.description,
                flag=src.flag,
                working_group=wgs.get(src.working_group.name) if src.working_group else None,
                lead_section=src.lead_section,
                weight=src.weight,
                carried_from=src,
            )
            _save_with_user(ini, user)
            ini.national_items.set(src.national_items.all())
            created.append(ini)
    return created


# --------------------------------------------------------------------------------------------
# Publication on the public page (issue 5)
# --------------------------------------------------------------------------------------------


def initiative_publication_update(
    *, changes: dict[int, tuple[bool, list[str]]], plan: Plan, user: Any
) -> int:
    """Set is_public / public_fields for initiatives of ``plan``; returns how many changed.

    ``changes`` maps initiative pk -> (is_public, allowed field keys). Unknown keys are
    rejected so that nothing outside PUBLIC_FIELDS can ever be marked for publication.
    """
    from initiatives.models import Initiative
    from plans.selectors import PUBLIC_FIELDS

    changed = 0
    with transaction.atomic():
        for ini in Initiative.objects.for_plan(plan).filter(pk__in=list(changes)):
            is_public, fields = changes[ini.pk]
            unknown = [f for f in fields if f not in PUBLIC_FIELDS]
            if unknown:
                raise ValidationError(f"公開できない項目です: {'、'.join(unknown)}")
            ordered = [f for f in PUBLIC_FIELDS if f in fields]
            if ini.is_public == is_public and list(ini.public_fields or []) == ordered:
                continue
            ini.is_public = is_public
            ini.public_fields = ordered
            ini.version += 1
            _save_with_user(ini, user)
            changed += 1
    return changed
