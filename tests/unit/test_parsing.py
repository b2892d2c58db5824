"""Reading upload files: formats by content, delimiters, headers and the cell rules (SPEC §6)."""
import io
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from openpyxl import Workbook

from kyros_web.uploads import parsing
from kyros_web.uploads.parsing import CellError, FileRejected

KNOWN = ["code", "name", "value"]


def rows(data: bytes, known=KNOWN, required=("code",)):
    table = parsing.open_table(data, known, list(required))
    return table, list(table.rows())


@pytest.mark.parametrize("data", [
    b"code,name,value\r\nA,Alpha,1\r\nB,Beta,2\r\n",
    b"\xef\xbb\xbfcode,name,value\nA,Alpha,1\nB,Beta,2\n",
    b"code;name;value\nA;Alpha;1\nB;Beta;2",
    b"code\tname\tvalue\nA\tAlpha\t1\nB\tBeta\t2\n",
    b'"code","name","value"\n"A","Alpha","1"\n"B","Beta","2"\n',
], ids=["crlf", "bom", "semicolon", "tab", "quoted"])
def test_csv_dialects(data):
    table, found = rows(data)
    assert table.format == "csv"
    assert found == [(2, {"code": "A", "name": "Alpha", "value": "1"}),
                     (3, {"code": "B", "name": "Beta", "value": "2"})]


def test_quoted_delimiters_and_newlines():
    table, found = rows(b'code,name\nA,"Smith, Jones"\nB,"two\nlines"\n')
    assert [r["name"] for _, r in found] == ["Smith, Jones", "two\nlines"]


def test_headers_match_case_insensitively_and_unknown_are_listed():
    table, found = rows(b" Code ,NAME,Extra\nA,Alpha,x\n")
    assert table.unknown == ["Extra"] and found == [(2, {"code": "A", "name": "Alpha"})]


def test_missing_required_columns_is_one_clear_message():
    with pytest.raises(FileRejected) as exc:
        rows(b"name,value\nA,1\n", required=("code", "value", "other"))
    assert exc.value.message.startswith("Missing required columns: code, other.")


def test_blank_rows_are_skipped_and_short_rows_padded():
    table, found = rows(b"code,name,value\nA\n,,\n\nB,Beta\n")
    assert found == [(2, {"code": "A", "name": None, "value": None}),
                     (5, {"code": "B", "name": "Beta", "value": None})]


@pytest.mark.parametrize("data,message", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"PK\x03\x04not really a zip", "not an XLSX"),
    (b"code,name\n\xff\xfe\xfa,x\n", "not UTF-8"),
])
def test_files_that_are_not_csv_or_xlsx(data, message):
    with pytest.raises(FileRejected, match=message):
        rows(data)


def xlsx(*table) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in table:
        ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_first_sheet_with_real_cells():
    data = xlsx(["code", "name", "value"], ["A", "Alpha", 1234.5], ["B", None, 7],
                [None, None, None], ["C", "Gamma", datetime(2026, 3, 1)])
    table, found = rows(data)
    assert table.format == "xlsx"
    assert found[0] == (2, {"code": "A", "name": "Alpha", "value": 1234.5})
    assert found[2][0] == 5 and found[2][1]["value"] == datetime(2026, 3, 1)
    assert parsing.number(found[0][1]["value"]) == D("1234.50")
    assert parsing.month(found[2][1]["value"]) == date(2026, 3, 1)


@pytest.mark.parametrize("raw,expected", [
    ("1234.56", D("1234.56")), ("1,234.56", D("1234.56")), ("1,234,567", D("1234567.00")),
    (" 12 ", D("12.00")), ("-5.5", D("-5.50")), (7, D("7.00")), (0.1, D("0.10")),
    ("", None), (None, None),
])
def test_numbers(raw, expected):
    assert parsing.number(raw) == expected


@pytest.mark.parametrize("raw", ["1.234,56", "12.345", "abc", "NaN", "inf", "1,23", "1e5",
                                 float("nan"), float("inf"), True, "12,34.5"])
def test_bad_numbers(raw):
    with pytest.raises(CellError):
        parsing.number(raw)


def test_more_than_two_decimals_says_so():
    with pytest.raises(CellError, match="may have at most 2 decimals"):
        parsing.number("1.005")


@pytest.mark.parametrize("raw,expected", [
    ("2026-02-28", date(2026, 2, 28)), (datetime(2026, 2, 3, 0, 0), date(2026, 2, 3)),
    (date(2026, 1, 1), date(2026, 1, 1)), ("", None)])
def test_dates(raw, expected):
    assert parsing.day(raw) == expected


@pytest.mark.parametrize("raw", ["2026-02-30", "03/02/2026", "2026-2-3", "yesterday"])
def test_bad_dates(raw):
    with pytest.raises(CellError):
        parsing.day(raw)


@pytest.mark.parametrize("raw,expected", [
    ("2026-03", date(2026, 3, 1)), ("2026-03-01", date(2026, 3, 1)),
    (datetime(2026, 3, 1), date(2026, 3, 1))])
def test_months(raw, expected):
    assert parsing.month(raw) == expected


@pytest.mark.parametrize("raw", ["2026-03-15", "2026-13", "March 2026", datetime(2026, 3, 2)])
def test_bad_months(raw):
    with pytest.raises(CellError):
        parsing.month(raw)


def test_text_limits_and_xlsx_integers():
    assert parsing.text(12.0) == "12" and parsing.text("  a ") == "a" and parsing.text(" ") is None
    with pytest.raises(CellError, match="longer than 3"):
        parsing.text("abcd", 3)


def _outcome(read, raw):
    try:
        return repr(read(raw))
    except CellError as exc:
        return f"CellError: {exc}"


@pytest.mark.parametrize("digits", [parsing.MONEY, parsing.Digits(5, 2), parsing.Digits(9, 0)],
                         ids=["money", "percent", "units"])
@pytest.mark.parametrize("raw", [
    "0", "-0", "7", "7.5", "7.50", "7.500", "7.505", " 12 ", "\t-3.1\n", ".5", "5.", "-.5",
    "007.5", "1,234.56", "9999999999999999.99", "10000000000000000", "-9999999999999999.99",
    "0000000000000000001", "999.99", "1000", "999999999", "1000000000", "１２", "1e5", "NaN",
    "", "  ", None, 3, 2.5, D("1.5")])
def test_the_quick_number_reader_reads_as_number_does(digits, raw):
    """number_reader gives what number gives, to the places of the value (or the same error)."""
    assert _outcome(parsing.number_reader(digits), raw) == _outcome(
        lambda v: parsing.number(v, digits), raw)


def test_the_quick_number_reader_over_many_numbers():
    """Random plain and awkward spellings read the same both ways."""
    from hypothesis import given, settings, strategies as st

    @settings(max_examples=500, deadline=None)
    @given(st.from_regex(r"\A[ ]?-?[0-9]{0,18}(\.[0-9]{0,4})?[ ]?\Z"),
           st.sampled_from([parsing.MONEY, parsing.Digits(5, 2), parsing.Digits(9, 0)]))
    def same(raw, digits):
        assert _outcome(parsing.number_reader(digits), raw) == _outcome(
            lambda v: parsing.number(v, digits), raw)

    same()
