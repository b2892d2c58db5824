"""A cell's budget in SQL (issue 17): its OTB (the uploaded approved spend limit) + the lines of
the approved OTB adjustments that touched it. Every page, export and check that shows or
compares a budget or a remaining joins `adjustments_per_cell` and adds it with `budget`, so
remaining = OTB + adjustments − committed everywhere (planning/adjustments.py remaining)."""
from __future__ import annotations

from sqlalchemy import func, select, type_coerce

from ..modelbase import Money
from .models import OTBAdjustmentLine


def adjustments_per_cell(season_id, only=None):
    """Subquery: (location_id, category_id, month) → adjustments, the sum of the approved
    moves' lines in the cell, for one season. `only(model)` may narrow it before grouping."""
    line = OTBAdjustmentLine
    stmt = (select(line.location_id, line.category_id, line.month,
                   type_coerce(func.sum(line.amount), Money).label("adjustments"))
            .where(line.season_id == season_id)
            .group_by(line.location_id, line.category_id, line.month))
    if only is not None:
        stmt = stmt.where(only(line))
    return stmt.subquery("adjustments_per_cell")


def adjusted(adjustments):
    """The adjustments of a cell joined by an outer join: 0 when it has none."""
    return type_coerce(func.coalesce(adjustments.c.adjustments, 0), Money)


def budget(otb, adjustments):
    """OTB + adjustments of a cell (`otb` an OTB column or expression)."""
    return type_coerce(func.coalesce(otb, 0) + func.coalesce(adjustments.c.adjustments, 0), Money)


def joined(adjustments, model):
    """The join condition of a cell's adjustments to a model's location, category and month
    columns (an OTB row, or a subquery with those columns)."""
    c = model.c if hasattr(model, "c") else model
    return ((adjustments.c.location_id == c.location_id)
            & (adjustments.c.category_id == c.category_id)
            & (adjustments.c.month == c.month))
