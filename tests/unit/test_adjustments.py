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


Z = D("0")


def test_each_scope_splits_the_amount_exact_to_the_cent():
    lines = dict(move_lines(D("100.00"), [("a", D("200"), Z), ("b", D("100"), Z)],
                            [("c", D("1")), ("d", D("1")), ("e", D("1"))]))
    assert lines == {"a": D("-66.67"), "b": D("-33.33"),
                     "c": D("33.34"), "d": D("33.33"), "e": D("33.33")}


def test_the_source_gives_by_open_to_buy_so_no_cell_goes_over():
    # a has the larger budget but has committed nearly all of it: b gives most.
    lines = dict(move_lines(D("90.00"), [("a", D("1000"), D("970")), ("b", D("100"), Z)],
                            [("c", D("5"))]))
    assert lines == {"a": D("-20.77"), "b": D("-69.23"), "c": D("90.00")}
    assert D("1000") - D("970") - D("20.77") >= 0 and D("100") - D("69.23") >= 0


def test_a_cell_with_nothing_left_to_give_gives_nothing():
    lines = dict(move_lines(D("10.00"), [("a", D("-5"), Z), ("b", D("0"), Z),
                                         ("c", D("40"), Z), ("d", D("50"), D("60"))],
                            [("e", D("0"))]))
    assert lines == {"c": D("-10.00"), "e": D("10.00")}


def test_a_source_without_open_to_buy_gives_by_budget_and_without_budget_evenly():
    overridden = dict(move_lines(D("30.00"), [("a", D("200"), D("200")),
                                              ("b", D("100"), D("150"))], [("c", D("1"))]))
    assert overridden == {"a": D("-20.00"), "b": D("-10.00"), "c": D("30.00")}
    lines = dict(move_lines(D("0.03"), [("a", D("0"), Z), ("b", D("-1"), Z)], [("c", D("9"))]))
    assert lines == {"a": D("-0.02"), "b": D("-0.01"), "c": D("0.03")}


@pytest.mark.parametrize("amount,message", [
    (D("0"), "more than 0"), (D("-1"), "more than 0"), (D("1.005"), "at most 2 decimals")])
def test_the_amount_is_positive_money(amount, message):
    with pytest.raises(MoveRefused, match=message):
        check_amount(amount)


def test_overlapping_or_empty_scopes_are_refused():
    with pytest.raises(MoveRefused, match="share 1 cell"):
        move_lines(D("1"), [("a", D("1"), Z), ("b", D("1"), Z)], [("b", D("1"))])
    with pytest.raises(MoveRefused, match="source has no cells"):
        move_lines(D("1"), [], [("b", D("1"))])
    with pytest.raises(MoveRefused, match="target has no cells"):
        move_lines(D("1"), [("a", D("1"), Z)], [])


def test_a_scope_is_a_location_or_a_cluster():
    with pytest.raises(MoveRefused, match="not both"):
        Scope(location_id=1, cluster_id=2)


def test_the_shortfall_is_what_the_source_lacks():
    assert source_shortfall(D("100"), D("40")) == D("60")
    assert source_shortfall(D("100"), D("140")) == D("0")
    assert source_shortfall(D("100"), D("-10")) == D("110")


budgets = st.lists(st.integers(-10 ** 6, 10 ** 8).map(lambda c: D(c) / 100), min_size=1,
                   max_size=12)
committed = st.integers(0, 10 ** 8).map(lambda c: D(c) / 100)


@given(st.integers(1, 10 ** 9).map(lambda c: D(c) / 100),
       st.lists(st.tuples(st.integers(-10 ** 6, 10 ** 8).map(lambda c: D(c) / 100), committed),
                min_size=1, max_size=12), budgets)
def test_every_move_takes_and_gives_exactly_the_amount(amount, source, target):
    lines = move_lines(amount, [(("s", i), b, c) for i, (b, c) in enumerate(source)],
                       [(("t", i), b) for i, b in enumerate(target)])
    taken = dict(((i, v) for (side, i), v in lines if side == "s"))
    given_ = dict(((i, v) for (side, i), v in lines if side == "t"))
    assert sum(taken.values()) == -amount and sum(given_.values()) == amount
    assert all(v < 0 for v in taken.values()) and all(v > 0 for v in given_.values())
    assert all(v == v.quantize(D("0.01")) for _, v in lines)
    # No cell is a cent or more from its exact share.
    left = [max(b - c, D(0)) for b, c in source]
    weights = left if any(left) else [max(b, D(0)) for b, _ in source]
    for got, cells in ((taken, weights), (given_, [max(b, D(0)) for b in target])):
        total = sum(cells)
        for i, w in enumerate(cells):
            exact = amount * w / total if total else amount / len(cells)
            assert abs(abs(got.get(i, D(0))) - exact) < D("0.01")
    # A move the source's open to buy covers takes no cell over its budget.
    if amount <= sum(left):
        assert all(b - c + taken.get(i, D(0)) >= 0 for i, (b, c) in enumerate(source)
                   if b - c >= 0)
