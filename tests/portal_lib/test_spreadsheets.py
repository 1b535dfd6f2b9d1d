"""The shared safe-cell helper and the safe reader: formulas, XML, zip bombs, size."""

import io
import zipfile

import openpyxl
import pytest
from defusedxml import EntitiesForbidden

from portal_lib import sheet_reading as ss
from portal_lib import sheet_writing as sw
from tests.factory import xlsx_bytes

NOT_XLSX = ss.NOT_SPREADSHEET


def reopen(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data)).active


@pytest.mark.parametrize(
    "text, stored",
    [
        ("=1+1", "=1+1"),
        ('=HYPERLINK("http://evil.example","x")', '=HYPERLINK("http://evil.example","x")'),
        ("+SUM(A1)", "+SUM(A1)"),
        ("-2+3", "-2+3"),
        ("@cmd", "@cmd"),
        ("\t=1", "\t=1"),
        ("\r=1", "\n=1"),  # line breaks are stored as LF, with or without lxml
        ("a\r\nb", "a\nb"),
        ("\0=1", "=1"),
    ],
)
def test_formula_looking_text_is_stored_as_text_in_both_writers(text, stored):
    data = sw.stream_workbook([("s", ["h"], [[text]])])
    cell = reopen(data)["A2"]
    assert cell.data_type == "s"
    assert cell.value == stored

    wb = openpyxl.Workbook()
    sw.set_cell(wb.active, 1, 1, text)
    buf = io.BytesIO()
    wb.save(buf)
    cell = reopen(buf.getvalue())["A1"]
    assert cell.data_type == "s"
    assert cell.value == stored


def test_characters_xml_cannot_hold_are_removed_and_numbers_stay_numbers():
    data = sw.stream_workbook([("s", ["h", "n"], [["a\x01b\x0bc\ufffe", 12]])])
    ws = reopen(data)
    assert ws["A2"].value == "abc"
    assert ws["B2"].value == 12
    assert ws["B2"].data_type == "n"


def test_csv_has_bom_and_neutralises_formulas():
    data = sw.csv_bytes(["名前", "値"], [["=1+1", 3], ["かほく", None]])
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == "名前,値\r\n'=1+1,3\r\nかほく,\r\n"


def test_openpyxl_runs_with_defusedxml():
    assert openpyxl.xml.DEFUSEDXML is True


def _with_member(data: bytes, name: str, content: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = content if info.filename == name else src.read(info.filename)
            dst.writestr(info.filename, body)
    return out.getvalue()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
    b"</sheetData></worksheet>"
)


def test_entity_expansion_is_refused_by_the_checks_and_by_openpyxl_itself(settings):
    bad = _with_member(xlsx_bytes([["x"]]), "xl/worksheets/sheet1.xml", BILLION_LAUGHS)
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.validate_upload(bad, "a.xlsx")
    assert exc.value.messages == [ss.XML_ENTITY]
    # Even without our scan, openpyxl parses through defusedxml and refuses entities.
    with pytest.raises(ValueError) as raw:
        openpyxl.load_workbook(io.BytesIO(bad))
    assert isinstance(raw.value.__cause__, EntitiesForbidden)


def test_external_entity_in_workbook_part_is_refused():
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<workbook>&xxe;</workbook>"
    )
    bad = _with_member(xlsx_bytes([["x"]]), "xl/workbook.xml", xxe)
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.validate_upload(bad, "a.xlsx")
    assert exc.value.messages == [ss.XML_ENTITY]


def test_zip_bomb_is_refused_while_decompressing():
    bomb = _with_member(xlsx_bytes([["x"]]), "xl/worksheets/sheet1.xml", b"\0" * (20 * 1024 * 1024))
    assert len(bomb) < 100_000
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.validate_upload(bomb, "a.xlsx")
    assert exc.value.messages == [ss.ZIP_BOMB]


def test_declared_size_over_the_limit_is_refused_before_reading(monkeypatch):
    monkeypatch.setattr(ss, "MAX_UNCOMPRESSED_BYTES", 1000)
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.validate_upload(xlsx_bytes([["x" * 2000]]), "a.xlsx")
    assert exc.value.messages == [ss.ZIP_BOMB]


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.mark.parametrize(
    "data, name",
    [
        (PNG, "photo.xlsx"),
        ("項目,副項目\n".encode(), "renamed.xlsx"),
        (b"PK\x03\x04 not really a zip", "broken.xlsx"),
    ],
)
def test_not_a_spreadsheet(data, name):
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.validate_upload(data, name)
    assert exc.value.messages == [NOT_XLSX]


def test_zip_that_is_not_an_xlsx():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.validate_upload(out.getvalue(), "a.xlsx")
    assert exc.value.messages == [NOT_XLSX]


def test_oversize_upload(settings):
    settings.MAX_UPLOAD_BYTES = 1024
    with pytest.raises(ss.SpreadsheetError) as exc:
        ss.validate_upload(b"x" * 2048, "a.xlsx")
    assert exc.value.messages == [
        "ファイルが大きすぎます(2048バイト)。1024バイト以下のファイルにしてください。"
    ]


def test_csv_only_where_offered_and_in_utf8_or_shift_jis():
    text = "番号,名前\r\n1,かほく\r\n"
    with pytest.raises(ss.SpreadsheetError):
        ss.validate_upload(text.encode(), "a.csv")
    for encoded in (text.encode("utf-8-sig"), text.encode("cp932")):
        assert ss.validate_upload(encoded, "a.csv", allow_csv=True) == "csv"
        assert list(ss.iter_rows(encoded, "csv")) == [
            ("CSV", 1, ["番号", "名前"]),
            ("CSV", 2, ["1", "かほく"]),
        ]


@pytest.mark.parametrize("engine", ["calamine", "openpyxl"])
def test_both_readers_give_the_same_rows_and_skip_blank_ones(engine):
    data = xlsx_bytes([["a", None, None], [None], ["b", 2, "  "]])
    assert list(ss.iter_rows(data, "xlsx", engine=engine)) == [
        ("Sheet1", 1, ["a"]),
        ("Sheet1", 3, ["b", 2]),
    ]
