"""Restore a backup into a freshly migrated (empty) database, and prove it kept every identity.

The file must open under `BACKUP_ENCRYPTION_KEY` (a changed byte anywhere refuses it). The
rows are saved with their primary keys, in one transaction, with history recording off:
the backup already holds the history tables (plain `loaddata` would add a history row for
every many-to-many field it sets). Then, before committing, `portal_lib.backup.verify`
compares the database with the backup object by object — every row at its id with the same
fields, nothing extra, and every history row attached to the same object as before — and
any difference rolls the whole restore back. PostgreSQL's id sequences are moved past the
restored ids so that new objects do not collide.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.base import DeserializationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, transaction
from django.test.utils import override_settings

from portal_lib import backup as backups
from portal_lib.backup_seal import SealError, is_sealed, open_sealed, parse_key


class Command(BaseCommand):
    help = (
        "make_backup のバックアップを空のデータベースへ復元し、すべての行と履歴が"
        "元と同じ対象に付いていることを確かめます。違えば何も復元しません。"
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="make_backup で作ったバックアップファイル")
        parser.add_argument(
            "--unsealed",
            action="store_true",
            help=(
                "暗号化も改ざん検知もない dumpdata の JSON を読み込みます (以前の手順で作った"
                "バックアップや、データの移し替え用)。復元後の照合は同じく行います。"
            ),
        )

    def handle(self, *args, backup: str, unsealed: bool, **options):
        objects, manifest = self._read(Path(backup), unsealed=unsealed)
        using = DEFAULT_DB_ALIAS
        if manifest:
            self._check_migrations(manifest, using)
        if not_empty := backups.non_empty_models(using):
            raise CommandError(
                "復元先のデータベースが空ではありません。新しいデータベースで "
                "`manage.py migrate` を実行してから復元してください。"
                f" (データのある表: {', '.join(not_empty[:5])})"
            )
        with override_settings(SIMPLE_HISTORY_ENABLED=False), transaction.atomic(using=using):
            try:
                count = backups.load(objects, using=using)
            except (DeserializationError, DatabaseError, ValueError, LookupError) as exc:
                raise CommandError(
                    f"バックアップを読み込めませんでした。何も復元していません。({exc})"
                ) from None
            mismatches = backups.verify(objects, using=using)
            if mismatches:
                if options["verbosity"] >= 2:
                    self.stderr.write("すべての不一致:\n" + backups.first_lines(mismatches, None))
                raise CommandError(
                    "復元を取り消しました。復元後のデータがバックアップと一致しません"
                    f" (不一致 {len(mismatches)} 件)。履歴が別の対象に付くなどの食い違いが"
                    "あるため、何も書き込んでいません。最初の不一致 (-v 2 ですべて表示):\n"
                    + backups.first_lines(mismatches)
                )
            backups.reset_sequences(using)
        self.stdout.write(
            self.style.SUCCESS(
                f"バックアップ {backup} を復元しました ({count} 件)。すべての行と履歴が"
                "元と同じ対象に付いていることを確かめました。"
            )
        )

    def _read(self, path: Path, *, unsealed: bool) -> tuple[list[dict], dict]:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"ファイルを読めません: {path} ({exc.strerror})") from None
        manifest: dict = {}
        if is_sealed(data):
            if not settings.BACKUP_ENCRYPTION_KEY:
                raise CommandError(
                    "BACKUP_ENCRYPTION_KEY が設定されていないため、暗号化されたバックアップを"
                    "開けません。バックアップを作ったときの鍵を設定してください。"
                )
            keys = [parse_key(text) for text in settings.BACKUP_ENCRYPTION_KEY]
            try:
                manifest, data = open_sealed(data, keys=keys)
            except SealError as exc:
                raise CommandError(f"復元しません: {exc}") from None
        elif not unsealed:
            raise CommandError(
                "復元しません: 暗号化・改ざん検知のない (make_backup で作っていない) ファイルです。"
                " dumpdata の JSON をあえて読み込むときは --unsealed を付けてください。"
            )
        else:
            self.stderr.write(
                "注意: --unsealed のファイルは改ざんを検知できません。出どころを確かめてください。"
            )
        try:
            objects = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"バックアップの JSON を読めません: {exc}") from None
        if not isinstance(objects, list) or not all(
            isinstance(o, dict) and isinstance(o.get("model"), str) for o in objects
        ):
            raise CommandError("バックアップの形式が違います (オブジェクトの一覧ではありません)。")
        return objects, manifest

    def _check_migrations(self, manifest: dict, using: str) -> None:
        here = backups.applied_migrations(using)
        missing = [
            f"{app}.{name}"
            for app, names in manifest.get("migrations", {}).items()
            for name in names
            if name not in here.get(app, [])
        ]
        if missing:
            raise CommandError(
                "このバックアップは、復元先より新しい版のデータベースから作られています。"
                "ポータルを同じ版以降に更新して `manage.py migrate` してから復元してください。"
                f" (未適用のマイグレーション: {', '.join(missing[:5])})"
            )
