"""The columns of each upload kind's file, in the order of its template: its name, how a
cell is read, whether it is required and its label in messages (SPEC §6). Pure: the handlers
in kinds.py check rows against them, and the planning grids write their values under them."""
from __future__ import annotations

from ..planning import rules
from ..planning.models import OTBPlan, RangeIntent, SeasonActual, SeasonPlan
from ..purchasing.models import GRNRecord, PurchaseOrder
from ..purchasing.rules import number_problem
from ..values import Digits
from . import parsing
from .engine import Column


def _text(max_length):
    return lambda v: parsing.text(v, max_length)


def _upper(max_length):
    def parse(v):
        t = parsing.text(v, max_length)
        return t.upper() if t else None
    return parse


def _lower(v):
    t = parsing.text(v, 50)
    return t.lower() if t else None


def _number(column):
    """A number the column can store: its decimals and its size (values.Digits)."""
    return parsing.number_reader(Digits.of(column))


def _document_number(v):
    """A PO or GRN number under the one rule of purchasing/rules.py."""
    number = parsing.text(v)
    problem = number_problem(number)
    if number is not None and problem:
        raise parsing.CellError(problem)
    return number


# Names beside the codes in a plans or OTB template or values file, for people: the upload
# reports them as ignored columns.
NAME_COLUMNS = ("location_name", "category_name")


LOCATIONS = (
    Column("name", _text(200), True, "Name"),
    Column("type", _lower, True, "Type"),
    Column("cluster", _text(100), False, "Cluster"),
    Column("address", _text(300), False, "Address"),
    Column("city", _text(100), False, "City"),
    Column("country", _text(100), False, "Country"),
    Column("location_code", _upper(16), False, "Location code"),
)


CATEGORIES = (
    Column("code", _upper(50), True, "Code"),
    Column("name", _text(200), True, "Name"),
    Column("parent_code", _upper(50), False, "Parent code"),
    Column("description", _text(2000), False, "Description"),
)


PLANS = (
    Column("location_code", _upper(16), True, "Location code"),
    Column("category_code", _upper(50), True, "Category code"),
    Column("planned_sales", _number(SeasonPlan.planned_sales), True, "Planned sales"),
    Column("planned_margin", _number(SeasonPlan.planned_margin), True, "Planned margin"),
    Column("inventory_turns", _number(SeasonPlan.inventory_turns), False, "Inventory turns"),
)


OTB = (
    Column("location_code", _upper(16), True, "Location code"),
    Column("category_code", _upper(50), True, "Category code"),
    Column("month", parsing.month, True, "Month"),
    Column("planned_sales", _number(OTBPlan.planned_sales), True, "Planned sales"),
    Column("planned_closing_stock", _number(OTBPlan.planned_closing_stock), True,
           "Planned closing stock"),
    Column("opening_stock", _number(OTBPlan.opening_stock), True, "Opening stock"),
    Column("on_order", _number(OTBPlan.on_order), True, "On order"),
    Column("planned_markdowns", _number(OTBPlan.planned_markdowns), False,
           "Planned markdowns"),
)


ACTUALS = (
    Column("location_code", _upper(16), True, "Location code"),
    Column("category_code", _upper(50), True, "Category code"),
    Column("month", parsing.month, True, "Month"),
    Column("net_sales", _number(SeasonActual.net_sales), True, "Net sales"),
    Column("markdowns", _number(SeasonActual.markdowns), True, "Markdowns"),
    Column("closing_stock", _number(SeasonActual.closing_stock), True, "Closing stock"),
    Column("units_sold", parsing.number_reader(rules.UNIT_DIGITS), False, "Units sold"),
    Column("closing_units", parsing.number_reader(rules.UNIT_DIGITS), False,
           "Closing units"),
)


RANGE = (
    Column("category_code", _upper(50), True, "Category code"),
    Column("core_percent", _number(RangeIntent.core_percent), True, "Core %"),
    Column("fashion_percent", _number(RangeIntent.fashion_percent), True, "Fashion %"),
    *(Column(f"price_band_{b}", _number(RangeIntent.core_percent), False, f"Price band {b}")
      for b in rules.PRICE_BANDS),
)


POS = (
    Column("po_number", _document_number, True, "PO number"),
    Column("location_code", _upper(16), True, "Location code"),
    Column("category_code", _upper(50), True, "Category code"),
    Column("po_value", _number(PurchaseOrder.po_value), True, "PO value"),
    Column("order_date", parsing.day, True, "Order date"),
    Column("delivery_date", parsing.day, False, "Delivery date"),
    Column("supplier", _text(200), False, "Supplier"),
    Column("source", _lower, False, "Source"),
)


GRNS = (
    Column("grn_number", _document_number, True, "GRN number"),
    Column("po_number", _document_number, True, "PO number"),
    Column("grn_date", parsing.day, True, "GRN date"),
    Column("received_value", _number(GRNRecord.received_value), True, "Received value"),
)
