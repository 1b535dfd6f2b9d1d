"""`python manage.py send_password_links --new-since YYYY-MM-DD [--dry-run] [--user NAME]`: the
set-password mails for every account created since a date (a roster import's new staff).

The same service as the button after a roster import (services.staff_password_links_send):
active accounts created on or after the date with no usable password get a one-time link.
Prints each person mailed; lists every one who cannot be (no e-mail address) on stderr and
exits with status 1.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from workgroups import services


class Command(BaseCommand):
    help = (
        "指定日以降に作られ、パスワードを設定していない有効なアカウントに、"
        "パスワード設定メールを送ります。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-since", required=True, help="この日以降に作られたアカウント(YYYY-MM-DD)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="送る相手を表示するだけで送りません。"
        )
        parser.add_argument("--user", help="履歴に記録する実行者のユーザー名")

    def handle(self, *args, new_since: str, dry_run: bool, **options):
        try:
            since = date.fromisoformat(new_since)
        except ValueError:
            raise CommandError(
                f"--new-since は YYYY-MM-DD で指定してください: {new_since}"
            ) from None
        User = get_user_model()
        actor = None
        if options.get("user"):
            actor = User.objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"ユーザーがいません: {options['user']}")
        users = (
            User.objects.filter(date_joined__date__gte=since, is_active=True)
            .select_related("profile")
            .order_by("username")
        )
        sent, problems = services.staff_password_links_send(
            actor=actor, users=list(users), dry_run=dry_run
        )
        verb = "送ります(--dry-run のため送っていません)" if dry_run else "送りました"
        for user in sent:
            name = getattr(getattr(user, "profile", None), "display_name", "") or "—"
            self.stdout.write(f"{user.get_username()}({name}) {user.email}: {verb}")
        self.stdout.write(f"{len(sent)}人に{verb}。")
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{len(problems)}人には送れません。上の一覧を確かめてください。")
