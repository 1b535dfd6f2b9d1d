"""The first (or another) secretariat account, for production where no default account exists."""

from __future__ import annotations

import getpass
import os
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from workgroups.models import Section, StaffProfile
from workgroups.services import staff_create

PASSWORD_ENV = "SECRETARIAT_PASSWORD"


class Command(BaseCommand):
    help = (
        "事務局(情報推進課)のアカウントを作成します。パスワードは環境変数 "
        f"{PASSWORD_ENV} から読むか、端末で入力します。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--display-name", default="", help="表示名(例: 情報推進課 山田)")
        parser.add_argument("--email", default="")
        parser.add_argument("--section", default="情報推進課", help="所属課(計画データの課名)")

    def handle(self, *args, username: str, display_name: str, email: str, section: str, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"ユーザー名「{username}」は既に使われています。")
        section_obj = Section.objects.filter(name=section).first()
        if section_obj is None:
            raise CommandError(
                f"所属課「{section}」がありません。先に `manage.py load_plan` を実行してください。"
            )
        password = self._password()
        candidate = User(username=username, email=email, last_name=display_name)
        try:
            validate_password(password, user=candidate)
        except ValidationError as exc:
            raise CommandError(
                "パスワードが条件を満たしていません: " + " ".join(exc.messages)
            ) from None
        user = staff_create(
            username=username,
            password=password,
            role=StaffProfile.Role.SECRETARIAT,
            section=section_obj,
            display_name=display_name or username,
            email=email,
        )
        self.stdout.write(
            self.style.SUCCESS(f"事務局アカウント「{user.get_username()}」を作成しました。")
        )

    def _password(self) -> str:
        from_env = os.environ.get(PASSWORD_ENV)
        if from_env:
            return from_env
        if not sys.stdin.isatty():
            raise CommandError(
                f"パスワードを環境変数 {PASSWORD_ENV} で渡すか、端末から実行して入力してください。"
            )
        first = getpass.getpass("パスワード: ")
        if first != getpass.getpass("パスワード(確認): "):
            raise CommandError("確認用のパスワードが一致しません。")
        return first
