"""Cron: remind WG leaders of due/returned reviews and members of initiatives left unlogged.

python manage.py send_reminders --days 7
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from initiatives.services import reminder_mails, reminders_send


class Command(BaseCommand):
    help = (
        "提出期限がN日以内(または超過)・差戻し中の振り返りをWG長に、"
        "N日以上進捗記録のない取り組みを担当WGのメンバーにメールで知らせます。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=7, help="日数N(既定: 7)")
        parser.add_argument("--today", help="基準日 YYYY-MM-DD(既定: 今日。検証用)")
        parser.add_argument(
            "--dry-run", action="store_true", help="送信せず、宛先と件名だけを表示します"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days < 0:
            raise CommandError("--days には0以上の日数を指定してください。")
        try:
            today = date.fromisoformat(options["today"]) if options["today"] else None
        except ValueError as exc:
            raise CommandError(
                f"--today「{options['today']}」は日付として読めません。2026-11-24 の形式で指定してください。"
            ) from exc
        today = today or timezone.localdate()
        base_url = settings.PORTAL_BASE_URL
        if options["dry_run"]:
            mails = reminder_mails(today=today, days=days, base_url=base_url)
        else:
            mails = reminders_send(today=today, days=days, base_url=base_url)
        for mail in mails:
            self.stdout.write(f"{mail.to}\t{mail.subject}")
        if options["dry_run"]:
            self.stdout.write(f"リマインダー {len(mails)} 通(--dry-run のため送信していません)。")
        else:
            self.stdout.write(self.style.SUCCESS(f"リマインダー {len(mails)} 通を送信しました。"))
