"""The in-season reforecast of one location × leaf category (issue 16, items 2 and 3). Pure
Decimal; no database, no Flask. This is the rule's definition: the cell page runs it on one
location × category, and planning/inseason.py runs the same rule over a whole season in one
SQL statement (tests/services/test_inseason_sql.py pins that the two agree on every
figure).

The rule, in words:

1. The months are the season's months that have a plan row or actuals. A month with actuals
   is **actualised**: its sales are its actual net sales, its markdowns and closing stock its
   actual ones. It is history: it has no receipts to plan and no in-season OTB.
2. The others are forecast; their markdowns and closing stock are the plan's. By the "plan"
   method their sales are the plan's. By the "trend" method (the default) the plan is scaled
   by the season-to-date ratio of actual to planned sales: the actual net sales of the
   actualised months (below 0, as when returns outweigh sales, counted as 0) ÷ the planned
   sales of those same months. When nothing was planned for them the ratio is undefined and
   the plan is kept. A forecast is planned sales × actual ÷ planned, rounded half away from
   zero to the cent.
3. A month opens with the actual closing stock of the calendar month before when that month
   is actualised, else with its own planned opening stock.
4. A forecast month's reforecast receipts = forecast sales + planned markdowns + planned
   closing stock − opening stock − on order: the OTB formula of SPEC §5 on the forecast, so a
   season that runs exactly to plan keeps its original OTB. Its in-season OTB = reforecast
   receipts − committed (the POs due that month).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal("0")
CENT = Decimal("0.01")
TREND, PLAN = "trend", "plan"
METHODS = {TREND: "Trend: the plan scaled by the season-to-date actual ÷ planned sales",
           PLAN: "Plan: the plan unchanged"}


@dataclass(frozen=True)
class PlannedMonth:
    """A month of the OTB plan of one location × category."""

    month: date
    sales: Decimal
    markdowns: Decimal
    closing_stock: Decimal
    opening_stock: Decimal
    on_order: Decimal = ZERO


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
    markdowns: Decimal  # actual, or planned
    closing_stock: Decimal  # actual, or planned
    opening_stock: Decimal
    receipts: Decimal | None  # None for an actualised month

    def in_season_otb(self, committed: Decimal) -> Decimal | None:
        """Reforecast receipts − committed; None for an actualised month."""
        return None if self.receipts is None else self.receipts - committed


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def trend_sums(plan: list[PlannedMonth],
               actuals: dict[date, ActualMonth]) -> tuple[Decimal, Decimal]:
    """(actual net sales, planned sales) over the actualised months; the actual below 0
    counts as 0."""
    planned = {p.month: p.sales for p in plan}
    actual = sum((a.net_sales for a in actuals.values()), ZERO)
    return max(actual, ZERO), sum((planned.get(m, ZERO) for m in actuals), ZERO)


def trend_ratio(plan: list[PlannedMonth], actuals: dict[date, ActualMonth]) -> Decimal | None:
    """Season-to-date actual ÷ planned sales over the actualised months; None when nothing
    was planned for them (or nothing is actualised)."""
    actual, planned = trend_sums(plan, actuals)
    return actual / planned if planned else None


def forecast_sales(planned_sales: Decimal, actual: Decimal, planned: Decimal) -> Decimal:
    """Planned sales × actual ÷ planned (the trend), half away from zero to the cent; the plan
    itself when nothing was planned to date."""
    if not planned:
        return planned_sales
    return (planned_sales * actual / planned).quantize(CENT, rounding=ROUND_HALF_UP)


def reforecast(plan: list[PlannedMonth], actuals: dict[date, ActualMonth],
               method: str = TREND) -> list[ForecastMonth]:
    """Every month with a plan row or actuals, in order, actualised or forecast by the rule
    above."""
    if method not in METHODS:
        raise ValueError(f"The reforecast method is trend or plan, not {method!r}")
    actual, planned = trend_sums(plan, actuals) if method == TREND else (ZERO, ZERO)
    by_month = {p.month: p for p in plan}
    out: list[ForecastMonth] = []
    for month in sorted(set(by_month) | set(actuals)):
        p = by_month.get(month) or PlannedMonth(month, ZERO, ZERO, ZERO, ZERO)
        before = actuals.get(previous_month(month))
        opening = before.closing_stock if before is not None else p.opening_stock
        a = actuals.get(month)
        if a is not None:
            out.append(ForecastMonth(month, True, a.net_sales, a.markdowns, a.closing_stock,
                                     opening, None))
            continue
        sales = forecast_sales(p.sales, actual, planned)
        receipts = sales + p.markdowns + p.closing_stock - opening - p.on_order
        out.append(ForecastMonth(month, False, sales, p.markdowns, p.closing_stock, opening,
                                 receipts))
    return out
