"""The spreading rule of the planning grid (issue 14, item 4): how a figure typed at a group or
season-total cell is split over the leaf cells below it. Pure Decimal; no database, no Flask.

The rule, in words:

1. Each cell gets a share of the typed total in proportion to its weight. The weights are the
   cells' current values unless another shape is given (another measure, another season): a
   cell that weighs twice as much as its neighbour gets twice as much.
2. When every weight is zero (nothing planned yet), the total is shared evenly.
3. Money moves in whole cents (the quantum). Each cell first gets its exact share rounded down
   to the cent. The cents left over (always fewer than there are cells) go one each to the
   cells that lost the most in that rounding down; between equal losses, the cell earlier in
   the list goes first. So the cells add up exactly to the total typed, no cell is a cent or
   more away from its exact share, and the same input always gives the same split.
4. A cell that weighs nothing gets nothing, unless they all weigh nothing (see 2).
5. A negative total is split exactly like the same positive total, with the signs turned;
   a zero total gives zero to every cell.

Refused: a total that is not a whole number of cents, a negative weight, no cells at all, and
floats (a float cannot hold most cent amounts exactly).
"""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext
from fractions import Fraction
from math import lcm

CENT = Decimal("0.01")


def spread(total: Decimal, current: Sequence[Decimal], *,
           weights: Sequence[Decimal] | None = None,
           quantum: Decimal = CENT) -> list[Decimal]:
    """Split `total` over the cells now worth `current`, by the rule above (issue 14, item 4).

    The parts come back in the cells' order, each a multiple of `quantum`, and add up exactly
    to `total`. `weights` (one per cell, 0 or more) give the shape; by default it is `current`.

    Raises TypeError for anything that is not a Decimal (floats included) and ValueError for a
    value that is not finite, a total that is not a multiple of the quantum, a quantum of 0 or
    less, no cells, weights that do not match the cells one for one, or a negative weight.
    """
    _require_decimal("The total", total)
    _require_decimal("The quantum", quantum)
    if quantum <= 0:
        raise ValueError(f"The quantum must be more than 0, not {quantum}")
    steps = Fraction(total) / Fraction(quantum)
    if steps.denominator != 1:
        raise ValueError(f"The total must be a multiple of {quantum}; {total} is not")
    cells = list(current)
    if not cells:
        raise ValueError("There are no cells to spread the total over")
    for number, value in enumerate(cells, 1):
        _require_decimal(f"The current value of cell {number}", value)
    if weights is None:
        shape, label = cells, "current value"
    else:
        shape, label = list(weights), "weight"
        if len(shape) != len(cells):
            raise ValueError(f"Weights must be one per cell: {len(shape)} weights "
                             f"for {len(cells)} cells")
        for number, weight in enumerate(shape, 1):
            _require_decimal(f"The weight of cell {number}", weight)
    units = _whole_numbers(shape, label)
    if not any(units):
        units = [1] * len(cells)
    quanta = _largest_remainder(abs(steps.numerator), units)
    sign = -1 if steps < 0 else 1
    # A part has at most the digits of the total's quanta plus those of the quantum, so this
    # precision keeps every product exact (the default 28 digits could round a large total).
    with localcontext() as exact:
        exact.prec = len(str(abs(steps.numerator))) + len(quantum.as_tuple().digits)
        return [Decimal(sign * count) * quantum for count in quanta]


def _require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite():
        raise ValueError(f"{name} must be a finite number, not {value}")


def _whole_numbers(shape: list[Decimal], label: str) -> list[int]:
    """The weights as integers in the same proportions (all over one common denominator)."""
    ratios = [weight.as_integer_ratio() for weight in shape]
    for number, (numerator, _) in enumerate(ratios, 1):
        if numerator < 0:
            raise ValueError(f"Weights must be 0 or more: the {label} of cell {number} "
                             f"is {shape[number - 1]}")
    denominator = lcm(*{denominator for _, denominator in ratios})
    return [numerator * (denominator // each) for numerator, each in ratios]


def _largest_remainder(steps: int, units: list[int]) -> list[int]:
    """`steps` (0 or more) shared in proportion to `units`: floors first, then the rest by
    largest remainder."""
    whole = sum(units)
    counts, remainders = [], []
    for unit in units:
        count, remainder = divmod(steps * unit, whole)
        counts.append(count)
        remainders.append(remainder)
    left_over = steps - sum(counts)
    # Python's sort is stable even when reversed, so among equal remainders the earlier cell
    # comes first and gets its quantum first.
    by_remainder = sorted(range(len(units)), key=remainders.__getitem__, reverse=True)
    for index in by_remainder[:left_over]:
        counts[index] += 1
    return counts
