"""The rules of moving open to buy (planning/adjustments.py, issue 17 item 1)."""
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kyros_web.planning.adjustments import (MoveRefused, Scope, check_amount, move_lines,
                                            source_shortfall)
from kyros_web.planning.otb import budget, remaining


def test_remaining_is_otb_plus_adjustments_less_committed():
    assert remaining(budget(D("1000.00"), D("-250.00")), D("300.00")) == D("450.00")


def test_each_scope_splits_the_amount_by_budget_exact_to_the_cent():
    lines = dict(move_lines(D("100.00"), [("a", D("200")), ("b", D("100"))],
                            [("c", D("1")), ("d", D("1")), ("e", D("1"))]))
    assert lines == {"a": D("-66.67"), "b": D("-33.33"),
                     "c": D("33.34"), "d": D("33.33"), "e": D("33.33")}


def test_a_cell_with_no_budget_left_gives_nothing():
    lines = dict(move_lines(D("10.00"), [("a", D("-5")), ("b", D("0")), ("c", D("40"))],
                            [("d", D("0"))]))
    assert lines == {"c": D("-10.00"), "d": D("10.00")}


def test_a_scope_without_any_budget_shares_evenly():
    lines = dict(move_lines(D("0.03"), [("a", D("0")), ("b", D("-1"))], [("c", D("9"))]))
    assert lines == {"a": D("-0.02"), "b": D("-0.01"), "c": D("0.03")}


@pytest.mark.parametrize("amount,message", [
    (D("0"), "more than 0"), (D("-1"), "more than 0"), (D("1.005"), "at most 2 decimals")])
def test_the_amount_is_positive_money(amount, message):
    with pytest.raises(MoveRefused, match=message):
        check_amount(amount)


def test_overlapping_or_empty_scopes_are_refused():
    with pytest.raises(MoveRefused, match="share 1 cell"):
        move_lines(D("1"), [("a", D("1")), ("b", D("1"))], [("b", D("1"))])
    with pytest.raises(MoveRefused, match="source has no cells"):
        move_lines(D("1"), [], [("b", D("1"))])
    with pytest.raises(MoveRefused, match="target has no cells"):
        move_lines(D("1"), [("a", D("1"))], [])


def test_a_scope_is_a_location_or_a_cluster():
    with pytest.raises(MoveRefused, match="not both"):
        Scope(location_id=1, cluster_id=2)


def test_the_shortfall_is_what_the_source_lacks():
    assert source_shortfall(D("100"), D("40")) == D("60")
    assert source_shortfall(D("100"), D("140")) == D("0")
    assert source_shortfall(D("100"), D("-10")) == D("110")


budgets = st.lists(st.integers(-10 ** 6, 10 ** 8).map(lambda c: D(c) / 100), min_size=1,
                   max_size=12)


@given(st.integers(1, 10 ** 9).map(lambda c: D(c) / 100), budgets, budgets)
def test_every_move_takes_and_gives_exactly_the_amount(amount, source, target):
    lines = move_lines(amount, [(("s", i), b) for i, b in enumerate(source)],
                       [(("t", i), b) for i, b in enumerate(target)])
    taken = [v for (side, _), v in lines if side == "s"]
    given_ = [v for (side, _), v in lines if side == "t"]
    assert sum(taken) == -amount and sum(given_) == amount
    assert all(v < 0 for v in taken) and all(v > 0 for v in given_)
    assert all(v == v.quantize(D("0.01")) for _, v in lines)
    # No cell is a cent or more from its exact share.
    for side, cells in (("s", source), ("t", target)):
        weights = [max(b, D(0)) for b in cells]
        total = sum(weights)
        got = dict(((i, abs(v)) for (s, i), v in lines if s == side))
        for i, w in enumerate(weights):
            exact = amount * w / total if total else amount / len(cells)
            assert abs(got.get(i, D(0)) - exact) < D("0.01")
