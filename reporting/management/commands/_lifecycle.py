"""Shared by the plan lifecycle commands (plan_create, plan_adopt, carry_over): every problem
listed at once, in Japanese, and a non-zero exit status."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from plans.models import Plan
from plans.selectors import plan_named
from portal_lib import era


class Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def add_validation(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict"):
            for errors in exc.message_dict.values():
                self.items.extend(errors)
        else:
            self.items.extend(exc.messages)

    def date(self, label: str, value: str | None) -> date | None:
        if not value:
            return None
        try:
            return era.parse_date(value)
        except era.EraError as exc:
            self.add(f"{label}: {exc}")
            return None

    def fiscal_year(self, label: str, value: str | None) -> int | None:
        try:
            return era.parse_fiscal_year(value or "")
        except era.EraError as exc:
            self.add(f"{label}: {exc}")
            return None

    def plan(self, code: str) -> Plan | None:
        plan = plan_named(code) if code else None
        if plan is None:
            self.add(f"計画コード「{code}」の計画がありません。")
        return plan

    def raise_if_any(self) -> None:
        if self.items:
            lines = "\n".join(f"- {item}" for item in self.items)
            raise CommandError(f"{len(self.items)}件の問題があります:\n{lines}")
