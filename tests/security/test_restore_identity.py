"""Probe 3: `restore_backup` attached history to the wrong objects.

The earlier backup (`dumpdata --natural-primary`) dropped the ids of objects with natural
keys; after any gap in the ids (a rolled-back transaction, a deleted object) they came back
under new ids while their history rows kept the old ones: one plan's basic policy took over
another's history, with every row count unchanged.

Here the gaps are made on the real models (a basic policy of the next plan created and
deleted, a carry-over rolled back, then the real carry-over), the portal is backed up with
`make_backup`, restored into a fresh database in a child process (a file on SQLite, a
database of this run's own name on PostgreSQL), and every object's history compared by what
the object is. The old-style dump after the same gaps is refused and leaves nothing behind;
a changed byte, a wrong key or no key refuse the sealed file.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from initiatives.models import Initiative
from plans.models import BasicPolicy, Plan
from portal_lib import backup as backups
from portal_lib.backup_seal import new_key, parse_key, seal
from portal_lib.history import delete_with_user, save_with_user
from reporting.services.carry_over import plan_carry_over
from reporting.services.versions import plan_create_next
from tests.factory import make_review
from tests.security.restore_snapshot import snapshot
from workgroups.models import WorkingGroup

# transaction: a child process reads the source
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

KEY = new_key()
OLD_STYLE_DUMP = [
    "--natural-foreign",
    "--natural-primary",
    "--exclude=contenttypes",
    "--exclude=auth.permission",
    "--exclude=sessions",
    "--exclude=admin.logentry",
]


class _Rollback(Exception):
    pass


def _make_gaps(personas) -> Plan:
    """Two plans' basic policies and initiatives, with holes in their ids and history."""
    current = personas.wg.plan
    nxt = plan_create_next(
        actor=personas.secretariat,
        source=current,
        code="kahoku-dx-r9-r13",
        name="第2期かほく市DX推進計画",
        theme="誰一人取り残さないデジタル化",
        start_fy=2027,
        end_fy=2031,
        version_number="2.0",
    )
    # the new plan's WGs, same names: the bodies continue (workgroups.services.bodies_continue)
    assert (
        WorkingGroup.objects.filter(plan=nxt).count()
        == WorkingGroup.objects.filter(plan=current).count()
    )
    for ini in Initiative.objects.filter(policy__plan=current):
        make_review(ini, fiscal_year=current.end_fy, carry_over="continue", state="approved")

    # A policy created and deleted: a gap on every database, and two orphaned history rows.
    draft = BasicPolicy(plan=nxt, number=9, title="検討中の基本方針")
    save_with_user(draft, personas.secretariat)
    delete_with_user(draft, personas.secretariat)
    # A carry-over that fails halfway: PostgreSQL's sequences do not roll back.
    with pytest.raises(_Rollback), transaction.atomic():
        plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)
        raise _Rollback
    plan_carry_over(source_plan=current, target_plan=nxt, user=personas.secretariat)

    # Later edits: history with a user, on policies of both plans.
    for policy in BasicPolicy.objects.filter(number=3):
        policy.summary = f"{policy.plan.code} の基本方針3を見直し"
        save_with_user(policy, personas.hq)
    assert BasicPolicy.objects.filter(plan=nxt).count() >= 3
    return nxt


@pytest.fixture
def target(tmp_path):
    """A fresh, migrated database for the child process, dropped afterwards."""
    env = {**os.environ, "BACKUP_ENCRYPTION_KEY": KEY, "DJANGO_ENV": "development"}
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        name = db["NAME"].removeprefix("test_") + "_restore_target"
        host, port, user = db["HOST"] or "127.0.0.1", str(db["PORT"] or 5432), db["USER"]
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        env["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{name}"
        admin = [*("-h", host, "-p", port, "-U", user)]
        if db.get("PASSWORD"):
            env["PGPASSWORD"] = db["PASSWORD"]
        _run(["dropdb", *admin, "--if-exists", name], env)
        _run(["createdb", *admin, name], env)
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(tmp_path / "restored.sqlite3")
    _run([sys.executable, "manage.py", "migrate", "--noinput"], env)
    yield env
    if connection.vendor == "postgresql":
        _run(["dropdb", *admin, "--if-exists", name], env)


def _run(args: list[str], env: dict[str, str], *, check: bool = True):
    result = subprocess.run(
        args, env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=300
    )
    if check:
        assert result.returncode == 0, f"{args[:3]}: {result.stdout}\n{result.stderr}"
    return result


def _manage(env, *args: str, check: bool = True):
    return _run([sys.executable, "manage.py", *args], env, check=check)


def _shell(env, code: str) -> str:
    return _manage(env, "shell", "--no-imports", "-c", code).stdout


def _restored_snapshot(env) -> dict:
    out = _shell(env, "from tests.security.restore_snapshot import main; main()")
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture(autouse=True)
def _backup_key(settings):
    settings.BACKUP_ENCRYPTION_KEY = [KEY]
    return settings


def _make_backup(path: Path) -> None:
    call_command("make_backup", output=str(path))


def test_restore_after_id_gaps_gives_every_history_row_to_the_same_object(
    personas, target, tmp_path
):
    nxt = _make_gaps(personas)
    before = snapshot()
    orphans = [r for r in before["rows"].values() if r["object"] is None]
    assert len(orphans) == 2  # the deleted draft policy's "+" and "-"
    policy_history = {
        k: v for k, v in before["history_of"].items() if k.startswith('["plans.basicpolicy"')
    }
    assert len(policy_history) == BasicPolicy.objects.count()
    backup = tmp_path / "portal.backup"
    _make_backup(backup)

    restored = _manage(target, "restore_backup", str(backup))
    assert "すべての行と履歴が元と同じ対象に付いていることを確かめました" in restored.stdout
    after = _restored_snapshot(target)
    assert after["history_of"] == before["history_of"]
    assert after["rows"] == before["rows"]
    assert len(after["rows"]) > 250

    # New objects after the restore take fresh ids (PostgreSQL: sequences were reset).
    created = _shell(
        target,
        "from plans.models import BasicPolicy, Plan\n"
        f"p = BasicPolicy.objects.create(plan=Plan.objects.get(code={nxt.code!r}),"
        " number=8, title='復元後の基本方針')\n"
        "print(p.pk, p.history.get().history_id)",
    )
    new_pk, new_history_id = map(int, created.split())
    assert new_pk > max(BasicPolicy.objects.values_list("pk", flat=True))
    assert new_history_id > max(BasicPolicy.history.values_list("history_id", flat=True))


def test_an_old_style_dump_after_id_gaps_is_refused_and_nothing_is_restored(
    personas, target, tmp_path
):
    _make_gaps(personas)
    dump = tmp_path / "old-style.json"
    call_command("dumpdata", *OLD_STYLE_DUMP, "--indent=1", f"--output={dump}")

    refused = _manage(target, "restore_backup", "--unsealed", "-v", "2", str(dump), check=False)
    assert refused.returncode == 1
    message = refused.stderr
    assert (
        "CommandError: 復元を取り消しました。復元後のデータがバックアップと一致しません" in message
    )
    assert re.search(
        r"一致しません \(不一致 \d+ 件\)。履歴が別の対象に付くなどの食い違いがある", message
    )
    assert "何も書き込んでいません。最初の不一致 (-v 2 ですべて表示):" in message
    # The next plan's policies came after the gaps: their history is not theirs any more.
    for number in (1, 2, 3):
        assert re.search(
            rf"  - plans\.historicalbasicpolicy history_id=\d+ \([-\d: ]+, secretariat\):"
            rf" バックアップでは plans\.basicpolicy \('kahoku-dx-r9-r13', {number}\)"
            r" \(バックアップでの id=\d+\) の履歴ですが、復元後は",
            message,
        ), message
    counts = _shell(
        target,
        "from plans.models import BasicPolicy, Plan\n"
        "print(Plan.objects.count(), BasicPolicy.history.count())",
    )
    assert counts.split() == ["0", "0"]


def test_a_changed_byte_anywhere_refuses_the_backup(personas, tmp_path):
    backup = tmp_path / "portal.backup"
    _make_backup(backup)
    data = backup.read_bytes()
    head_end = data.index(b"\n", len(b"KAHOKU-DX-BACKUP\n")) + 1
    changed_manifest = data.replace(b'"objects": ', b'"objects": 1', 1)
    flipped_body = bytearray(data)
    flipped_body[head_end + (len(data) - head_end) // 2] ^= 0x01
    for tampered in (changed_manifest, bytes(flipped_body), data[:-1]):
        backup.write_bytes(tampered)
        with pytest.raises(CommandError) as refused:
            call_command("restore_backup", str(backup))
        assert str(refused.value) == (
            "復元しません: バックアップが改ざんされているか壊れています (認証タグが一致しません)。"
        )


def test_the_backup_is_encrypted_and_opens_only_with_its_key(personas, tmp_path, settings):
    backup = tmp_path / "portal.backup"
    _make_backup(backup)
    data = backup.read_bytes()
    # Only the manifest (format, key id, model names and counts) is in the clear.
    assert b"honbucho" not in data
    assert "かほく".encode() not in data
    assert oct(backup.stat().st_mode & 0o777) == "0o600"

    other = new_key()
    settings.BACKUP_ENCRYPTION_KEY = [other]
    with pytest.raises(CommandError) as wrong:
        call_command("restore_backup", str(backup))
    assert "BACKUP_ENCRYPTION_KEY にその鍵がありません。" in str(wrong.value)
    settings.BACKUP_ENCRYPTION_KEY = []
    with pytest.raises(CommandError) as none:
        call_command("restore_backup", str(backup))
    assert str(none.value) == (
        "BACKUP_ENCRYPTION_KEY が設定されていないため、暗号化されたバックアップを開けません。"
        "バックアップを作ったときの鍵を設定してください。"
    )
    # Key rotation: the old key listed after the new one still opens it (this database is
    # not empty, so the restore stops at the next check).
    settings.BACKUP_ENCRYPTION_KEY = [other, KEY]
    with pytest.raises(CommandError) as rotated:
        call_command("restore_backup", str(backup))
    assert str(rotated.value).startswith("復元先のデータベースが空ではありません。")


def test_no_backup_without_a_key_and_no_plain_file_without_saying_so(personas, tmp_path, settings):
    settings.BACKUP_ENCRYPTION_KEY = []
    with pytest.raises(CommandError) as refused:
        call_command("make_backup", output=str(tmp_path / "x.backup"))
    assert str(refused.value).startswith("BACKUP_ENCRYPTION_KEY が設定されていません。")
    assert not (tmp_path / "x.backup").exists()

    plain = tmp_path / "plain.json"
    call_command("dumpdata", "plans.plan", f"--output={plain}")
    settings.BACKUP_ENCRYPTION_KEY = [KEY]
    with pytest.raises(CommandError) as unsealed:
        call_command("restore_backup", str(plain))
    assert str(unsealed.value) == (
        "復元しません: 暗号化・改ざん検知のない (make_backup で作っていない) ファイルです。"
        " dumpdata の JSON をあえて読み込むときは --unsealed を付けてください。"
    )


def test_the_check_names_a_history_row_that_moved_to_another_object(personas):
    """The check itself, in this database: after a backup is taken, one history row of a
    policy is pointed at another policy, as the old restore did."""
    _make_gaps(personas)
    plaintext, _manifest = backups.dump("default")
    objects = json.loads(plaintext)
    assert backups.verify(objects, using="default") == []

    policy_3, policy_4 = BasicPolicy.objects.filter(plan__code="kahoku-dx-r3-r8", number__in=[3, 4])
    row = policy_3.history.latest()  # the edit by honbucho in _make_gaps
    BasicPolicy.history.filter(history_id=row.history_id).update(id=policy_4.pk)

    mismatches = backups.verify(objects, using="default")
    assert mismatches == [
        f"plans.historicalbasicpolicy pk={row.history_id}: id がバックアップと違います"
        f" ({policy_3.pk!r} → {policy_4.pk!r})。",
        f"plans.historicalbasicpolicy history_id={row.history_id}"
        f" ({row.history_date:%Y-%m-%d %H:%M:%S}, honbucho):"
        f" バックアップでは plans.basicpolicy ('kahoku-dx-r3-r8', 3) (pk={policy_3.pk})"
        f" の履歴ですが、復元後は ('kahoku-dx-r3-r8', 4) (pk={policy_4.pk}) に付いています。",
    ]


def test_a_backup_from_a_newer_portal_is_refused(personas, tmp_path):
    plaintext, manifest = backups.dump("default")
    manifest["migrations"]["plans"].append("9999_from_the_future")
    backup = tmp_path / "newer.backup"
    backup.write_bytes(seal(plaintext, key=parse_key(KEY), manifest=manifest))
    with pytest.raises(CommandError) as refused:
        call_command("restore_backup", str(backup))
    assert str(refused.value) == (
        "このバックアップは、復元先より新しい版のデータベースから作られています。"
        "ポータルを同じ版以降に更新して `manage.py migrate` してから復元してください。"
        " (未適用のマイグレーション: plans.9999_from_the_future)"
    )
