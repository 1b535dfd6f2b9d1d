"""`python manage.py prune_audit [--apply] [--days N]`: keep the audit trail to its retention.

A dry run by default (or with --dry-run): prints what would go. --apply deletes. The
retention is AUDIT_RETENTION_DAYS (0, the default: keep everything) or --days. What is
kept however old: reporting.services.audit says.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from reporting.services.audit import audit_prune


class Command(BaseCommand):
    help = (
        "保存期間(AUDIT_RETENTION_DAYS)より古い変更履歴とログイン記録を削除します。"
        "既定は件数の表示だけ(--dry-run)で、--apply で削除します。"
        "存在する対象の最新の履歴は残します。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="件数の表示だけを行います(既定)。"
        )
        parser.add_argument("--apply", action="store_true", help="実際に削除します。")
        parser.add_argument(
            "--days", type=int, help="保存日数(省略時は設定 AUDIT_RETENTION_DAYS)。"
        )

    def handle(self, *args, dry_run: bool, apply: bool, days: int | None, **options):
        if dry_run and apply:
            raise CommandError("--dry-run と --apply は同時に指定できません。")
        if days is None:
            days = settings.AUDIT_RETENTION_DAYS
            if days == 0:
                self.stdout.write(
                    "保存期間が設定されていません(AUDIT_RETENTION_DAYS=0: すべて保存)。"
                    "何も削除しません。"
                )
                return
        if days < 1:
            raise CommandError("--days は1以上の日数にしてください。")
        lines = audit_prune(days=days, dry_run=not apply)
        verb = "削除しました" if apply else "削除の対象"
        self.stdout.write(f"保存期間: {days:,}日より前")
        for line in lines:
            self.stdout.write(f"{line.label}: {line.count:,}件 {verb}")
        total = sum(line.count for line in lines)
        self.stdout.write(f"合計: {total:,}件 {verb}")
        if not apply:
            self.stdout.write("--dry-run のため削除していません(削除するには --apply)。")
