from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from reporting.management.commands._lifecycle import Problems
from reporting.services.carry_over import (
    carry_over_refusal,
    plan_carry_over,
    plan_carry_over_preview,
)

LABELS = {
    "create": "引き継ぐ",
    "refresh": "更新する",
    "exists": "引継ぎ済み",
    "ended": "終了",
    "unapproved": "未承認",
    "skip": "引き継がない",
}


class Command(BaseCommand):
    help = (
        "前計画の取り組みのうち、最終年度の振り返りで承認された方針が継続・拡充・見直しのものを"
        "次期計画へ引き継ぎます(画面「次期計画への引継ぎ」と同じ処理)。"
        "例: carry_over --to kahoku-dx-r9-r13 --dry-run"
    )

    def add_arguments(self, parser):
        parser.add_argument("--to", dest="target", required=True, help="引継ぎ先の計画コード")
        parser.add_argument(
            "--dry-run", action="store_true", help="何を行うかを表示するだけで書き込みません"
        )

    def handle(self, *args, target, dry_run, **options):
        problems = Problems()
        target_plan = problems.plan(target)
        problems.raise_if_any()
        source = target_plan.predecessor
        if source is None:
            problems.add(f"「{target_plan.name}」には前計画がありません。")
        else:
            refusal = carry_over_refusal(source_plan=source, target_plan=target_plan)
            if refusal:
                problems.add(refusal)
        problems.raise_if_any()
        lines = plan_carry_over_preview(source_plan=source, target_plan=target_plan)
        for line in lines:
            self.stdout.write(
                f"{line.initiative.code} {line.initiative.title}: "
                f"{LABELS.get(line.action, line.action)}({line.reason})"
            )
        if dry_run:
            counts = {
                action: sum(1 for line in lines if line.action == action) for action in LABELS
            }
            self.stdout.write(
                f"確認のみ(書き込みなし): 引き継ぐ {counts['create']}件、"
                f"更新する {counts['refresh']}件、未承認 {counts['unapproved']}件、"
                f"終了 {counts['ended']}件。"
            )
            return
        try:
            result = plan_carry_over(source_plan=source, target_plan=target_plan, user=None)
        except ValidationError as exc:
            problems.add_validation(exc)
        problems.raise_if_any()
        self.stdout.write(
            self.style.SUCCESS(
                f"「{source.name}」から「{target_plan.name}」へ{len(result.created)}件を"
                f"引き継ぎ、{len(result.refreshed)}件を更新しました。"
            )
        )
