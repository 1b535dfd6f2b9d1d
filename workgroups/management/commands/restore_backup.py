"""Load a `dumpdata` backup into a freshly migrated (empty) database, history included.

Plain `loaddata` would add a history row for every many-to-many field it sets (the
simple-history m2m signal does not know the save is raw), so the restored audit trail
would differ from the backed-up one. This command loads with history recording off:
the backup already holds the history tables.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from plans.models import Plan


class Command(BaseCommand):
    help = "dumpdata のバックアップを空のデータベースへ復元します(履歴もそのまま復元します)。"

    def add_arguments(self, parser):
        parser.add_argument("backup", help="dumpdata で作ったバックアップファイル (.json)")

    def handle(self, *args, backup: str, **options):
        if Plan.objects.exists() or get_user_model().objects.exists():
            raise CommandError(
                "復元先のデータベースが空ではありません。新しいデータベースで "
                "`manage.py migrate` を実行してから復元してください。"
            )
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            call_command("loaddata", backup, verbosity=options["verbosity"])
        self.stdout.write(self.style.SUCCESS(f"バックアップ {backup} を復元しました。"))
