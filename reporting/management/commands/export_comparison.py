"""Write the 新旧対照表 between two versions or plans, as the compare screen's buttons do."""

from django.core.management.base import BaseCommand, CommandError

from reporting.documents.comparison import comparison_docx, comparison_pdf
from reporting.management.commands._output import make_document, output_path, write_output
from reporting.selectors import comparison
from reporting.workbooks.comparison import comparison_workbook

WRITERS = {
    "docx": comparison_docx,
    "pdf": comparison_pdf,
    "xlsx": comparison_workbook,
}


class Command(BaseCommand):
    help = (
        "新旧対照表(改正後・改正前、変更部分に下線)を Word / PDF / Excel で書き出します。"
        "例: --plan kahoku-dx-r3-r8 --from 1.0 --to draft --to-plan kahoku-dx-r9-r13"
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="改正前の計画コード(例: kahoku-dx-r3-r8)")
        parser.add_argument(
            "--from", dest="from_version", required=True, help="改正前の版(例: 1.0)"
        )
        parser.add_argument(
            "--to",
            dest="to_version",
            required=True,
            help="改正後の版(例: 2.0)、または draft(作成中の内容)",
        )
        parser.add_argument("--to-plan", help="改正後の計画コード(省略時は --plan と同じ計画)")
        parser.add_argument("--format", choices=sorted(WRITERS), default="docx")
        parser.add_argument(
            "--order",
            choices=comparison.ORDERS,
            default=comparison.AFTER_LEFT,
            help="列の並び(既定: 改正後を左)",
        )
        parser.add_argument("--output", required=True, help="書き出すファイル")

    def handle(self, *args, **options):
        output = output_path(options["output"])
        try:
            before = comparison.source(
                comparison.source_value(options["plan"], options["from_version"])
            )
            after = comparison.source(
                comparison.source_value(
                    options["to_plan"] or options["plan"], options["to_version"]
                )
            )
        except comparison.SourceNotFound as exc:
            raise CommandError(str(exc)) from exc
        table = comparison.comparison_table(before, after)
        data = make_document(lambda: WRITERS[options["format"]](table, order=options["order"]))
        write_output(output, data)
        self.stdout.write(
            f"{table.title}(改正後: {after.label}、改正前: {before.label}、"
            f"{len(table.rows)}件)を {output} に書き出しました({len(data):,} バイト)。"
        )
        if table.cut_note:
            self.stderr.write(table.cut_note)
