"""Display filters: the one place money and percentages are rounded (half-up, SPEC §5)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
TENTH = Decimal("0.1")


def money(value) -> str:
    """1234567.895 → '1,234,567.90'; blank for None."""
    if value is None:
        return ""
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,}"


def percent(value) -> str:
    """11.3636 → '11.4 %'; blank for None."""
    if value is None:
        return ""
    return f"{Decimal(value).quantize(TENTH, rounding=ROUND_HALF_UP):,} %"


def day(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def month(value) -> str:
    """A month as "Feb 2026"; a line's own label (e.g. "Before season") as it is."""
    if isinstance(value, str):
        return value
    return value.strftime("%b %Y") if value else ""


def safe_cell(value):
    """Neutralise user text a spreadsheet would run as a formula (=, +, -, @)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def audit_value(value) -> str:
    """A before/after value of the audit trail as a person reads it."""
    if value is None:
        return "(empty)"
    if isinstance(value, list):
        return ", ".join(audit_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {audit_value(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


FILTERS = {"money": money, "percent": percent, "day": day, "month": month,
           "audit_value": audit_value}
