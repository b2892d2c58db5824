"""The row rules of plans, OTB rows, range intent and actuals (SPEC §2, §5; issue 16), written once for the
services, the upload handlers, the forms and the API. Pure: values in, checked values (or
ValidationFailed naming the field) out.

Each rule comes in two steps: `read_…` turns typed text (a form, a grid, the API) into
Decimals with the column's digits, and `check_…` applies the business rule to Decimals. An
upload file's cells are already read by their column, so its handler calls `check_…` alone.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from ..errors import ValidationFailed
from ..values import Digits, at_least, decimal_value, within
from .models import OTBPlan, RangeIntent, SeasonActual, SeasonPlan
from .otb import SPEND_LIMIT_LABEL, approved_spend_limit

ZERO = Decimal("0")
HUNDRED = Decimal("100")

# Plans

PLAN_LABELS = {"planned_sales": "Planned sales", "planned_margin": "Planned margin",
               "inventory_turns": "Inventory turns"}
PLAN_FIELDS = tuple(PLAN_LABELS)
PLAN_OPTIONAL = frozenset({"inventory_turns"})

# OTB: the five inputs a planner types, in the order of the grid and the upload template's
# figures; the spend limit is computed from them (otb.approved_spend_limit).

OTB_LABELS = {"planned_sales": "Planned sales", "planned_markdowns": "Planned markdowns",
              "planned_closing_stock": "Planned closing stock", "opening_stock": "Opening stock",
              "on_order": "On order"}
OTB_INPUTS = tuple(OTB_LABELS)
SPEND_LIMIT_DIGITS = Digits.of(OTBPlan.approved_spend_limit)
NO_MARKDOWNS = Digits.of(OTBPlan.planned_markdowns).exact(ZERO)

# Range intent

PRICE_BANDS = ("low", "mid", "high")
RANGE_LABELS = {"core_percent": "Core %", "fashion_percent": "Fashion %",
                **{f"price_band_{band}": f"Price band {band}" for band in PRICE_BANDS}}
RANGE_FIELDS = ("core_percent", "fashion_percent", "price_band_mix")
PERCENT_DIGITS = Digits.of(RangeIntent.core_percent)

# Actuals: three money figures a month and two optional counts. Units are whole numbers an
# INTEGER column holds (below 10^9).

ACTUAL_MONEY_LABELS = {"net_sales": "Net sales", "markdowns": "Markdowns",
                       "closing_stock": "Closing stock"}
ACTUAL_UNIT_LABELS = {"units_sold": "Units sold", "closing_units": "Closing units"}
ACTUAL_FIELDS = (*ACTUAL_MONEY_LABELS, *ACTUAL_UNIT_LABELS)
UNIT_DIGITS = Digits(9, 0)


def _read(raw: dict, labels: dict, model, optional=frozenset()) -> dict:
    """Typed values (text, int or Decimal) as Decimals their columns can store."""
    return {name: decimal_value(raw.get(name), name, label, required=name not in optional,
                                digits=Digits.of(getattr(model, name)))
            for name, label in labels.items()}


def check_plan(values: dict) -> dict:
    """A plan row's figures: sales of 0 or more, a margin strictly between -100 % and 100 %,
    turns (optional) of 0 or more. Returns the three figures."""
    sales, margin = values["planned_sales"], values["planned_margin"]
    turns = values.get("inventory_turns")
    at_least(sales, ZERO, "planned_sales", PLAN_LABELS["planned_sales"])
    if not -HUNDRED < margin < HUNDRED:
        raise ValidationFailed({"planned_margin": "Planned margin must be more than -100 % and "
                                "less than 100 %"})
    at_least(turns, ZERO, "inventory_turns", PLAN_LABELS["inventory_turns"])
    return {"planned_sales": sales, "planned_margin": margin, "inventory_turns": turns}


def read_plan(raw: dict) -> dict:
    """check_plan over typed values."""
    return check_plan(_read(raw, PLAN_LABELS, SeasonPlan, PLAN_OPTIONAL))


def check_otb(values: dict) -> tuple[dict, Decimal]:
    """An OTB row's five inputs (each 0 or more; markdowns left empty are 0) and the spend
    limit they give, which must fit its column (the database computes it). Returns the inputs
    and that OTB; a negative OTB is allowed (the cell is over-bought and flagged)."""
    inputs = {name: values.get(name) for name in OTB_INPUTS}
    if inputs["planned_markdowns"] is None:
        inputs["planned_markdowns"] = NO_MARKDOWNS
    for name, label in OTB_LABELS.items():
        value = inputs[name]
        # Per row of an upload: a call only to refuse.
        if value is not None and value < ZERO:
            at_least(value, ZERO, name, label)
    otb = approved_spend_limit(**inputs)
    # Field "": the computed OTB is no input of its own.
    within(otb, "", SPEND_LIMIT_LABEL, SPEND_LIMIT_DIGITS)
    return inputs, otb


def read_otb(raw: dict) -> tuple[dict, Decimal]:
    """check_otb over typed values: the checked inputs and their OTB. The live preview of the
    OTB grid calls it as well, so it refuses what a save would refuse."""
    raw = dict(raw)
    if raw.get("planned_markdowns") in (None, ""):
        raw["planned_markdowns"] = NO_MARKDOWNS
    return check_otb(_read(raw, OTB_LABELS, OTBPlan))


def read_otb_input(name: str, raw) -> Decimal:
    """One OTB input typed on its own (a grid cell): a number its column can store, 0 or
    more; markdowns left empty are 0. The row's OTB is checked with check_otb once all the
    row's inputs are known."""
    if name not in OTB_LABELS:
        raise ValidationFailed({name: "Only planned sales, markdowns, closing stock, opening "
                                "stock and on order can be typed; the others are computed"})
    if name == "planned_markdowns" and (raw is None or (isinstance(raw, str) and not raw.strip())):
        return NO_MARKDOWNS
    value = decimal_value(raw, name, OTB_LABELS[name], digits=Digits.of(getattr(OTBPlan, name)))
    at_least(value, ZERO, name, OTB_LABELS[name])
    return value


def chained_opening(chain_stock: bool, changed, closing_stock: Decimal) -> Decimal | None:
    """The stock chain (issue 14): the opening stock the same location × category's next month
    takes after an OTB row is saved, or None when it keeps its own.

    With the season's `chain_stock` on, a new row (every field `changed`) or a changed
    closing stock carries that closing stock forward one month. The saved row keeps the
    opening stock typed for it; only the next row follows, and since its closing stock does
    not change, nothing goes further."""
    if chain_stock and "planned_closing_stock" in changed:
        return closing_stock
    return None


def check_chained(values: dict, opening: Decimal, month: str) -> None:
    """The next month's row (its five inputs) still fits once its opening stock follows the
    chain; refused against the closing stock that carries into it."""
    try:
        check_otb({**values, "opening_stock": opening})
    except ValidationFailed as exc:
        raise ValidationFailed({"planned_closing_stock": f"This closing stock becomes the "
                                f"opening stock of {month}, whose OTB would then not fit: "
                                + "; ".join(exc.errors.values())}) from exc


def check_range(core: Decimal, fashion: Decimal, bands: dict) -> dict:
    """A category's range intent: core % and fashion % each from 0 to 100 and adding up to
    100; price bands (by name, None where not given) each 0 or more and, when any is given,
    adding up to 100. Returns the stored values, the mix as text with two decimals."""
    for field, value in (("core_percent", core), ("fashion_percent", fashion)):
        if not ZERO <= value <= HUNDRED:
            raise ValidationFailed({field: f"{RANGE_LABELS[field]} must be between 0 and 100"})
    if core + fashion != HUNDRED:
        raise ValidationFailed({"fashion_percent": "Core % and fashion % must add up to 100; "
                                f"they add up to {core + fashion}"})
    mix = {name: value for name, value in bands.items() if value is not None}
    for name, value in mix.items():
        at_least(value, ZERO, f"price_band_{name}", f"Price band {name}")
    if mix and sum(mix.values()) != HUNDRED:
        raise ValidationFailed({"price_band_mix": "Price bands must add up to 100; they add up "
                                f"to {sum(mix.values())}"})
    return {"core_percent": core, "fashion_percent": fashion,
            "price_band_mix": {name: str(PERCENT_DIGITS.exact(value))
                               for name, value in mix.items()}}


def read_range(core_percent, fashion_percent, bands: dict | None) -> dict:
    """check_range over typed values; `bands` maps a band name to its typed percentage."""
    def percent(raw, field, required=True):
        return decimal_value(raw, field, RANGE_LABELS[field], required=required,
                             digits=PERCENT_DIGITS)

    core = percent(core_percent, "core_percent")
    fashion = percent(fashion_percent, "fashion_percent")
    unknown = set(bands or {}) - set(PRICE_BANDS)
    if unknown:
        raise ValidationFailed({"price_band_mix": "Price bands are " + ", ".join(PRICE_BANDS)
                                + "; not " + ", ".join(sorted(unknown))})
    return check_range(core, fashion, {name: percent(raw, f"price_band_{name}", required=False)
                                       for name, raw in (bands or {}).items()})


def check_actuals(values: dict, month: date, today: date) -> dict:
    """A month's actuals of one location × leaf category (issue 16): markdowns, closing stock
    and the optional unit counts 0 or more; net sales may be negative (returns beyond sales:
    kept, and the caller flags it). The month must have started by `today` (the app's clock):
    a month still to come has no actuals. Whether the month belongs to the season is the
    caller's (it knows the season). Returns the five figures, units as whole numbers or None."""
    if month > today.replace(day=1):
        raise ValidationFailed({"month": f"{month:%Y-%m} is after the current month "
                                f"({today:%Y-%m}); actuals come only for months that have "
                                "started"})
    figures = {name: values.get(name) for name in ACTUAL_FIELDS}
    for name in ("markdowns", "closing_stock"):
        at_least(figures[name], ZERO, name, ACTUAL_MONEY_LABELS[name])
    for name, label in ACTUAL_UNIT_LABELS.items():
        at_least(figures[name], ZERO, name, label)
        if figures[name] is not None:
            figures[name] = int(figures[name])
    return figures
