"""`python manage.py import_sheet KIND FILE [--dry-run]`: the Excel import screen for IT staff.

Same engine (reporting.exchange.engine) and same writer (reporting.exchange.writer) as the
secretariat's screen, so the same bounds and the same rules hold. Prints the counts; on
problems lists every kept problem (the first 100 with their cells, then totals per column)
on stderr and exits with status 1, writing nothing.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from plans.models import Plan
from plans.selectors import plan_named
from portal_lib.sheet_reading import SpreadsheetError
from reporting.exchange import writer
from reporting.exchange.sheets import SPECS


class Command(BaseCommand):
    help = (
        "Excel(.xlsx)または CSV の一括データ(取り組み・進捗記録など)を取り込みます。"
        "画面の取り込みと同じ検査と書き込みです。"
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(SPECS), help="データの種類")
        parser.add_argument("file", type=Path, help="取り込むファイル(.xlsx / .csv)")
        parser.add_argument(
            "--dry-run", action="store_true", help="検査と件数の表示だけを行い、書き込みません。"
        )
        parser.add_argument("--plan", help="計画コード(省略時は現在の計画)")
        parser.add_argument("--user", help="履歴に記録する取り込み者のユーザー名")

    def handle(self, *args, kind: str, file: Path, dry_run: bool, **options):
        spec = SPECS[kind]
        plan = self._plan(options.get("plan"))
        user = self._user(options.get("user"))
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"ファイルを読めません: {file} ({exc.strerror})") from None
        try:
            result = writer.sheet_import(
                slug=kind, plan=plan, data=data, filename=file.name, user=user, dry_run=dry_run
            )
        except SpreadsheetError as exc:
            counts = getattr(exc, "counts", None) or {"added": 0, "changed": 0, "unchanged": 0}
            self.stdout.write(self._counts(counts, exc.total))
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(
                f"{spec.title}: 取り込めません({exc.total:,}件の問題)。何も書き込まれていません。"
            ) from None
        self.stdout.write(f"{spec.title}(シート「{result.sheet}」)")
        self.stdout.write(self._counts(result.counts(), 0))
        for warning in result.warnings:
            self.stdout.write(self.style.WARNING(f"確認: {warning}"))
        if dry_run:
            self.stdout.write("--dry-run のため書き込んでいません。")
        else:
            self.stdout.write(self.style.SUCCESS("取り込みました。"))

    @staticmethod
    def _counts(counts: dict[str, int], errors: int) -> str:
        return (
            f"追加 {counts['added']:,}件、変更 {counts['changed']:,}件、"
            f"変更なし {counts['unchanged']:,}件、エラー {errors:,}件"
        )

    @staticmethod
    def _plan(code: str | None) -> Plan:
        plan = plan_named(code)
        if plan is None:
            raise CommandError(f"計画がありません: {code or '(現在の計画)'}")
        return plan

    @staticmethod
    def _user(username: str | None):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"ユーザーがいません: {username}")
        return user
