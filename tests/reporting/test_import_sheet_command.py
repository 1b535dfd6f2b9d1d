"""`manage.py import_sheet`: the same engine and writer as the screen, for IT staff."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from initiatives.models import ProgressEntry
from reporting.exchange import sheets
from tests.factory import initiative, make_progress, xlsx_bytes

HEADER = sheets.PROGRESS.header()


@pytest.fixture
def sheet(tmp_path, plan):
    make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), percent=10)
    make_progress(initiative("2.2"), entry_date=date(2026, 5, 1), percent=20)
    path = tmp_path / "進捗.xlsx"
    path.write_bytes(
        xlsx_bytes(
            [
                HEADER,
                ["2.1", "R8.5.1", "順調", 40],
                ["2.2", "2026/5/1", "順調", 20],
                ["3.1", "令和8年6月1日", "遅れ", "30%"],
            ],
            title="進捗",
        )
    )
    return path


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_sheet", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_writes_through_the_writer_with_history_and_prints_the_counts(sheet, personas):
    out, err = run("progress", str(sheet), "--user", personas.secretariat.username)
    assert out.splitlines()[:2] == [
        "進捗記録(シート「進捗」)",
        "追加 1件、変更 1件、変更なし 1件、エラー 0件",
    ]
    assert out.splitlines()[-1] == "取り込みました。"
    assert err == ""
    changed = ProgressEntry.objects.get(initiative=initiative("2.1"))
    assert (changed.percent, changed.version) == (40, 2)
    assert changed.history.first().history_user == personas.secretariat
    added = ProgressEntry.objects.get(initiative=initiative("3.1"))
    assert (added.entry_date, added.percent, added.author) == (
        date(2026, 6, 1),
        30,
        personas.secretariat,
    )


def test_dry_run_counts_and_writes_nothing(sheet):
    out, _ = run("progress", str(sheet), "--dry-run")
    assert out.splitlines()[1] == "追加 1件、変更 1件、変更なし 1件、エラー 0件"
    assert out.splitlines()[-1] == "--dry-run のため書き込んでいません。"
    assert ProgressEntry.objects.count() == 2
    assert ProgressEntry.objects.get(initiative=initiative("2.1")).percent == 10


def test_problems_are_listed_and_the_command_fails_writing_nothing(tmp_path, plan):
    path = tmp_path / "bad.csv"
    rows = "".join(f"9.{i},2026-05-01,順調,10\r\n" for i in range(1, 151))
    path.write_bytes((",".join(HEADER) + "\r\n2.1,R8.5.1,順調,40\r\n" + rows).encode("cp932"))
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("import_sheet", "progress", str(path), stdout=out, stderr=err)
    assert exc.value.returncode == 1  # manage.py exits with status 1
    assert str(exc.value) == "進捗記録: 取り込めません(150件の問題)。何も書き込まれていません。"
    assert out.getvalue() == "追加 1件、変更 0件、変更なし 0件、エラー 150件\n"
    lines = err.getvalue().splitlines()
    assert len(lines) == 101  # the first 100 with their cells, then the totals
    assert lines[0] == (
        "シート「CSV」3行目 A列(取り組み番号)の「9.1」: この番号の取り組みはありません。"
        "「2.1」のように基本方針番号.取り組み番号で入力してください。"
    )
    assert lines[-1] == (
        "ほかにも問題があります。全部で150件のうち最初の100件を表示しています"
        "(列ごとの件数: 取り組み番号 150件)。"
    )
    assert ProgressEntry.objects.count() == 0


def test_unknown_kind_and_missing_file_are_refused(tmp_path, plan):
    with pytest.raises(CommandError, match="invalid choice"):
        run("nope", str(tmp_path / "x.xlsx"))
    with pytest.raises(CommandError, match="ファイルを読めません"):
        run("progress", str(tmp_path / "missing.xlsx"))
