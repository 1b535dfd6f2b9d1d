"""Write an encrypted, tamper-evident backup of the whole portal (history included).

Every primary key is kept, so each history row comes back attached to its own object;
`restore_backup` checks that object by object. The file is sealed with the first key of
`BACKUP_ENCRYPTION_KEY` (portal_lib.backup_seal): unreadable and unchangeable without it.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from portal_lib import backup
from portal_lib.backup_seal import new_key, parse_key, seal
from portal_lib.disk import write_atomic


class Command(BaseCommand):
    help = (
        "ポータルの全データ (履歴を含む) を、主キーを保ったまま暗号化したバックアップファイルに"
        "書き出します。鍵は環境変数 BACKUP_ENCRYPTION_KEY です。"
    )

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--output", help="書き出すファイル (既にあれば中止します)")
        where.add_argument(
            "--output-dir",
            help="このフォルダに kahoku_dx-YYYYMMDD-HHMMSS.backup という名前で書き出します",
        )
        parser.add_argument(
            "--new-key",
            dest="print_new_key",
            action="store_true",
            help="新しい鍵を 1 つ表示して終わります (BACKUP_ENCRYPTION_KEY に設定します)",
        )

    def handle(self, *args, output, output_dir, print_new_key: bool, **options):
        if print_new_key:
            self.stdout.write(new_key())
            return
        if not settings.BACKUP_ENCRYPTION_KEY:
            raise CommandError(
                "BACKUP_ENCRYPTION_KEY が設定されていません。暗号化しないバックアップは作りません。"
                " `manage.py make_backup --new-key` で鍵を作り、環境変数に設定して"
                "（バックアップとは別の場所にも）保管してください。"
            )
        key = parse_key(settings.BACKUP_ENCRYPTION_KEY[0])
        if output:
            path = Path(output)
        elif output_dir:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = Path(output_dir) / f"kahoku_dx-{stamp}.backup"
        else:
            raise CommandError("--output か --output-dir を指定してください。")
        if path.exists():
            raise CommandError(f"ファイルが既にあります: {path}")

        plaintext, manifest = backup.dump(DEFAULT_DB_ALIAS)
        sealed = seal(plaintext, key=key, manifest=manifest)
        _write_private(path, sealed)
        self.stdout.write(
            self.style.SUCCESS(
                f"バックアップを書き出しました: {path} ({manifest['objects']} 件、"
                f"鍵 ID {key.key_id})"
            )
        )


def _write_private(path: Path, data: bytes) -> None:
    """Readable by the owner only (mkstemp's 0600), and never half-written under the
    final name: the same atomic write as the upload stash (portal_lib.disk)."""
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise CommandError(f"書き出せません: {path} ({exc.strerror})") from None
