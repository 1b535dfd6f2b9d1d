"""`python manage.py plan_switch_check --plan CODE --on YYYY-MM-DD`: 1 April rehearsed.

The same checks as the secretariat's screen (/plan-switch/, reporting.services.switch_check):
one line per check, 「OK」 or 「要対応」 with the screen or command that fixes it, then the
rows under each check. Exit status 0 when every check is OK, 1 while any 「要対応」 remains,
2 for arguments that cannot be read.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from plans.models import Plan
from portal_lib import era
from reporting.services import switch_check as checks

BAD_ARGS = 2


class Command(BaseCommand):
    help = (
        "計画が施行される日に向けて、施行中の計画・取り組みとWG長・本部長・ログインできない職員・"
        "開く振り返り・送られるリマインダーを確認します。要対応が残る間は終了コード1を返します。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--plan", help="計画コード(省略時: 施行中の計画の次期計画、なければ施行中の計画)"
        )
        parser.add_argument(
            "--on", help="確認する日 YYYY-MM-DD または 和暦(省略時: その計画の初日)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        code = options.get("plan")
        if code:
            plan = Plan.objects.filter(code=code).first()
            if plan is None:
                known = "、".join(Plan.objects.order_by("start_fy").values_list("code", flat=True))
                raise CommandError(
                    f"--plan「{code}」という計画はありません(登録済み: {known or 'なし'})。",
                    returncode=BAD_ARGS,
                )
        else:
            plan = checks.default_plan(today)
            if plan is None:
                raise CommandError("計画が登録されていません。", returncode=BAD_ARGS)
        text = options.get("on")
        if text:
            try:
                on = era.parse_date(text)
            except ValueError as exc:
                raise CommandError(f"--on: {exc}", returncode=BAD_ARGS) from None
        else:
            on = checks.default_day(plan, today)

        results = checks.switch_check(plan, on)
        self.stdout.write(f"計画の切替確認: {plan.name}({plan.code})、{on:%Y-%m-%d}")
        for check in results:
            line = f"【{check.status}】{check.label}"
            if not check.ok:
                fixes = [f for f in (check.fix_command,) if f]
                if check.fix_url:
                    fixes.insert(0, f"画面: {check.fix_label} {check.fix_url}")
                if fixes:
                    line += " → " + " / ".join(fixes)
            write = self.stdout.write if check.ok else self._warn
            write(line)
            if check.note:
                self.stdout.write(f"    {check.note}")
            for row in check.rows:
                self.stdout.write(f"    ・{row.name}")
            if check.more:
                self.stdout.write(f"    ほか{check.more}件(全{check.total}件)")
        pending = sum(1 for c in results if not c.ok)
        if pending:
            self._warn(f"要対応 {pending}件。対応してから再度確認してください。")
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("すべてOKです。"))

    def _warn(self, text: str) -> None:
        self.stdout.write(self.style.WARNING(text))
