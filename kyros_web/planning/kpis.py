"""The in-season KPIs (issue 16, item 4), each written once. Pure Decimal; no database, no
Flask. They read the sums of a group of cells over a period (planning/inseason.py makes
them), so a KPI of a category, a cluster, a location or the whole season, of one month or
the season to date, is the same function of the same sums.

A period is one month, or the season to date: the months with actuals, from the first to
the latest. Every actual figure of a group sums only its cells with actuals (a location that
has not reported a month does not count in that month). The definitions, as the pages print
them, are in DEFINITIONS.
"""
from __future__ import annotations

import calendar
from collections import namedtuple
from dataclasses import dataclass, fields
from functools import cached_property
from datetime import date
from decimal import Decimal

from ..ratios import NOTHING, UNDEFINED, Ratio
from ..templating import money
from .otb import budget, ratio, remaining
from .reforecast import PLAN

ZERO = Decimal("0")
ONE = Decimal("1")
HUNDRED = Decimal("100")
SEVEN = Decimal("7")
YEAR_DAYS = Decimal("365")

DEFINITIONS = [
    ("Sell-through", "net sales ÷ (opening stock + receipts) of the period; receipts are "
                     "what the shops' stock implies (closing stock + net sales + markdowns − "
                     "opening stock, month by month), as Kyros's GRNs hold only its own POs."),
    ("Weeks of cover", "closing stock ÷ weekly sales of the period's last month (its net "
                       "sales ÷ its days × 7)."),
    ("Forward cover", "the weeks until the reforecast sales of the months after the period "
                      "use up its closing stock (each month's sales spread evenly over its "
                      "days); “more than n” when the season's reforecast never uses it up."),
    ("Stock-to-sales", "opening stock ÷ net sales, month by month: over several months, the "
                       "sum of their opening stocks ÷ the sum of their net sales."),
    ("Turns (annualised)", "net sales ÷ average stock × 365 ÷ the period's days; average "
                           "stock is the mean of each month's (opening + closing) ÷ 2."),
    ("Markdown %", "markdowns ÷ net sales."),
    ("Gross margin (estimate)", "net sales × the plan's margin % of each location × "
                                "category (cells without a plan row are left out)."),
    ("GMROI (estimate, annualised)", "gross margin ÷ average stock at cost × 365 ÷ the "
                                     "period's days; stock at cost = stock × (1 − margin %)."),
    ("Variance", "actual − plan of the same cells and months (of stock, over several "
                 "months: of the last one); variance % = variance ÷ plan, n/a when the plan "
                 "is 0."),
]


def days_in(month: date) -> int:
    return calendar.monthrange(month.year, month.month)[1]


# The plain sums of a group of cells that all have actuals or all have none, as
# planning/inseason.py adds them up per group (Sums.from_split puts the two together): the
# plan row's figures, the adjustments (approved moves of open to buy), committed, the
# opening stock (reforecast rule 3), sales (actual or forecast), actual markdowns and
# closing stock, the in-season OTB where positive, the margin sums, and the number of cells.
SPLIT_SUMS = ("ps", "pm", "pc", "po", "oo", "otb", "adj", "committed", "opening", "sales",
              "a_m", "a_c", "in_season_open", "margin_sales", "margin_stock",
              "margin_sxm", "margin_stxm")
# One half of a group as read (Sums.from_split's input): the plain sums, the number of cells,
# and the margin's money sums again on the scale of its products.
Split = namedtuple("Split", [*SPLIT_SUMS, "cells", "margin_sales_raw", "margin_stock_raw"])
_NO_CELLS = Split(*[ZERO] * len(SPLIT_SUMS), 0, ZERO, ZERO)


@dataclass(frozen=True)
class Sums:
    """The sums of a group of cells over some months (summaries.py keeps them per group)."""

    plan_sales: Decimal = ZERO
    plan_markdowns: Decimal = ZERO
    plan_closing: Decimal = ZERO
    plan_opening: Decimal = ZERO
    otb: Decimal = ZERO  # as uploaded
    adjustments: Decimal = ZERO  # the approved moves of open to buy (issue 17)
    committed: Decimal = ZERO
    actual_cells: int = 0
    cells: int = 0
    actual_sales: Decimal = ZERO
    actual_markdowns: Decimal = ZERO
    actual_closing: Decimal = ZERO
    actual_opening: Decimal = ZERO
    plan_sales_done: Decimal = ZERO
    plan_markdowns_done: Decimal = ZERO
    plan_closing_done: Decimal = ZERO
    sales: Decimal = ZERO  # actual where known, else the reforecast
    markdowns: Decimal = ZERO
    closing: Decimal = ZERO
    forecast_sales: Decimal = ZERO  # of the cells without actuals
    plan_sales_ahead: Decimal = ZERO
    opening_ahead: Decimal = ZERO
    plan_opening_ahead: Decimal = ZERO
    otb_ahead: Decimal = ZERO
    adjustments_ahead: Decimal = ZERO
    committed_ahead: Decimal = ZERO
    receipts: Decimal = ZERO  # reforecast receipts of the cells without actuals
    in_season_open: Decimal = ZERO
    in_season_over: Decimal = ZERO
    margin_sales: Decimal = ZERO
    margin_sxm: Decimal = ZERO  # Σ sales × margin %, on the database's own scale
    margin_stock: Decimal = ZERO  # Σ (opening + closing) of cells with a margin
    margin_stxm: Decimal = ZERO  # Σ (opening + closing) × margin %, same scale
    margin_sales_raw: Decimal = ZERO  # margin_sales on the scale of margin_sxm
    margin_stock_raw: Decimal = ZERO

    @classmethod
    def _of(cls, figures: dict) -> "Sums":
        """A Sums of its every figure, in FIELDS order, without the frozen __init__'s one
        call per field (a page puts together thousands of groups)."""
        made = object.__new__(cls)
        object.__setattr__(made, "__dict__", figures)
        return made

    @classmethod
    def summed(cls, sums) -> "Sums":
        """The sums of groups taken together: exact sums of their sums, column by column."""
        sums = list(sums)
        if not sums:
            return cls()
        if len(sums) == 1:
            return sums[0]
        return cls._of(dict(zip(FIELDS, [sum(column) for column in
                                          zip(*(s.__dict__.values() for s in sums))])))

    @classmethod
    def from_split(cls, done, ahead) -> "Sums":
        """The sums of a group from the plain sums (Split: planning/inseason.py reads them) of
        its cells with actuals (`done`) and of those without (`ahead`), either None when the
        group has no such cell: every figure is one of the two or their sum, exact."""
        d, a = done or _NO_CELLS, ahead or _NO_CELLS
        receipts = a.sales + a.pm + a.pc - a.opening - a.oo

        # Every figure, in the order of the fields (Sums.summed adds them up column by column).
        return cls._of({
            "plan_sales": d.ps + a.ps, "plan_markdowns": d.pm + a.pm,
            "plan_closing": d.pc + a.pc, "plan_opening": d.po + a.po, "otb": d.otb + a.otb,
            "adjustments": d.adj + a.adj, "committed": d.committed + a.committed,
            "actual_cells": int(d.cells), "cells": int(d.cells) + int(a.cells),
            "actual_sales": d.sales, "actual_markdowns": d.a_m, "actual_closing": d.a_c,
            "actual_opening": d.opening, "plan_sales_done": d.ps,
            "plan_markdowns_done": d.pm, "plan_closing_done": d.pc,
            "sales": d.sales + a.sales, "markdowns": d.a_m + a.pm, "closing": d.a_c + a.pc,
            "forecast_sales": a.sales, "plan_sales_ahead": a.ps, "opening_ahead": a.opening,
            "plan_opening_ahead": a.po, "otb_ahead": a.otb, "adjustments_ahead": a.adj,
            "committed_ahead": a.committed, "receipts": receipts,
            "in_season_open": a.in_season_open,
            "in_season_over": a.in_season_open - (receipts - a.committed),
            "margin_sales": d.margin_sales, "margin_sxm": d.margin_sxm,
            "margin_stock": d.margin_stock, "margin_stxm": d.margin_stxm,
            # The money sums again on the margin products' scale (analytics/summaries.py).
            "margin_sales_raw": d.margin_sales_raw, "margin_stock_raw": d.margin_stock_raw})

    # In-season OTB of the months still to come

    @property
    def in_season_otb(self) -> Decimal:
        """Reforecast receipts − committed of the cells without actuals (net: in-season open
        to buy − in-season over-bought)."""
        return self.receipts - self.committed_ahead

    @property
    def original_remaining(self) -> Decimal:
        """The original OTB + adjustments − committed of the same cells (planning/otb.py)."""
        return remaining(budget(self.otb_ahead, self.adjustments_ahead), self.committed_ahead)

    @property
    def sales_effect(self) -> Decimal:
        """How much the reforecast of sales moves the OTB of the cells without actuals."""
        return self.forecast_sales - self.plan_sales_ahead

    @property
    def stock_effect(self) -> Decimal:
        """How much opening with the actual closing stock moves it (less stock, more OTB)."""
        return self.plan_opening_ahead - self.opening_ahead

    # Plan vs actual of the cells with actuals

    def variance(self, measure: str) -> tuple[Decimal, Ratio]:
        """(actual − plan, that ÷ plan × 100) for sales, markdowns or closing (stock)."""
        actual = getattr(self, f"actual_{measure}")
        plan = getattr(self, f"plan_{measure}_done")
        return actual - plan, variance_percent(actual - plan, plan)

    @property
    def implied_receipts(self) -> Decimal:
        """What came into the stock of the cells with actuals: closing + sales + markdowns −
        opening, month by month (summed)."""
        return (self.actual_closing + self.actual_sales + self.actual_markdowns
                - self.actual_opening)

    @property
    def markdown_percent(self) -> Ratio:
        return ratio(self.actual_markdowns, self.actual_sales, of="net sales")

    @property
    def stock_to_sales(self) -> Ratio:
        return ratio(self.actual_opening, self.actual_sales, per=ONE, of="net sales")

    @property
    def margin_rate(self) -> Decimal | None:
        """The plan's margin % weighted by actual net sales."""
        return self.margin_sxm / self.margin_sales_raw if self.margin_sales_raw else None

    @property
    def gross_margin(self) -> Decimal | None:
        rate = self.margin_rate
        return None if rate is None else self.margin_sales * rate / HUNDRED

    @property
    def cost_stock(self) -> Decimal:
        """Σ (opening + closing) at cost of the cells with a margin: each cell's stock ×
        (1 − its margin %), summed (the margin % weighted by stock)."""
        if not self.margin_stock_raw:
            return ZERO
        return self.margin_stock * (ONE - self.margin_stxm / self.margin_stock_raw / HUNDRED)


FIELDS = tuple(f.name for f in fields(Sums))


NO_ACTUALS_YET = ("No actuals yet: the in-season OTB is the original OTB until the shops report "
                  "a month (upload “actuals”).")


def otb_difference(ahead: Sums, to_date: Sums, method: str, scope: str, opening: str) -> str:
    """Why the in-season OTB of the cells `ahead` differs from their original OTB remaining,
    in words and money: the sales effect (the reforecast, paced by `to_date`'s actual ÷
    planned sales) plus the opening-stock effect, less the approved adjustments (the original
    remaining counts them; the reforecast receipts start from the plan). `scope` names the
    months ("For the months still to come"); `opening` says what opens with actual stock,
    ending "… instead of the planned opening stock"."""
    diff = ahead.in_season_otb - ahead.original_remaining
    if method == PLAN:
        sales = "the plan method keeps the planned sales"
    else:
        variance, share = to_date.variance("sales")
        pace = (f"sales to date run {abs(share.value):.1f} % "
                f"{'ahead of' if variance >= 0 else 'behind'} plan"
                if share.value is not None else "nothing was planned to date")
        sales = f"{pace} and the reforecast sales follow"
    effects = [f"{money(ahead.sales_effect)} because {sales}",
               f"{money(ahead.stock_effect)} because {opening} ("
               f"{'less' if ahead.stock_effect >= 0 else 'more'} stock on hand means "
               f"{'more' if ahead.stock_effect >= 0 else 'less'} to buy)"]
    if ahead.adjustments_ahead:
        effects.append(f"{money(-ahead.adjustments_ahead)} because the original remaining "
                       f"counts {money(ahead.adjustments_ahead)} of approved adjustments "
                       "(moves of open to buy) that the reforecast receipts do not")
    return (f"{scope} the in-season OTB is {money(ahead.in_season_otb)}, {money(abs(diff))} "
            f"{'more' if diff >= 0 else 'less'} than the original OTB remaining "
            f"({money(ahead.original_remaining)}): {', '.join(effects[:-1])}, and "
            f"{effects[-1]}.")


def variance_percent(variance: Decimal, plan: Decimal) -> Ratio:
    if plan:
        return Ratio(variance / plan * HUNDRED)
    return Ratio(None, UNDEFINED, "The plan is 0: a variance % has nothing to divide by.")


@dataclass(frozen=True)
class Period:
    """A group's actualised months (in order) with their sums, and the months after them."""

    months: list[tuple[date, Sums]]  # the months with actuals, in order
    ahead: list[tuple[date, Sums]]  # the later months of the season, in order

    @cached_property
    def sums(self) -> Sums:
        return Sums.summed([s for _, s in self.months])

    @property
    def days(self) -> int:
        return sum(days_in(m) for m, _ in self.months)

    @property
    def opening(self) -> Decimal:
        return self.months[0][1].actual_opening if self.months else ZERO

    @property
    def closing(self) -> Decimal:
        return self.months[-1][1].actual_closing if self.months else ZERO

    def variance(self, measure: str) -> tuple[Decimal, Ratio]:
        """Sums.variance of the period: of its sums for sales and markdowns (flows), of its
        last month for closing (stock is a level: a sum of month-end stocks means nothing)."""
        if measure != "closing":
            return self.sums.variance(measure)
        return (self.months[-1][1] if self.months else Sums()).variance(measure)

    @property
    def sell_through(self) -> Ratio:
        s = self.sums
        return ratio(s.actual_sales, self.opening + s.implied_receipts,
                     of="opening stock and receipts")

    @property
    def planned_sell_through(self) -> Ratio:
        """Sell-through of the plan of the same cells and months: planned sales ÷ (the first
        month's planned opening stock + the receipts the plan implies: closing + sales +
        markdowns − opening, month by month)."""
        if not self.months:
            return Ratio(None, NOTHING, "No actuals yet.")
        opening = [s.plan_opening - s.plan_opening_ahead for _, s in self.months]
        s = self.sums
        receipts = (s.plan_closing_done + s.plan_sales_done + s.plan_markdowns_done
                    - sum(opening, ZERO))
        return ratio(s.plan_sales_done, opening[0] + receipts, of="opening stock and receipts")

    @property
    def weeks_of_cover(self) -> Ratio:
        if not self.months:
            return Ratio(None, NOTHING, "No actuals yet.")
        month, last = self.months[-1]
        return weeks_of_cover(self.closing, last.actual_sales, days_in(month))

    @property
    def forward_cover(self) -> Ratio:
        if not self.months:
            return Ratio(None, NOTHING, "No actuals yet.")
        return forward_cover(self.closing, [(days_in(m), s.sales) for m, s in self.ahead])

    @property
    def turns(self) -> Ratio:
        s = self.sums
        return annualised(s.actual_sales, average_stock(s.actual_opening + s.actual_closing,
                                                        len(self.months)), self.days)

    @property
    def gmroi(self) -> Ratio:
        s = self.sums
        margin = s.gross_margin
        if margin is None:
            return Ratio(None, NOTHING, "No plan margin for these cells.")
        return annualised(margin, average_stock(s.cost_stock, len(self.months)), self.days)


def average_stock(opening_plus_closing: Decimal, months: int) -> Decimal:
    """The mean over `months` of (opening + closing) ÷ 2, from the sum of both over them."""
    return opening_plus_closing / (2 * months) if months else ZERO


def annualised(flow: Decimal, stock: Decimal, days: int) -> Ratio:
    """flow ÷ stock × 365 ÷ days: turns, or GMROI."""
    if not days:
        return Ratio(None, NOTHING, "No actuals yet.")
    if stock <= 0:
        return Ratio(None, UNDEFINED, "There is no stock to turn.")
    return Ratio(flow / stock * YEAR_DAYS / days)


def weeks_of_cover(closing: Decimal, sales: Decimal, days: int) -> Ratio:
    """closing ÷ (sales ÷ days × 7)."""
    if sales <= 0:
        return Ratio(None, UNDEFINED, "No net sales in the month to cover.")
    return Ratio(closing / (sales / days * SEVEN))


def forward_cover(stock: Decimal, months: list[tuple[int, Decimal]]) -> Ratio:
    """Weeks until the (days, reforecast sales) of the months ahead use up `stock`, each
    month's sales spread evenly over its days; more than the months' weeks when they never do
    (the word says so)."""
    weeks = ZERO
    left = stock
    for days, sales in months:
        span = Decimal(days) / SEVEN
        if sales > 0 and left <= sales:
            return Ratio(weeks + span * left / sales)
        left -= max(sales, ZERO)
        weeks += span
    if not months:
        return Ratio(None, UNDEFINED, "No months of the season are left to forecast.")
    return Ratio(None, f"more than {weeks.quantize(ONE, rounding='ROUND_FLOOR')}",
                 "The reforecast sales of the rest of the season do not use up this stock.")
