"""Ratios of SPEC §5 on exact decimals; rounding happens only at display."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterable

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


def weighted_mean(pairs: Iterable[tuple[Decimal, Decimal]]) -> Decimal | None:
    """Mean of values weighted by weights, from (value, weight) pairs; None with no weight.

    Used for the planned margin of a group (weighted by planned sales), and for
    core/fashion % and price bands (weighted by OTB): never a plain mean of percentages.
    """
    total_weight = ZERO
    total = ZERO
    for value, weight in pairs:
        total += value * weight
        total_weight += weight
    if not total_weight:
        return None
    return total / total_weight
