"""A percentage as a page shows it: a number, or the word that stands in for one when the
ratio has no meaning (over budget, nothing to measure, undefined) and why. The rules that pick
the word live with the formulas (planning/otb.py); this type only carries the answer to the
display filters, the exports and the rankings."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

OVER_BUDGET, NOTHING, UNDEFINED = "over budget", "—", "n/a"


@dataclass(frozen=True)
class Ratio:
    value: Decimal | None  # the percentage, None when a word stands in for it
    word: str = ""  # shown instead of the number: OVER_BUDGET, NOTHING or UNDEFINED
    why: str = ""  # the tooltip saying why there is no number

    def rank(self) -> Decimal | None:
        """What a ranking orders by: over budget above every percentage (the most over), None
        (rank last either way) when there is nothing to measure or the ratio is undefined."""
        if self.word == OVER_BUDGET:
            return Decimal("Infinity")
        return self.value

    def __str__(self) -> str:
        """The exact number as text, or the word: what an event's details keep."""
        return str(self.value) if self.value is not None else self.word
