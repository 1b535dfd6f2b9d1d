"""Issue 13: imports go through in chunks (engine.CHUNK_ROWS, made small here).

The preview keeps nothing but counts, problems and the first changes; the confirm writes a
chunk as soon as it is validated, and a problem in a later chunk rolls back the chunks
already written. What people see (counts, messages, history) is the same as in one piece.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from initiatives.models import Indicator, IndicatorValue, ProgressEntry
from portal_lib.sheet_reading import SpreadsheetError
from reporting.exchange import engine, sheets, writer
from tests.factory import initiative, make_progress, xlsx_bytes

HEADER = sheets.PROGRESS.header()


@pytest.fixture
def chunks_of_3(monkeypatch):
    monkeypatch.setattr(engine, "CHUNK_ROWS", 3)


def _progress(rows: list[list]) -> bytes:
    return xlsx_bytes([HEADER, *rows], title="進捗")


def test_chunks_write_adds_and_updates_with_history(plan, personas, chunks_of_3, monkeypatch):
    kept = [
        make_progress(initiative("2.1"), entry_date=date(2026, 5, d), percent=10) for d in (1, 2)
    ]
    batches: list[tuple[int, int]] = []
    real = writer.write_batch

    def counting(batch, *, user):
        batches.append((len(batch.to_create), len(batch.to_update)))
        real(batch, user=user)

    monkeypatch.setattr(writer, "write_batch", counting)
    rows = [["2.1", f"2026-05-0{d}", "順調", 50] for d in range(1, 8)]  # 2 updates, 5 adds
    result = writer.bulk_import(
        slug="progress",
        plan=plan,
        data=_progress(rows),
        filename="p.xlsx",
        user=personas.secretariat,
    )
    assert result.counts() == {"added": 5, "changed": 2, "unchanged": 0}
    assert batches == [(1, 2), (3, 0), (1, 0)]  # 3 rows a chunk, the last one short
    assert ProgressEntry.objects.filter(percent=50).count() == 7
    for entry in kept:
        entry.refresh_from_db()
        assert (entry.percent, entry.version) == (50, 2)
        assert entry.history.first().history_type == "~"
    history = ProgressEntry.history.filter(history_user=personas.secretariat)
    assert history.filter(history_type="+").count() == 5
    assert history.filter(history_type="~").count() == 2


def test_a_problem_in_a_later_chunk_rolls_back_the_chunks_written(plan, personas, chunks_of_3):
    rows = [["2.1", f"2026-05-0{d}", "順調", 50] for d in range(1, 8)]
    rows[6][3] = 140  # row 8, in the third chunk
    with pytest.raises(SpreadsheetError) as exc:
        writer.bulk_import(
            slug="progress",
            plan=plan,
            data=_progress(rows),
            filename="p.xlsx",
            user=personas.secretariat,
        )
    assert exc.value.messages == [
        "シート「進捗」8行目 D列(進捗率(%))の「140」: この値は 100 以下でなければなりません。"
    ]
    assert exc.value.counts == {"added": 6, "changed": 0, "unchanged": 0}
    assert ProgressEntry.objects.count() == 0
    assert ProgressEntry.history.count() == 0


def test_messages_keep_row_order_when_rows_wait_for_the_stored_ones(plan, chunks_of_3):
    """A row that updates a stored entry waits for the chunk's fetch, and the rows after it
    wait with it: the problems still come out in the file's row order."""
    make_progress(initiative("2.1"), entry_date=date(2026, 5, 2), percent=10)
    rows = [
        ["2.1", "2026-05-01", "完了", 80],  # model rule (clean)
        ["2.1", "2026-05-02", "完了", 70],  # updates the stored entry: model rule
        ["9.9", "2026-05-03", "順調", 10],  # parser problem
        ["2.1", "2026-05-01", "順調", 10],  # the same key as row 2
    ]
    with pytest.raises(SpreadsheetError) as exc:
        engine.parse_import(sheets.PROGRESS, _progress(rows), "p.xlsx", plan=plan)
    assert exc.value.messages == [
        "シート「進捗」2行目 D列(進捗率(%))の「80」: 状況が「完了」の場合、進捗率は100%にしてください。",
        "シート「進捗」3行目 D列(進捗率(%))の「70」: 状況が「完了」の場合、進捗率は100%にしてください。",
        "シート「進捗」4行目 A列(取り組み番号)の「9.9」: この番号の取り組みはありません。"
        "「2.1」のように基本方針番号.取り組み番号で入力してください。",
        "シート「進捗」5行目 B列(日付)の「2.1 / 2026-05-01」: 2行目と同じキーです。1行にまとめてください。",
    ]


def test_new_indicators_are_written_before_the_values_of_later_chunks(plan, personas, chunks_of_3):
    header = sheets.INDICATOR_VALUES.header()
    rows = [["2.1", "申請件数", "件", f"R{y}", 10 * y] for y in range(3, 9)]
    rows.insert(1, ["2.1", "窓口件数", "件", "R3", 5])
    data = xlsx_bytes([header, *rows])
    result = writer.bulk_import(
        slug="indicators", plan=plan, data=data, filename="i.xlsx", user=personas.secretariat
    )
    assert result.counts() == {"added": 7, "changed": 0, "unchanged": 0}
    ind = Indicator.objects.get(name="申請件数")
    assert ind.history.get().history_user == personas.secretariat
    assert dict(
        IndicatorValue.objects.filter(indicator=ind).values_list("fiscal_year", "target")
    ) == {2018 + y: Decimal(10 * y) for y in range(3, 9)}
    assert IndicatorValue.objects.get(indicator__name="窓口件数").target == Decimal(5)


def test_the_preview_keeps_the_first_changes_only(plan, chunks_of_3, monkeypatch):
    monkeypatch.setattr(engine, "PREVIEW_LIMIT", 4)
    rows = [["2.1", f"2026-05-{d:02d}", "順調", d] for d in range(1, 11)]
    result = engine.parse_import(sheets.PROGRESS, _progress(rows), "p.xlsx", plan=plan)
    assert result.counts() == {"added": 10, "changed": 0, "unchanged": 0}
    assert [r.row for r in result.rows] == [2, 3, 4, 5]
    assert [(c.label, c.new) for c in result.rows[0].changes] == [
        ("状況", "順調"),
        ("進捗率(%)", "1"),
    ]
    assert ProgressEntry.objects.count() == 0
