"""The OTB formulas of SPEC §5, each written once: spend limit, committed per PO, remaining,
budget utilisation and fulfilment. Pure Decimal; rounding happens only at display."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

from ..purchasing.models import POStatus
from ..ratios import NOTHING, OVER_BUDGET, UNDEFINED, Ratio

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
    short-closed PO only what was received (the rest is released); a cancelled PO nothing,
    nor one awaiting release (issue 17: over its budget until someone releases it).
    """
    status = POStatus(status)
    if status in (POStatus.CANCELLED, POStatus.AWAITING_RELEASE):
        return ZERO
    if status is POStatus.CLOSED:
        return received
    return max(po_value, received)


def committed(pos: Iterable[tuple[POStatus | str, Decimal, Decimal]]) -> Decimal:
    """Sum of committed_value over (status, po_value, received) triples."""
    return sum((committed_value(*po) for po in pos), ZERO)


def budget(otb: Decimal, adjustments: Decimal) -> Decimal:
    """A cell's budget: its OTB (the uploaded approved spend limit) + the approved moves of
    open to buy into or out of it (issue 17; planning/adjustments.py)."""
    return otb + adjustments


def remaining(budget_: Decimal, committed_total: Decimal) -> Decimal:
    """Remaining = budget − committed, that is OTB + adjustments − committed."""
    return budget_ - committed_total


def percent(part, whole) -> Decimal | None:
    """part ÷ whole × 100 on exact decimals; None when the whole is 0, where the ratio is
    undefined (a caller that shows it says why, as utilisation and fulfilment do)."""
    if not whole:
        return None
    return Decimal(part) / Decimal(whole) * HUNDRED


def utilisation(committed: Decimal, otb: Decimal) -> Ratio:
    """Budget utilisation % = committed ÷ OTB × 100 (SPEC §5), for a cell or a group.

    With no budget (OTB 0 or less) the ratio means nothing: goods committed there are "over
    budget" (and rank as the most over); nothing committed against an OTB of 0 is "—"; nothing
    committed against a negative OTB is "n/a".
    """
    if otb > 0:
        return Ratio(percent(committed, otb))
    if committed > 0:
        return Ratio(None, OVER_BUDGET, "Goods are committed against an OTB of 0 or less.")
    if otb == 0:
        return Ratio(None, NOTHING, "No OTB and nothing committed.")
    return Ratio(None, UNDEFINED, "The OTB is negative (stock on order already passes it) and "
                                  "nothing is committed.")


def fulfilment(received: Decimal, committed: Decimal) -> Ratio:
    """Fulfilment rate % = received ÷ committed × 100 (SPEC §5); "—" when nothing is committed
    or received, "n/a" when goods were received but nothing is committed."""
    if committed > 0:
        return Ratio(percent(received, committed))
    if not received:
        return Ratio(None, NOTHING, "Nothing committed and nothing received.")
    return Ratio(None, UNDEFINED, "Goods were received but nothing is committed.")


def open_to_buy(remaining_: Decimal) -> Decimal:
    """What a cell (location × leaf category × month) may still buy: its remaining when
    positive, else 0. A group's open to buy is the sum over its cells, never its own net."""
    return max(remaining_, ZERO)


def over_bought(remaining_: Decimal) -> Decimal:
    """How far a cell's committed passed its OTB (a cell with POs and no OTB row has OTB 0):
    minus its remaining when negative, else 0. Net remaining = open to buy − over-bought."""
    return max(-remaining_, ZERO)


def ratio(part, whole, *, per: Decimal = HUNDRED, of: str = "planned sales") -> Ratio:
    """part ÷ whole × 100 (planned markdown %), or part ÷ whole with `per` 1 (stock-to-sales,
    weighted turns); "—" when both are 0, "n/a" when only the whole is 0 (`of` names it)."""
    share = percent(part, whole)
    if share is not None:
        return Ratio(share * per / HUNDRED)
    if not part:
        return Ratio(None, NOTHING, f"No {of} and nothing to divide by it.")
    return Ratio(None, UNDEFINED, f"There are no {of} to divide by.")
