"""Checks on typed values shared by services: exact money, percentages, months. Pure."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from .errors import ValidationFailed


def decimal_value(value, field: str, label: str, *, places: int = 2,
                  required: bool = True) -> Decimal | None:
    """A finite Decimal with at most `places` decimals, from a Decimal, int or text."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed({field: f"{label} is required"})
        return None
    if isinstance(value, float):
        raise TypeError("money and percentages are never floats")
    try:
        number = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValidationFailed({field: f"{label} must be a number"}) from None
    if not number.is_finite():
        raise ValidationFailed({field: f"{label} must be a number"})
    if number.as_tuple().exponent < -places:
        raise ValidationFailed({field: f"{label} may have at most {places} decimals"})
    # One spelling per value (100 and 100.00 are the same), as the database stores it.
    return number.quantize(Decimal(1).scaleb(-places))


def at_least(number: Decimal | None, minimum: Decimal, field: str, label: str,
             *, strict: bool = False) -> None:
    if number is None:
        return
    if number < minimum or (strict and number == minimum):
        sign = "greater than" if strict else "at least"
        raise ValidationFailed({field: f"{label} must be {sign} {minimum}"})


def month_start(d: date) -> date:
    return d.replace(day=1)


def months_between(start: date, end: date) -> list[date]:
    """The first days of every calendar month that [start, end] touches."""
    months = []
    current = month_start(start)
    while current <= end:
        months.append(current)
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)
    return months
