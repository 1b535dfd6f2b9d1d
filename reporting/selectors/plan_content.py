"""A plan's content as one plain dict: what a version freezes, compares and prints.

The same dict is built live from the database (a draft, or a version not frozen yet) and
stored on PlanVersion.content when a version is adopted, so the document, the print view
and the comparison never care where it came from. Keys are names and numbers (never ids),
values are JSON types only.
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from initiatives.models import Indicator, IndicatorValue, Initiative, ProjectUnderWay, Review
from plans.models import (
    BasicPolicy,
    Plan,
    PlanStatus,
    PlanVersion,
    RelatedPlan,
    ScheduleItem,
    ScheduleRow,
)
from portal_lib import era
from reporting.chapter_facts import fill_chapters
from workgroups.models import (
    ExternalAdvisor,
    Headquarters,
    HeadquartersMember,
    Secretariat,
    Section,
    WorkingGroup,
)

CONTENT_FORMAT = 1


def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral() else float(value)


def _chapters(version: PlanVersion | None) -> list[dict[str, Any]]:
    if version is None:
        return []
    return [
        {"number": c.number, "title": c.title, "body": c.body}
        for c in version.chapters.order_by("number")
    ]


def final_decisions(plan: Plan) -> dict[str, str]:
    """Initiative code ("2.1") -> its latest PDCA review's decision (Review.CarryOver value,
    "" when undecided): how the plan's final-year reviews ended each initiative."""
    out: dict[str, str] = {}
    reviews = (
        Review.objects.filter(initiative__policy__plan=plan)
        .order_by("initiative_id", "-fiscal_year")
        .values_list("initiative__policy__number", "initiative__number", "carry_over")
    )
    for policy_number, number, decision in reviews:
        out.setdefault(f"{policy_number}.{number}", decision)
    return out


def with_final_decisions(content: dict[str, Any], plan: Plan) -> dict[str, Any]:
    """A copy of ``content`` whose initiatives carry ``final_decision`` as the plan's reviews
    say today (decided after a version was frozen, so never part of the frozen text)."""
    decisions = final_decisions(plan)
    content = copy.deepcopy(content)
    for policy in content.get("policies", []):
        for ini in policy.get("initiatives", []):
            ini["final_decision"] = decisions.get(f"{policy['number']}.{ini['number']}", "")
    return content


def plan_content(plan: Plan, *, version: PlanVersion | None = None) -> dict[str, Any]:
    """The plan as it stands now in the database (a fixed number of queries)."""
    initiatives = (
        Initiative.objects.filter(policy__plan=plan)
        .select_related("working_group", "lead_section")
        .prefetch_related(
            Prefetch(
                "projects",
                ProjectUnderWay.objects.select_related("section")
                .prefetch_related("section__names")
                .order_by("order"),
            ),
            Prefetch(
                "indicators",
                Indicator.objects.order_by("order", "name").prefetch_related(
                    Prefetch("values", IndicatorValue.objects.order_by("fiscal_year"))
                ),
            ),
        )
        .order_by("number")
    )
    policies = BasicPolicy.objects.filter(plan=plan).prefetch_related(
        Prefetch("initiatives", initiatives)
    )
    items = ScheduleItem.objects.filter(plan=plan).prefetch_related(
        Prefetch("rows", ScheduleRow.objects.prefetch_related("cells").order_by("line"))
    )
    decisions = final_decisions(plan)
    content = {
        "format": CONTENT_FORMAT,
        "plan": {
            "code": plan.code,
            "name": plan.name,
            "theme": plan.theme,
            "goal": plan.goal,
            "start_fy": plan.start_fy,
            "end_fy": plan.end_fy,
            "period": plan.period_label,
        },
        "version": (
            {
                "number": version.number,
                "label": version.label,
                "issued": version.issued_label,
                "summary": version.summary,
                "decided": _decided(plan, version),
            }
            if version is not None
            else None
        ),
        "chapters": _chapters(version),
        "policies": [
            {
                "number": p.number,
                "title": p.title,
                "heading": p.heading,
                "summary": p.summary,
                "classification": p.classification,
                "initiatives": [
                    _initiative(i, decisions.get(i.code, "")) for i in p.initiatives.all()
                ],
            }
            for p in policies.order_by("number")
        ],
        "schedule": {
            "years": plan.fiscal_years,
            "items": [
                {
                    "title": item.title,
                    "rows": [
                        {
                            "sub_title": row.sub_title,
                            "cells": [
                                {
                                    "fiscal_year": c.fiscal_year,
                                    "text": c.text,
                                    "kind": c.kind,
                                    "col_span": c.col_span,
                                    "row_span": c.row_span,
                                }
                                for c in sorted(row.cells.all(), key=lambda c: c.fiscal_year)
                            ],
                        }
                        for row in item.rows.all()
                    ],
                }
                for item in items.order_by("order")
            ],
        },
    }
    # The chapters' placeholders ({計画期間} …) are written from this content: a version
    # freezes the filled text, so the adopted text states the facts as adopted.
    return fill_chapters(content)


def version_date(version: PlanVersion | None) -> date:
    """The day a version describes the organisation at: its decision date (the first of the
    month when only the month is known), else the start of its fiscal year; today without a
    version."""
    if version is None:
        return timezone.localdate()
    return version.issued_on or era.fiscal_year_start(version.issued_fy)


def related_plans(plan: Plan) -> list[dict[str, Any]]:
    """The upper and related plans (上位計画・関連計画) in their order, for 図2-1."""
    return [
        {
            "name": rp.name,
            "kind": rp.kind,
            "kind_label": str(rp.get_kind_display()),
            "issuer": rp.issuer,
        }
        for rp in RelatedPlan.objects.filter(plan=plan).order_by("order", "name")
    ]


def _section_name(section: Section | None, fiscal_year: int) -> str:
    return section.name_as_of(fiscal_year) if section is not None else ""


def organisation_as_of(plan: Plan, day: date) -> dict[str, Any]:
    """The bodies that run ``plan`` on ``day``, for 図3-1 and 図3-2: the headquarters and its
    seats (titles, never people), the WGs not dissolved by then with their lead section and
    sections (names as of that day: Section.name_as_of, WorkingGroup.name_as_of), the
    secretariat and the external advisors appointed on that day. A fixed number of queries."""
    fy = era.fiscal_year_of(day)
    secretariat = (
        Secretariat.objects.filter(plan=plan)
        .select_related("section")
        .prefetch_related("section__names")
        .first()
    )
    hq = Headquarters.objects.filter(plan=plan).first()
    members = (
        HeadquartersMember.objects.filter(headquarters=hq).order_by("order", "title", "pk")
        if hq is not None
        else HeadquartersMember.objects.none()
    )
    wgs = (
        WorkingGroup.objects.filter(plan=plan)
        .exclude(dissolved_on__lte=day)
        .select_related("lead_section")
        .prefetch_related(
            "names",
            "lead_section__names",
            Prefetch("sections", Section.objects.prefetch_related("names").order_by("order")),
        )
        .order_by("pk")
    )
    advisors = (
        ExternalAdvisor.objects.filter(plan=plan)
        .exclude(start_date__gt=day)
        .exclude(end_date__lt=day)
        .select_related("working_group")
        .prefetch_related("working_group__names")
        .order_by("name")
    )
    return {
        "as_of": day.isoformat(),
        "headquarters": {
            "name": hq.name if hq is not None else "",
            "members": [
                {"role": m.role, "role_label": str(m.get_role_display()), "title": m.title}
                for m in members
            ],
        },
        "secretariat": _section_name(secretariat.section if secretariat else None, fy),
        "working_groups": [
            {
                "name": wg.name_as_of(day),
                "lead_section": _section_name(wg.lead_section, fy),
                "sections": [s.name_as_of(fy) for s in wg.sections.all() if not s.ended_by(fy)],
            }
            for wg in wgs
        ],
        "advisors": [
            {
                "name": a.name,
                "affiliation": a.affiliation,
                "expertise": a.expertise,
                "working_group": a.working_group.name_as_of(day) if a.working_group else "",
            }
            for a in advisors
        ],
    }


def with_figure_data(content: dict[str, Any], version: PlanVersion) -> dict[str, Any]:
    """The content with what the document's figures draw (in place; returned): 図2-1 the
    related plans, 図3-1/3-2 the bodies as they stood at the version's date. Read only where a
    document is made (document, PDF, print view), so comparing contents costs no queries for
    them; kept if a content already carries them."""
    if "related_plans" not in content:
        content["related_plans"] = related_plans(version.plan)
    if "organisation" not in content:
        content["organisation"] = organisation_as_of(version.plan, version_date(version))
    return content


def _decided(plan: Plan, version: PlanVersion) -> str:
    """The decision date as the chapters' {決定日} states it ("" while not decided)."""
    if version.issued_on is None and (plan.status == PlanStatus.DRAFT or not version.frozen_at):
        return ""
    return version.issued_label


def _initiative(ini: Initiative, final_decision: str) -> dict[str, Any]:
    return {
        "code": ini.code,
        "number": ini.number,
        "title": ini.title,
        "description": ini.description,
        "flag": ini.get_flag_display() if ini.flag else "",
        "working_group": ini.working_group.name if ini.working_group else "",
        "lead_section": ini.lead_section.name if ini.lead_section else "",
        "carried_from": ini.carried_from_id is not None,
        "final_decision": final_decision,
        "projects": [
            {
                "era_label": pr.era_label,
                "fiscal_year": pr.fiscal_year,
                "name": pr.name,
                "section": pr.section.name_as_of(pr.fiscal_year),
            }
            for pr in ini.projects.all()
        ],
        "indicators": [
            {
                "name": ind.name,
                "unit": ind.unit,
                "direction": ind.get_direction_display(),
                "baseline": _number(ind.baseline),
                "baseline_fy": ind.baseline_fy,
                "targets": {
                    str(v.fiscal_year): _number(v.target)
                    for v in ind.values.all()
                    if v.target is not None
                },
            }
            for ind in ini.indicators.all()
        ],
    }


class NoContentError(Exception):
    """A version adopted before the portal held the plan (第0.5版): it has no content of its
    own, and showing today's data under its name would be false."""


def has_content(version: PlanVersion) -> bool:
    """Frozen, or the draft of a plan still being drafted or an open revision (its content
    is the plan now)."""
    return (
        bool(version.content) or version.plan.status == PlanStatus.DRAFT or version.is_open_revision
    )


def version_content(version: PlanVersion) -> dict[str, Any]:
    """A version's frozen content, or (a draft not frozen yet) the plan as it stands with its
    chapters. A version with neither raises NoContentError."""
    if version.content:
        return fill_chapters(with_final_decisions(version.content, version.plan))
    if not has_content(version):
        raise NoContentError(f"{version.label}の内容はこのポータルに記録されていません。")
    return plan_content(version.plan, version=version)


def document_content(version: PlanVersion) -> dict[str, Any]:
    """A version's content as its document shows it: version_content with the figures' data."""
    return with_figure_data(version_content(version), version)


def fy_header(fiscal_year: int) -> str:
    return era.short_header(fiscal_year)
