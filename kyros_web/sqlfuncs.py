"""SQL expressions that differ between SQLite and PostgreSQL, compiled per dialect."""
from __future__ import annotations

from sqlalchemy import Date, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class month_start(FunctionElement):
    """The first day of the month of a date column."""

    type = Date()
    inherit_cache = True
    name = "month_start"


@compiles(month_start)
def _month_start_default(element, compiler, **kw):
    return "CAST(date_trunc('month', %s) AS DATE)" % compiler.process(element.clauses, **kw)


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw):
    return "date(%s, 'start of month')" % compiler.process(element.clauses, **kw)


def weighted_avg(value, weight):
    """SUM(value × weight) / SUM(weight), NULL when the weights sum to 0.

    The `* 1.0` keeps SQLite from dividing two integers whole (it stores 40.00 as 40);
    on PostgreSQL the NUMERIC arithmetic stays exact.
    """
    return func.sum(value * weight) * 1.0 / func.nullif(func.sum(weight), 0)
