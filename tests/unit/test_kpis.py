"""The in-season KPIs at their edges (planning/kpis.py): no sales, no stock, cover that runs
out mid-month or never, a plan of 0, no plan margin, a period without actuals."""
from datetime import date
from decimal import Decimal as D

from kyros_web.planning.kpis import (FIELDS, Period, Split, Sums, annualised, forward_cover,
                                     variance_percent, weeks_of_cover)
from kyros_web.ratios import NOTHING, UNDEFINED

FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)


def test_weeks_of_cover_without_sales_is_undefined():
    for sales in (D(0), D(-40)):  # returns outweighing sales cover nothing either
        cover = weeks_of_cover(D(500), sales, 31)
        assert (cover.value, cover.word) == (None, UNDEFINED)
        assert "No net sales" in cover.why


def test_no_stock_is_no_cover():
    assert weeks_of_cover(D(0), D(310), 31).value == 0  # 0 ÷ (310 ÷ 31 × 7)
    assert forward_cover(D(0), [(30, D(100))]).value == 0


def test_weeks_of_cover_by_hand():
    """700 ÷ (310 ÷ 31 × 7) = 700 ÷ 70 = 10 weeks."""
    assert weeks_of_cover(D(700), D(310), 31).value == 10


def test_forward_cover_runs_out_mid_month():
    """150 of stock: February's 100 uses 100 in its 4 weeks, March's 100 the other 50 in
    half of its 31 ÷ 7 weeks: 4 + 31 ÷ 7 × 50 ÷ 100."""
    cover = forward_cover(D(150), [(28, D(100)), (31, D(100))])
    assert cover.value == 4 + D(31) / 7 * D(50) / D(100)


def test_forward_cover_runs_out_exactly_at_a_month_end():
    assert forward_cover(D(100), [(28, D(100)), (31, D(100))]).value == 4


def test_forward_cover_skips_months_without_sales():
    """A month of no (or negative) sales uses no stock but its weeks pass: 28 ÷ 7 + 31 ÷ 7 ×
    50 ÷ 100."""
    cover = forward_cover(D(50), [(28, D(-20)), (31, D(100))])
    assert cover.value == 4 + D(31) / 7 * D(50) / D(100)


def test_forward_cover_that_never_runs_out_says_more_than_the_weeks_left():
    """1,000 against 100 + 100 over 28 + 31 days = 8.43 weeks: "more than 8"."""
    cover = forward_cover(D(1000), [(28, D(100)), (31, D(100))])
    assert (cover.value, cover.word) == (None, "more than 8")
    assert "do not use up" in cover.why


def test_forward_cover_without_months_ahead_is_undefined():
    cover = forward_cover(D(1000), [])
    assert (cover.value, cover.word) == (None, UNDEFINED)


def test_variance_percent_of_a_zero_plan_is_na():
    share = variance_percent(D(250), D(0))
    assert (share.value, share.word) == (None, UNDEFINED)
    assert "plan is 0" in share.why
    amount, share = Sums(actual_sales=D(250)).variance("sales")
    assert (amount, share.word) == (D(250), UNDEFINED)
    assert variance_percent(D(-25), D(100)).value == -25


def test_gmroi_without_plan_margins():
    """Cells without a plan row have no margin %: no gross margin, no stock at cost, and GMROI
    says so rather than 0."""
    s = Sums(actual_sales=D(1000), actual_opening=D(500), actual_closing=D(400))
    assert s.margin_rate is None and s.gross_margin is None and s.cost_stock == 0
    gmroi = Period([(FEB, s)], []).gmroi
    assert (gmroi.value, gmroi.word) == (None, NOTHING)
    assert "No plan margin" in gmroi.why


def test_turns_and_gmroi_of_zero_stock_are_undefined():
    assert annualised(D(100), D(0), 28).word == UNDEFINED
    s = Sums(actual_sales=D(100), actual_cells=1)
    assert Period([(FEB, s)], []).turns.word == UNDEFINED
    assert annualised(D(100), D(10), 0).word == NOTHING  # no days: no actuals


def test_zero_sales_and_zero_stock():
    """A month that sold nothing from no stock: every ratio says why it has no number."""
    period = Period([(FEB, Sums(actual_cells=1))], [])
    assert period.sell_through.word == NOTHING  # 0 ÷ 0
    assert period.weeks_of_cover.word == UNDEFINED
    assert period.sums.stock_to_sales.word == NOTHING
    assert period.sums.markdown_percent.word == NOTHING
    assert Sums(actual_markdowns=D(5)).markdown_percent.word == UNDEFINED


def test_a_period_without_actuals():
    period = Period([], [(FEB, Sums(sales=D(100)))])
    for kpi in (period.weeks_of_cover, period.forward_cover, period.turns):
        assert (kpi.value, kpi.word) == (None, NOTHING)
    assert period.variance("closing")[1].word == UNDEFINED


def test_stock_variance_over_months_is_the_last_months():
    """Sales add up over months, stock does not: to date the stock variance is March's
    (900 − 1,000 = −100, −10 %), not the sum of February's +200 and March's −100."""
    feb = Sums(actual_sales=D(300), plan_sales_done=D(200), actual_closing=D(1200),
               plan_closing_done=D(1000), actual_cells=1)
    mar = Sums(actual_sales=D(100), plan_sales_done=D(200), actual_closing=D(900),
               plan_closing_done=D(1000), actual_cells=1)
    period = Period([(FEB, feb), (MAR, mar)], [(APR, Sums())])
    assert period.variance("sales") == (D(0), variance_percent(D(0), D(400)))
    amount, share = period.variance("closing")
    assert (amount, share.value) == (D(-100), D(-10))


def _split(**given):
    return Split(**{name: given.get(name, D("0")) for name in Split._fields})


def test_a_group_put_together_from_its_halves_is_the_constructed_one():
    """Sums.from_split builds its figures without the dataclass's __init__: they must be
    the same figures, in the fields' order (Sums.summed adds them up column by column)."""
    done = _split(ps=D("100.00"), pm=D("5.00"), pc=D("40.00"), po=D("30.00"), sales=D("90.00"),
                  a_m=D("4.00"), a_c=D("38.00"), opening=D("30.00"), cells=2,
                  margin_sales=D("90.00"), margin_sxm=D("3600.0000"), margin_sales_raw=D("90.00"))
    ahead = _split(ps=D("120.00"), pm=D("6.00"), pc=D("50.00"), po=D("40.00"), oo=D("1.00"),
                   otb=D("80.00"), adj=D("2.00"), committed=D("10.00"), opening=D("38.00"),
                   sales=D("108.00"), in_season_open=D("115.00"), cells=3)
    made = Sums.from_split(done, ahead)
    assert list(vars(made)) == list(FIELDS)
    assert made == Sums(plan_sales=D("220.00"), plan_markdowns=D("11.00"),
                        plan_closing=D("90.00"), plan_opening=D("70.00"), otb=D("80.00"),
                        adjustments=D("2.00"), committed=D("10.00"), actual_cells=2, cells=5,
                        actual_sales=D("90.00"), actual_markdowns=D("4.00"),
                        actual_closing=D("38.00"), actual_opening=D("30.00"),
                        plan_sales_done=D("100.00"), plan_markdowns_done=D("5.00"),
                        plan_closing_done=D("40.00"), sales=D("198.00"), markdowns=D("10.00"),
                        closing=D("88.00"), forecast_sales=D("108.00"),
                        plan_sales_ahead=D("120.00"), opening_ahead=D("38.00"),
                        plan_opening_ahead=D("40.00"), otb_ahead=D("80.00"),
                        adjustments_ahead=D("2.00"), committed_ahead=D("10.00"),
                        receipts=D("125.00"), in_season_open=D("115.00"),
                        in_season_over=D("0.00"), margin_sales=D("90.00"),
                        margin_sxm=D("3600.0000"), margin_sales_raw=D("90.00"))
    twice = Sums.summed([made, made])
    assert list(vars(twice)) == list(FIELDS)
    assert twice.plan_sales == D("440.00") and twice.cells == 10
    assert twice.in_season_otb == 2 * made.in_season_otb
    assert Sums.from_split(None, None) == Sums()
