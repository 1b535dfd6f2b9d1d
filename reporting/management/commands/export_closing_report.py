"""Write a plan's close-out report (計画期間の総括) as Word, PDF or Excel, as the screen does."""

from django.core.management.base import BaseCommand, CommandError

from plans.selectors import plan_named
from reporting.documents.closing import closing_document, closing_pdf
from reporting.management.commands._output import make_document, output_path, write_output
from reporting.selectors.summary import plan_summary
from reporting.workbooks.summary import closing_workbook

WRITERS = {
    "docx": closing_document,
    "pdf": closing_pdf,
    "xlsx": closing_workbook,
}


class Command(BaseCommand):
    help = (
        "計画期間の総括(計画の進捗・指標・承認済みの振り返り)を Word / PDF / Excel に書き出します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="計画コード(例: kahoku-dx-r3-r8)")
        parser.add_argument("--format", choices=sorted(WRITERS), required=True)
        parser.add_argument("--output", required=True, help="書き出すファイル")

    def handle(self, *args, **options):
        plan = plan_named(options["plan"])
        if plan is None:
            raise CommandError(f"計画「{options['plan']}」が見つかりません。")
        output = output_path(options["output"])
        data = make_document(lambda: WRITERS[options["format"]](plan_summary(plan)))
        write_output(output, data)
        self.stdout.write(
            f"「{plan.name}」の計画期間の総括を {output} に書き出しました({len(data):,} バイト)。"
        )
