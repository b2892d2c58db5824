"""The one decimal reader, column precision and the PO/GRN number rule: plain values in, out."""
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kyros_web.errors import ValidationFailed
from kyros_web.modelbase import Money, Percent
from kyros_web.planning.models import OTBPlan, SeasonPlan
from kyros_web.purchasing.rules import number_problem
from kyros_web.uploads import parsing
from kyros_web.values import (MONEY, NUMBER_FORMAT, Digits, NumberFormatError, decimal_value,
                              read_decimal)


@pytest.mark.parametrize("raw,expected", [
    ("1234.56", D("1234.56")), ("-3", D("-3")), ("1,234.56", D("1234.56")),
    ("1,234", D("1234")), ("12,345,678.9", D("12345678.9")), ("-1,000.00", D("-1000.00")),
    ("0", D("0")), ("0.5", D("0.5")), (".5", D("0.5")), ("  42  ", D("42")),
    ("007", D("7")), ("9999999999999999.99", D("9999999999999999.99")),
])
def test_reader_accepts(raw, expected):
    """Plain numbers and commas between groups of exactly three digits."""
    assert read_decimal(raw) == expected


@pytest.mark.parametrize("raw", [
    "12,50", "0,5", "1.234,56", "1,234.5.6", "1 234", "0,500", "-0,500", "1,23", "1,2345",
    "12,34.5", ",5", "1,", "5.", "1..2", "", " ", "-", "+3", "--3", "1e5", "1E5", "1e999999",
    "1e-999999", "NaN", "nan", "Infinity", "-Infinity", "inf", "sNaN", "0x10", "½", "١٢",
    "１２", "1_000", "12\u00a0345", "$12", "12%", "1,234,56", "1.234.567",
])
def test_reader_refuses(raw):
    """A decimal comma, other separators, exponents and special values: one message."""
    with pytest.raises(NumberFormatError) as exc:
        read_decimal(raw)
    assert str(exc.value) == NUMBER_FORMAT
    assert "use a dot for decimals" in NUMBER_FORMAT and "1,234.56" in NUMBER_FORMAT


cents = st.decimals(min_value=D("-9999999999999999.99"), max_value=D("9999999999999999.99"),
                    places=2, allow_nan=False, allow_infinity=False)


@given(cents)
def test_plain_and_grouped_spellings_read_the_same(number):
    """Every money value reads back exactly, written plain or with thousands commas."""
    assert read_decimal(f"{number}") == number
    assert read_decimal(f"{number:,}") == number


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=99))
def test_a_decimal_comma_is_never_rescaled(whole, fraction):
    """n,f with one or two digits after the comma is refused, never read as n·100 + f."""
    with pytest.raises(NumberFormatError):
        read_decimal(f"{whole},{fraction}")


@given(st.text(alphabet="0123456789,.-+eE _", max_size=12))
def test_whatever_is_read_is_what_was_written(raw):
    """Anything accepted equals the text without its commas: no digit is moved or dropped."""
    try:
        number = read_decimal(raw)
    except NumberFormatError:
        return
    assert number == D(raw.strip().replace(",", ""))


def test_digits_come_from_the_columns():
    """The bounds are the column types themselves, Money read through its implementation."""
    assert Digits.of(Money) == MONEY == Digits(18, 2)
    assert Digits.of(Percent) == Digits.of(SeasonPlan.planned_margin) == Digits(5, 2)
    assert Digits.of(SeasonPlan.inventory_turns) == Digits(8, 2)
    assert Digits.of(OTBPlan.approved_spend_limit) == Digits(18, 2)
    assert MONEY.largest == D("9999999999999999.99")


@pytest.mark.parametrize("digits,number,problem", [
    (MONEY, D("9999999999999999.99"), None),
    (MONEY, D("-9999999999999999.99"), None),
    (MONEY, D("10000000000000000"), "is beyond what can be stored"),
    (MONEY, D("99999999999999999999"), "is beyond what can be stored"),
    (MONEY, D("1E+999999"), "is beyond what can be stored"),
    (MONEY, D("1E-999999"), "may have at most 2 decimals"),
    (Digits(8, 2), D("999999.99"), None),
    (Digits(8, 2), D("1000000"), "is beyond what can be stored"),
    (Digits(5, 2), D("1000"), "is beyond what can be stored"),
])
def test_digits_problem(digits, number, problem):
    """A value fits NUMERIC(p, s) when it has at most s decimals and p − s digits before."""
    found = digits.problem(number)
    assert found == problem if problem is None else found.startswith(problem)


def test_decimal_value_names_the_field():
    """Services get one message naming the field, for text, Decimals and huge exponents."""
    assert decimal_value("1,234.5", "x", "X") == D("1234.50")
    for raw, words in (("12,50", "X is not a number"), (D("1E+999999"), "X is beyond"),
                       (D("NaN"), "X is not a number"), ("1000", "X is beyond"),
                       ("", "X is required")):
        with pytest.raises(ValidationFailed) as exc:
            decimal_value(raw, "x", "X", digits=Digits(5, 2))
        assert exc.value.errors["x"].startswith(words)


@pytest.mark.parametrize("raw", ["12,50", "0,5", "1e17", "NaN", "1 234"])
def test_upload_cells_use_the_same_reader(raw):
    """The upload cell parser refuses what the forms refuse, with the same words."""
    with pytest.raises(parsing.CellError) as exc:
        parsing.number(raw)
    assert str(exc.value) == NUMBER_FORMAT


@pytest.mark.parametrize("number,ok", [
    ("PO-1", True), ("PO-1.A_2", True), ("a" * 50, True), ("9", True), ("New", True),
    ("PO/1", False), ("PO?1", False), ("PO#1", False), ("PO 1", False), ("PO%20", False),
    ("a" * 51, False), ("", False), (None, False), (".", False), ("..", False),
    ("-PO", False), ("_PO", False), ("PO\\1", False), ("PÖ-1", False), ("new", False),
    ("figures", False), ("PO\n1", False),
])
def test_document_number_rule(number, ok):
    """1–50 ASCII letters, digits, '-', '_' and '.', starting with a letter or digit."""
    assert (number_problem(number) is None) is ok
