"""Write a plan version as the published document (.docx or PDF), as the screen does."""

from django.core.management.base import BaseCommand, CommandError

from plans.models import PlanVersion
from reporting.documents.plan import plan_document, plan_pdf
from reporting.management.commands._output import make_document, output_path, write_output
from reporting.selectors.plan_content import NoContentError, document_content


class Command(BaseCommand):
    help = "計画の版を、公開している計画書の構成で Word(.docx)または PDF に書き出します。"

    def create_parser(self, prog_name, subcommand, **kwargs):
        # "--version 1.0" names the plan's version here, replacing Django's own --version.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="計画コード(例: kahoku-dx-r3-r8)")
        parser.add_argument("--version", required=True, help="版(例: 1.0)")
        parser.add_argument(
            "--format",
            choices=["docx", "pdf"],
            default=None,
            help="docx または pdf(省略時は --output の拡張子から、なければ docx)",
        )
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
        output = output_path(options["output"])
        fmt = options["format"] or ("pdf" if output.suffix.lower() == ".pdf" else "docx")
        writer = plan_pdf if fmt == "pdf" else plan_document
        data = make_document(lambda: writer(document_content(version)), NoContentError)
        write_output(output, data)
        self.stdout.write(
            f"{version} を {options['output']} に書き出しました({len(data):,} バイト)。"
        )
