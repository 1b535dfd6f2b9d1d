"""The comparison's token boundaries (reporting.content_diff.tokenize): a number, a Latin word
and a katakana word change whole; each kanji, hiragana and punctuation mark on its own."""

from __future__ import annotations

from reporting.content_diff import FieldChange, tokenize


def _ops(before: str, after: str) -> list[tuple[str, str]]:
    return FieldChange("本文", before, after).ops


def test_tokens_keep_numbers_latin_and_katakana_words_whole():
    text = "令和13年度 (2031年度)、DXのオンライン申請3.5件 ＤＸ２０２３・ガバメント\n1,000件"
    assert tokenize(text) == [
        "令", "和", "13", "年", "度", " ", "(", "2031", "年", "度", ")", "、",
        "DX", "の", "オンライン", "申", "請", "3.5", "件", " ",
        "ＤＸ", "２０２３", "・", "ガバメント", "\n", "1,000", "件",
    ]  # fmt: skip
    assert "".join(tokenize(text)) == text


def test_a_changed_year_reads_as_a_replaced_number():
    assert _ops("2023年度", "2031年度") == [
        ("delete", "2023"),
        ("insert", "2031"),
        ("equal", "年度"),
    ]
    # The issue's 「令和13年度 (20~~2~~3_1年度)」: numbers never interleave digit by digit.
    assert _ops("令和8年度 (2023年度)", "令和13年度 (2031年度)") == [
        ("equal", "令和"),
        ("delete", "8"),
        ("insert", "13"),
        ("equal", "年度 ("),
        ("delete", "2023"),
        ("insert", "2031"),
        ("equal", "年度)"),
    ]
    assert _ops("【第1.0版】", "【第2.0版】") == [
        ("equal", "【第"),
        ("delete", "1.0"),
        ("insert", "2.0"),
        ("equal", "版】"),
    ]


def test_a_katakana_word_is_replaced_whole():
    assert _ops("手続のオンライン化を図る", "手続のデジタル化を図る") == [
        ("equal", "手続の"),
        ("delete", "オンライン"),
        ("insert", "デジタル"),
        ("equal", "化を図る"),
    ]


def test_a_rewritten_phrase_is_one_replacement_not_fragments():
    """A shared 「の」 or 「を」 between two changes is folded into them (shorter than both)."""
    before, after = "行政手続きのオンライン化を図る", "行政サービスのデジタル化を進める"
    ops = _ops(before, after)
    assert ops == [
        ("equal", "行政"),
        ("delete", "手続きのオンライン"),
        ("insert", "サービスのデジタル"),
        ("equal", "化を"),
        ("delete", "図"),
        ("insert", "進め"),
        ("equal", "る"),
    ]
    assert "".join(t for op, t in ops if op != "insert") == before
    assert "".join(t for op, t in ops if op != "delete") == after
    theme = _ops("市民が住みやすい「かほく市」を目指す", "誰一人取り残さないデジタル化")
    assert theme == [
        ("delete", "市民が住みやすい「かほく市」を目指す"),
        ("insert", "誰一人取り残さないデジタル化"),
    ]
