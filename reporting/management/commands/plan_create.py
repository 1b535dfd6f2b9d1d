from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from plans.selectors import current_plan
from reporting.management.commands._lifecycle import Problems
from reporting.services.versions import plan_create_next


class Command(BaseCommand):
    help = (
        "施行中の計画の次期計画を策定中として作成します(画面「計画と版」の「次期計画を作成」と"
        "同じ処理)。例: plan_create --code kahoku-dx-r9-r13 --name 第2期かほく市DX推進計画 "
        "--start 2027 --end 2031 --version 2.0"
    )

    def add_arguments(self, parser):
        # --version is the plan's version here (X.Y), not Django's own --version.
        for action in list(parser._actions):
            if "--version" in action.option_strings:
                parser._handle_conflict_resolve(None, [("--version", action)])
        parser.add_argument("--code", required=True, help="計画コード(半角英数字とハイフン)")
        parser.add_argument("--name", required=True, help="計画名")
        parser.add_argument("--start", required=True, help="開始年度(2027、R9、令和9年度)")
        parser.add_argument("--end", required=True, help="終了年度(2031、R13、令和13年度)")
        parser.add_argument("--version", dest="version_number", required=True, help="版(例: 2.0)")
        parser.add_argument("--theme", default=None, help="理念(省略時は施行中の計画の理念)")

    def handle(self, *args, code, name, start, end, version_number, theme, **options):
        problems = Problems()
        start_fy = problems.fiscal_year("開始年度", start)
        end_fy = problems.fiscal_year("終了年度", end)
        source = current_plan()
        if source is None:
            problems.add("施行中の計画がありません(先に load_plan で計画を読み込んでください)。")
        if not name.strip():
            problems.add("計画名を指定してください。")
        problems.raise_if_any()
        try:
            plan = plan_create_next(
                actor=None,
                source=source,
                code=code,
                name=name.strip(),
                theme=source.theme if theme is None else theme,
                start_fy=start_fy,
                end_fy=end_fy,
                version_number=version_number,
            )
        except ValidationError as exc:
            problems.add_validation(exc)
        problems.raise_if_any()
        version = plan.versions.get()
        self.stdout.write(
            self.style.SUCCESS(
                f"次期計画「{plan.name}」({plan.code}、{plan.period_label})を"
                f"{version.label}の策定中として作成しました(前計画: {source.name})。"
            )
        )
