"""Moving open to buy between scopes of a season (issue 17, item 1): the pure rules. Plain
Decimal in and out; the services find the cells and write what these return.

A cell's *budget* is its OTB (the uploaded approved spend limit) plus the lines of every
approved adjustment that touched it; its *remaining* is its budget − committed (planning/otb.py
budget and remaining).

Moving an amount from a source scope to a target scope, when approved:

1. The source's cells give up the amount in proportion to their open to buy (budget −
   committed, when positive: what each may still buy), so a move the source can cover never
   takes a cell over its budget; the target's cells receive it in proportion to their budgets.
   Each side is split exact to the cent by the grid's spreading rule (planning/spread.py):
   the lines of each scope add up to the amount exactly.
2. A cell with no open to buy left (source) or no budget (target) weighs nothing. When no
   cell of the source has open to buy left (an approver's override), it gives in proportion
   to its budgets; when no cell of a scope weighs anything, the amount is split evenly.
3. The two scopes may not share a cell (a move into itself would say nothing).
4. The source must have the open to buy to give: the sum of its cells' remaining is at least
   the amount, unless the approver overrides with a reason.
"""
from __future__ import annotations

import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .spread import CENT, spread

ZERO = Decimal("0")


PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"


@dataclass(frozen=True)
class Scope:
    """A set of a season's cells: a location, a cluster or (both None) every location × a
    category at any level (None: every category) × a month (None: every month)."""

    location_id: uuid.UUID | None = None
    cluster_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    month: date | None = None

    def __post_init__(self):
        if self.location_id is not None and self.cluster_id is not None:
            raise MoveRefused("A scope is a location or a cluster, not both")


def describe(place: str | None, category: str | None, month: date | None) -> str:
    """A scope in words from its parts' names (None: every one)."""
    return " × ".join([place or "every location", category or "every category",
                       f"{month:%b %Y}" if month else "every month"])


def scope_words(m, side: str) -> str:
    """The source (`side` "from") or target ("to") scope of a request in words, from a row
    mapping with `<side>_location` (code) and `_location_name`, `<side>_cluster` (name),
    `<side>_category` (code) and `_category_name`, and `<side>_month`: what every page, the
    history and the workbook say."""
    if m[f"{side}_location"]:
        place = f"{m[f'{side}_location_name']} ({m[f'{side}_location']})"
    elif m[f"{side}_cluster"]:
        place = f"cluster {m[f'{side}_cluster']}"
    else:
        place = None
    category = (f"{m[f'{side}_category']} {m[f'{side}_category_name']}"
                if m[f"{side}_category"] else None)
    return describe(place, category, m[f"{side}_month"])


class MoveRefused(ValueError):
    """A move that cannot be made as asked; the message says why, in a planner's words."""


def check_amount(amount: Decimal) -> Decimal:
    """The amount to move: more than 0, whole cents."""
    if amount <= 0:
        raise MoveRefused("The amount to move must be more than 0")
    if amount != amount.quantize(CENT):
        raise MoveRefused("The amount to move is money: at most 2 decimals")
    return amount


def source_shortfall(amount: Decimal, remaining_in_source: Decimal) -> Decimal:
    """How much more the move takes than the source has left to buy (0 when it has enough)."""
    return max(amount - remaining_in_source, ZERO)


def move_lines(amount: Decimal, source: Sequence[tuple[Hashable, Decimal, Decimal]],
               target: Sequence[tuple[Hashable, Decimal]]) -> list[tuple[Hashable, Decimal]]:
    """(cell, amount) lines of a move by rules 1–3: negative in the source's cells, positive
    in the target's, no zero line. `source` holds (cell, budget, committed) triples, `target`
    (cell, budget) pairs."""
    check_amount(amount)
    if not source:
        raise MoveRefused("The source has no cells with an OTB")
    if not target:
        raise MoveRefused("The target has no cells with an OTB")
    shared = {cell for cell, *_ in source} & {cell for cell, _ in target}
    if shared:
        raise MoveRefused(f"The source and the target share {len(shared):,} cell(s); choose "
                          "two scopes that do not overlap")
    left = [max(budget - committed, ZERO) for _, budget, committed in source]
    giving = left if any(left) else [max(budget, ZERO) for _, budget, _ in source]
    taking = [max(budget, ZERO) for _, budget in target]
    lines = []
    for cells, weights, sign in ((source, giving, -1), (target, taking, 1)):
        parts = spread(amount, [ZERO] * len(cells), weights=weights)
        lines += [(cell[0], sign * part) for cell, part in zip(cells, parts) if part]
    return lines
