"""Loading the plan document (fixtures/kahoku_dx_plan.json) into every app's tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction

from initiatives.models import (
    CountableTarget,
    Initiative,
    OnlineProcedure,
    ProjectUnderWay,
    StandardSystem,
    SystemGroup,
)
from plans.models import (
    MARKERS,
    BasicPolicy,
    IssuedPrecision,
    Lease,
    NationalItem,
    Plan,
    PlanChapter,
    PlanVersion,
    RelatedPlan,
    ScheduleCell,
    ScheduleItem,
    ScheduleRow,
)
from portal_lib import era
from portal_lib.history import save_with_user
from reporting.services.versions import version_freeze
from workgroups.models import Headquarters, HeadquartersMember, Secretariat, Section, WorkingGroup

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

DEFAULT_PLAN_FILE = Path(settings.BASE_DIR) / "fixtures" / "kahoku_dx_plan.json"
# The national list of the 27 procedures (the plan names only the number).
DEFAULT_PROCEDURES_FILE = Path(settings.BASE_DIR) / "fixtures" / "online_procedures.json"


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

    def __init__(self, *, reset: bool, report: LoadReport, user: PortalUser | None) -> None:
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
        save_with_user(obj, self.user)

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
    *, data: dict[str, Any], reset: bool = False, user: PortalUser | None = None
) -> LoadReport:
    """Load the plan document (fixtures/kahoku_dx_plan.json) into the database.

    Missing objects are created; existing ones are left as staff edited them unless
    ``reset`` is true, in which case document fields are restored to the document's text.
    Progress, reviews and other operational data are never touched.
    """
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
            version = up(
                PlanVersion,
                {"plan": plan, "number": v["number"]},
                {
                    "issued_fy": _fy(v["issued_fy"]),
                    "issued_on": _month(v["issued_on"]),
                    # The plan's own date, as precisely as it states it (令和4年2月 / 令和3年度).
                    "issued_precision": IssuedPrecision.MONTH
                    if v["issued_on"]
                    else IssuedPrecision.FY,
                    "summary": v["summary"],
                },
            )
            for chapter in v.get("chapters", []):
                up(
                    PlanChapter,
                    {"version": version, "number": chapter["number"]},
                    {"title": chapter["title"], "body": chapter["body"]},
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
            # A section renamed since (組織改編) is the same section: never load it twice.
            renamed = Section.objects.renamed_from(name)
            sections[name] = renamed or up(Section, {"name": name}, {"order": order})

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

        # The document's own version is frozen as loaded: comparisons and the printed plan
        # of that version show the document, whatever staff edit afterwards.
        for v in data["versions"]:
            if v.get("freeze"):
                version = PlanVersion.objects.get(plan=plan, number=v["number"])
                if reset or not version.content:
                    frozen_at = version.frozen_at
                    version_freeze(actor=user, version=version, refreeze=True)
                    if version.frozen_at != frozen_at:
                        report.count(report.updated, PlanVersion)
    return report


def procedures_load_document(
    *,
    data: dict[str, Any],
    reset: bool = False,
    user: PortalUser | None = None,
    report: LoadReport | None = None,
) -> LoadReport:
    """Load the national list of procedures (fixtures/online_procedures.json).

    Rows are matched by name, so a procedure staff registered themselves under the same
    name is kept, and loading twice changes nothing. New rows start 「未確認」 (the model's
    default) with 未着手: the list says which procedures, not where the city stands.
    Status, dates and confirmation are never touched, not even with ``reset``.
    """
    report = report or LoadReport()
    up = _Upserter(reset=reset, report=report, user=user)
    with transaction.atomic():
        target = CountableTarget.objects.filter(code=data["target"]).first()
        if target is None:
            return report
        taken = set(target.procedures.values_list("number", flat=True))
        sections = {s.name: s for s in Section.objects.all()}
        for p in data["procedures"]:
            existing = target.procedures.filter(name=p["name"]).first()
            if existing is not None:
                number = existing.number
            else:
                number = p["number"] if p["number"] not in taken else max(taken) + 1
                taken.add(number)
            up(
                OnlineProcedure,
                {"target": target, "name": p["name"]},
                {
                    "number": number,
                    "category": p["category"],
                    "section": sections.get(p["section"]) if p["section"] else None,
                    "provenance": data["provenance"],
                },
            )
    return report


def plan_load_file(
    *,
    path: Path | None = None,
    reset: bool = False,
    user: PortalUser | None = None,
    procedures_path: Path | None = None,
) -> LoadReport:
    with open(path or DEFAULT_PLAN_FILE, encoding="utf-8") as fh:
        data = json.load(fh)
    report = plan_load_document(data=data, reset=reset, user=user)
    with open(procedures_path or DEFAULT_PROCEDURES_FILE, encoding="utf-8") as fh:
        procedures = json.load(fh)
    return procedures_load_document(data=procedures, reset=reset, user=user, report=report)
