"""Who refers to a location or a category, read from the schema's foreign keys: master data
names no other domain, and a table added later with a foreign key here counts at once."""
from __future__ import annotations

import uuid

from sqlalchemy import Column, Table, exists, func, or_, select
from sqlalchemy.orm import Session


def referring_columns(table: Table) -> list[Column]:
    """The columns of other tables whose foreign key points at `table` (a table's references
    to itself, such as the category tree, are its own business)."""
    return [fk.parent for other in table.metadata.sorted_tables if other is not table
            for fk in other.foreign_keys if fk.column.table is table]


def is_referenced(session: Session, table: Table, row_id: uuid.UUID) -> bool:
    """True when any row of another table refers to the row `row_id` of `table`."""
    return any(session.scalar(select(exists().where(column == row_id)))
               for column in referring_columns(table))


def _has_rows(column: Column, key: Column):
    """Whether `column` holds the value of `key` in the enclosing row: one probe of its index,
    however many rows the table holds.

    Asked as "is the first value at or after this one this one", not as EXISTS(... = key):
    PostgreSQL expects every value to have many rows and, when the visibility map is not set
    (after a bulk load, before a vacuum), plans EXISTS as a sequential scan that reads the
    whole table for each unused value. Reading the index in order is never planned that way.
    """
    first = (select(column).where(column >= key).order_by(column).limit(1).scalar_subquery())
    return func.coalesce(first == key, False)


def referenced(table: Table):
    """SQL truth per row of `table` (in a select from it): another table refers to it."""
    return or_(*(_has_rows(column, table.c.id) for column in referring_columns(table)))
