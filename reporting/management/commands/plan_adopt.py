from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from reporting.management.commands._lifecycle import Problems
from reporting.services.versions import plan_adopt


class Command(BaseCommand):
    help = (
        "策定中の計画を決定し、内容を確定します(画面「計画と版」の「決定」と同じ処理)。"
        "例: plan_adopt --plan kahoku-dx-r9-r13 --decided-on 2027-02-20 "
        "--in-force-from 2027-04-01"
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="計画コード")
        parser.add_argument(
            "--decided-on", required=True, help="決定日(2027-02-20、令和9年2月20日)"
        )
        parser.add_argument(
            "--in-force-from", required=True, help="施行日(2027-04-01、令和9年4月1日)"
        )
        parser.add_argument("--summary", default="", help="主な変更内容")

    def handle(self, *args, plan, decided_on, in_force_from, summary, **options):
        problems = Problems()
        the_plan = problems.plan(plan)
        adopted_on = problems.date("決定日", decided_on)
        in_force = problems.date("施行日", in_force_from)
        problems.raise_if_any()
        try:
            version = plan_adopt(
                actor=None,
                plan=the_plan,
                adopted_on=adopted_on,
                in_force_from=in_force,
                summary=summary,
            )
        except ValidationError as exc:
            problems.add_validation(exc)
        problems.raise_if_any()
        self.stdout.write(
            self.style.SUCCESS(
                f"「{the_plan.name}」{version.label}を{version.issued_label}に決定し、"
                f"内容を確定しました。施行日は{in_force:%Y-%m-%d}です"
                "(その日から自動的に施行中になります)。"
            )
        )
