"""The spreading rule of planning/spread.py: worked examples to the cent, its refusals, and
properties that hold for any total and any shape."""
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyros_web.planning.spread import spread


def ds(*values: str) -> list[D]:
    return [D(value) for value in values]


def test_a_hundred_over_three_even_cells_gives_the_extra_cent_to_the_first():
    """100.00 over three equal cells: 33.34, 33.33, 33.33, adding up to 100.00."""
    assert spread(D("100.00"), ds("1", "1", "1")) == ds("33.34", "33.33", "33.33")


def test_proportional_to_the_current_values():
    """Cells holding 10, 20 and 70 take 10 %, 20 % and 70 % of the total."""
    assert spread(D("250.00"), ds("10", "20", "70")) == ds("25.00", "50.00", "175.00")


def test_weights_given_replace_the_current_values_as_the_shape():
    """Another measure's shape: the current values only count the cells."""
    assert spread(D("90.00"), ds("5", "5", "5"), weights=ds("1", "2", "0")) == ds(
        "30.00", "60.00", "0.00")


def test_evenly_when_every_cell_is_zero():
    """Nothing planned yet: the total is shared evenly, the spare cent to the first cell."""
    assert spread(D("10.00"), ds("0", "0", "0")) == ds("3.34", "3.33", "3.33")


def test_a_zero_weight_gets_nothing_while_another_weighs_something():
    """Only the cells with a weight share the total."""
    assert spread(D("0.05"), ds("0", "3", "0", "1")) == ds("0.00", "0.04", "0.00", "0.01")


def test_between_equal_remainders_the_earlier_cell_wins():
    """A cent that two equal cells could take goes to the one earlier in the list."""
    assert spread(D("0.01"), ds("0", "1", "1")) == ds("0.00", "0.01", "0.00")
    assert spread(D("0.02"), ds("4", "1", "1")) == ds("0.02", "0.00", "0.00")


def test_one_cell_takes_the_whole_total():
    assert spread(D("1234.56"), ds("7")) == ds("1234.56")


def test_a_negative_total_is_the_positive_split_with_the_signs_turned():
    """Signs are symmetric: the spare cents go to the same cells."""
    assert spread(D("-100.00"), ds("1", "1", "1")) == ds("-33.34", "-33.33", "-33.33")
    assert spread(D("-0.05"), ds("0", "3", "0", "1")) == ds("0.00", "-0.04", "0.00", "-0.01")


def test_a_zero_total_gives_zero_everywhere():
    parts = spread(D("0"), ds("5", "0", "2"))
    assert parts == ds("0", "0", "0")
    assert all(str(part) == "0.00" for part in parts)


def test_the_spare_cents_go_to_the_largest_remainders():
    """1.00 in thirds of 1, 1, 1 plus 4: exact shares 0.1428…, 0.1428…, 0.1428…, 0.5714…"""
    assert spread(D("1.00"), ds("1", "1", "1", "4")) == ds("0.15", "0.14", "0.14", "0.57")


def test_the_parts_come_out_in_cents():
    """A total typed in whole units still comes back to the cent."""
    assert [str(part) for part in spread(D("100"), ds("1", "1"))] == ["50.00", "50.00"]


def test_another_quantum_splits_in_its_own_steps():
    """Units instead of cents: 10 over three cells is 4, 3, 3."""
    assert spread(D("10"), ds("1", "1", "1"), quantum=D("1")) == ds("4", "3", "3")


def test_a_large_total_stays_exact():
    """More digits than the decimal context's default 28 are kept, not rounded."""
    total = D("12345678901234567890123456789.01")
    parts = spread(total, ds("1", "2"))
    assert sum(map(Fraction, parts)) == Fraction(total)
    assert parts == ds("4115226300411522630041152263.00", "8230452600823045260082304526.01")


@pytest.mark.parametrize("total,current,weights,message", [
    (D("10.005"), ds("1"), None, "The total must be a multiple of 0.01; 10.005 is not"),
    (D("10"), [], None, "There are no cells to spread the total over"),
    (D("10"), ds("1", "-2"), None,
     "Weights must be 0 or more: the current value of cell 2 is -2"),
    (D("10"), ds("1", "1"), ds("3", "-0.01"),
     "Weights must be 0 or more: the weight of cell 2 is -0.01"),
    (D("10"), ds("1", "1"), ds("1"), "Weights must be one per cell: 1 weights for 2 cells"),
    (D("NaN"), ds("1"), None, "The total must be a finite number, not NaN"),
    (D("10"), ds("1", "Infinity"), None,
     "The current value of cell 2 must be a finite number, not Infinity"),
])
def test_refusals_say_what_is_wrong(total, current, weights, message):
    with pytest.raises(ValueError) as exc:
        spread(total, current, weights=weights)
    assert str(exc.value) == message


@pytest.mark.parametrize("quantum", [D("0"), D("-0.01")])
def test_the_quantum_must_be_more_than_zero(quantum):
    with pytest.raises(ValueError, match="The quantum must be more than 0"):
        spread(D("1"), ds("1"), quantum=quantum)


@pytest.mark.parametrize("total,current,weights,message", [
    (100.0, ds("1"), None, "The total must be a Decimal, not float"),
    (D("100"), [D("1"), 2.5], None, "The current value of cell 2 must be a Decimal, not float"),
    (D("100"), ds("1"), [0.5], "The weight of cell 1 must be a Decimal, not float"),
    (100, ds("1"), None, "The total must be a Decimal, not int"),
])
def test_only_decimals_are_taken(total, current, weights, message):
    with pytest.raises(TypeError) as exc:
        spread(total, current, weights=weights)
    assert str(exc.value) == message


def test_a_float_quantum_is_refused():
    with pytest.raises(TypeError, match="The quantum must be a Decimal, not float"):
        spread(D("1"), ds("1"), quantum=0.01)


QUANTA = st.sampled_from(ds("0.01", "0.05", "1", "100"))
WEIGHTS = st.lists(st.one_of(
    st.just(D("0")),
    st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=5).map(D),
), min_size=1, max_size=40)
STEPS = st.integers(min_value=-10**12, max_value=10**12)
PROPERTY = settings(max_examples=200, deadline=None)


def exact_shares(total: D, weights: list[D]) -> list[Fraction]:
    whole = sum(weights, D(0))
    if not whole:
        return [Fraction(total) / len(weights)] * len(weights)
    return [Fraction(total) * Fraction(weight) / Fraction(whole) for weight in weights]


@PROPERTY
@given(steps=STEPS, weights=WEIGHTS, quantum=QUANTA)
def test_the_parts_add_up_to_the_total_in_whole_quanta(steps, weights, quantum):
    """Whatever the shape, the parts add up exactly and each is a whole number of quanta."""
    total = steps * quantum
    parts = spread(total, weights, quantum=quantum)
    assert len(parts) == len(weights)
    assert sum(parts, D(0)) == total
    assert all(isinstance(part, D) for part in parts)
    assert all(Fraction(part) / Fraction(quantum) == int(Fraction(part) / Fraction(quantum))
               for part in parts)


@PROPERTY
@given(steps=STEPS, weights=WEIGHTS, quantum=QUANTA)
def test_each_part_is_less_than_a_quantum_from_its_exact_share(steps, weights, quantum):
    """No cell is a quantum or more away from its exact proportional (or even) share."""
    total = steps * quantum
    parts = spread(total, weights, quantum=quantum)
    for part, share in zip(parts, exact_shares(total, weights)):
        assert abs(Fraction(part) - share) < Fraction(quantum)


@PROPERTY
@given(steps=STEPS, weights=WEIGHTS)
def test_the_same_input_gives_the_same_split(steps, weights):
    """Deterministic: asked twice (with the shape given either way), the answer is the same."""
    total = steps * D("0.01")
    first = spread(total, weights)
    assert spread(total, list(weights)) == first
    assert spread(total, [D("0")] * len(weights), weights=weights) == first


@PROPERTY
@given(steps=STEPS, weights=WEIGHTS)
def test_cells_of_equal_weight_differ_by_at_most_one_cent(steps, weights):
    """Equal weights get equal parts, give or take the one spare cent."""
    parts = spread(steps * D("0.01"), weights)
    by_weight: dict[D, list[D]] = {}
    for weight, part in zip(weights, parts):
        by_weight.setdefault(weight, []).append(part)
    for equal in by_weight.values():
        assert max(equal) - min(equal) <= D("0.01")


@PROPERTY
@given(steps=STEPS, weights=WEIGHTS)
def test_a_weight_of_zero_gets_nothing_unless_all_are_zero(steps, weights):
    parts = spread(steps * D("0.01"), weights)
    if any(weights):
        assert all(part == 0 for weight, part in zip(weights, parts) if weight == 0)


@PROPERTY
@given(steps=STEPS, weights=WEIGHTS,
       factor=st.sampled_from(ds("0.001", "0.5", "3", "7", "1000", "123.457")))
def test_scaling_every_weight_changes_nothing(steps, weights, factor):
    """Only the proportions count: weights times any positive factor split the same way."""
    total = steps * D("0.01")
    scaled = [weight * factor for weight in weights]
    assert spread(total, scaled) == spread(total, weights)


@PROPERTY
@given(steps=STEPS, weights=WEIGHTS)
def test_signs_are_symmetric(steps, weights):
    """Spreading −T gives the parts of T with the signs turned."""
    total = steps * D("0.01")
    assert spread(-total, weights) == [-part for part in spread(total, weights)]
