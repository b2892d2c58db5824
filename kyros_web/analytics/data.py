"""A season's data, read by the same selects for two uses: the data workbook (a sheet per
table, the OTB as uploaded and the adjustments that move it on a sheet of their own) and the
fingerprint printed on the pack, so the fingerprint covers exactly what the workbook holds."""
from __future__ import annotations

import hashlib
from decimal import Decimal

from sqlalchemy.orm import Session

from ..planning.adjustments import scope_words
from ..planning.rules import PRICE_BANDS
from ..versions import cached
from . import sql
from .report import COUNT, DATE, MONEY, MONTH, NUMBER, Column, Table, band



# Per table of sql.season_data: the sheet title, its columns, and a row as cells.
SHEETS = {
    "locations": ("Locations", [Column("location_code"), Column("location_name"),
                                Column("type"), Column("active")],
                  lambda r: [r.location_code, r.name, r.type.value,
                             "yes" if r.is_active else "no"]),
    "plans": ("Plans", [Column("location_code"), Column("location_name"),
                        Column("category_code"), Column("category_name"),
                        Column("planned_sales", MONEY), Column("planned_margin", NUMBER),
                        Column("inventory_turns", NUMBER), Column("approved")],
              lambda r: [r.location_code, r.location_name, r.category_code, r.category_name,
                         r.planned_sales, r.planned_margin, r.inventory_turns,
                         "yes" if r.approved else "no"]),
    "otb": ("OTB", [Column("location_code"), Column("category_code"), Column("month", MONTH),
                    *[Column(n, MONEY) for n in ("planned_sales", "planned_markdowns",
                                                 "planned_closing_stock", "opening_stock",
                                                 "on_order", "approved_spend_limit")]],
            lambda r: list(r)),
    "range": ("Range intent", [Column("category_code"), Column("core_percent", NUMBER),
                               Column("fashion_percent", NUMBER),
                               *[Column(f"price_band_{b}", NUMBER) for b in PRICE_BANDS]],
              lambda r: [r.category_code, r.core_percent, r.fashion_percent,
                         *[band(r.price_band_mix, b) for b in PRICE_BANDS]]),
    "pos": ("POs", [Column("po_number"), Column("location_code"), Column("category_code"),
                    Column("supplier"), Column("order_date", DATE), Column("delivery_date", DATE),
                    Column("po_value", MONEY), Column("status"), Column("source")],
            lambda r: [r.po_number, r.location_code, r.category_code, r.supplier, r.order_date,
                       r.delivery_date, r.po_value, r.status.value, r.source.value]),
    "actuals": ("Actuals", [Column("location_code"), Column("category_code"),
                            Column("month", MONTH),
                            *[Column(n, MONEY) for n in ("net_sales", "markdowns",
                                                         "closing_stock")],
                            Column("units_sold", COUNT), Column("closing_units", COUNT)],
                lambda r: list(r)),
    "grns": ("GRNs", [Column("grn_number"), Column("po_number"), Column("grn_date", DATE),
                      Column("received_value", MONEY)],
             lambda r: list(r)),
    "adjustments": ("Adjustments", [Column("number", COUNT), Column("status"),
                                    Column("amount", MONEY), Column("from_scope"),
                                    Column("to_scope"), Column("reason"),
                                    Column("requested_by"), Column("decided_by"),
                                    Column("decision_note"), Column("override_reason"),
                                    Column("location_code"), Column("category_code"),
                                    Column("month", MONTH), Column("line_amount", MONEY)],
                    lambda r: [r.number, r.status, r.amount, scope_words(r._mapping, "from"),
                               scope_words(r._mapping, "to"), r.reason, r.requested_by, r.decided_by,
                               r.decision_note, r.override_reason, r.location_code,
                               r.category_code, r.month, r.line_amount]),
}


def season_tables(session: Session, season) -> list[tuple[str, Table]]:
    """Every table of the season's data, as (sheet title, table)."""
    tables = []
    for name, stmt in sql.season_data(season.id):
        title, columns, cells = SHEETS[name]
        tables.append((title, Table(name, title, columns,
                                    [cells(r) for r in session.execute(stmt)])))
    return tables


def fingerprint(session: Session, season) -> str:
    """sha256 over the season record (its reforecast method included: the In season figures
    follow it) and every row of the data workbook's tables, read in a
    fixed order, so a printed pack can be matched to the data it came from; the same data
    always gives the same value."""
    digest = hashlib.sha256()
    digest.update(f"{season.season_code}|{season.name}|{season.start_date}|{season.end_date}|"
                  f"{season.status.value}|{season.reforecast_method}\n".encode())
    for _name, stmt in sql.season_data(season.id):
        for row in session.execute(stmt.execution_options(yield_per=5000)):
            digest.update(("|".join(_canonical(v) for v in row) + "\n").encode())
        digest.update(b"--\n")
    return digest.hexdigest()


def cached_fingerprint(session: Session, season) -> str:
    """The fingerprint, from the figure cache (it changes with the season's data version)."""
    return cached(session, season.id, ("fingerprint",), lambda: fingerprint(session, season))


def _canonical(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ",".join(f"{k}={value[k]}" for k in sorted(value))
    if hasattr(value, "value") and not isinstance(value, (str, int, Decimal)):
        return str(value.value)
    return str(value)
