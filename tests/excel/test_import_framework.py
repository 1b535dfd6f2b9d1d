"""The import framework itself (portal_lib.importing, issue 24): headers by name with
synonyms under title rows and merged cells, the error log's cap and totals, fingerprints,
and the previewed upload claimed once however many confirms race for it."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from portal_lib import upload_stash
from portal_lib.importing import (
    ErrorLog,
    Fingerprint,
    Heading,
    ModelCleaner,
    ValueMemo,
    data_rows,
    find_header,
    is_note,
    loose,
    merged_spans,
)
from portal_lib.sheet_reading import SpreadsheetError, merged_sheet_rows, read_upload
from tests.factory import xlsx_bytes

ROSTERISH = [
    Heading("number", "職員番号", ("職員no", "職員コード"), required=True),
    Heading("name", "氏名", ("名前", "氏名(漢字)"), required=True),
    Heading("email", "メールアドレス", ("e-mail", "メール")),
]


def _rows(*rows: list, sheet: str = "名簿") -> list[tuple[str, int, list]]:
    return [(sheet, n, values) for n, values in enumerate(rows, start=1)]


def test_headers_are_found_by_any_synonym_loosely():
    rows = iter(_rows(["職員 NO", "名前", "E-Mail", "備考"], ["001", "山田"]))

    match = find_header(rows, ROSTERISH, search_rows=20, key=loose)

    assert match is not None
    assert (match.sheet, match.number) == ("名簿", 1)
    assert match.first == {"number": 0, "name": 1, "email": 2}
    assert match.columns == {0: "number", 1: "name", 2: "email"}
    assert next(rows) == ("名簿", 2, ["001", "山田"])  # the data follow from the same rows


def test_a_full_width_synonym_matches_after_nfkc():
    rows = iter(_rows(["職員番号", "氏名(漢字)"]))  # full-width parentheses

    match = find_header(rows, ROSTERISH, search_rows=20, key=loose)

    assert match is not None and match.first == {"number": 0, "name": 1}


def test_exact_headers_take_no_synonym_of_another_spelling():
    rows = iter(_rows(["職員 NO", "名前"]))

    assert find_header(rows, ROSTERISH, search_rows=20) is None  # exact: 「職員 NO」 is not one


def test_the_header_is_found_under_title_and_note_rows():
    rows = iter(
        _rows(
            ["令和8年度 職員名簿"],
            ["※令和8年4月1日現在"],
            [],
            ["職員番号", "氏名"],
            ["001", "山田"],
        )
    )

    match = find_header(rows, ROSTERISH, search_rows=20, key=loose)

    assert match is not None and match.number == 4
    assert list(data_rows(rows, "名簿", 10)) == [(5, ["001", "山田"])]


def test_a_header_below_the_search_rows_is_not_found():
    rows = iter(_rows(*([["タイトル"]] * 5), ["職員番号", "氏名"]))

    assert find_header(rows, ROSTERISH, search_rows=5, key=loose) is None


def test_a_missing_required_heading_is_no_header():
    rows = iter(_rows(["職員番号", "メール"]))

    assert find_header(rows, ROSTERISH, search_rows=20, key=loose) is None


def test_a_merged_header_read_through_the_bounded_reader():
    """The city's sheet: a title merged across the table, the header cells merged over two
    rows; the bounded reader fills merged cells, the framework finds the header."""
    data = xlsx_bytes(
        [
            ["職員名簿", None, None],
            ["職員番号", "氏名", "メール"],
            [None, None, None],
            ["001", "山田", "yamada@example.invalid"],
        ],
        merges=("A1:C1", "A2:A3", "B2:B3", "C2:C3"),
    )
    sheet, rows = merged_sheet_rows(data, "m.xlsx", max_rows=10)

    stream = iter([(sheet, n, v) for n, v in rows])
    match = find_header(stream, ROSTERISH, search_rows=20, key=loose)

    assert match is not None and match.number == 2
    # the header's merged second row repeats the header: the caller sees it as a row
    assert [n for n, _ in data_rows(stream, sheet, 10)] == [3, 4]


def test_merged_spans_give_anchors_and_covered_cells():
    anchors, covered = merged_spans([(2, 1, 4, 1), (3, 3, 3, 5)])

    assert anchors == {(2, 1): (3, 1), (3, 3): (1, 3)}
    assert covered == {(3, 1): (2, 1), (4, 1): (2, 1), (3, 4): (3, 3), (3, 5): (3, 3)}


def test_notes_are_told_from_data():
    assert is_note([(0, "※令和8年4月1日現在 情報推進課作成")])
    assert is_note([(2, "以上")])
    assert is_note([(0, "総務課"), (1, "備考あり")], ignore_column=0)  # one remark
    assert not is_note([(0, "総務課"), (1, "山田"), (2, "課長")], ignore_column=0)
    assert is_note([(0, "総務課"), (2, "注: 兼務")], ignore_column=0)
    assert not is_note([(1, "001"), (2, "山田")])


def test_data_rows_are_counted_again_and_stop_at_the_next_sheet():
    rows = iter([("A", 2, [1]), ("A", 3, [2]), ("B", 1, [3])])
    assert list(data_rows(rows, "A", 2)) == [(2, [1]), (3, [2])]

    with pytest.raises(SpreadsheetError) as exc:
        list(data_rows(iter([("A", n, [n]) for n in range(2, 6)]), "A", 3))
    assert "3" in exc.value.messages[0]


def test_the_error_log_keeps_the_first_and_counts_all_per_column():
    log = ErrorLog(3)
    for i in range(7):
        log.add(f"問題{i}", "日付" if i % 2 else "状況")
    log.add_cell("進捗記録", 9, 2, "日付", "2026-13-01", "日付として読み取れません。")

    error = log.error({"added": 4})

    assert error.total == 8
    assert error.counts == {"added": 4}
    assert error.messages[:3] == ["問題0", "問題1", "問題2"]
    assert error.messages[3] == (
        "ほかにも問題があります。全部で8件のうち最初の3件を表示しています"
        "(列ごとの件数: 状況 4件、日付 4件)。"
    )
    assert log.full


def test_a_message_past_the_cap_is_never_built():
    log = ErrorLog(1, per_column=False)
    built = []
    log.add(lambda: built.append(1) or "一つ目")
    log.add(lambda: built.append(2) or "二つ目")

    assert built == [1]
    assert log.summary() == [
        "一つ目",
        "ほかにも問題があります。全部で2件のうち最初の1件を表示しています。",
    ]


def test_an_error_log_without_problems_raises_nothing():
    log = ErrorLog(5)
    log.raise_if_any()
    log.add("ひとつ")
    with pytest.raises(SpreadsheetError) as exc:
        log.raise_if_any()
    assert exc.value.messages == ["ひとつ"] and exc.value.total == 1


def test_a_fingerprint_is_the_same_for_the_same_decisions_only():
    assert Fingerprint("2|added|").hexdigest() == Fingerprint("2|", "added|").hexdigest()
    assert Fingerprint("2|added|").hexdigest() != Fingerprint("2|changed|").hexdigest()


def test_the_value_memo_remembers_short_values_only():
    memo = ValueMemo()
    key = memo.key("順調")
    memo.put(key, "on_track")
    assert memo.get(memo.key("順調")) == "on_track"
    assert memo.key("x" * 65) is None  # long text is never remembered
    assert memo.key([1]) is None  # nor what is not immutable
    assert memo.get(memo.key(1)) is not memo.get(key)  # 1 and "1" differ by class


def _full_clean_outcome(obj, exclude):
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        return exc.message_dict
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


def _cleaner_outcome(cleaner, obj):
    try:
        cleaner.full_clean(obj)
    except ValidationError as exc:
        return exc.message_dict
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")}


@pytest.mark.django_db
def test_the_model_cleaner_is_full_clean_for_every_object_of_an_import(plan):
    """ModelCleaner runs a field's clean() once per distinct value: every object still gets
    full_clean()'s messages and cleaned values, a value seen before included; and the
    model's clean() runs for each (its cross-field rules and the date's bounds)."""
    from initiatives.models import ProgressEntry
    from tests.factory import initiative

    ini = initiative("2.1")
    day = date(2024, 5, 1)
    rows = [
        {"entry_date": day, "fiscal_year": 2024, "status": "on_track", "percent": 10},
        {"entry_date": day, "fiscal_year": 2024, "status": "on_track", "percent": 150},
        {"entry_date": day, "fiscal_year": 2024, "status": "on_track", "percent": 150},
        {"entry_date": day, "fiscal_year": 2024, "status": "nonsense", "percent": 10},
        {"entry_date": day, "fiscal_year": 2024, "status": "done", "percent": 10},  # clean()
        {"entry_date": day, "fiscal_year": 2024, "status": "done", "percent": 100},
        {"entry_date": date(2020, 4, 1), "fiscal_year": 2020, "status": "on_track"},  # bounds
        {"entry_date": day, "fiscal_year": 9999, "status": "on_track", "done_text": "x" * 70},
        {"entry_date": day, "fiscal_year": 2024, "status": "on_track", "percent": 10},
    ]
    exclude = ("initiative", "author")
    cleaner = ModelCleaner(ProgressEntry, exclude)
    outcomes = []
    for values in rows * 2:  # the second time every value is remembered
        theirs = _full_clean_outcome(ProgressEntry(initiative=ini, **values), exclude)
        ours = _cleaner_outcome(cleaner, ProgressEntry(initiative=ini, **values))
        assert ours == theirs
        outcomes.append(ours)
    assert outcomes[1] == {"percent": ["この値は 100 以下でなければなりません。"]}
    assert "status" in outcomes[3] and "percent" in outcomes[4]
    assert "entry_date" in outcomes[6] and "fiscal_year" in outcomes[7]


@pytest.mark.django_db
def test_the_model_cleaner_tells_equal_decimals_with_other_places_apart():
    """1.00 and 1.000 are equal, but a field with two decimal places takes one of them:
    decimals are never remembered."""
    from initiatives.models import Initiative

    cleaner = ModelCleaner(Initiative, ("policy", "working_group", "lead_section", "carried_from"))
    exclude = ("policy", "working_group", "lead_section", "carried_from")
    for weight in (Decimal("1.00"), Decimal("1.000"), Decimal("1.00"), Decimal("1.000")):
        obj = Initiative(number=1, title="t", weight=weight)
        theirs = _full_clean_outcome(Initiative(number=1, title="t", weight=weight), exclude)
        assert _cleaner_outcome(cleaner, obj) == theirs
    assert "weight" in theirs


class _Request:
    def __init__(self, session: dict) -> None:
        self.session = session


def test_a_previewed_upload_is_claimed_once_by_ten_concurrent_confirms(upload_dir):
    """Double clicks, two tabs, a retrying proxy: ten confirms of the same preview at once;
    the atomic claim lets exactly one through, the others are told it is done."""
    data = xlsx_bytes([["番号", "取り組み"], ["2.1", "x"]])
    preview = _Request({})
    fingerprint = Fingerprint("2|added|").hexdigest()
    token = upload_stash.stash(preview, "progress", data, "p.xlsx", fingerprint)
    start = threading.Barrier(10)
    results: list = []
    lock = threading.Lock()

    def confirm() -> None:
        request = _Request({key: dict(value) for key, value in preview.session.items()})
        start.wait()
        outcome = upload_stash.claim(request, "progress", token)
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=confirm) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    won = [r for r in results if isinstance(r, tuple)]
    assert len(results) == 10
    assert len(won) == 1
    assert won[0][0] == data and won[0][1]["fingerprint"] == fingerprint
    assert [r for r in results if not isinstance(r, tuple)] == [upload_stash.ALREADY_DONE] * 9


def test_the_bulk_engine_reads_through_the_bounded_reader():
    """The rows the framework finds a header in come from the bounded reader: a file it
    refuses never reaches the header search."""
    with pytest.raises(SpreadsheetError):
        find_header(read_upload(b"not a workbook", "x.xlsx"), ROSTERISH, search_rows=20)
