from django.core.management.base import BaseCommand

from workgroups.services import dev_login_ensure


class Command(BaseCommand):
    help = "開発用の事務局ログインを作成し、新しいパスワードを表示します(本番環境では使えません)。"

    def add_arguments(self, parser):
        parser.add_argument("--username", default="jimukyoku")

    def handle(self, *args, username: str, **options):
        user, password = dev_login_ensure(username=username)
        bar = "=" * 60
        self.stdout.write(
            f"\n{bar}\n 事務局(情報推進課)ログイン\n"
            f"   URL        : http://127.0.0.1:8000/\n"
            f"   ユーザー名 : {user.get_username()}\n"
            f"   パスワード : {password}\n{bar}\n"
        )
