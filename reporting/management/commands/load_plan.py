from pathlib import Path

from django.core.management.base import BaseCommand

from reporting.services.loading import DEFAULT_PLAN_FILE, plan_load_file


class Command(BaseCommand):
    help = "かほく市DX推進計画のデータ(fixtures/kahoku_dx_plan.json)を読み込みます。何度実行しても結果は同じです。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", type=Path, default=DEFAULT_PLAN_FILE, help="計画データのJSONファイル"
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="職員が編集した計画本文を計画書の記載に戻します(進捗データは変更しません)。",
        )

    def handle(self, *args, file: Path, reset: bool, **options):
        report = plan_load_file(path=file, reset=reset)
        self.stdout.write(self.style.SUCCESS(f"計画データの読み込み: {report.summary()}"))
