"""`python manage.py import_staff FILE [--dry-run] [--effective YYYY-MM-DD] [--plan CODE]`: the
roster screen for IT staff.

Same reading (workgroups.roster) and same writer (workgroups.services.staff_roster_apply) as
the secretariat's screen. WG roles and HQ seats go to every plan the 適用日 reaches
(`plans.selectors.plans_from`), or to ``--plan`` only. ``--dry-run`` writes nothing: within 31
days of the 適用日 it runs the whole import and rolls it back; earlier (April rehearsed from
December) it runs the preview, which makes every check the confirm makes. Prints the counts,
the plans, the new sections, the skipped rows and the warnings; on problems lists every kept
problem (the first 200 with their cells, then the total) on stderr and exits with status 1,
writing nothing.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from plans.models import Plan
from plans.selectors import plan_named
from portal_lib.sheet_reading import SpreadsheetError
from workgroups import roster, services


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = (
        "職員名簿(Excel .xlsx)を取り込みます。名簿にない職員番号の職員は無効にします。"
        "画面の取り込みと同じ検査と書き込みです。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="職員名簿(.xlsx)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="検査と件数の表示だけを行い、書き込みません。適用日が先(次の計画の1年目、"
            "約5か月先まで)でも試せます。",
        )
        parser.add_argument(
            "--effective",
            help="適用日(YYYY-MM-DD)。省略時は今日。取り込み(確定)は適用日の31日前から。",
        )
        parser.add_argument(
            "--plan",
            help="WGと本部の変更を書き込む計画のコード。省略時は適用日の年度以降の計画すべて。",
        )
        parser.add_argument("--user", help="履歴に記録する取り込み者のユーザー名")

    def handle(self, *args, file: Path, dry_run: bool, **options):
        today = timezone.localdate()
        effective = self._date(options.get("effective")) or today
        actor = self._user(options.get("user"))
        plan = self._plan(options.get("plan"))
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"ファイルを読めません: {file} ({exc.strerror})") from None
        preview = None
        try:
            if dry_run and not roster.can_confirm(effective, today):
                preview = roster.preview_roster(
                    plan=plan,
                    data=data,
                    filename=file.name,
                    effective=effective,
                    today=today,
                    actor=actor,
                )
                if preview.error_total:
                    raise preview.error()
            else:
                with transaction.atomic():
                    preview = services.staff_roster_apply(
                        actor=actor,
                        plan=plan,
                        data=data,
                        filename=file.name,
                        effective=effective,
                        today=today,
                    )
                    if dry_run:
                        raise _DryRun
        except _DryRun:
            pass
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        except SpreadsheetError as exc:
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(
                f"職員名簿を取り込めません({exc.total:,}件の問題)。何も書き込まれていません。"
            ) from None
        self._report(preview, effective)
        if dry_run:
            self.stdout.write("--dry-run のため書き込んでいません。")
            if not preview.confirmable:
                start = preview.confirm_from
                self.stdout.write(
                    f"この名簿の取り込み(確定)は{start.isoformat()}から行えます"
                    "(適用日の31日前から)。"
                )
        else:
            self.stdout.write(self.style.SUCCESS("取り込みました。"))

    def _report(self, preview, effective: date) -> None:
        c = preview.counts()
        self.stdout.write(
            f"職員名簿(シート「{preview.sheet}」、{effective.isoformat()}から適用): "
            f"追加 {c['new']:,}人、変更 {c['changed']:,}人、無効化 {c['leaving']:,}人、"
            f"変更なし {c['unchanged']:,}人"
        )
        if preview.plans:
            names = "、".join(f"{p.name}({p.code})" for p in preview.plans)
            self.stdout.write(f"WGと本部の変更を書き込む計画: {names}")
        for name, row in preview.new_sections.items():
            self.stdout.write(f"新しい課: 「{name}」({row}行目)")
        for s in preview.skipped:
            shown = f"「{s.text}」(注記)" if s.text else "空行"
            self.stdout.write(f"読み飛ばした行: {s.row}行目 {shown}")
        for warning in preview.warnings:
            self.stdout.write(f"確かめてください: {warning}")

    @staticmethod
    def _date(text: str | None) -> date | None:
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--effective は YYYY-MM-DD で指定してください: {text}") from None

    @staticmethod
    def _plan(code: str | None) -> Plan | None:
        if not code:
            return None
        plan = plan_named(code)
        if plan is None:
            raise CommandError(f"計画がありません: {code}")
        return plan

    @staticmethod
    def _user(username: str | None):
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"ユーザーがいません: {username}")
        return user
