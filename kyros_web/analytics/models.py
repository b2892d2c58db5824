"""The summary tables of analytics/summaries.py (issue 19, item 4): a season's figures summed
per location × month and per leaf category × month, kept up to date as writes land."""
from __future__ import annotations

from sqlalchemy import (Column, Date, ForeignKey, Index, Integer, Numeric, SmallInteger, String,
                        Table, Uuid)

from ..extensions import db
from ..modelbase import Money
from ..planning.kpis import SPLIT_SUMS

LOCATION, CATEGORY = "l", "c"
FACT_SUMS = {  # column → type; the names of analytics/sql.py season_facts
    "sales": Money, "mxs": Numeric, "otb": Money, "adjustments": Money, "committed": Money,
    "received": Money, "open": Money, "over": Money, "over_cells": Integer,
    "received_due": Money, "otb_sales": Money, "markdowns": Money, "opening": Money,
    "txs": Numeric, "turns_sales": Money, "plan_rows": Integer, "otb_rows": Integer,
    "pos": Integer, "open_pos": Integer, "over_pos": Integer,
}
FORECAST_PRODUCTS = ("margin_sxm", "margin_stxm")


def _key_columns():
    return [Column("season_id", Uuid, ForeignKey("seasons.id", ondelete="CASCADE"),
                   nullable=False),
            Column("dim", String(1), nullable=False),
            Column("key_id", Uuid, nullable=False)]


season_figures = Table(
    "season_figures", db.metadata, *_key_columns(), Column("month", Date),
    *[Column(name, kind, nullable=False) for name, kind in FACT_SUMS.items()],
    Index("ix_season_figures_group", "season_id", "dim", "key_id"),
)


def _forecast_columns():
    return [Column(name, Numeric if name in FORECAST_PRODUCTS else Money, nullable=False)
            for name in SPLIT_SUMS]


season_forecast_figures = Table(
    "season_forecast_figures", db.metadata, *_key_columns(),
    Column("month", Date, nullable=False), Column("actualised", SmallInteger, nullable=False),
    *_forecast_columns(), Column("cells", Integer, nullable=False),
    Index("ix_season_forecast_figures_group", "season_id", "dim", "key_id"),
)

TABLES = (season_figures, season_forecast_figures)
