"""Write a plan version as the published document (.docx), as the screen does."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plans.models import PlanVersion
from reporting.document import plan_document
from reporting.plan_content import version_content


class Command(BaseCommand):
    help = "計画の版を、公開している計画書の構成で Word(.docx)に書き出します。"

    def create_parser(self, prog_name, subcommand, **kwargs):
        # "--version 1.0" names the plan's version here, replacing Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="計画コード(例: kahoku-dx-r3-r8)")
        parser.add_argument("--version", required=True, help="版(例: 1.0)")
        parser.add_argument("--format", choices=["docx"], default="docx")
        parser.add_argument("--output", required=True, help="書き出すファイル")

    def handle(self, *args, **options):
        version = (
            PlanVersion.objects.select_related("plan")
            .filter(plan__code=options["plan"], number=options["version"])
            .first()
        )
        if version is None:
            raise CommandError(
                f"計画「{options['plan']}」の第{options['version']}版が見つかりません。"
            )
        data = plan_document(version_content(version))
        Path(options["output"]).write_bytes(data)
        self.stdout.write(
            f"{version} を {options['output']} に書き出しました({len(data):,} バイト)。"
        )
