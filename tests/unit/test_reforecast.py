"""The in-season reforecast (issue 16, items 2 and 3): worked by hand, and its properties."""
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyros_web.planning.reforecast import (ActualMonth, PlannedMonth, reforecast,
                                           trend_ratio)

FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
PLAN = [PlannedMonth(FEB, D("1000"), D("50"), D("800"), D("900")),
        PlannedMonth(MAR, D("2000"), D("100"), D("700"), D("800")),
        PlannedMonth(APR, D("3000"), D("0"), D("500"), D("700"))]


def test_a_hand_worked_trend():
    """Feb sold 1,200 against 1,000 planned: the trend is 1.2. March is forecast at 2,400
    and opens with February's actual closing stock, 650: receipts 2,400 + 100 + 700 − 650 =
    2,550; with 1,000 committed, the in-season OTB is 1,550. April: 3,600, opening at its
    planned 700: receipts 3,600 + 0 + 500 − 700 = 3,400."""
    actuals = {FEB: ActualMonth(FEB, D("1200"), D("40"), D("650"))}
    assert trend_ratio(PLAN, actuals) == D("1.2")
    feb, mar, apr = reforecast(PLAN, actuals)
    assert (feb.actualised, feb.sales, feb.receipts) == (True, D("1200"), None)
    assert (mar.sales, mar.opening_stock, mar.receipts) == (D("2400.00"), D("650"), D("2550.00"))
    assert mar.in_season_otb(D("1000")) == D("1550.00")
    assert (apr.sales, apr.opening_stock, apr.receipts) == (D("3600.00"), D("700"), D("3400.00"))
    assert feb.in_season_otb(D("5")) is None


def test_the_plan_method_keeps_the_plan():
    actuals = {FEB: ActualMonth(FEB, D("1200"), D("40"), D("650"))}
    _, mar, apr = reforecast(PLAN, actuals, method="plan")
    assert (mar.sales, apr.sales) == (D("2000"), D("3000"))
    assert mar.opening_stock == D("650")


def test_without_planned_sales_to_date_the_trend_keeps_the_plan():
    plan = [PlannedMonth(FEB, D("0"), D("0"), D("0"), D("0")), *PLAN[1:]]
    actuals = {FEB: ActualMonth(FEB, D("500"), D("0"), D("100"))}
    assert trend_ratio(plan, actuals) is None
    assert [m.sales for m in reforecast(plan, actuals)] == [D("500"), D("2000"), D("3000")]


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError, match="trend or plan"):
        reforecast(PLAN, {}, method="guess")


money = st.decimals(min_value=0, max_value=10 ** 7, places=2, allow_nan=False,
                    allow_infinity=False)


@st.composite
def seasons(draw):
    months = [date(2026, m, 1) for m in range(2, 2 + draw(st.integers(1, 6)))]
    plan = [PlannedMonth(m, draw(money), draw(money), draw(money), draw(money)) for m in months]
    actualised = draw(st.sets(st.sampled_from(months)))
    actuals = {m: ActualMonth(m, draw(st.decimals(min_value=-1000, max_value=10 ** 7, places=2,
                                                  allow_nan=False, allow_infinity=False)),
                              draw(money), draw(money)) for m in actualised}
    return plan, actuals


@settings(max_examples=200, deadline=None)
@given(seasons(), st.sampled_from(["trend", "plan"]))
def test_an_actualised_month_never_changes(season, method):
    plan, actuals = season
    for month in reforecast(plan, actuals, method):
        if month.month in actuals:
            assert month.actualised and month.sales == actuals[month.month].net_sales
            assert month.receipts is None
        else:
            assert not month.actualised and month.receipts is not None


@settings(max_examples=200, deadline=None)
@given(seasons())
def test_actuals_equal_to_plan_reforecast_the_plan(season):
    plan, actuals = season
    same = {m: ActualMonth(m, p.sales, p.markdowns, p.closing_stock)
            for p in plan for m in [p.month] if m in actuals}
    assert [f.sales for f in reforecast(plan, same)] == [p.sales for p in plan]


@settings(max_examples=200, deadline=None)
@given(seasons())
def test_a_season_running_to_a_chained_plan_keeps_its_original_otb(season):
    """With the stock chained (each month opens with the last one's planned closing stock)
    and actuals equal to the plan, every forecast month's receipts are its original OTB
    (SPEC §5: sales + markdowns + closing − opening − on order)."""
    plan, actuals = season
    chained, opening = [], plan[0].opening_stock
    for p in plan:
        chained.append(PlannedMonth(p.month, p.sales, p.markdowns, p.closing_stock, opening,
                                    p.markdowns))
        opening = p.closing_stock
    same = {p.month: ActualMonth(p.month, p.sales, p.markdowns, p.closing_stock)
            for p in chained if p.month in actuals}
    for p, f in zip(chained, reforecast(chained, same)):
        if not f.actualised:
            assert f.receipts == (p.sales + p.markdowns + p.closing_stock - p.opening_stock
                                  - p.on_order)


def test_on_order_is_already_bought():
    plan = [PlannedMonth(FEB, D("1000"), D("0"), D("500"), D("400"), D("100"))]
    (feb,) = reforecast(plan, {})
    assert feb.receipts == D("1000")  # 1,000 + 0 + 500 − 400 − 100


def test_returns_above_sales_to_date_forecast_no_sales():
    actuals = {FEB: ActualMonth(FEB, D("-30"), D("0"), D("800"))}
    assert trend_ratio(PLAN, actuals) == D("0")
    _, mar, apr = reforecast(PLAN, actuals)
    assert (mar.sales, apr.sales) == (D("0.00"), D("0.00"))


def test_a_month_with_actuals_and_no_plan_row_counts_in_the_trend():
    """January has actuals but no plan row: 300 sold against 0 planned joins the season to
    date, so the trend is (300 + 1,200) ÷ 1,000 = 1.5, and January opens March's chain."""
    jan = date(2026, 1, 1)
    actuals = {jan: ActualMonth(jan, D("300"), D("0"), D("90")),
               FEB: ActualMonth(FEB, D("1200"), D("40"), D("650"))}
    months = reforecast(PLAN, actuals)
    assert [m.month for m in months] == [jan, FEB, MAR, APR]
    assert months[1].opening_stock == D("90")  # January's actual closing
    assert months[2].sales == D("3000.00")  # 2,000 × 1.5


def test_the_forecast_rounds_half_away_from_zero_to_the_cent():
    plan = [PlannedMonth(FEB, D("1"), D("0"), D("0"), D("0")),
            PlannedMonth(MAR, D("0.05"), D("0"), D("0"), D("0"))]
    actuals = {FEB: ActualMonth(FEB, D("0.50"), D("0"), D("0"))}
    assert reforecast(plan, actuals)[1].sales == D("0.03")  # 0.025 → 0.03
