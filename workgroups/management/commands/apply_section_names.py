"""Put the section names in force today in place (run by cron on 4月1日, harmless any day)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from portal_lib import era
from workgroups.services import section_names_apply


class Command(BaseCommand):
    help = "今年度に適用される課名の変更を反映します(毎年4月1日に実行。何度実行しても同じ結果)。"

    def handle(self, *args, **options):
        today_fy = era.current_fiscal_year(timezone.localdate())
        changed = section_names_apply(actor=None, today_fy=today_fy)
        for section in changed:
            self.stdout.write(f"課名を変更しました: {section.name}")
        self.stdout.write(
            f"{len(changed)}件の課名を反映しました({era.format_fiscal_year(today_fy)})。"
        )
