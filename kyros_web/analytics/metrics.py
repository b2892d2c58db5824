"""Ratios of SPEC §5 on exact decimals; rounding happens only at display."""
from __future__ import annotations

from decimal import Decimal

ZERO = Decimal("0")
HUNDRED = Decimal("100")


def utilisation(committed: Decimal, otb: Decimal) -> Decimal:
    """Budget utilisation % = committed ÷ OTB × 100; 0 when OTB is 0."""
    if not otb:
        return ZERO
    return committed / otb * HUNDRED


def fulfilment(received: Decimal, committed: Decimal) -> Decimal:
    """Fulfilment rate % = received ÷ committed × 100; 0 when nothing is committed."""
    if not committed:
        return ZERO
    return received / committed * HUNDRED
