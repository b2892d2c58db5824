"""The OTB formulas of SPEC §5, each written once: spend limit, committed per PO, remaining,
budget utilisation and fulfilment. Pure Decimal; rounding happens only at display."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from ..purchasing.models import POStatus

ZERO = Decimal("0")
HUNDRED = Decimal("100")


SPEND_LIMIT_LABEL = ("The OTB these figures give (sales + markdowns + closing stock − opening "
                     "stock − on order)")


def approved_spend_limit(planned_sales: Decimal, planned_markdowns: Decimal,
                         planned_closing_stock: Decimal, opening_stock: Decimal,
                         on_order: Decimal) -> Decimal:
    """OTB at retail = sales + markdowns + closing stock − opening stock − on order.

    A negative result is kept: it means the cell is over-bought and is flagged.
    """
    return (planned_sales + (planned_markdowns or ZERO) + planned_closing_stock
            - opening_stock - on_order)


def committed_value(status: POStatus | str, po_value: Decimal, received: Decimal) -> Decimal:
    """What one PO takes from its OTB month (SPEC §5).

    Open, partially received and received POs take their full value, or what was received
    when that is more (an over-receipt within the tolerance consumes budget too); a
    short-closed PO only what was received (the rest is released); a cancelled PO nothing.
    """
    status = POStatus(status)
    if status is POStatus.CANCELLED:
        return ZERO
    if status is POStatus.CLOSED:
        return received
    return max(po_value, received)


def committed(pos: Iterable[tuple[POStatus | str, Decimal, Decimal]]) -> Decimal:
    """Sum of committed_value over (status, po_value, received) triples."""
    return sum((committed_value(*po) for po in pos), ZERO)


def remaining(otb: Decimal, committed_total: Decimal) -> Decimal:
    return otb - committed_total


def percent(part, whole) -> Decimal:
    """part ÷ whole × 100 on exact decimals; 0 when the whole is 0 (SPEC §5)."""
    if not whole:
        return ZERO
    return Decimal(part) / Decimal(whole) * HUNDRED


def utilisation(committed: Decimal, otb: Decimal) -> Decimal:
    """Budget utilisation % = committed ÷ OTB × 100; 0 when the OTB is 0."""
    return percent(committed, otb)


def fulfilment(received: Decimal, committed: Decimal) -> Decimal:
    """Fulfilment rate % = received ÷ committed × 100; 0 when nothing is committed."""
    return percent(received, committed)
