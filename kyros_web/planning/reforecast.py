"""The in-season reforecast of one location × leaf category (issue 16, items 2 and 3). Pure
Decimal; no database, no Flask.

The rule, in words:

1. A month with actuals is **actualised**: its forecast sales are its actual net sales.
2. The others are forecast. By the "plan" method their sales are the plan's. By the "trend"
   method (the default) the plan is scaled by the season-to-date ratio of actual to planned
   sales over the actualised months; when nothing was planned for those months the ratio is
   undefined and the plan is kept. Forecast sales are rounded half-up to the cent.
3. A forecast month opens with the actual closing stock of the month before when that month is
   actualised, else with its own planned opening stock.
4. Its reforecast receipts (what must still arrive) = forecast sales + planned markdowns +
   planned closing stock − opening stock, the OTB formula of SPEC §5 on the forecast; its
   in-season OTB = reforecast receipts − committed (POs due that month). An actualised month has
   neither: it is history.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
CENT = Decimal("0.01")
METHODS = {"trend": "Trend (the plan scaled by the season-to-date actual ÷ planned sales)",
           "plan": "Plan (the plan unchanged)"}


@dataclass(frozen=True)
class PlannedMonth:
    """A month of the OTB plan of one location × category."""

    month: date
    sales: Decimal
    markdowns: Decimal
    closing_stock: Decimal
    opening_stock: Decimal


@dataclass(frozen=True)
class ActualMonth:
    """What one location × category actually did in a month."""

    month: date
    net_sales: Decimal
    markdowns: Decimal
    closing_stock: Decimal


@dataclass(frozen=True)
class ForecastMonth:
    month: date
    actualised: bool
    sales: Decimal  # actual net sales, or the forecast
    opening_stock: Decimal
    receipts: Decimal | None  # None for an actualised month

    def in_season_otb(self, committed: Decimal) -> Decimal | None:
        """Reforecast receipts − committed; None for an actualised month."""
        return None if self.receipts is None else self.receipts - committed


def trend_ratio(plan: list[PlannedMonth], actuals: dict[date, ActualMonth]) -> Decimal | None:
    """Season-to-date actual ÷ planned sales over the actualised months; None when nothing
    was planned for them (or nothing is actualised)."""
    planned = sum((p.sales for p in plan if p.month in actuals), ZERO)
    if not planned:
        return None
    return sum((actuals[p.month].net_sales for p in plan if p.month in actuals), ZERO) / planned


def reforecast(plan: list[PlannedMonth], actuals: dict[date, ActualMonth],
               method: str = "trend") -> list[ForecastMonth]:
    """Every month of the plan, in order, actualised or forecast by the rule above."""
    if method not in METHODS:
        raise ValueError(f"The reforecast method is trend or plan, not {method!r}")
    ratio = trend_ratio(plan, actuals) if method == "trend" else None
    out: list[ForecastMonth] = []
    previous: date | None = None
    for p in sorted(plan, key=lambda m: m.month):
        actual = actuals.get(p.month)
        if actual is not None:
            out.append(ForecastMonth(p.month, True, actual.net_sales, p.opening_stock, None))
        else:
            sales = p.sales if ratio is None else (p.sales * ratio).quantize(
                CENT, rounding=ROUND_HALF_UP)
            opening = (actuals[previous].closing_stock if previous in actuals
                       else p.opening_stock)
            receipts = sales + p.markdowns + p.closing_stock - opening
            out.append(ForecastMonth(p.month, False, sales, opening, receipts))
        previous = p.month
    return out
