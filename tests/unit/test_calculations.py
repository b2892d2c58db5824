"""The formulas of SPEC §5 on exact decimals, with the seed's figures."""
from decimal import Decimal as D

import pytest

from markupsafe import escape

from kyros_web.planning.otb import (approved_spend_limit, committed, committed_value, fulfilment,
                                    open_to_buy, over_bought, remaining, utilisation)
from kyros_web.planning.otb import percent as percent_of
from kyros_web.templating import money, percent


def test_seed_otb_example():
    """100,000 + 0 + 50,000 − 30,000 − 10,000 = 110,000."""
    assert approved_spend_limit(D("100000"), D("0"), D("50000"), D("30000"), D("10000")) == D("110000")


def test_otb_includes_markdowns():
    assert approved_spend_limit(D("100000"), D("5000"), D("50000"), D("30000"), D("10000")) == D("115000")


def test_negative_otb_is_kept():
    assert approved_spend_limit(D("100"), D("0"), D("0"), D("500"), D("0")) == D("-400")


def test_seed_utilisation():
    """12,500 / 110,000 = 11.36 %, shown as 11.4 %."""
    value = utilisation(D("12500"), D("110000"))
    assert value.value.quantize(D("0.01")) == D("11.36")
    assert percent(value) == "11.4 %"


@pytest.mark.parametrize("committed_,otb,word", [
    (D("500"), D("0"), "over budget"), (D("500"), D("-100"), "over budget"),
    (D("0"), D("0"), "—"), (D("0"), D("-100"), "n/a")])
def test_utilisation_without_a_budget_is_a_word(committed_, otb, word):
    """OTB ≤ 0: committed goods are over budget, nothing committed is — (OTB 0) or n/a."""
    ratio = utilisation(committed_, otb)
    assert ratio.value is None and ratio.word == word and ratio.why
    assert percent(ratio) == f'<span class="ratio-word" title="{escape(ratio.why)}">{word}</span>'


def test_over_budget_ranks_above_every_percentage():
    assert utilisation(D("1"), D("0")).rank() > utilisation(D("10000"), D("1")).rank()
    assert utilisation(D("0"), D("0")).rank() is None


def test_seed_fulfilment():
    """11,250 / 12,500 = 90.0 %."""
    assert fulfilment(D("11250"), D("12500")).value == D("90")
    assert percent(fulfilment(D("11250"), D("12500"))) == "90.0 %"


def test_fulfilment_without_commitment():
    """Nothing committed: — when nothing was received either, n/a with receipts."""
    assert fulfilment(D("0"), D("0")).word == "—"
    assert fulfilment(D("10"), D("0")).word == "n/a"
    assert fulfilment(D("10"), D("0")).why == "Goods were received but nothing is committed."


def test_a_percentage_never_shows_minus_zero():
    assert percent(D("-0.04")) == "0.0 %" and percent(D("-0")) == "0.0 %"
    assert percent(D("-0.05")) == "-0.1 %"


def test_an_undefined_share_is_none():
    assert percent_of(D("5"), D("0")) is None and percent_of(D("5"), D("10")) == D("50")


def test_open_to_buy_and_over_bought_split_a_cell_remaining():
    """Net remaining = open to buy − over-bought, each never negative."""
    assert (open_to_buy(D("40")), over_bought(D("40"))) == (D("40"), D("0"))
    assert (open_to_buy(D("-15")), over_bought(D("-15"))) == (D("0"), D("15"))


@pytest.mark.parametrize("status,expected", [
    ("open", D("1000")), ("partially_received", D("1000")), ("received", D("1000")),
    ("closed", D("400")), ("cancelled", D("0")),
])
def test_committed_value_per_status(status, expected):
    """A short-closed PO commits only what was received; a cancelled one nothing."""
    assert committed_value(status, D("1000"), D("400")) == expected


@pytest.mark.parametrize("status,expected", [
    ("open", D("1050")), ("partially_received", D("1050")), ("received", D("1050")),
    ("closed", D("1050")), ("cancelled", D("0")),
])
def test_an_over_receipt_commits_what_was_received(status, expected):
    """A PO of 1,000 that received 1,050 (within a 5 % tolerance) commits 1,050 (issue 15)."""
    assert committed_value(status, D("1000"), D("1050")) == expected


def test_committed_and_remaining():
    total = committed([("open", D("100.10"), D("0")), ("closed", D("50"), D("20.20")),
                       ("cancelled", D("999"), D("0"))])
    assert total == D("120.30")
    assert remaining(D("110000"), D("12500")) == D("97500")


def _group(sales, margin):
    from types import SimpleNamespace

    return SimpleNamespace(sales=D(sales), mxs=D(sales) * D(margin), sales_raw=D(sales),
                           otb=D(0), adjustments=D(0), committed=D(0), received=D(0), open_to_buy=D(0),
                           over_bought=D(0), over_cells=0, received_due=D(0))


def test_margin_is_weighted_by_sales_not_averaged():
    """40 % on 9,000 and 10 % on 1,000 is 37 %, not the plain mean 25 %."""
    from kyros_web.analytics.reports import Figures

    assert Figures.summed([_group("9000", "40"), _group("1000", "10")]).margin == D("37")


def test_margin_without_sales_is_none():
    from kyros_web.analytics.reports import Figures

    assert Figures.summed([_group("0", "40")]).margin is None


@pytest.mark.parametrize("value,shown", [
    (D("1234.565"), "1,234.57"), (D("0.005"), "0.01"), (D("-2.345"), "-2.35"), (None, ""),
])
def test_money_rounds_half_up_once_at_display(value, shown):
    assert money(value) == shown


def test_percent_rounds_half_up():
    assert percent(D("12.25")) == "12.3 %"
    assert percent(D("12.35")) == "12.4 %"


def test_a_stored_ratio_shows_as_it_was_kept():
    """Upload previews keep str(utilisation(...)) in their details: a number or the word."""
    assert str(utilisation(D("500"), D("0"))) == "over budget"
    assert percent(str(utilisation(D("500"), D("0")))) == "over budget"
    assert percent(str(utilisation(D("50"), D("200")))) == "25.0 %"
