"""SQL expressions that differ between SQLite and PostgreSQL, compiled per dialect."""
from __future__ import annotations

from sqlalchemy import Date, Integer, Numeric, and_, func, or_, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .modelbase import Money


def _per_dialect(name: str, sql_type, postgresql: str, sqlite: str, doc: str):
    """A SQL function element written once per dialect: `{0}`, `{1}` … in the templates are
    the compiled arguments in order."""
    element = type(name, (FunctionElement,), {"__doc__": doc, "type": sql_type,
                                              "inherit_cache": True, "name": name})

    def compiler_for(template):
        def compile_(el, compiler, **kw):
            return template.format(*(compiler.process(c, **kw) for c in el.clauses))
        return compile_

    compiles(element)(compiler_for(postgresql))
    compiles(element, "sqlite")(compiler_for(sqlite))
    return element


month_start = _per_dialect(
    "month_start", Date(), "CAST(date_trunc('month', {0}) AS DATE)",
    "date({0}, 'start of month')", "The first day of the month of a date column.")

days_between = _per_dialect(
    "days_between", Integer(), "(CAST({1} AS DATE) - CAST({0} AS DATE))",
    "CAST(julianday({1}) - julianday({0}) AS INTEGER)",
    "Whole days from the first date to the second.")


previous_month = _per_dialect(
    "previous_month", Date(), "CAST({0} - INTERVAL '1 month' AS DATE)",
    "date({0}, '-1 month')", "The first day of the month before (of a first-of-month date).")


def trend_scaled(money, actual, planned):
    """money × actual ÷ planned, rounded half away from zero to the cent, for money ≥ 0,
    actual ≥ 0 and planned > 0 (planning/reforecast.py forecast_sales). PostgreSQL rounds
    NUMERIC exactly; SQLite holds money in whole cents, so the rounding is done in integers:
    (2 × money × actual + planned) div (2 × planned)."""
    return type_coerce(_scaled(money, actual, planned), Money)


_scaled = _per_dialect(
    "trend_scaled", Numeric(), "ROUND({0} * {1} / {2}, 2)",
    "((2 * {0} * {1} + {2}) / (2 * {2}))", trend_scaled.__doc__)


def weighted_avg(value, weight):
    """SUM(value × weight) / SUM(weight), NULL when the weights sum to 0.

    The `* 1.0` keeps SQLite from dividing two integers whole (it stores 40.00 as 40);
    on PostgreSQL the NUMERIC arithmetic stays exact.
    """
    return func.sum(value * weight) * 1.0 / func.nullif(func.sum(weight), 0)


class days_between(FunctionElement):
    """Whole days from the first date to the second."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    start, end = list(element.clauses)
    return "(CAST(%s AS DATE) - CAST(%s AS DATE))" % (compiler.process(end, **kw),
                                                      compiler.process(start, **kw))


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return "CAST(julianday(%s) - julianday(%s) AS INTEGER)" % (compiler.process(end, **kw),
                                                              compiler.process(start, **kw))


class json_number(FunctionElement):
    """A number stored as text under `key` of a JSON object column, e.g. a price band."""

    type = Numeric()
    inherit_cache = True
    name = "json_number"

    def __init__(self, column, key: str):
        if not key.isidentifier():
            raise ValueError(key)
        self.key = key
        super().__init__(column)


@compiles(json_number)
def _json_number_default(element, compiler, **kw):
    return "CAST((%s)::json ->> '%s' AS NUMERIC)" % (compiler.process(element.clauses, **kw),
                                                    element.key)


@compiles(json_number, "sqlite")
def _json_number_sqlite(element, compiler, **kw):
    return "CAST(json_extract(%s, '$.%s') AS REAL)" % (compiler.process(element.clauses, **kw),
                                                      element.key)


def narrowing(location_ids=None, category_ids=None, *, either: bool = False):
    """`only(model)`: a condition keeping the rows of a model (or subquery) with a location
    in `location_ids` and a category in `category_ids` (None: any), or with `either`, those
    with one or the other; None when nothing narrows. A location × category is always kept
    or dropped whole. The summaries of summaries.py sum a few groups again this way."""
    if location_ids is None and category_ids is None:
        return None

    def only(model):
        c = model.c if hasattr(model, "c") else model
        parts = [column.in_(ids) for column, ids in (
            (c.location_id, location_ids), (c.category_id, category_ids)) if ids is not None]
        return or_(*parts) if either else and_(*parts)
    return only
