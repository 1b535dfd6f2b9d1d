"""The two sides of a comparison: a version (its frozen content) or a plan as it stands now.

The compare screen, its files and ``export_comparison`` name a side the same way: "v<pk>" is
a version, "p<code>" a plan as it stands now (the database with its latest version's
chapters). A side that cannot be found raises SourceNotFound with a message for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from plans.models import Plan, PlanVersion
from plans.selectors import current_plan
from portal_lib.params import ascii_int_or_default
from reporting.forms import bracketed
from reporting.plan_content import NoContentError, has_content, plan_content, version_content


class SourceNotFound(Exception):
    """``str()`` says, in Japanese, which plan or version is missing."""


@dataclass(frozen=True)
class Source:
    value: str  # "v<pk>" or "p<code>"
    plan: Plan
    content: dict[str, Any]
    version: PlanVersion | None = None  # None: the plan as it stands now

    @property
    def label(self) -> str:
        """「かほく市DX推進計画 第1.0版(確定)」, in the language active when asked."""
        if self.version is None:
            return f"{self.plan.name}{bracketed(gettext('現在の内容'))}"
        state = gettext("確定") if self.version.frozen_at else gettext("下書き")
        return f"{self.plan.name} {self.version.label}{bracketed(state)}"


def _version(pk: int) -> PlanVersion | None:
    return PlanVersion.objects.select_related("plan").filter(pk=pk).first()


def plan_of(value: str) -> Plan | None:
    """The plan a side belongs to, without reading its content."""
    pk = ascii_int_or_default(value[1:]) if value.startswith("v") else None
    if pk is not None:
        version = _version(pk)
        return version.plan if version else None
    return Plan.objects.filter(code=value[1:]).first() if value.startswith("p") else None


def source(value: str) -> Source:
    """The side named by ``value`` with its content, built in Japanese whoever asks: a frozen
    version holds its text (計画期間 …) in Japanese, so the plan as it stands is read in the
    same language, or a reader in English would see every such fact as changed."""
    with translation.override(settings.LANGUAGE_CODE):
        return _source(value)


def _source(value: str) -> Source:
    pk = ascii_int_or_default(value[1:]) if value.startswith("v") else None
    if pk is not None:
        version = _version(pk)
        if version is None:
            raise SourceNotFound(gettext("比較する計画の版が見つかりません。"))
        try:
            content = version_content(version)
        except NoContentError as exc:
            raise SourceNotFound(str(exc)) from exc
        return Source(value, version.plan, content, version)
    plan = Plan.objects.filter(code=value[1:]).first() if value.startswith("p") else None
    if plan is None:
        raise SourceNotFound(gettext("比較する計画が見つかりません。"))
    return Source(value, plan, plan_content(plan, version=plan.latest_version))


def default_comparison(plan: Plan | None = None) -> dict[str, str]:
    """What the comparison opens on: the plan's first adopted version (第1.0版) against the
    plan as it stands now ({} when there is no plan)."""
    plan = plan or current_plan()
    if plan is None:
        return {}
    versions = plan.versions.order_by("issued_fy", "number")
    # The first version with a text of its own (0.5 before the plan had one is skipped).
    first = versions.filter(frozen_at__isnull=False).first() or versions.first()
    now = f"p{plan.code}"
    return {"a": f"v{first.pk}" if first else now, "b": now}


DRAFT = "draft"


def source_value(plan_code: str, version: str) -> str:
    """A side as a command names it: a plan's code and a version number ("1.0"), or
    ``draft``: the plan's draft version being written (a draft plan's, or an open
    revision), else the plan as it stands now."""
    plan = Plan.objects.filter(code=plan_code).first()
    if plan is None:
        codes = "、".join(Plan.objects.order_by("start_fy").values_list("code", flat=True))
        raise SourceNotFound(
            gettext("計画「%(code)s」が見つかりません。登録されている計画: %(codes)s")
            % {"code": plan_code, "codes": codes or gettext("なし")}
        )
    if version == DRAFT:
        for v in plan.versions.order_by("-issued_fy", "-number"):
            if not v.frozen_at and has_content(v):
                return f"v{v.pk}"
        return f"p{plan.code}"
    found = plan.versions.filter(number=version).first()
    if found is None:
        numbers = "、".join(v.number for v in plan.versions.order_by("issued_fy", "number"))
        raise SourceNotFound(
            gettext(
                "計画「%(plan)s」に第%(number)s版はありません。"
                "版: %(numbers)s(作成中の内容は draft)"
            )
            % {"plan": plan.name, "number": version, "numbers": numbers or gettext("なし")}
        )
    return f"v{found.pk}"
