"""The formulas of SPEC §5 on exact decimals, with the seed's figures."""
from decimal import Decimal as D

import pytest

from kyros_web.planning.otb import (approved_spend_limit, committed, committed_value, fulfilment,
                                    remaining, utilisation)
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
    assert value.quantize(D("0.01")) == D("11.36")
    assert percent(value) == "11.4 %"


def test_utilisation_is_zero_without_otb():
    assert utilisation(D("500"), D("0")) == 0


def test_seed_fulfilment():
    """11,250 / 12,500 = 90.0 %."""
    assert fulfilment(D("11250"), D("12500")) == D("90")
    assert percent(fulfilment(D("11250"), D("12500"))) == "90.0 %"


def test_fulfilment_is_zero_without_commitment():
    assert fulfilment(D("0"), D("0")) == 0


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
                           otb=D(0), committed=D(0), received=D(0), received_due=D(0))


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
