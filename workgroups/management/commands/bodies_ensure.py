"""Give a plan found without secretariat, headquarters or WGs its predecessor's (IT staff)."""

from django.core.management.base import BaseCommand, CommandError

from plans.models import Plan
from workgroups.services import BODY_LABELS, bodies_ensure, bodies_missing


class Command(BaseCommand):
    help = (
        "事務局・DX推進本部・WGのない計画に、前の計画の組織と人を引き継ぎます"
        "(すでにあるものには触れません。何度実行しても同じ結果)。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="計画コード")

    def handle(self, *args, **options):
        plan = Plan.objects.filter(code=options["plan"]).first()
        if plan is None:
            raise CommandError(f"計画コード「{options['plan']}」の計画はありません。")
        if bodies_missing(plan) and plan.predecessor_id is None:
            raise CommandError("前の計画がないため、組織を引き継げません。")
        counts = bodies_ensure(plan)
        if not counts:
            self.stdout.write("引き継ぐものはありません(組織はすでにあります)。")
            return
        for kind, n in counts.items():
            self.stdout.write(f"{BODY_LABELS[kind]}: {n}件")
