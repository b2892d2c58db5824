"""Checks on typed values shared by services: the one decimal reader, numbers within their
column's precision, exact money, percentages, months. Pure."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .errors import ValidationFailed
from .modelbase import Money

NUMBER_FORMAT = ("is not a number: use a dot for decimals, and commas only between groups of "
                 "three digits (1234.56 or 1,234.56)")
# ASCII digits only: \d would let other scripts' digits through.
_PLAIN = re.compile(r"-?(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)")
# The first group never starts with 0, so a decimal comma such as 0,500 is not read as 500.
_GROUPED = re.compile(r"-?[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?")


class NumberFormatError(ValueError):
    """Typed text that is not a number the app reads; the message says how to write it."""


def read_decimal(text: str) -> Decimal:
    """The one reading of a typed number, on every form, grid, preview, upload and the CLI.

    Accepts 1234.56, -3, .5 and 1,234.56 (commas only between groups of exactly three
    digits). Refuses a decimal comma (12,50, 0,5), 1.234,56, spaces inside, exponents, NaN
    and Infinity: a number is never rescaled by guessing. Raises NumberFormatError.
    """
    raw = text.strip()
    if _PLAIN.fullmatch(raw):
        return Decimal(raw)
    if _GROUPED.fullmatch(raw):
        return Decimal(raw.replace(",", ""))
    raise NumberFormatError(NUMBER_FORMAT)


@dataclass(frozen=True)
class Digits:
    """What a NUMERIC(precision, scale) column holds: `scale` decimals, and fewer than
    10^(precision − scale) in size."""

    precision: int
    scale: int
    # Worked out once: every number of an upload is checked against them.
    quantum: Decimal = field(init=False, repr=False, compare=False)
    largest: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.precision is None or self.scale is None:
            raise TypeError("a column with unbounded NUMERIC has no digits to check against")
        quantum = Decimal(1).scaleb(-self.scale)
        object.__setattr__(self, "quantum", quantum)
        object.__setattr__(self, "largest",
                           Decimal(10) ** (self.precision - self.scale) - quantum)

    @classmethod
    def of(cls, column) -> "Digits":
        """The digits of a mapped column, a column or a column type (Money reads its impl)."""
        kind = getattr(column, "type", column)
        kind = getattr(kind, "impl", kind)
        return cls(kind.precision, kind.scale)

    def problem(self, number: Decimal) -> str | None:
        """Why the finite `number` cannot be stored in the column, or None when it can
        (1.500 is 1.50 and fits two decimals; 1.505 does not)."""
        if abs(number) > self.largest:
            return (f"is beyond what can be stored: it must be between {-self.largest:,} and "
                    f"{self.largest:,}")
        if number.quantize(self.quantum) != number:
            return f"may have at most {self.scale} decimals"
        return None

    def exact(self, number: Decimal) -> Decimal:
        """The number with exactly `scale` places, as the database stores it."""
        return number.quantize(self.quantum)


MONEY = Digits.of(Money)


def decimal_value(value, field: str, label: str, *, digits: Digits = MONEY,
                  required: bool = True) -> Decimal | None:
    """A Decimal the column of `digits` can store, from a Decimal, an int or typed text.

    Text is read by read_decimal. Raises ValidationFailed naming the field when the value is
    missing, not a number, has too many decimals or is beyond the column's precision.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed({field: f"{label} is required"})
        return None
    if isinstance(value, float):
        raise TypeError("money and percentages are never floats")
    try:
        if isinstance(value, str):
            number = read_decimal(value)
        elif isinstance(value, (Decimal, int)) and not isinstance(value, bool):
            number = Decimal(value)
        else:
            raise NumberFormatError(NUMBER_FORMAT)
    except NumberFormatError as exc:
        raise ValidationFailed({field: f"{label} {exc}"}) from None
    if not number.is_finite():
        raise ValidationFailed({field: f"{label} {NUMBER_FORMAT}"})
    problem = digits.problem(number)
    if problem:
        raise ValidationFailed({field: f"{label} {problem}"})
    # One spelling per value (100 and 100.00 are the same), as the database stores it.
    return digits.exact(number)


def within(number: Decimal, field: str, label: str, digits: Digits = MONEY) -> None:
    """A figure the app computes (an OTB, a cell's committed total) fits its column;
    ValidationFailed naming `field` otherwise."""
    problem = digits.problem(number)
    if problem:
        raise ValidationFailed({field: f"{label} {problem}"})


def at_least(number: Decimal | None, minimum: Decimal, field: str, label: str,
             *, strict: bool = False) -> None:
    if number is None:
        return
    if number < minimum or (strict and number == minimum):
        bound = f"greater than {minimum}" if strict else f"{minimum} or more"
        raise ValidationFailed({field: f"{label} must be {bound}"})


def month_start(d: date) -> date:
    return d.replace(day=1)


def next_month(d: date) -> date:
    """The first day of the calendar month after d's."""
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def months_between(start: date, end: date) -> list[date]:
    """The first days of every calendar month that [start, end] touches."""
    months = []
    current = month_start(start)
    while current <= end:
        months.append(current)
        current = next_month(current)
    return months


NOTE_LENGTH = 500  # the longest reason or note a person types (a String(500) column)


def note_text(value: str | None, field: str, *, label: str = "A note",
              required: str | None = None) -> str | None:
    """Words a person typed (a note, a reason), trimmed: None when empty, unless `required`
    is the message for leaving it empty; ValidationFailed naming the field when longer than
    NOTE_LENGTH."""
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed({field: required})
        return None
    if len(text) > NOTE_LENGTH:
        raise ValidationFailed({field: f"{label} is at most {NOTE_LENGTH} characters"})
    return text
