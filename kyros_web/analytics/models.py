"""The summary tables of analytics/summaries.py (issue 19, item 4): a season's figures summed
per location × month and per leaf category × month, kept up to date as writes land."""
from __future__ import annotations

from sqlalchemy import (Column, Date, ForeignKey, Index, Integer, Numeric, SmallInteger, String,
                        Table, Uuid)

from ..extensions import db
from ..modelbase import MoneySum
from ..planning.kpis import SPLIT_SUMS

LOCATION, CATEGORY = "l", "c"
FACT_SUMS = {  # column → type; the names of analytics/sql.py season_facts
    **{name: MoneySum for name in ("sales", "otb", "adjustments", "committed", "received",
                                   "open", "over", "received_due", "otb_sales", "markdowns",
                                   "opening", "turns_sales", "po_value")},
    "mxs": Numeric, "txs": Numeric,
    **{name: Integer for name in ("over_cells", "plan_rows", "otb_rows", "pos", "open_pos",
                                  "over_pos")},
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
    Column("facts", Integer, nullable=False),  # how many fact rows the group sums
    Index("ix_season_figures_group", "season_id", "dim", "key_id"),
)


def _forecast_columns():
    return [Column(name, Numeric if name in FORECAST_PRODUCTS else MoneySum, nullable=False)
            for name in SPLIT_SUMS]


season_forecast_figures = Table(
    "season_forecast_figures", db.metadata, *_key_columns(),
    Column("month", Date, nullable=False), Column("actualised", SmallInteger, nullable=False),
    *_forecast_columns(),
    Column("cells", Integer, nullable=False),  # how many cells the group sums
    Index("ix_season_forecast_figures_group", "season_id", "dim", "key_id"),
)

TABLES = (season_figures, season_forecast_figures)
