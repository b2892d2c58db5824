"""SQL expressions that differ between SQLite and PostgreSQL, compiled per dialect."""
from __future__ import annotations

from sqlalchemy import Date, Integer, Numeric, func
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
