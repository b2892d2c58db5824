"""The plan, OTB and range rules of planning/rules.py: one owner for forms, services and
uploads, so each is tested here once, with its boundaries and its messages."""
from decimal import Decimal as D

import pytest

from kyros_web.errors import ValidationFailed
from kyros_web.planning import rules


def refusal(call, *args) -> dict:
    with pytest.raises(ValidationFailed) as exc:
        call(*args)
    return exc.value.errors


def plan(sales="100", margin="40", turns=None) -> dict:
    return {"planned_sales": sales, "planned_margin": margin, "inventory_turns": turns}


def test_a_plan_is_read_to_its_columns_digits():
    assert rules.read_plan(plan("1,234.5", "-99.99", "4")) == {
        "planned_sales": D("1234.50"), "planned_margin": D("-99.99"),
        "inventory_turns": D("4.00")}
    assert rules.read_plan(plan(turns=""))["inventory_turns"] is None


@pytest.mark.parametrize("margin", ["100", "-100", "150"])
def test_the_margin_lies_strictly_between_minus_100_and_100(margin):
    assert refusal(rules.read_plan, plan(margin=margin)) == {
        "planned_margin": "Planned margin must be more than -100 % and less than 100 %"}


@pytest.mark.parametrize("field,values,message", [
    ("planned_sales", plan(sales="-0.01"), "Planned sales must be 0 or more"),
    ("inventory_turns", plan(turns="-1"), "Inventory turns must be 0 or more"),
    ("planned_sales", plan(sales=""), "Planned sales is required"),
    ("planned_margin", plan(margin="12,5"), "Planned margin is not a number"),
])
def test_plan_refusals_name_their_field(field, values, message):
    errors = refusal(rules.read_plan, values)
    assert list(errors) == [field] and errors[field].startswith(message)


def test_plan_figures_of_zero_are_allowed():
    assert rules.check_plan({"planned_sales": D("0"), "planned_margin": D("0"),
                             "inventory_turns": D("0")})["planned_sales"] == 0


def otb(**given) -> dict:
    values = {"planned_sales": "100", "planned_markdowns": "", "planned_closing_stock": "50",
              "opening_stock": "30", "on_order": "10"}
    values.update(given)
    return values


def test_otb_inputs_are_read_and_the_otb_computed():
    inputs, spend = rules.read_otb(otb())
    assert inputs["planned_markdowns"] == D("0.00") and spend == D("110.00")
    assert tuple(inputs) == rules.OTB_INPUTS


def test_a_negative_otb_is_kept():
    assert rules.read_otb(otb(opening_stock="500"))[1] == D("-360.00")


@pytest.mark.parametrize("name", rules.OTB_INPUTS)
def test_every_otb_input_is_0_or_more(name):
    assert refusal(rules.read_otb, otb(**{name: "-1"})) == {
        name: f"{rules.OTB_LABELS[name]} must be 0 or more"}


def test_an_otb_beyond_its_column_is_refused_against_no_input():
    huge = str(rules.SPEND_LIMIT_DIGITS.largest)
    errors = refusal(rules.read_otb, otb(planned_sales=huge, planned_closing_stock=huge))
    assert list(errors) == [""] and "beyond what can be stored" in errors[""]


def test_checked_otb_figures_default_markdowns():
    inputs, spend = rules.check_otb({"planned_sales": D("10"), "planned_markdowns": None,
                                     "planned_closing_stock": D("0"), "opening_stock": D("0"),
                                     "on_order": D("0")})
    assert inputs["planned_markdowns"] == 0 and spend == D("10")


def test_a_range_intent_stores_its_bands_with_two_decimals():
    assert rules.read_range("60", "40", {"low": "30", "mid": "50.5", "high": "19.5"}) == {
        "core_percent": D("60.00"), "fashion_percent": D("40.00"),
        "price_band_mix": {"low": "30.00", "mid": "50.50", "high": "19.50"}}
    assert rules.read_range("100", "0", {"low": "", "mid": None})["price_band_mix"] == {}


@pytest.mark.parametrize("core,fashion,bands,errors", [
    ("60", "41", None,
     {"fashion_percent": "Core % and fashion % must add up to 100; they add up to 101.00"}),
    ("110", "-10", None, {"core_percent": "Core % must be between 0 and 100"}),
    ("60", "40", {"low": "50", "mid": "40", "high": "20"},
     {"price_band_mix": "Price bands must add up to 100; they add up to 110.00"}),
    ("60", "40", {"low": "-5", "mid": "85", "high": "20"},
     {"price_band_low": "Price band low must be 0 or more"}),
    ("60", "40", {"lowest": "100"}, {"price_band_mix": "Price bands are low, mid, high; not lowest"}),
])
def test_range_refusals(core, fashion, bands, errors):
    assert refusal(rules.read_range, core, fashion, bands) == errors


def test_one_band_of_100_is_a_whole_mix():
    assert rules.check_range(D("0"), D("100"), {"low": None, "mid": D("100"), "high": None})[
        "price_band_mix"] == {"mid": "100.00"}


# The stock chain (issue 14)

@pytest.mark.parametrize("chain, changed, follows", [
    (True, {"planned_closing_stock"}, True),
    (True, {"planned_closing_stock", "opening_stock"}, True),
    (True, {"opening_stock", "planned_sales"}, False),
    (True, set(), False),
    (False, {"planned_closing_stock"}, False),
])
def test_chained_opening_follows_a_changed_closing_stock(chain, changed, follows):
    result = rules.chained_opening(chain, frozenset(changed), D("1500.00"))
    assert result == (D("1500.00") if follows else None)


def test_a_new_row_chains_like_a_changed_closing_stock():
    assert rules.chained_opening(True, frozenset(rules.OTB_INPUTS), D("7")) == D("7")
